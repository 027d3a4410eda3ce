// Package sim simulates Buttonhook hardware for tests, demos and the
// `buttonhook sim` command: a BH1 serial button board on a real
// pseudo-terminal, which the serial driver opens like any serial port.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
)

// PressDuration is how long Press holds a button down.
const PressDuration = 50 * time.Millisecond

// CommandBuffer is how many host lines Commands holds for a slow reader.
const CommandBuffer = 256

// writeTimeout bounds a write to the host, which may not be reading (or not
// be there at all: bytes then wait in the terminal's buffer until it fills).
const writeTimeout = time.Second

// ErrUnplugged is returned by a Button's methods after Unplug or Close.
var ErrUnplugged = errors.New("simulated device unplugged")

// Options describe a simulated button board. The zero value is a valid
// one-button board.
type Options struct {
	Model    string // default "sim"; no spaces
	Firmware string // default "1.0.0"; no spaces
	Serial   string // default random, like "SIM-3F2A"; no spaces
	// Buttons is the number of buttons, 1..64; 0 means 1.
	Buttons int
	// Colors are the LED colours the board reports. nil means red, green
	// and yellow; an empty non-nil slice means no LEDs ("leds=none").
	Colors []device.Color
	// OnCommand, if set, is called with every line the host sends (without
	// its line ending), from the simulator's reader goroutine, after the
	// simulator has acted on it. It must return quickly: the simulator reads
	// nothing while it runs.
	OnCommand func(line string)
}

// Button is a simulated BH1 button board on a pseudo-terminal. The host
// opens Path; the Button holds the other end. One goroutine, started by New,
// reads what the host sends and answers HELLO? and PING; it exits on Unplug
// or Close, which wait for it. All methods are safe for concurrent use.
type Button struct {
	*terminal
	opts      Options
	hello     serial.Hello
	helloLine string

	wmu  sync.Mutex // one line at a time to the host
	cmds chan string

	ledMu sync.Mutex
	leds  map[int]device.LED

	malformed, dropped atomic.Uint64
}

// New opens a pseudo-terminal and starts simulating a board on it. Call
// Close when done.
func New(opts Options) (*Button, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	h := serial.Hello{
		Model:    opts.Model,
		Firmware: opts.Firmware,
		Serial:   opts.Serial,
		Buttons:  opts.Buttons,
		Colors:   opts.Colors,
	}
	line := serial.FormatHello(h)
	if len(line)+1 > serial.MaxLine {
		return nil, fmt.Errorf("sim: HELLO line %q is longer than %d bytes: shorten model, firmware or serial", line, serial.MaxLine)
	}
	t, err := openTerminal()
	if err != nil {
		return nil, err
	}
	b := &Button{
		terminal:  t,
		opts:      opts,
		hello:     h,
		helloLine: line,
		cmds:      make(chan string, CommandBuffer),
		leds:      make(map[int]device.LED),
	}
	go b.read()
	return b, nil
}

// fill applies the defaults and checks the options.
func (o *Options) fill() error {
	if o.Model == "" {
		o.Model = "sim"
	}
	if o.Firmware == "" {
		o.Firmware = "1.0.0"
	}
	if o.Serial == "" {
		o.Serial = fmt.Sprintf("SIM-%04X", rand.N(0x10000))
	}
	if o.Buttons == 0 {
		o.Buttons = 1
	}
	if o.Colors == nil {
		o.Colors = []device.Color{device.Red, device.Green, device.Yellow}
	} else {
		o.Colors = append([]device.Color{}, o.Colors...)
	}
	for _, f := range [...][2]string{{"model", o.Model}, {"firmware", o.Firmware}, {"serial", o.Serial}} {
		for _, c := range []byte(f[1]) {
			if c <= ' ' || c > '~' {
				return fmt.Errorf("sim: %s %q: want printable ASCII without spaces", f[0], f[1])
			}
		}
	}
	if o.Buttons < 1 || o.Buttons > serial.MaxButtons {
		return fmt.Errorf("sim: %d buttons: want 1..%d", o.Buttons, serial.MaxButtons)
	}
	for _, c := range o.Colors {
		switch c {
		case device.Red, device.Green, device.Yellow, device.Blue, device.White:
		default:
			return fmt.Errorf("sim: unknown colour %q: want red, green, yellow, blue or white", c)
		}
	}
	return nil
}

// Hello is the identity the board reports in its HELLO line.
func (b *Button) Hello() serial.Hello {
	h := b.hello
	h.Colors = append([]device.Color(nil), h.Colors...)
	return h
}

// Commands delivers every line the host sends, without its line ending, in
// order, malformed ones included (over-long lines excepted: they are only
// counted). It holds CommandBuffer lines; when it is full, further lines are
// dropped and counted by Dropped, so a Button nobody reads from never
// blocks. It is closed when the reader goroutine exits (Unplug or Close).
func (b *Button) Commands() <-chan string { return b.cmds }

// Dropped is how many host lines Commands had no room for.
func (b *Button) Dropped() uint64 { return b.dropped.Load() }

// Malformed is how many host lines the board could not understand.
func (b *Button) Malformed() uint64 { return b.malformed.Load() }

// LED is the state the host last set for button n's LED (off if never).
func (b *Button) LED(n int) device.LED {
	b.ledMu.Lock()
	defer b.ledMu.Unlock()
	return b.leds[n]
}

