package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

// newWindow builds the window over a real engine, a real Badger directory and
// the serial driver.
func newWindow(t *testing.T) (*Window, *engine.Engine) {
	t.Helper()
	return newWindowWithSecrets(t, nil)
}

// newWindowWithSecrets is newWindow with an engine that reads secrets from
// src, and deletes those no target uses through it if it can.
func newWindowWithSecrets(t *testing.T, src actions.SecretSource) (*Window, *engine.Engine) {
	t.Helper()
	sd := serial.NewDriver(nil)
	o := engine.Options{Secrets: src, Ports: sd, Drivers: []device.Driver{sd}, ScanInterval: 20 * time.Millisecond}
	if d, ok := src.(engine.SecretDeleter); ok { // the engine deletes the secrets no target uses
		o.SecretStore = d
	}
	w, e, _ := openWindow(t, o)
	return w, e
}

// openWindow builds the window over an engine made with o and, as its
// store, a real Badger directory, which it also returns.
func openWindow(t *testing.T, o engine.Options) (*Window, *engine.Engine, *storage.DB) {
	t.Helper()
	a := test.NewTempApp(t)
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o.Store = db
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// Fyne's test driver has no UI goroutine (fyne.Do runs in its caller), so
	// the test goroutine is the UI goroutine: it feeds the window the engine's
	// events itself, as Listen's pump does with fyne.Do (which the window test
	// in app/cli exercises in a real window).
	w := New(a, e)
	*w.sched = inlineScheduler()
	t.Cleanup(w.Close)
	return w, e, db
}

// onUI runs f on the test's UI goroutine, this one.
func onUI[T any](f func() T) T { return f() }

// eventually feeds the window engine events until cond holds.
func eventually(t *testing.T, w *Window, events <-chan engine.Event, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case ev := <-events:
			w.handle(ev)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestCreateTargetBindingAndSeeAPress(t *testing.T) {
	hits := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- r.URL.Path }))
	defer srv.Close()
	w, e := newWindow(t)
	events, unsubscribe := e.Subscribe(256)
	defer unsubscribe()

	// A target typed into the editor, with a mistake first.
	var closed bool
	te := w.newTargetEditor(nil, func() { closed = true })
	test.Type(te.req.name, "Door bell")
	test.Type(te.req.url, "ftp://nowhere")
	te.req.json.SetText(`{"id":"<EID>"}`)
	test.Tap(te.save)
	if closed || !te.problem.Visible() || !strings.HasPrefix(te.problem.Text, "url: must start with http") {
		t.Fatalf("saving a bad URL: closed=%v problem=%q; want the dialog open with the url problem", closed, te.problem.Text)
	}
	te.req.url.SetText(srv.URL + "/door")
	test.Tap(te.save)
	if !closed {
		t.Fatalf("saving a good target kept the dialog open: %q", te.problem.Text)
	}
	if c := e.Config(); len(c.Targets) != 1 || c.Targets[0].Name != "Door bell" || c.Targets[0].Method != "POST" {
		t.Fatalf("config after save = %+v", c.Targets)
	}
	eventually(t, w, events, "the target to be listed", func() bool { return len(w.config.Targets) == 1 })

	// A serial port and a binding, through their editors.
	btn, err := sim.New(sim.Options{Serial: "SIM-UI"})
	if err != nil {
		t.Fatal(err)
	}
	defer btn.Close()
	func() {
		path, ped := w.portEditor(func() {})
		test.Type(path, btn.Path())
		test.Tap(ped.save)
		be, bed := w.bindingEditor(func() {})
		if be.target.Selected != "Door bell" {
			t.Errorf("binding editor offers target %q, want Door bell", be.target.Selected)
		}
		test.Tap(bed.save)
	}()
	if c := e.Config(); len(c.Bindings) != 1 || c.Bindings[0].Button != 1 || c.Bindings[0].Gesture != device.Press {
		t.Fatalf("bindings after save = %+v", c.Bindings)
	}

	// Running: the device shows as connected, and a press shows in the log.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, w, events, "the device to show as connected", func() bool {
		return onUI(func() bool { return len(w.devices) == 1 && w.devices[0].Connected })
	})
	if err := btn.Press(1); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-hits:
		if p != "/door" {
			t.Errorf("server got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no request")
	}
	eventually(t, w, events, "an OK row in the log", func() bool {
		return onUI(func() bool { return len(w.logs.rows) == 1 && w.logs.rows[0].Status == storage.StatusOK })
	})
	status := onUI(func() string { return w.status.Text })
	if !strings.Contains(status, "Door bell: OK") {
		t.Errorf("status line = %q, want it to report the OK", status)
	}
	cell := onUI(func() string {
		o := w.logs.table.CreateCell()
		w.logs.table.UpdateCell(widget.TableCellID{Row: 0, Col: 0}, o)
		return o.(*widget.Label).Text
	})
	if cell != "OK" {
		t.Errorf("first log cell = %q, want OK", cell)
	}
}

func TestBindingEditorRefusesBadButton(t *testing.T) {
	w, e := newWindow(t)
	problem := onUI(func() string {
		be, ed := w.bindingEditor(func() { t.Error("dialog closed on a bad binding") })
		be.button.SetText("x")
		test.Tap(ed.save)
		return ed.problem.Text
	})
	if !strings.Contains(problem, "button") {
		t.Errorf("problem = %q, want it to name the button", problem)
	}
	if len(e.Config().Bindings) != 0 {
		t.Errorf("a binding was saved")
	}
}
