package serial

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// Bounds of host-timed LED effects: a flash lasts 1 ms to 60 s; a pulse
// period is 100 ms (so the port is not flooded) to 60 s.
const (
	minPulsePeriod = 100 * time.Millisecond
	maxLEDDuration = MaxLEDMillis * time.Millisecond
)

// ledEmulator shows flashes and pulses on LEDs that only know on and off
// (Firmata pins, a line device with only on/off commands), timing them on
// the host. Each effect is one time.AfterFunc timer per button: a flash
// turns off when it fires; a pulse toggles and re-arms. A timer's goroutine
// exits after one step; none is armed after a newer set for its button or
// after close, so nothing runs once close has returned but a step already
// writing (bounded by writeTimeout).
type ledEmulator struct {
	// show puts one state on button's LED now: a native state as given
	// (see native), otherwise LEDOn or LEDOff with the colour.
	show func(ctx context.Context, button int, led device.LED) error
	// native reports whether show can display led by itself, timing
	// included; nil means only LEDOn and LEDOff.
	native func(led device.LED) bool

	mu     sync.Mutex // held across each step: a stale step never overwrites a newer state
	closed bool
	state  map[int]*ledState
}

type ledState struct {
	led   device.LED
	gen   uint64
	timer *time.Timer
}

func newLEDEmulator(show func(context.Context, int, device.LED) error, native func(device.LED) bool) *ledEmulator {
	return &ledEmulator{show: show, native: native, state: map[int]*ledState{}}
}

// set shows led on button, replacing any effect in progress. The first
// step is shown before set returns, and its error returned.
func (e *ledEmulator) set(ctx context.Context, button int, led device.LED) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	s := e.state[button]
	if s == nil {
		s = &ledState{}
		e.state[button] = s
	}
	s.gen++
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.led = led
	if led.Mode == device.LEDOff || led.Mode == device.LEDOn || e.native != nil && e.native(led) {
		return e.show(ctx, button, led)
	}
	on := device.LED{Mode: device.LEDOn, Color: led.Color}
	if err := e.show(ctx, button, on); err != nil {
		return err
	}
	var after time.Duration
	switch led.Mode {
	case device.LEDFlash:
		after = min(max(led.Duration, time.Millisecond), maxLEDDuration)
	case device.LEDPulse:
		after = min(max(led.Duration, minPulsePeriod), maxLEDDuration) / 2
	default:
		return nil
	}
	e.arm(button, s, s.gen, after, false)
	return nil
}

// setLED is the SetLED of a device whose LEDs e drives: set, with the
// error saying which LED of which device.
func (e *ledEmulator) setLED(ctx context.Context, path string, button int, led device.LED) error {
	if err := e.set(ctx, button, led); err != nil {
		return fmt.Errorf("set LED %d on %s: %w", button, path, err)
	}
	return nil
}

// checkButton checks that button is in 1..n, for SetLED.
func checkButton(path string, button, n int) error {
	if button < 1 || button > n {
		return fmt.Errorf("set LED on %s: button %d out of range 1..%d", path, button, n)
	}
	return nil
}

// arm schedules the next step of button's effect; lit is whether it is on
// after the step. Call with mu held.
func (e *ledEmulator) arm(button int, s *ledState, gen uint64, after time.Duration, lit bool) {
	s.timer = time.AfterFunc(after, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed || s.gen != gen {
			return // replaced or closed meanwhile
		}
		s.timer = nil
		step := device.LED{Mode: device.LEDOff}
		if lit {
			step = device.LED{Mode: device.LEDOn, Color: s.led.Color}
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err := e.show(ctx, button, step)
		cancel()
		if err != nil || s.led.Mode != device.LEDPulse {
			return // a gone device ends the effect; a flash is over
		}
		e.arm(button, s, gen, min(max(s.led.Duration, minPulsePeriod), maxLEDDuration)/2, !lit)
	})
}

// get returns the state last set on button (off if none).
func (e *ledEmulator) get(button int) device.LED {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.state[button]; s != nil {
		return s.led
	}
	return device.LED{}
}

// close stops every effect; later sets fail. Safe to call twice.
func (e *ledEmulator) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for _, s := range e.state {
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
	}
}
