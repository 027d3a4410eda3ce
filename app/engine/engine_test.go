package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

// rig is an engine over a real Badger directory, a simulated button on a real
// pseudo-terminal and the serial driver.
type rig struct {
	e    *Engine
	db   *storage.DB
	btn  *sim.Button
	stop func()
	done chan error
}

func newRig(t *testing.T, o Options) *rig {
	t.Helper()
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	btn, err := sim.New(sim.Options{Serial: "SIM-TEST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	sd := serial.NewDriver(nil)
	o.Store, o.Ports, o.Drivers = db, sd, []device.Driver{sd}
	if o.ScanInterval == 0 {
		o.ScanInterval = 20 * time.Millisecond
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{e: e, db: db, btn: btn}
}

// start runs the engine and waits until the simulated button is attached.
func (r *rig) start(t *testing.T) {
	t.Helper()
	ev, unsub := r.e.Subscribe(64)
	defer unsub()
	ctx, cancel := context.WithCancel(context.Background())
	r.done = make(chan error, 1)
	go func() { r.done <- r.e.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			r.stop()
		}
	})
	deadline := time.After(5 * time.Second)
	for {
		for _, d := range r.e.Devices() {
			if d.Connected && d.ID == "serial:SIM-TEST" {
				return
			}
		}
		select {
		case <-ev:
		case <-deadline:
			t.Fatalf("simulated button never attached: %+v", r.e.Devices())
		}
	}
}

// nextLED waits for the next LED command the simulator receives.
func (r *rig) nextLED(t *testing.T) string {
	t.Helper()
	for {
		select {
		case l := <-r.btn.Commands():
			if strings.HasPrefix(l, "LED ") {
				return l
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no LED command within 5 s")
		}
	}
}

// blockingServer answers nothing until the test sends on release (one
// request each) or the test ends; arrived reports each request.
func blockingServer(t *testing.T) (url string, arrived <-chan struct{}, release chan<- struct{}) {
	t.Helper()
	rel := make(chan struct{})
	arr := make(chan struct{}, 16)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arr <- struct{}{}
		select {
		case <-rel:
		case <-done:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: lets handlers return so Close can finish
	return srv.URL, arr, rel
}

func importTarget(t *testing.T, e *Engine, url string, gesture device.Gesture) {
	t.Helper()
	err := e.Import(Config{
		Targets:  []actions.Target{{Name: "Door", Enabled: true, Method: "POST", URL: url, Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"eid":"<EID>","type":"<ETYPE>"}`}}},
		Bindings: []Binding{{Button: 1, Gesture: gesture, Target: "Door"}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPressSendsLightsAndLogs(t *testing.T) {
	var mu sync.Mutex
	status := http.StatusOK
	bodies := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- r.Method + " " + r.URL.Path + " " + string(b)
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
	}))
	defer srv.Close()

	r := newRig(t, Options{})
	importTarget(t, r.e, srv.URL+"/hook", device.Press)
	if err := r.e.AddSerialPort(r.btn.Path()); err != nil {
		t.Fatal(err)
	}
	r.start(t)

	press := func(wantLED string) storage.Attempt {
		t.Helper()
		if err := r.btn.Press(1); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-bodies:
			if !strings.HasPrefix(got, "POST /hook {\"eid\":\"") || !strings.Contains(got, `"type":"pressed"`) {
				t.Errorf("server got %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("server got no request")
		}
		if got, want := r.nextLED(t), "LED 1 PULSE yellow 1000"; got != want {
			t.Errorf("first LED = %q, want %q", got, want)
		}
		if got := r.nextLED(t); got != wantLED {
			t.Errorf("result LED = %q, want %q", got, wantLED)
		}
		as, err := r.db.Attempts(storage.Query{Limit: 1})
		if err != nil || len(as) != 1 {
			t.Fatalf("attempts = %v, %v", as, err)
		}
		return as[0]
	}

	a := press("LED 1 FLASH green 1500")
	if a.Status != storage.StatusOK || a.Code != 200 || a.TargetName != "Door" || a.DeviceID != "serial:SIM-TEST" || a.Button != 1 || a.Gesture != "press" {
		t.Errorf("attempt = %+v, want OK 200 for Door on serial:SIM-TEST button 1 press", a)
	}
	mu.Lock()
	status = http.StatusInternalServerError
	mu.Unlock()
	a = press("LED 1 FLASH red 1500")
	if a.Status != storage.StatusFailed || a.Code != 500 || !strings.Contains(a.Error, "500") {
		t.Errorf("attempt = %+v, want Failed 500", a)
	}
	as, _ := r.db.Attempts(storage.Query{})
	if len(as) != 2 {
		t.Errorf("log has %d attempts, want 2", len(as))
	}

	r.stop()
	if got := r.nextLED(t); got != "LED 1 OFF" {
		t.Errorf("LED at shutdown = %q, want LED 1 OFF", got)
	}
}

func TestPressesWhileInFlightAreQueuedOrRefused(t *testing.T) {
	url, arrived, release := blockingServer(t)
	r := newRig(t, Options{QueueSize: 2})
	importTarget(t, r.e, url, device.Press)
	r.e.AddSerialPort(r.btn.Path())
	r.start(t)

	// One in flight, two queued, two refused.
	for i := 0; i < 5; i++ {
		if err := r.btn.Press(1); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-arrived
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	var refused int
	for time.Now().Before(deadline) {
		as, _ := r.db.Attempts(storage.Query{})
		refused = 0
		for _, a := range as {
			if a.Status == storage.StatusFailed && strings.Contains(a.Error, "refused") {
				refused++
			}
		}
		if refused == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if refused != 2 {
		t.Fatalf("refused attempts = %d, want 2", refused)
	}
	// Releasing the server lets the in-flight and the two queued presses finish.
	for i := 0; i < 3; i++ {
		release <- struct{}{}
		if i < 2 {
			select {
			case <-arrived:
			case <-time.After(5 * time.Second):
				t.Fatalf("queued press %d never arrived", i+1)
			}
		}
	}
	r.stop()
	as, _ := r.db.Attempts(storage.Query{})
	counts := map[storage.Status]int{}
	for _, a := range as {
		counts[a.Status]++
	}
	if len(as) != 5 || counts[storage.StatusOK] != 3 || counts[storage.StatusFailed] != 2 {
		t.Errorf("log = %v over %d attempts, want 3 OK and 2 refused", counts, len(as))
	}
	select { // queued, run and refused presses all left the press gate
	case <-r.e.PressesIdle():
	default:
		t.Errorf("the press gate is still held after every press was done: %d presses counted", r.e.gate.n)
	}
}

func TestStopLogsInFlightAttempt(t *testing.T) {
	url, arrived, _ := blockingServer(t)
	r := newRig(t, Options{StopGrace: 100 * time.Millisecond})
	importTarget(t, r.e, url, device.Press)
	r.e.AddSerialPort(r.btn.Path())
	r.start(t)
	r.btn.Press(1)
	<-arrived
	r.stop()
	as, _ := r.db.Attempts(storage.Query{})
	if len(as) != 1 || as[0].Status != storage.StatusFailed || as[0].Finished.IsZero() {
		t.Fatalf("log after stop = %+v, want one finished Failed attempt", as)
	}
}

func TestImportReportsEveryProblemAndChangesNothing(t *testing.T) {
	r := newRig(t, Options{})
	importTarget(t, r.e, "http://127.0.0.1:1/", device.Press)
	before := r.e.Export()
	err := r.e.Import(Config{
		Targets:  []actions.Target{{Name: "ok", Method: "GET", URL: "http://127.0.0.1/"}, {Name: "", Method: "BREW", URL: "ftp://x"}},
		Bindings: []Binding{{Button: 0, Target: "nope"}},
	})
	var ie ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("Import = %v, want an ImportError", err)
	}
	for _, want := range []string{"targets[1].name", "targets[1].method", "targets[1].url", "bindings[0].button", "bindings[0].target"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	after := r.e.Export()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("config changed by a failed import:\nbefore %v\nafter  %v", before, after)
	}
	// Re-importing a target by name replaces it and raises its version.
	importTarget(t, r.e, "http://127.0.0.1:2/", device.Press)
	c := r.e.Config()
	if len(c.Targets) != 1 || c.Targets[0].Version != 2 || c.Targets[0].URL != "http://127.0.0.1:2/" || len(c.Bindings) != 1 {
		t.Errorf("after re-import: %+v", c)
	}
	// The config survives a reopen.
	e2, err := New(Options{Store: r.db})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(e2.Export()) != fmt.Sprint(r.e.Export()) {
		t.Errorf("reloaded config differs:\n%v\n%v", e2.Export(), r.e.Export())
	}
}

// failingStore is the real store except that durable writes fail, as on a
// full disk.
type failingStore struct{ *storage.DB }

func (failingStore) PutAttemptDurable(storage.Attempt) error {
	return errors.New("write /data/000001.vlog: no space left on device")
}

func TestUnloggedSuccessShowsRedAndFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := newRig(t, Options{})
	importTarget(t, r.e, srv.URL, device.Press)
	r.e.AddSerialPort(r.btn.Path())
	r.e.store = failingStore{r.db}
	events, unsub := r.e.Subscribe(64)
	defer unsub()
	r.start(t)
	r.btn.Press(1)
	if got := r.nextLED(t); got != "LED 1 PULSE yellow 1000" {
		t.Errorf("first LED = %q", got)
	}
	if got := r.nextLED(t); got != "LED 1 FLASH red 1500" {
		t.Errorf("LED for an unlogged success = %q, want red", got)
	}
	var final storage.Attempt
	for final.Status == "" || final.Status == storage.StatusWaiting {
		select {
		case ev := <-events:
			if ev.Kind == AttemptChanged {
				final = ev.Attempt
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no final attempt event")
		}
	}
	if final.Status != storage.StatusFailed || !strings.Contains(final.Error, "answered 200") || !strings.Contains(final.Error, "no space left") {
		t.Errorf("published attempt = %s %q, want Failed saying the 200 was not logged", final.Status, final.Error)
	}
}

func TestInterruptedAttemptsAreClosedAtStart(t *testing.T) {
	r := newRig(t, Options{})
	left := storage.Attempt{ID: storage.NewAttemptID(time.Now()), Time: time.Now(), TargetName: "Door", Status: storage.StatusWaiting}
	if err := r.db.PutAttemptDurable(left); err != nil {
		t.Fatal(err)
	}
	r.e.AddSerialPort(r.btn.Path())
	r.start(t)
	a, ok, err := r.db.Attempt(left.ID)
	if err != nil || !ok || a.Status != storage.StatusFailed || !strings.Contains(a.Error, "interrupted") {
		t.Errorf("left-over Waiting attempt after start = %+v (%v, %v), want Failed: interrupted", a, ok, err)
	}
}

func TestStopLogsPressWaitingForDoubleWindow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := newRig(t, Options{Gestures: device.GestureTiming{Double: 10 * time.Second}})
	importTarget(t, r.e, srv.URL, device.Press)
	if err := r.e.SaveBinding(Binding{Button: 1, Gesture: device.DoublePress, Target: "Door"}); err != nil {
		t.Fatal(err)
	}
	r.e.AddSerialPort(r.btn.Path())
	r.start(t)
	r.btn.Press(1) // waits for the 10 s double window
	time.Sleep(100 * time.Millisecond)
	r.stop()
	as, _ := r.db.Attempts(storage.Query{})
	if len(as) != 1 || as[0].Status != storage.StatusFailed || !strings.Contains(as[0].Error, "stopping") {
		t.Errorf("log after stopping with a press in the double window = %+v, want one refused attempt", as)
	}
}

func TestFireAndRetriesAreLogged(t *testing.T) {
	var n atomic.Int32
	bodies := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	r := newRig(t, Options{})
	err := r.e.Import(Config{Targets: []actions.Target{{Name: "Door", Enabled: true, Method: "POST", URL: srv.URL,
		Retry: actions.Retry{MaxTries: 3}, Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"type":"<ETYPE>","eid":"<EID>"}`}}}})
	if err != nil {
		t.Fatal(err)
	}
	events, unsub := r.e.Subscribe(64)
	defer unsub()
	a, err := r.e.Fire(context.Background(), "door")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != storage.StatusOK || a.Tries != 3 || a.Gesture != "manual" || a.DeviceID != "" {
		t.Errorf("fired attempt = %+v, want OK after 3 tries, gesture manual, no device", a)
	}
	want := `{"type":"manual","eid":"` + a.ID + `"}`
	for i := 0; i < 3; i++ {
		if got := <-bodies; got != want {
			t.Errorf("try %d sent %q, want %q (same trigger id on every try)", i+1, got, want)
		}
	}
	var retried []string
	for len(events) > 0 {
		if ev := <-events; ev.Kind == AttemptChanged && strings.HasPrefix(ev.Attempt.Error, "try ") {
			retried = append(retried, ev.Attempt.Error)
		}
	}
	if len(retried) != 2 || !strings.Contains(retried[0], "try 1 failed: HTTP 503") {
		t.Errorf("retried tries published = %q, want two, the first for HTTP 503", retried)
	}
	logged, ok, err := r.db.Attempt(a.ID)
	if err != nil || !ok || logged.Status != storage.StatusOK || logged.Tries != 3 {
		t.Errorf("logged attempt = %+v (%v, %v)", logged, ok, err)
	}
	if _, err := r.e.Fire(context.Background(), "nope"); err == nil {
		t.Errorf("firing an unknown target succeeded")
	}
}
