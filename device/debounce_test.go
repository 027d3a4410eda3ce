package device

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// at is an edge of button 1 (or button b when set) at a time since the
// script's start.
type at struct {
	ms     int
	down   bool
	button int
}

// runScript feeds the edges to a detector at their times in a synctest
// bubble and returns what fired, with the fake time it fired at.
func runScript(t *testing.T, timing GestureTiming, double bool, setup func(*GestureDetector), script []at) []fired {
	t.Helper()
	var got []fired
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		d := NewGestureDetector(timing,
			func(_ string, _ int, g Gesture) bool { return g != DoublePress || double },
			func(_ string, b int, g Gesture, _ time.Time) {
				mu.Lock()
				got = append(got, fired{b, g, time.Since(start)})
				mu.Unlock()
			})
		if setup != nil {
			setup(d)
		}
		for _, e := range script {
			time.Sleep(time.Until(start.Add(time.Duration(e.ms) * time.Millisecond)))
			b := max(e.button, 1)
			d.Edge("dev", Edge{Button: b, Down: e.down, Time: time.Now()})
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		d.Stop()
	})
	return got
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestDebounce(t *testing.T) {
	const d, u = true, false
	tests := []struct {
		name   string
		double bool
		script []at
		want   []fired
	}{
		{"bouncy press and release give one press, at the first release edge", false,
			[]at{{0, d, 0}, {1, u, 0}, {3, d, 0}, {5, u, 0}, {7, d, 0}, {200, u, 0}, {201, d, 0}, {203, u, 0}},
			[]fired{{1, Press, ms(200)}}},
		{"bounce on release is no double press", true,
			[]at{{0, d, 0}, {1, u, 0}, {2, d, 0}, {100, u, 0}, {102, d, 0}, {104, u, 0}},
			[]fired{{1, Press, ms(400)}}},
		{"a release that bounces for 12 ms is no second press", true,
			[]at{{0, d, 0}, {100, u, 0}, {102, d, 0}, {104, u, 0}, {110, d, 0}, {112, u, 0}},
			[]fired{{1, Press, ms(400)}}},
		{"a real double press with bouncy contacts", true,
			[]at{{0, d, 0}, {2, u, 0}, {3, d, 0}, {100, u, 0}, {101, d, 0}, {102, u, 0},
				{200, d, 0}, {201, u, 0}, {202, d, 0}, {300, u, 0}, {302, d, 0}, {303, u, 0}},
			[]fired{{1, DoublePress, ms(200)}}},
		{"bounce longer than the window gives one press", false,
			[]at{{0, d, 0}, {10, u, 0}, {20, d, 0}, {30, u, 0}, {40, d, 0}, {500, u, 0}},
			[]fired{{1, Press, ms(500)}}},
		{"a press shorter than the window counts when the window closes", false,
			[]at{{0, d, 0}, {10, u, 0}},
			[]fired{{1, Press, ms(35)}}},
		{"long press with a bouncy contact fires once, timed from the first edge", false,
			[]at{{0, d, 0}, {2, u, 0}, {4, d, 0}, {1000, u, 0}, {1001, d, 0}, {1003, u, 0}},
			[]fired{{1, LongPress, ms(800)}}},
		{"back-to-back presses 50 ms apart still count twice", false,
			// sim.Press holds 50 ms and the next press follows at once: the
			// second down lands in the first release's window and counts
			// when it closes.
			[]at{{0, d, 0}, {50, u, 0}, {50, d, 0}, {100, u, 0}},
			[]fired{{1, Press, ms(50)}, {1, Press, ms(100)}}},
		{"presses with no gap between them each count", false,
			// Each press's down lands just after the last release, in its
			// window, and counts when that closes; the window does not
			// open again, so the release 49 ms later is not bounce.
			[]at{{0, d, 0}, {50, u, 0}, {51, d, 0}, {100, u, 0}, {101, d, 0}, {150, u, 0}},
			[]fired{{1, Press, ms(50)}, {1, Press, ms(100)}, {1, Press, ms(150)}}},
		{"buttons are debounced separately", false,
			[]at{{0, d, 1}, {1, d, 2}, {5, u, 1}, {6, u, 2}},
			[]fired{{1, Press, ms(30)}, {2, Press, ms(31)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runScript(t, DefaultGestureTiming, tt.double, nil, tt.script)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDebounceOffCountsEveryEdge(t *testing.T) {
	timing := DefaultGestureTiming
	timing.Debounce = -1
	got := runScript(t, timing, false, nil, []at{{0, true, 0}, {1, false, 0}, {2, true, 0}, {3, false, 0}})
	want := []fired{{1, Press, ms(1)}, {1, Press, ms(3)}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSetDebounce(t *testing.T) {
	// A contact that bounces for 45 ms on release: a press, then a bounce
	// down at 45 ms after it, then up again. A 25 ms window takes the bounce
	// for a second press; a 60 ms window does not.
	script := func(b int) []at {
		return []at{{0, true, b}, {100, false, b}, {145, true, b}, {150, false, b}}
	}
	tests := []struct {
		name  string
		setup func(*GestureDetector)
		want  int // presses of button 1
	}{
		{"default window", nil, 2},
		{"button window", func(d *GestureDetector) { d.SetDebounce("dev", 1, ms(60)) }, 1},
		{"device window", func(d *GestureDetector) { d.SetDebounce("dev", 0, ms(60)) }, 1},
		{"button wins over device", func(d *GestureDetector) {
			d.SetDebounce("dev", 0, ms(60))
			d.SetDebounce("dev", 1, ms(10))
		}, 2},
		{"other device's window does not apply", func(d *GestureDetector) { d.SetDebounce("other", 0, ms(60)) }, 2},
		{"removed window", func(d *GestureDetector) {
			d.SetDebounce("dev", 1, ms(60))
			d.SetDebounce("dev", 1, 0)
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runScript(t, DefaultGestureTiming, false, tt.setup, script(1))
			if len(got) != tt.want {
				t.Errorf("got %v, want %d presses", got, tt.want)
			}
		})
	}
}

func TestForgetFiresPressReleasedInsideDebounceWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []Gesture
		d := NewGestureDetector(DefaultGestureTiming, func(_ string, _ int, g Gesture) bool { return g != DoublePress },
			func(_ string, _ int, g Gesture, _ time.Time) { got = append(got, g) })
		d.Edge("dev", Edge{Button: 1, Down: true, Time: time.Now()})
		time.Sleep(ms(5))
		d.Edge("dev", Edge{Button: 1, Down: false, Time: time.Now()}) // inside the window
		d.Forget("dev")
		if !slices.Equal(got, []Gesture{Press}) {
			t.Errorf("at Forget: got %v, want [press]", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if len(got) != 1 {
			t.Errorf("after Forget: got %v, want nothing more", got)
		}
	})
}
