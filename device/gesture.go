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
	// Debounce is the host-side debounce window of every button (see
	// GestureDetector); SetDebounce overrides it per device or per button.
	// Default 25 ms; a negative value turns debouncing off.
	Debounce time.Duration
}

// DefaultGestureTiming is the timing used when none is configured.
var DefaultGestureTiming = GestureTiming{
	Long:     800 * time.Millisecond,
	Double:   300 * time.Millisecond,
	Debounce: 25 * time.Millisecond,
}

// GestureDetector turns the edges of buttons into gestures. It asks wants
// which gestures a button has bindings for, so that it waits only when it
// must: a single press fires on release, at once, unless the button has a
// double-press binding (then it waits for the double-press window first); a
// button held past the long threshold gives a long press only if it has a
// long-press binding, and otherwise a press on release, however slow.
//
// It debounces on the host, for contacts that bounce and firmware that does
// not filter them: an edge that changes a button's state counts at once (a
// clean press costs no latency), and opens the button's debounce window.
// Edges inside the window are taken for bounce and only recorded; every one
// of them restarts the window. When the window closes, if the last edge left
// the button in the other state, that state counts from then, and the next
// edge is a real one again (the contact has rested a whole window). So a
// bouncy press gives one press, bounce on release gives no second press and
// no false double press, and a real press shorter than the window still
// counts, one window late. A release and a press closer together than the
// window with no edge after them (nobody presses that fast) cancel out.
//
// It is safe for concurrent use; fire is called with no lock held, from the
// caller of Edge, Forget or Stop, or from a timer goroutine.
type GestureDetector struct {
	timing GestureTiming
	wants  func(deviceID string, button int, g Gesture) bool
	fire   func(deviceID string, button int, g Gesture, at time.Time)

	mu       sync.Mutex
	buttons  map[buttonKey]*buttonState
	debounce map[buttonKey]time.Duration // SetDebounce overrides; button 0 is the device's
}

type buttonKey struct {
	device string
	button int
}

type buttonState struct {
	down      bool // the debounced state
	longFired bool
	gen       int         // invalidates timers that belong to an earlier gesture
	pending   bool        // a released single press waiting for the double window
	timer     *time.Timer // long-press or double-press timer
	downAt    time.Time

	raw      bool        // the direction of the latest edge, bounce included
	quietAt  time.Time   // edges before this are bounce
	settle   *time.Timer // fires when the window closes with raw != down
	settleID int         // invalidates an earlier settle timer
}

// NewGestureDetector returns a detector. wants may be nil: every gesture is
// then wanted. Zero fields of timing take their defaults.
func NewGestureDetector(timing GestureTiming, wants func(deviceID string, button int, g Gesture) bool,
	fire func(deviceID string, button int, g Gesture, at time.Time)) *GestureDetector {
	if timing.Long <= 0 {
		timing.Long = DefaultGestureTiming.Long
	}
	if timing.Double <= 0 {
		timing.Double = DefaultGestureTiming.Double
	}
	if timing.Debounce == 0 {
		timing.Debounce = DefaultGestureTiming.Debounce
	}
	if wants == nil {
		wants = func(string, int, Gesture) bool { return true }
	}
	return &GestureDetector{timing: timing, wants: wants, fire: fire,
		buttons: map[buttonKey]*buttonState{}, debounce: map[buttonKey]time.Duration{}}
}

// SetDebounce sets the debounce window of one button of a device, or of all
// its buttons when button is 0 (a single button's setting wins over its
// device's). A window of 0 removes the setting, so the device's or the
// timing's window applies again; a negative window turns debouncing off. It
// applies from the next edge.
func (d *GestureDetector) SetDebounce(deviceID string, button int, window time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := buttonKey{deviceID, button}
	if window == 0 {
		delete(d.debounce, k)
		return
	}
	d.debounce[k] = window
}

