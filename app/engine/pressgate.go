package engine

import "sync"

// A press on its way to its requests has the machine first: from the moment
// its gesture is queued until its requests are written (or sentWait
// passes), the local server holds back its handlers (see PressesIdle), so
// that a flood of callbacks, API calls or inspected requests never slows a
// press down.

// pressGate counts the presses on their way to their requests.
type pressGate struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0
}

func newPressGate() *pressGate {
	g := &pressGate{idle: make(chan struct{})}
	close(g.idle)
	return g
}

// enter counts a press that is on its way.
func (g *pressGate) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == 0 {
		g.idle = make(chan struct{})
	}
	g.n++
}

// leave counts a press whose requests are out (or that was refused).
func (g *pressGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 {
		close(g.idle)
	}
}

func (g *pressGate) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.idle
}

// PressesIdle returns a channel that is closed while no press is on its way
// to its requests. Work that should never slow a press (the local server's
// handlers) waits for it, a little.
func (e *Engine) PressesIdle() <-chan struct{} { return e.gate.wait() }
