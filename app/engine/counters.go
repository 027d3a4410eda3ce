package engine

import (
	"sync"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

// counters keeps each button's press counters (the <COUNTER> tags) in
// memory, read from the store on a button's first press. A press counts
// when it runs (a refused press sends nothing); presses of one button run
// one at a time on its worker, so the stored counters only go up.
type counters struct {
	mu sync.Mutex
	m  map[buttonKey]storage.Counts
}

// count adds a press of gesture g to the button's counters and returns
// them. A store that cannot be read starts the button from zero, and says so.
func (e *Engine) count(k buttonKey, g device.Gesture) storage.Counts {
	e.counters.mu.Lock()
	defer e.counters.mu.Unlock()
	c, ok := e.counters.m[k]
	if !ok {
		var err error
		if c, err = e.store.Counts(k.device, k.button); err != nil {
			e.log.Warn("cannot read press counters; counting from zero", "device", k.device, "button", k.button, "err", err)
		}
		if e.counters.m == nil {
			e.counters.m = map[buttonKey]storage.Counts{}
		}
	}
	c.All++
	switch g {
	case device.Press:
		c.Press++
	case device.LongPress:
		c.Long++
	case device.DoublePress:
		c.Double++
	}
	e.counters.m[k] = c
	return c
}

// setCounters puts a press's counters into its tags.
func setCounters(tags *actions.Tags, c storage.Counts) {
	tags.Counter, tags.CounterPress, tags.CounterLong, tags.CounterDouble = c.All, c.Press, c.Long, c.Double
}
