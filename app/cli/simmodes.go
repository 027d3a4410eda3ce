package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

// firstFirmataPin is the pin of a simulated Firmata board's button 1; its
// LED is on firstFirmataLED, and button N uses the pins N-1 above them.
const (
	firstFirmataPin = 2
	firstFirmataLED = 8
)

// simDevices is the devices section that configures a simulated device, as
// `buttonhook sim` prints it.
type simDevices struct {
	Devices struct {
		Firmata []serial.FirmataOptions `json:"firmata,omitempty"`
		Lines   []serial.LinesOptions   `json:"lines,omitempty"`
	} `json:"devices"`
}

// firmataConfig is the devices section for a simulated Firmata board with
// n buttons, each with a single-colour LED.
func firmataConfig(path string, n int) simDevices {
	o := serial.FirmataOptions{Port: path}
	for i := range n {
		o.Buttons = append(o.Buttons, serial.FirmataButton{Pin: firstFirmataPin + i, LEDs: []serial.FirmataLED{{Pin: firstFirmataLED + i}}})
	}
	var c simDevices
	c.Devices.Firmata = []serial.FirmataOptions{o}
	return c
}

// linesConfig is the devices section for a simulated line device with n
// buttons: it prints "DOWN N" and "UP N", and takes "LED N COLOUR MODE MS"
// and "LED N OFF".
func linesConfig(path string, n int) simDevices {
	o := serial.LinesOptions{Port: path, Name: "simulated line device",
		LED: map[string]string{"off": "LED {button} OFF", "on": "LED {button} {color} on 0", "flash": "LED {button} {color} flash {ms}", "pulse": "LED {button} {color} pulse {ms}"}}
	for i := 1; i <= n; i++ {
		o.Patterns = append(o.Patterns,
			serial.LinePattern{Regexp: fmt.Sprintf("^DOWN %d$", i), Button: i, Edge: "down"},
			serial.LinePattern{Regexp: fmt.Sprintf("^UP %d$", i), Button: i, Edge: "up"})
	}
	var c simDevices
	c.Devices.Lines = []serial.LinesOptions{o}
	return c
}

// simBoard is what the sim command line drives in each mode: buttons from 1.
type simBoard interface {
	Path() string
	down(n int) error
	up(n int) error
	Close() error
}

type firmataSim struct{ *sim.FirmataBoard }

func (b firmataSim) down(n int) error { return b.SetButton(firstFirmataPin+n-1, true) }
func (b firmataSim) up(n int) error   { return b.SetButton(firstFirmataPin+n-1, false) }

type linesSim struct{ *sim.LineBoard }

func (b linesSim) down(n int) error { return b.Print(fmt.Sprintf("DOWN %d", n)) }
func (b linesSim) up(n int) error   { return b.Print(fmt.Sprintf("UP %d", n)) }

// cmdSimDevice runs `buttonhook sim --firmata` or `--lines`: a simulated
// Firmata board or line device with n buttons on a pseudo-terminal. It
// prints the path first, then how to configure it (on stderr), then what
// the host sends, and takes commands on stdin until EOF, quit or a signal.
func cmdSimDevice(mode string, n int, env Env) error {
	if n < 1 || n > 6 {
		return usagef("sim --%s: --buttons %d: want 1..6", mode, n)
	}
	out := &lockedWriter{w: env.Stdout}
	var b simBoard
	var cfg simDevices
	done := make(chan struct{})
	printed := make(chan struct{}) // closed when the printing goroutine ends
	switch mode {
	case "firmata":
		fb, err := sim.NewFirmata(sim.FirmataOptions{})
		if err != nil {
			return fmt.Errorf("start simulator: %w", err)
		}
		b, cfg = firmataSim{fb}, firmataConfig(fb.Path(), n)
		go func() { // ends when the board is closed or done is closed
			defer close(printed)
			for {
				select {
				case w := <-fb.Writes():
					level := "low"
					if w.High {
						level = "high"
					}
					out.println(fmt.Sprintf("pin %d %s", w.Pin, level))
				case <-done:
					return
				}
			}
		}()
	default:
		lb, err := sim.NewLineBoard()
		if err != nil {
			return fmt.Errorf("start simulator: %w", err)
		}
		b, cfg = linesSim{lb}, linesConfig(lb.Path(), n)
		go func() { // ends when the board is closed (Lines is closed)
			defer close(printed)
			for l := range lb.Lines() {
				out.println(l)
			}
		}()
	}
	defer func() { close(done); b.Close(); <-printed }()
	snippet, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	out.println(b.Path())
	what := map[string]string{"firmata": "StandardFirmata board", "lines": "line device"}[mode]
	fmt.Fprintf(env.Stderr, "Simulated %s with %d button(s) on %s. Configure it with this file (buttonhook targets import FILE):\n%s\n"+
		"Its ID is %s:%s. Commands: press N, down N, up N, unplug, quit. What the host sends is printed as it arrives.\n",
		what, n, b.Path(), snippet, mode, b.Path())

	return runCommands(env, func(l string) (bool, error) { return simCommand(b, n, l) })
}

// simCommand runs one command line on b: press, down or up with a button
// number (1 when left out), unplug or quit.
func simCommand(b simBoard, buttons int, line string) (quit bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, nil
	}
	cmd := strings.ToLower(f[0])
	switch cmd {
	case "quit":
		return true, nil
	case "unplug":
		return false, b.Close()
	case "press", "down", "up":
		n := 1
		if len(f) > 2 {
			return false, fmt.Errorf("%s takes one button number, got %q", cmd, strings.Join(f[1:], " "))
		}
		if len(f) == 2 {
			n, err = strconv.Atoi(f[1])
			if err != nil || n < 1 || n > buttons {
				return false, fmt.Errorf("%s: no button %q: this device has buttons 1..%d", cmd, f[1], buttons)
			}
		}
		switch cmd {
		case "down":
			return false, b.down(n)
		case "up":
			return false, b.up(n)
		}
		if err := b.down(n); err != nil {
			return false, err
		}
		time.Sleep(sim.PressDuration)
		return false, b.up(n)
	}
	return false, fmt.Errorf("unknown command %q: want press [N], down [N], up [N], unplug or quit", f[0])
}
