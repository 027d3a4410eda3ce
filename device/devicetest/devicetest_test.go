package devicetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// faults are the ways the fake device can break the contract.
type faults struct {
	noID, zeroButtons, changingInfo bool
	swapEdges, wrongButton, noEdges bool
	wrongLED, dropLED               bool
	unplugNil, setLEDAfterGone      bool
	ignoreCancel, closeTwiceErr     bool
}

// fakeBoard is the far end of a fakeDevice.
type fakeBoard struct {
	f        faults
	edges    chan device.Edge
	leds     chan ledCommand
	gone     chan struct{}
	unplugMu sync.Once
}

type ledCommand struct {
	button int
	led    device.LED
}

func (b *fakeBoard) Press(n int) error {
	if b.f.noEdges {
		return nil
	}
	if b.f.wrongButton {
		n++
	}
	first, second := true, false
	if b.f.swapEdges {
		first, second = false, true
	}
	b.edges <- device.Edge{Button: n, Down: first}
	b.edges <- device.Edge{Button: n, Down: second}
	return nil
}

func (b *fakeBoard) NextLED(ctx context.Context) (int, device.LED, error) {
	select {
	case c := <-b.leds:
		return c.button, c.led, nil
	case <-ctx.Done():
		return 0, device.LED{}, ctx.Err()
	}
}

func (b *fakeBoard) Unplug() error {
	b.unplugMu.Do(func() { close(b.gone) })
	return nil
}

// fakeDevice is an in-memory device.Device and device.LEDSetter.
type fakeDevice struct {
	b       *fakeBoard
	closed  chan struct{}
	once    sync.Once
	closes  atomic.Int32
	infos   atomic.Int32
	goneNow atomic.Bool
}

func (d *fakeDevice) Info() device.Info {
	info := device.Info{ID: "fake:1", Driver: "fake", Buttons: 1}
	if d.b.f.noID {
		info.ID = ""
	}
	if d.b.f.zeroButtons {
		info.Buttons = 0
	}
	if d.b.f.changingInfo {
		info.Firmware = fmt.Sprint(d.infos.Add(1))
	}
	return info
}

func (d *fakeDevice) Run(ctx context.Context, edge func(device.Edge)) error {
	done := ctx.Done()
	if d.b.f.ignoreCancel {
		done = nil
	}
	for {
		select {
		case <-done:
			return nil
		case <-d.closed:
			return nil
		case <-d.b.gone:
			d.goneNow.Store(true)
			if d.b.f.unplugNil {
				return nil
			}
			return fmt.Errorf("fake: %w", device.ErrGone)
		case e := <-d.b.edges:
			e.Time = time.Now()
			edge(e)
		}
	}
}

func (d *fakeDevice) SetLED(ctx context.Context, button int, led device.LED) error {
	select {
	case <-d.closed:
		return fmt.Errorf("fake: closed: %w", device.ErrGone)
	default:
	}
	if d.goneNow.Load() {
		if d.b.f.setLEDAfterGone {
			return nil
		}
		return fmt.Errorf("fake: %w", device.ErrGone)
	}
	if d.b.f.dropLED {
		return nil
	}
	if d.b.f.wrongLED {
		led.Color = device.Blue
	}
	select {
	case d.b.leds <- ledCommand{button, led}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *fakeDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	if d.closes.Add(1) > 1 && d.b.f.closeTwiceErr {
		return errors.New("fake: closed twice")
	}
	return nil
}

// noLEDs hides a fakeDevice's SetLED.
type noLEDs struct{ d *fakeDevice }

func (n noLEDs) Info() device.Info { return n.d.Info() }
func (n noLEDs) Run(ctx context.Context, edge func(device.Edge)) error {
	return n.d.Run(ctx, edge)
}
func (n noLEDs) Close() error { return n.d.Close() }

func fakeHarness(f faults, withLEDs bool) Harness {
	return Harness{Open: func(t *testing.T) (device.Device, Board) {
		b := &fakeBoard{
			f:     f,
			edges: make(chan device.Edge, 8),
			leds:  make(chan ledCommand, 8),
			gone:  make(chan struct{}),
		}
		d := &fakeDevice{b: b, closed: make(chan struct{})}
		if !withLEDs {
			return noLEDs{d}, b
		}
		return d, b
	}}
}

// TestChecksCatchFaults runs every check against a fake device with one
// fault at a time and wants exactly the checks for that fault to fail.
func TestChecksCatchFaults(t *testing.T) {
	tests := []struct {
		name     string
		f        faults
		noLEDs   bool
		wantFail []string
		wantSkip []string
	}{
		{name: "conforming"},
		{name: "no LEDs", noLEDs: true, wantSkip: []string{"SetLED"}},
		{name: "no ID", f: faults{noID: true}, wantFail: []string{"Identify"}},
		{name: "zero buttons", f: faults{zeroButtons: true}, wantFail: []string{"Identify"}},
		{name: "changing info", f: faults{changingInfo: true}, wantFail: []string{"Identify"}},
		{name: "up before down", f: faults{swapEdges: true}, wantFail: []string{"PressGivesDownThenUp"}},
		{name: "wrong button", f: faults{wrongButton: true}, wantFail: []string{"PressGivesDownThenUp"}},
		{name: "no edges", f: faults{noEdges: true},
			wantFail: []string{"PressGivesDownThenUp", "CancelEndsRun", "CloseEndsRun"}},
		{name: "wrong LED", f: faults{wrongLED: true}, wantFail: []string{"SetLED"}},
		{name: "LED lost", f: faults{dropLED: true}, wantFail: []string{"SetLED"}},
		{name: "unplug returns nil", f: faults{unplugNil: true}, wantFail: []string{"UnplugEndsRun"}},
		{name: "SetLED works when gone", f: faults{setLEDAfterGone: true}, wantFail: []string{"UnplugEndsRun"}},
		{name: "cancel ignored", f: faults{ignoreCancel: true}, wantFail: []string{"CancelEndsRun"}},
		{name: "second Close fails", f: faults{closeTwiceErr: true}, wantFail: []string{"CloseTwice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := fakeHarness(tt.f, !tt.noLEDs)
			var failed, skipped []string
			for _, ch := range checks {
				// In a bubble, the suite's timeouts take no real time.
				synctest.Test(t, func(t *testing.T) {
					c := runCheck(t, h, ch.fn)
					if len(c.errs) > 0 {
						failed = append(failed, ch.name)
						t.Logf("%s failed as reported: %q", ch.name, c.errs)
					}
					if c.skipped != "" {
						skipped = append(skipped, ch.name)
					}
				})
			}
			if !slices.Equal(failed, tt.wantFail) {
				t.Errorf("failed checks = %q; want %q", failed, tt.wantFail)
			}
			if !slices.Equal(skipped, tt.wantSkip) {
				t.Errorf("skipped checks = %q; want %q", skipped, tt.wantSkip)
			}
		})
	}
}

// TestRunConforming runs the suite the way drivers do, on a conforming fake.
func TestRunConforming(t *testing.T) {
	Run(t, fakeHarness(faults{}, true))
}
