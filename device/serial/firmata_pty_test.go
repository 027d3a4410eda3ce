package serial_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/devicetest"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
	"github.com/buttonhook/buttonhook/device/sim"
)

// These tests run the Firmata driver on real pseudo-terminals with the
// simulated StandardFirmata board of device/sim at the other end.

// rgButton is a button on pin 2 with a red/green LED on pins 12 and 13.
var rgButton = serial.FirmataButton{Pin: 2, LEDs: []serial.FirmataLED{
	{Pin: 12, Color: device.Red}, {Pin: 13, Color: device.Green}}}

// openFirmata starts a simulated board and opens it through the driver with
// buttons, after waiting until the board has taken the whole set-up and
// throwing away the set-up's pin writes.
func openFirmata(t testing.TB, bopts sim.FirmataOptions, buttons ...serial.FirmataButton) (*serial.FirmataDevice, *sim.FirmataBoard) {
	t.Helper()
	board, err := sim.NewFirmata(bopts)
	if err != nil {
		t.Fatalf("sim.NewFirmata: %v", err)
	}
	t.Cleanup(func() { _ = board.Close() })
	d := serial.NewFirmataDriver(nil)
	if err := d.SetPorts([]serial.FirmataOptions{{Port: board.Path(), Buttons: buttons}}); err != nil {
		t.Fatalf("SetPorts: %v", err)
	}
	dev := openOnly(t, d)
	// REPORT_DIGITAL comes last in the set-up: once the board has it, it
	// has everything before it.
	port, _ := firmata.PortOf(buttons[len(buttons)-1].Pin)
	for start := time.Now(); !board.Reporting(port); time.Sleep(time.Millisecond) {
		if time.Since(start) > time.Second {
			t.Fatalf("the board's port %d is not reported 1s after Open", port)
		}
	}
	for len(board.Writes()) > 0 {
		<-board.Writes()
	}
	return dev.(*serial.FirmataDevice), board
}

// firmataBoard is a simulated Firmata board as a devicetest.Board.
type firmataBoard struct {
	*sim.FirmataBoard
	dev     *serial.FirmataDevice
	buttons []serial.FirmataButton
}

func (b firmataBoard) Press(n int) error { return b.FirmataBoard.Press(b.buttons[n-1].Pin) }

// NextLED collects the board's pin writes until every LED pin of one button
// has been written (the device writes them all for each LED state), and
// reads the colour from the lit pins. A Firmata board only sees levels:
// the mode and duration of a flash or pulse, which the host times, come
// from the device's own record, checked against the pins (an LED shown as
// off must be dark, any other lit).
func (b firmataBoard) NextLED(ctx context.Context) (int, device.LED, error) {
	written := map[int]map[int]bool{} // button -> pin -> level
	for {
		select {
		case w := <-b.Writes():
			for i, bt := range b.buttons {
				for _, l := range bt.LEDs {
					if l.Pin != w.Pin {
						continue
					}
					n := i + 1
					if written[n] == nil {
						written[n] = map[int]bool{}
					}
					written[n][w.Pin] = w.High != l.ActiveLow
					if len(written[n]) == len(bt.LEDs) {
						return b.decode(n, written[n])
					}
				}
			}
		case <-ctx.Done():
			return 0, device.LED{}, ctx.Err()
		}
	}
}

func (b firmataBoard) decode(n int, lit map[int]bool) (int, device.LED, error) {
	var colors []string
	for _, l := range b.buttons[n-1].LEDs {
		if lit[l.Pin] {
			colors = append(colors, string(l.Color))
		}
	}
	state := b.dev.LED(n)
	if len(colors) == 0 {
		if state.Mode != device.LEDOff {
			return n, device.LED{}, fmt.Errorf("button %d: LED pins dark, but the device shows %+v", n, state)
		}
		return n, device.LED{Mode: device.LEDOff}, nil
	}
	slices.Sort(colors)
	c, ok := map[string]device.Color{"red": device.Red, "green": device.Green, "blue": device.Blue,
		"green,red": device.Yellow, "blue,green,red": device.White}[strings.Join(colors, ",")]
	if !ok {
		return n, device.LED{}, fmt.Errorf("button %d: pins lit for %q, which is no colour", n, colors)
	}
	if state.Mode == device.LEDOff {
		return n, device.LED{}, fmt.Errorf("button %d: LED lit %s, but the device shows it off", n, c)
	}
	return n, device.LED{Mode: state.Mode, Color: c, Duration: state.Duration}, nil
}

