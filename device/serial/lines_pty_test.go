package serial_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/devicetest"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

// testLines maps "B<n> down" and "B<n> up" lines of buttons 1 and 2 and
// "TAP" (a press of button 2), and sends every LED state as a line.
func testLines(port string) serial.LinesOptions {
	return serial.LinesOptions{
		Port: port,
		Name: "panel",
		Patterns: []serial.LinePattern{
			{Regexp: `^B1 down$`, Button: 1, Edge: "down"},
			{Regexp: `^B1 up$`, Button: 1, Edge: "up"},
			{Regexp: `^TAP`, Button: 2, Edge: "press"},
		},
		LED: map[string]string{
			"off":   "LED {button} off",
			"on":    "LED {button} on {color}",
			"flash": "LED {button} flash {color} {ms}",
			"pulse": "LED {button} pulse {color} {ms}",
		},
	}
}

func openLines(t *testing.T, opts func(port string) serial.LinesOptions) (*serial.LinesDevice, *sim.LineBoard) {
	t.Helper()
	board, err := sim.NewLineBoard()
	if err != nil {
		t.Fatalf("sim.NewLineBoard: %v", err)
	}
	t.Cleanup(func() { _ = board.Close() })
	d := serial.NewLinesDriver(nil)
	if err := d.SetPorts([]serial.LinesOptions{opts(board.Path())}); err != nil {
		t.Fatalf("SetPorts: %v", err)
	}
	dev := openOnly(t, d)
	return dev.(*serial.LinesDevice), board
}

// lineBoard is a sim.LineBoard as a devicetest.Board for testLines.
type lineBoard struct{ *sim.LineBoard }

func (b lineBoard) Press(n int) error {
	if err := b.Print(fmt.Sprintf("B%d down", n)); err != nil {
		return err
	}
	time.Sleep(sim.PressDuration)
	return b.Print(fmt.Sprintf("B%d up", n))
}

// NextLED parses the next "LED n mode [colour ms]" line the board got.
func (b lineBoard) NextLED(ctx context.Context) (int, device.LED, error) {
	select {
	case line, ok := <-b.Lines():
		if !ok {
			return 0, device.LED{}, errors.New("board unplugged")
		}
		return parseLEDLine(line)
	case <-ctx.Done():
		return 0, device.LED{}, ctx.Err()
	}
}

func parseLEDLine(line string) (int, device.LED, error) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "LED" {
		return 0, device.LED{}, fmt.Errorf("line %q is not an LED line", line)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, device.LED{}, fmt.Errorf("line %q: %v", line, err)
	}
	modes := map[string]device.LEDMode{"off": device.LEDOff, "on": device.LEDOn, "flash": device.LEDFlash, "pulse": device.LEDPulse}
	led := device.LED{Mode: modes[f[2]]}
	if len(f) > 3 {
		led.Color = device.Color(f[3])
	}
	if len(f) > 4 {
		ms, err := strconv.Atoi(f[4])
		if err != nil {
			return 0, device.LED{}, fmt.Errorf("line %q: %v", line, err)
		}
		led.Duration = time.Duration(ms) * time.Millisecond
	}
	return n, led, nil
}

func TestLinesConformance(t *testing.T) {
	devicetest.Run(t, devicetest.Harness{
		Open: func(t *testing.T) (device.Device, devicetest.Board) {
			dev, b := openLines(t, testLines)
			return dev, lineBoard{b}
		},
	})
}

func TestLinesOverPTY(t *testing.T) {
	dev, board := openLines(t, testLines)
	want := device.Info{ID: "lines:" + board.Path(), Driver: "lines", Path: board.Path(), Model: "panel", Buttons: 2,
		Colors: []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White}}
	if got := dev.Info(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Info() = %+v; want %+v", got, want)
	}
	edges := runEdges(t, dev)

	junk := "boot v1.2\r\n" + strings.Repeat("x", 5000) + "\n\xff\xfe\n\n\rTAP 7\r"
	if err := board.SendRaw([]byte(junk)); err != nil {
		t.Fatal(err)
	}
	wantEdges(t, edges, 2, true, false)
	if got, want := dev.Stats(), (serial.LinesStats{Lines: 3, Matched: 1, Unmatched: 2, TooLong: 1}); got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}
}

// TestLinesLineEnding sends LED lines ending in "\r" to a device that
// wants them so.
func TestLinesLineEnding(t *testing.T) {
	dev, board := openLines(t, func(port string) serial.LinesOptions {
		o := testLines(port)
		o.LineEnding = "cr"
		o.LED = map[string]string{"on": "COLOR={color}", "on:green": "GO{{{button}}}"}
		return o
	})
	for _, led := range []device.LED{{Mode: device.LEDOn, Color: device.Red}, {Mode: device.LEDOn, Color: device.Green}} {
		if err := dev.SetLED(t.Context(), 2, led); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"COLOR=red", "GO{2}"} {
		select {
		case got := <-board.Lines():
			if got != want {
				t.Errorf("board got %q; want %q", got, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("board got no line within 1s; want %q", want)
		}
	}
}
