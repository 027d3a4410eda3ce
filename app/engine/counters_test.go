package engine

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

func TestCounterTagsCountPressesAcrossRestarts(t *testing.T) {
	queries := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { queries <- r.URL.RawQuery }))
	defer srv.Close()
	r := newRig(t, Options{})
	err := r.e.Import(Config{Targets: []actions.Target{{Name: "Count", Enabled: true, Method: "GET",
		URL: srv.URL + "/?n=<COUNTER>&p=<COUNTER_PRESS>&l=<COUNTER_LONG>&d=<COUNTER_DOUBLE>"}},
		Bindings: []Binding{{Button: 1, Gesture: device.Press, Target: "Count"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.e.AddSerialPort(r.btn.Path()); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	for i, want := range []string{"n=1&p=1&l=0&d=0", "n=2&p=2&l=0&d=0"} {
		if err := r.btn.Press(1); err != nil {
			t.Fatal(err)
		}
		select {
		case q := <-queries:
			if q != want {
				t.Errorf("press %d sent %q, want %q", i+1, q, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no request")
		}
		r.nextLED(t)
		r.nextLED(t)
	}
	r.stop()
	if c, err := r.db.Counts("serial:SIM-TEST", 1); err != nil || c != (storage.Counts{All: 2, Press: 2}) {
		t.Errorf("stored counters = %+v, %v; want 2 presses", c, err)
	}
	// A new engine on the same store goes on counting.
	e2, err := New(Options{Store: r.db})
	if err != nil {
		t.Fatal(err)
	}
	if c := e2.count(buttonKey{"serial:SIM-TEST", 1}, device.LongPress); c != (storage.Counts{All: 3, Press: 2, Long: 1}) {
		t.Errorf("after a restart, a long press counts %+v, want all 3, press 2, long 1", c)
	}
}
