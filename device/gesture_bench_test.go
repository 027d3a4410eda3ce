package device

import (
	"testing"
	"time"
)

// BenchmarkGestureEdge measures the detector's own cost of one clean press
// (a down and, 120 ms later, an up edge, which fires the press), with host
// debounce on and off: debouncing a press that does not bounce adds no
// waiting, only a time comparison.
func BenchmarkGestureEdge(b *testing.B) {
	for _, bc := range []struct {
		name     string
		debounce time.Duration
	}{{"debounce", 0}, {"no-debounce", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			timing := DefaultGestureTiming
			timing.Debounce = bc.debounce
			presses := 0
			d := NewGestureDetector(timing,
				func(_ string, _ int, g Gesture) bool { return g == Press },
				func(string, int, Gesture, time.Time) { presses++ })
			at := time.Now()
			for b.Loop() {
				d.Edge("serial:SIM-1", Edge{Button: 1, Down: true, Time: at})
				at = at.Add(120 * time.Millisecond)
				d.Edge("serial:SIM-1", Edge{Button: 1, Down: false, Time: at})
				at = at.Add(120 * time.Millisecond)
			}
			if presses != b.N {
				b.Fatalf("%d presses fired, want %d", presses, b.N)
			}
		})
	}
}
