package device

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type fired struct {
	button int
	g      Gesture
	at     time.Duration // since the test's start
}

func TestGestures(t *testing.T) {
	type step struct {
		wait time.Duration
		down bool
	}
	tests := []struct {
		name   string
		double bool
		steps  []step
		want   []fired
	}{
		{"press fires on release", false, []step{{0, true}, {100 * time.Millisecond, false}},
			[]fired{{1, Press, 100 * time.Millisecond}}},
		{"long fires at the threshold while held", false, []step{{0, true}, {2 * time.Second, false}},
			[]fired{{1, LongPress, 800 * time.Millisecond}}},
		{"just short of long is a press", false, []step{{0, true}, {799 * time.Millisecond, false}},
			[]fired{{1, Press, 799 * time.Millisecond}}},
		{"two presses without a double binding are two presses", false,
			[]step{{0, true}, {50 * time.Millisecond, false}, {100 * time.Millisecond, true}, {50 * time.Millisecond, false}},
			[]fired{{1, Press, 50 * time.Millisecond}, {1, Press, 200 * time.Millisecond}}},
		{"double press", true,
			[]step{{0, true}, {50 * time.Millisecond, false}, {100 * time.Millisecond, true}, {50 * time.Millisecond, false}},
			[]fired{{1, DoublePress, 150 * time.Millisecond}}},
		{"single press waits for the double window", true, []step{{0, true}, {50 * time.Millisecond, false}},
			[]fired{{1, Press, 350 * time.Millisecond}}},
		{"second press after the window is another press", true,
			[]step{{0, true}, {50 * time.Millisecond, false}, {400 * time.Millisecond, true}, {50 * time.Millisecond, false}},
			[]fired{{1, Press, 350 * time.Millisecond}, {1, Press, 800 * time.Millisecond}}},
		{"bounced duplicate edges are ignored", false,
			[]step{{0, true}, {1 * time.Millisecond, true}, {100 * time.Millisecond, false}, {1 * time.Millisecond, false}},
			[]fired{{1, Press, 101 * time.Millisecond}}},
		{"release with no press fires nothing", false, []step{{0, false}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var mu sync.Mutex
				var got []fired
				d := NewGestureDetector(DefaultGestureTiming,
					func(_ string, _ int, g Gesture) bool {
						return g != DoublePress || tt.double
					},
					func(dev string, b int, g Gesture, _ time.Time) {
						mu.Lock()
						got = append(got, fired{b, g, time.Since(start)})
						mu.Unlock()
					})
				for _, s := range tt.steps {
					time.Sleep(s.wait)
					d.Edge("dev", Edge{Button: 1, Down: s.down, Time: time.Now()})
				}
				time.Sleep(5 * time.Second)
				synctest.Wait()
				mu.Lock()
				defer mu.Unlock()
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestSlowPressWithoutLongBindingIsAPress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []Gesture
		d := NewGestureDetector(DefaultGestureTiming,
			func(_ string, _ int, g Gesture) bool { return g == Press },
			func(_ string, _ int, g Gesture, _ time.Time) { got = append(got, g) })
		d.Edge("dev", Edge{Button: 1, Down: true, Time: time.Now()})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if len(got) != 0 {
			t.Fatalf("while held: got %v, want nothing yet", got)
		}
		d.Edge("dev", Edge{Button: 1, Down: false, Time: time.Now()})
		if !slices.Equal(got, []Gesture{Press}) {
			t.Errorf("got %v, want [press] on release", got)
		}
	})
}

func TestGestureForgetAndStop(t *testing.T) {
	for _, stop := range []bool{false, true} {
		name := "Forget"
		if stop {
			name = "Stop"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var got []Gesture
				d := NewGestureDetector(DefaultGestureTiming, nil, func(_ string, _ int, g Gesture, _ time.Time) { got = append(got, g) })
				// Button 1: released, waiting for the double window. Button 2: held.
				d.Edge("dev", Edge{Button: 1, Down: true, Time: time.Now()})
				d.Edge("dev", Edge{Button: 1, Down: false, Time: time.Now()})
				d.Edge("dev", Edge{Button: 2, Down: true, Time: time.Now()})
				if stop {
					d.Stop()
				} else {
					d.Forget("dev")
				}
				if !slices.Equal(got, []Gesture{Press}) {
					t.Errorf("at %s: got %v, want the pending press fired at once", name, got)
				}
				time.Sleep(5 * time.Second)
				synctest.Wait()
				if len(got) != 1 {
					t.Errorf("after %s: got %v, want no more gestures (the held button fires nothing)", name, got)
				}
			})
		})
	}
}