func TestFirmataConformance(t *testing.T) {
	buttons := []serial.FirmataButton{rgButton, {Pin: 9}}
	devicetest.Run(t, devicetest.Harness{
		Open: func(t *testing.T) (device.Device, devicetest.Board) {
			dev, b := openFirmata(t, sim.FirmataOptions{}, buttons...)
			return dev, firmataBoard{FirmataBoard: b, dev: dev, buttons: buttons}
		},
	})
}

// TestFirmataConformanceOldProtocol runs the suite against a Firmata 2.3
// board: no INPUT_PULLUP, no SET_DIGITAL_PIN_VALUE.
func TestFirmataConformanceOldProtocol(t *testing.T) {
	buttons := []serial.FirmataButton{rgButton}
	devicetest.Run(t, devicetest.Harness{
		Open: func(t *testing.T) (device.Device, devicetest.Board) {
			dev, b := openFirmata(t, sim.FirmataOptions{ProtocolMajor: 2, ProtocolMinor: 3}, buttons...)
			return dev, firmataBoard{FirmataBoard: b, dev: dev, buttons: buttons}
		},
	})
}

func TestFirmataOpenIdentifiesAndSetsUpPins(t *testing.T) {
	for _, tt := range []struct {
		name  string
		bopts sim.FirmataOptions
		fw    string
	}{
		{"protocol 2.5", sim.FirmataOptions{FirmwareMajor: 2, FirmwareMinor: 13}, "StandardFirmata v2.13"},
		{"protocol 2.3", sim.FirmataOptions{ProtocolMajor: 2, ProtocolMinor: 3, FirmwareMajor: 2, FirmwareMinor: 3}, "StandardFirmata v2.3"},
		{"no capability answer", sim.FirmataOptions{NoCapabilities: true, Name: "Custom"}, "Custom v2.5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dev, board := openFirmata(t, tt.bopts, rgButton, serial.FirmataButton{Pin: 17})
			info := dev.Info()
			want := device.Info{ID: "firmata:" + board.Path(), Driver: "firmata", Path: board.Path(),
				Model: strings.Fields(tt.fw)[0], Firmware: tt.fw, Buttons: 2,
				Colors: []device.Color{device.Red, device.Green, device.Yellow, device.White}}
			if fmt.Sprint(info) != fmt.Sprint(want) {
				t.Errorf("Info() = %+v; want %+v", info, want)
			}
			for pin, mode := range map[int]firmata.PinMode{2: firmata.InputPullup, 17: firmata.InputPullup,
				12: firmata.Output, 13: firmata.Output} {
				if got := board.Mode(pin); got != mode {
					t.Errorf("pin %d mode = %#x; want %#x", pin, got, mode)
				}
			}
			for port, want := range []bool{true, false, true} {
				if got := board.Reporting(port); got != want {
					t.Errorf("port %d reporting = %v; want %v", port, got, want)
				}
			}
		})
	}
}

// TestFirmataOpenAfterBoot opens a board that is deaf for a while after the
// port opens, like an Uno resetting.
func TestFirmataOpenAfterBoot(t *testing.T) {
	t.Parallel()
	start := time.Now()
	dev, _ := openFirmata(t, sim.FirmataOptions{BootDelay: 1200 * time.Millisecond}, rgButton)
	if took := time.Since(start); took < 1200*time.Millisecond || took > 3*time.Second {
		t.Errorf("Open took %v; want a little over the 1.2s boot", took)
	}
	if got := dev.Info().Model; got != "StandardFirmata" {
		t.Errorf("Model = %q; want StandardFirmata", got)
	}
}

