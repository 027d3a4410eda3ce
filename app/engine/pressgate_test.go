package engine

import "testing"

func TestPressGate(t *testing.T) {
	g := newPressGate()
	idle := func() bool {
		select {
		case <-g.wait():
			return true
		default:
			return false
		}
	}
	if !idle() {
		t.Fatal("a new gate is held")
	}
	g.enter()
	g.enter()
	held := g.wait()
	g.leave()
	if idle() {
		t.Error("idle with one press still on its way")
	}
	g.leave()
	if !idle() {
		t.Error("held after both presses left")
	}
	select {
	case <-held: // a waiter that took the channel while held is let go
	default:
		t.Error("a waiter from while it was held is still waiting")
	}
}
