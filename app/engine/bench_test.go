package engine

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// BenchmarkPressToRequest measures, over a real pseudo-terminal, the time
// from the simulator writing the release edge (a press fires on release) to
// the webhook server's handler starting; and, with an instant 200 reply, the
// time from the handler returning to the simulator receiving the green
// flash (which includes the durable log write).
func BenchmarkPressToRequest(b *testing.B) {
	handled := make(chan time.Time, 1)
	replied := make(chan time.Time, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled <- time.Now()
		w.WriteHeader(http.StatusOK)
		replied <- time.Now()
	}))
	defer srv.Close()
	t := &testing.T{}
	// The simulator releases 20 µs after pressing, faster than a finger:
	// host debounce would take that release for bounce and count it a
	// window late, so it is off here. BenchmarkGestureEdge (device) shows
	// what debouncing a real press costs.
	r := newRig(t, Options{Gestures: device.GestureTiming{Debounce: -1}})
	importTarget(t, r.e, srv.URL, device.Press)
	r.e.AddSerialPort(r.btn.Path())
	r.start(t)
	defer r.stop()

	waitFor := func(want string) time.Time {
		for {
			select {
			case l := <-r.btn.Commands():
				if strings.Contains(l, want) {
					return time.Now()
				}
			case <-time.After(5 * time.Second):
				b.Fatalf("no %q from the engine", want)
			}
		}
	}
	var toRequest, toLED []time.Duration
	press := func() {
		r.btn.Down(1)
		start := time.Now()
		r.btn.Up(1)
		toRequest = append(toRequest, (<-handled).Sub(start))
		rep := <-replied
		toLED = append(toLED, waitFor("FLASH green").Sub(rep))
	}
	// Steady state: the first presses open the connection and warm Badger.
	for range 20 {
		press()
	}
	toRequest, toLED = toRequest[:0], toLED[:0]
	for b.Loop() {
		press()
	}
	report(b, "press-to-request", toRequest)
	report(b, "response-to-LED", toLED)
}

func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) }
	b.ReportMetric(p(0.50), name+"-p50-µs")
	b.ReportMetric(p(0.90), name+"-p90-µs")
	b.ReportMetric(p(0.99), name+"-p99-µs")
}