func TestFirmataOpenNoAnswer(t *testing.T) {
	t.Parallel()
	path, master := silentPTY(t)
	start := time.Now()
	_, err := serial.NewFirmataDriver(nil).OpenOptions(t.Context(), serial.FirmataOptions{Port: path, Buttons: []serial.FirmataButton{{Pin: 2}}})
	waited := time.Since(start)
	if !errors.Is(err, device.ErrNoAnswer) {
		t.Fatalf("OpenOptions(silent port) = %v; want an error wrapping device.ErrNoAnswer", err)
	}
	if waited < serial.FirmataOpenTimeout || waited > serial.FirmataOpenTimeout+time.Second {
		t.Errorf("OpenOptions gave up after %v; want about %v", waited, serial.FirmataOpenTimeout)
	}
	for _, want := range []string{path, "StandardFirmata", "57600"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The driver asked, more than once (the first queries may reach a
	// bootloader).
	buf := make([]byte, 256)
	n, _ := master.Read(buf)
	if got := strings.Count(string(buf[:n]), "\xf9"); got < 3 {
		t.Errorf("the port got % x: %d version queries; want one a second", buf[:n], got)
	}
}

func TestFirmataOpenPinNotOnBoard(t *testing.T) {
	board, err := sim.NewFirmata(sim.FirmataOptions{Pins: 14})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = board.Close() })
	_, err = serial.NewFirmataDriver(nil).OpenOptions(t.Context(), serial.FirmataOptions{Port: board.Path(),
		Buttons: []serial.FirmataButton{{Pin: 2, LEDs: []serial.FirmataLED{{Pin: 20}}}}})
	if err == nil || !strings.Contains(err.Error(), "pin 20 (LED of button 1) cannot be an output on this board, which has pins 0..13") {
		t.Errorf("OpenOptions with LED pin 20 on a 14-pin board = %v; want it to name the pin and the board's pins", err)
	}
}

// TestFirmataRestart restarts the board under a running device: the device
// sets the pins up again and the button works.
func TestFirmataRestart(t *testing.T) {
	dev, board := openFirmata(t, sim.FirmataOptions{}, rgButton)
	edges := runEdges(t, dev)

	board.Restart()
	for start := time.Now(); !board.Reporting(0); time.Sleep(time.Millisecond) {
		if time.Since(start) > time.Second {
			t.Fatal("port 0 not reported again 1s after the board restarted")
		}
	}
	if err := board.Press(2); err != nil {
		t.Fatal(err)
	}
	wantEdges(t, edges, 1, true, false)
	if got := dev.Stats().Restarts; got != 1 {
		t.Errorf("Stats().Restarts = %d; want 1", got)
	}
}

// TestFirmataGarbageOverPTY sends bytes that break the protocol: they are
// counted, and the next report still gets through.
func TestFirmataGarbageOverPTY(t *testing.T) {
	dev, board := openFirmata(t, sim.FirmataOptions{}, rgButton)
	edges := runEdges(t, dev)

	junk := []byte{0x01, 0x02, 0x90, 0x04, 0xF0, 0x10, 1, 2, 0xF7, 0xF0, 0x71, 'h', 0, 'i', 0, 0xF7, 0xE0, 1, 0}
	junk = firmata.AppendDigital(junk, 0, 0xFB) // pin 2 low: down
	if err := board.SendRaw(junk); err != nil {
		t.Fatal(err)
	}
	wantEdges(t, edges, 1, true)
	st := dev.Stats()
	if st.Malformed != 3 || st.Ignored < 2 || st.Strings != 1 {
		t.Errorf("Stats() = %+v; want 3 malformed (2 stray bytes, 1 cut message), 2+ ignored, 1 string", st)
	}
}

// BenchmarkFirmataEdgeLatency measures how long a button edge takes from
// the simulated board's pin change to the driver's edge callback, over a
// real pseudo-terminal, and reports the median and 99th percentile.
func BenchmarkFirmataEdgeLatency(b *testing.B) {
	board, err := sim.NewFirmata(sim.FirmataOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = board.Close() })
	dev, err := serial.NewFirmataDriver(nil).OpenOptions(context.Background(), serial.FirmataOptions{
		Port: board.Path(), Buttons: []serial.FirmataButton{{Pin: 2}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = dev.Close() })
	edges := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, func(device.Edge) { edges <- time.Now() }) }()
	b.Cleanup(func() { cancel(); <-done })

	var lat []time.Duration
	for b.Loop() {
		for _, down := range []bool{true, false} {
			start := time.Now()
			if err := board.SetButton(2, down); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, (<-edges).Sub(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
}
