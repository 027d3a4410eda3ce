package device

import (
	"sync"
	"time"
)

// Gesture is what a user did with a button, derived from its edges.
type Gesture string

// Gestures.
const (
	Press       Gesture = "press"
	LongPress   Gesture = "long"
	DoublePress Gesture = "double"
)

// Valid reports whether g is one of the known gestures.
func (g Gesture) Valid() bool { return g == Press || g == LongPress || g == DoublePress }

// GestureTiming sets the thresholds of a GestureDetector.
type GestureTiming struct {
	// Long is how long a button must be held for a long press. The long press
	// fires when the threshold is reached, while the button is still held, so
	// the user sees the LED react without letting go. Default 800 ms.
	Long time.Duration
	// Double is the window after a release in which a second press makes a
	// double press. Default 300 ms.
	Double time.Duration
}

// DefaultGestureTiming is the timing used when none is configured.
var DefaultGestureTiming = GestureTiming{Long: 800 * time.Millisecond, Double: 300 * time.Millisecond}

// GestureDetector turns the edges of buttons into gestures. It asks wants
// which gestures a button has bindings for, so that it waits only when it
// must: a single press fires on release, at once, unless the button has a
// double-press binding (then it waits for the double-press window first); a
// button held past the long threshold gives a long press only if it has a
// long-press binding, and otherwise a press on release, however slow.
// It is safe for concurrent use; fire is called with no lock held, from the
// caller of Edge, Forget or Stop, or from a timer goroutine.
type GestureDetector struct {
	timing GestureTiming
	wants  func(deviceID string, button int, g Gesture) bool
	fire   func(deviceID string, button int, g Gesture, at time.Time)

	mu      sync.Mutex
	buttons map[buttonKey]*buttonState
}

type buttonKey struct {
	device string
	button int
}

type buttonState struct {
	down      bool
	longFired bool
	gen       int         // invalidates timers that belong to an earlier gesture
	pending   bool        // a released single press waiting for the double window
	timer     *time.Timer // long-press or double-press timer
	downAt    time.Time
}

// NewGestureDetector returns a detector. wants may be nil: every gesture is
// then wanted.
func NewGestureDetector(timing GestureTiming, wants func(deviceID string, button int, g Gesture) bool,
	fire func(deviceID string, button int, g Gesture, at time.Time)) *GestureDetector {
	if timing.Long <= 0 {
		timing.Long = DefaultGestureTiming.Long
	}
	if timing.Double <= 0 {
		timing.Double = DefaultGestureTiming.Double
	}
	if wants == nil {
		wants = func(string, int, Gesture) bool { return true }
	}
	return &GestureDetector{timing: timing, wants: wants, fire: fire, buttons: map[buttonKey]*buttonState{}}
}

// Edge feeds one edge of a device's button. Repeated edges in the same
// direction (a bounce, a lost line) are ignored.
func (d *GestureDetector) Edge(deviceID string, e Edge) {
	k := buttonKey{deviceID, e.Button}
	var fired []Gesture
	d.mu.Lock()
	s := d.buttons[k]
	if s == nil {
		s = &buttonState{}
		d.buttons[k] = s
	}
	switch {
	case e.Down && !s.down:
		s.down, s.longFired, s.downAt = true, false, e.Time
		s.gen++
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.pending { // second press inside the double window
			s.pending = false
			fired = append(fired, DoublePress)
			s.longFired = true // the rest of this hold is part of the double press
			break
		}
		if d.wants(deviceID, e.Button, LongPress) {
			gen := s.gen
			s.timer = time.AfterFunc(d.timing.Long, func() { d.longElapsed(k, gen) })
		}
	case !e.Down && s.down:
		s.down = false
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.longFired {
			break
		}
		if !d.wants(deviceID, e.Button, DoublePress) {
			fired = append(fired, Press)
			break
		}
		s.pending = true
		s.gen++
		gen := s.gen
		s.timer = time.AfterFunc(d.timing.Double, func() { d.doubleElapsed(k, gen) })
	}
	d.mu.Unlock()
	for _, g := range fired {
		d.fire(deviceID, e.Button, g, e.Time)
	}
}

func (d *GestureDetector) longElapsed(k buttonKey, gen int) {
	d.mu.Lock()
	s := d.buttons[k]
	ok := s != nil && s.gen == gen && s.down && !s.longFired
	if ok {
		s.longFired = true
	}
	d.mu.Unlock()
	if ok {
		d.fire(k.device, k.button, LongPress, time.Now())
	}
}

func (d *GestureDetector) doubleElapsed(k buttonKey, gen int) {
	d.mu.Lock()
	s := d.buttons[k]
	ok := s != nil && s.gen == gen && s.pending
	if ok {
		s.pending = false
	}
	d.mu.Unlock()
	if ok {
		d.fire(k.device, k.button, Press, time.Now())
	}
}

// Forget drops the state of a device's buttons (after it detached), so a
// button held while unplugged does not fire later. A press already released
// and waiting for the double-press window fires now: it happened.
func (d *GestureDetector) Forget(deviceID string) {
	d.flush(func(k buttonKey) bool { return k.device == deviceID })
}

// Stop stops every timer and fires the presses waiting for their double-press
// window, so that none is lost when the engine stops. No timer fires after
// Stop returns.
func (d *GestureDetector) Stop() {
	d.flush(func(buttonKey) bool { return true })
}

func (d *GestureDetector) flush(match func(buttonKey) bool) {
	var pending []buttonKey
	d.mu.Lock()
	for k, s := range d.buttons {
		if !match(k) {
			continue
		}
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.pending {
			pending = append(pending, k)
		}
		delete(d.buttons, k)
	}
	d.mu.Unlock()
	now := time.Now()
	for _, k := range pending {
		d.fire(k.device, k.button, Press, now)
	}
}