// window returns a button's debounce window, 0 when it is off. d.mu is held.
func (d *GestureDetector) window(k buttonKey) time.Duration {
	w, ok := d.debounce[k]
	if !ok {
		w, ok = d.debounce[buttonKey{k.device, 0}]
	}
	if !ok {
		w = d.timing.Debounce
	}
	return max(w, 0)
}

// Edge feeds one edge of a device's button; e.Time is when it happened (the
// time of the call when zero). An edge that repeats the button's state (a
// lost line) is ignored, and edges inside the debounce window are bounce.
func (d *GestureDetector) Edge(deviceID string, e Edge) {
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	k := buttonKey{deviceID, e.Button}
	d.mu.Lock()
	s := d.buttons[k]
	if s == nil {
		s = &buttonState{}
		d.buttons[k] = s
	}
	s.raw = e.Down
	var fired []Gesture
	if at.Before(s.quietAt) { // bounce: wait for the contact to settle
		s.quietAt = at.Add(d.window(k))
		d.armSettle(k, s)
	} else if e.Down != s.down {
		fired = d.change(k, s, e.Down, at)
		s.quietAt = at.Add(d.window(k))
	}
	d.mu.Unlock()
	for _, g := range fired {
		d.fire(deviceID, e.Button, g, at)
	}
}

// armSettle (re)starts the timer that makes the last bounced edge count when
// the window closes, or stops it when the bounce ended where it began.
// d.mu is held.
func (d *GestureDetector) armSettle(k buttonKey, s *buttonState) {
	if s.settle != nil {
		s.settle.Stop()
		s.settle = nil
	}
	s.settleID++
	if s.raw == s.down {
		return
	}
	id := s.settleID
	s.settle = time.AfterFunc(time.Until(s.quietAt), func() { d.settled(k, s, id) })
}

// settled makes a button's state the one its last edge left it in, once the
// debounce window closed.
func (d *GestureDetector) settled(k buttonKey, s *buttonState, id int) {
	var fired []Gesture
	now := time.Now()
	d.mu.Lock()
	if d.buttons[k] == s && s.settleID == id && s.raw != s.down {
		s.settle = nil
		// The contact has rested in this state for a whole window: no new
		// window opens, the next edge is a real one.
		fired = d.change(k, s, s.raw, now)
	}
	d.mu.Unlock()
	for _, g := range fired {
		d.fire(k.device, k.button, g, now)
	}
}

// change moves a button to down (which differs from its state) at time at
// and returns the gestures that fire. d.mu is held.
func (d *GestureDetector) change(k buttonKey, s *buttonState, down bool, at time.Time) []Gesture {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.down = down
	if down {
		s.longFired, s.downAt = false, at
		s.gen++
		if s.pending { // second press inside the double window
			s.pending = false
			s.longFired = true // the rest of this hold is part of the double press
			return []Gesture{DoublePress}
		}
		if d.wants(k.device, k.button, LongPress) {
			gen := s.gen
			s.timer = time.AfterFunc(d.timing.Long, func() { d.longElapsed(k, gen) })
		}
		return nil
	}
	if s.longFired {
		return nil
	}
	if !d.wants(k.device, k.button, DoublePress) {
		return []Gesture{Press}
	}
	s.pending = true
	s.gen++
	gen := s.gen
	s.timer = time.AfterFunc(d.timing.Double, func() { d.doubleElapsed(k, gen) })
	return nil
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
// button held while unplugged does not fire later. A press already released,
// waiting for the double-press window or for its debounce window to close,
// fires now: it happened.
func (d *GestureDetector) Forget(deviceID string) {
	d.flush(func(k buttonKey) bool { return k.device == deviceID })
}

// Stop stops every timer and fires the presses waiting for their double-press
// or debounce window, so that none is lost when the engine stops. No timer fires after
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
		if s.settle != nil {
			s.settle.Stop()
		}
		// A press waiting for its double window, or released in its
		// debounce window, happened: it fires now.
		if s.pending || (s.down && !s.raw && !s.longFired) {
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
