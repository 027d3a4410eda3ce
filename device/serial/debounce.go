package serial

import "time"

// DefaultDebounce is how long a button's level must have been stable before
// the host reports another edge for it, for boards that do not debounce
// (StandardFirmata sends every level change it samples).
const DefaultDebounce = 20 * time.Millisecond

// debouncer turns the raw levels of one button into edges, leading-edge
// first: a change is reported at once when the last reported edge is at
// least window old (so debouncing adds no latency to a press), and changes
// within the window are held. A level held at the end of the window is
// reported by settle, with the time it was seen. The zero state is up.
type debouncer struct {
	window  time.Duration
	down    bool      // the last reported level
	last    time.Time // when it was reported
	raw     bool      // the last level seen
	rawAt   time.Time
	pending bool // raw differs from down and waits for the window to end
}

// observe takes a level seen at now and reports whether it is an edge.
// bounced is true when a change was held back.
func (d *debouncer) observe(down bool, now time.Time) (edge, bounced bool) {
	d.raw, d.rawAt = down, now
	if down == d.down {
		d.pending = false
		return false, false
	}
	if d.last.IsZero() || now.Sub(d.last) >= d.window {
		d.down, d.last, d.pending = down, now, false
		return true, false
	}
	d.pending = true
	return false, true
}

// settle reports a held level whose window has ended by now, with the time
// it was seen.
func (d *debouncer) settle(now time.Time) (edge bool, down bool, at time.Time) {
	if !d.pending || now.Sub(d.last) < d.window {
		return false, false, time.Time{}
	}
	d.pending = false
	d.down, d.last = d.raw, now
	return true, d.raw, d.rawAt
}