// read is the only reader of the master. It exits when the master is closed
// (Unplug, Close) or fails, closing Commands.
func (b *Button) read() {
	defer close(b.readerDone)
	defer close(b.cmds)
	lr := serial.NewLineReader(b.master)
	for {
		line, err := lr.ReadLine()
		if errors.Is(err, serial.ErrMalformed) {
			b.malformed.Add(1)
			continue
		}
		if err != nil {
			return
		}
		if line != nil {
			b.handle(line)
		}
	}
}

// handle acts on one host line, then delivers it.
func (b *Button) handle(line []byte) {
	cmd, err := serial.ParseCommand(line)
	switch {
	case err != nil:
		b.malformed.Add(1)
	case cmd.Kind == serial.CommandHello:
		_ = b.writeLine(b.helloLine) // fails only when unplugged or the host is stuck
	case cmd.Kind == serial.CommandPing:
		_ = b.writeLine(serial.FormatPong(cmd.Token))
	case cmd.Kind == serial.CommandLED:
		b.ledMu.Lock()
		b.leds[cmd.Button] = cmd.LED
		b.ledMu.Unlock()
	}
	text := strings.TrimRight(string(line), "\r\n")
	if b.opts.OnCommand != nil {
		b.opts.OnCommand(text)
	}
	select {
	case b.cmds <- text:
	default:
		b.dropped.Add(1)
	}
}

// writeLine sends one line and "\n" to the host.
func (b *Button) writeLine(line string) error {
	return b.SendRaw([]byte(line + "\n"))
}

// SendRaw sends p to the host as it is, for tests of what the host does
// with bytes that do not follow the protocol. It fails after a second if
// the host does not read.
func (b *Button) SendRaw(p []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.write(p)
}

func (b *Button) checkButton(n int) error {
	if n < 1 || n > b.opts.Buttons {
		return fmt.Errorf("sim: button %d out of range 1..%d", n, b.opts.Buttons)
	}
	return nil
}

// Down reports button n (from 1) pressed.
func (b *Button) Down(n int) error {
	if err := b.checkButton(n); err != nil {
		return err
	}
	return b.writeLine(serial.FormatEdge(n, true))
}

// Up reports button n (from 1) released.
func (b *Button) Up(n int) error {
	if err := b.checkButton(n); err != nil {
		return err
	}
	return b.writeLine(serial.FormatEdge(n, false))
}

// Bounce reports button n going down (true) and up (false) as downs says,
// in one write: the edges of a bouncing contact, which reach the host
// together.
func (b *Button) Bounce(n int, downs ...bool) error {
	if err := b.checkButton(n); err != nil {
		return err
	}
	var burst []byte
	for _, down := range downs {
		burst = append(burst, serial.FormatEdge(n, down)+"\n"...)
	}
	return b.SendRaw(burst)
}

// Press presses button n for PressDuration; see PressFor.
func (b *Button) Press(n int) error { return b.PressFor(n, PressDuration) }

// PressFor reports button n down, waits d and reports it up. It returns
// when the button is up again, so presses never overlap; Unplug cuts the
// wait short (the button then never comes up, as with a real unplug).
func (b *Button) PressFor(n int, d time.Duration) error {
	if err := b.Down(n); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.unplugged:
		return ErrUnplugged
	}
	return b.Up(n)
}

// Unplug makes the board vanish: it closes the pseudo-terminal, so that the
// host's reads and writes fail as with a real unplug, and waits for the
// reader goroutine to exit. It is safe to call twice; the pseudo-terminal
// cannot be plugged in again.
func (b *Button) Unplug() error { return b.unplug() }

// Close releases the board; it is Unplug, and safe to call twice.
func (b *Button) Close() error { return b.Unplug() }

// Do runs one command of the `buttonhook sim` command line: "press [N]",
// "down [N]", "up [N]" (N is a button number, 1 when left out), "unplug" or
// "quit". It reports quit for "quit" and does nothing for an empty line.
func (b *Button) Do(line string) (quit bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, nil
	}
	cmd := strings.ToLower(f[0])
	switch cmd {
	case "quit", "unplug":
		if len(f) > 1 {
			return false, fmt.Errorf("%s takes no arguments", cmd)
		}
		if cmd == "quit" {
			return true, nil
		}
		return false, b.Unplug()
	case "press", "down", "up":
		if len(f) > 2 {
			return false, fmt.Errorf("%s takes one button number, got %q", cmd, strings.Join(f[1:], " "))
		}
		n := 1
		if len(f) == 2 {
			var err error
			n, err = strconv.Atoi(f[1])
			if err != nil {
				return false, fmt.Errorf("%s: %q is not a button number (1..%d)", cmd, f[1], b.opts.Buttons)
			}
		}
		if n < 1 || n > b.opts.Buttons {
			return false, fmt.Errorf("%s: no button %d: this board has buttons 1..%d", cmd, n, b.opts.Buttons)
		}
		switch cmd {
		case "press":
			return false, b.Press(n)
		case "down":
			return false, b.Down(n)
		}
		return false, b.Up(n)
	}
	return false, fmt.Errorf("unknown command %q: want press [N], down [N], up [N], unplug or quit", f[0])
}
