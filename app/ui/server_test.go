package ui

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

// loopbackPort returns a loopback port. A held port stays taken (by a
// listener that accepts nothing) until the test ends; another is free,
// for a moment.
func loopbackPort(t *testing.T, held bool) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if held {
		t.Cleanup(func() { ln.Close() })
	} else {
		ln.Close()
	}
	return ln.Addr().(*net.TCPAddr).Port
}

// newServerWindow builds the window over a real engine and Badger
// directory, with the real local server running on a free loopback port
// (off until something needs it).
func newServerWindow(t *testing.T) (*Window, *engine.Engine, *server.Local) {
	t.Helper()
	w, e := newWindow(t)
	port := loopbackPort(t, false)
	setServer(t, e, func(s *engine.ServerSettings) { s.Port = port })
	l := server.NewLocal(e, t.TempDir(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }() // ends at cleanup
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run = %v", err)
		}
	})
	w.SetServer(l)
	return w, e, l
}

// setServer changes the saved server settings.
func setServer(t *testing.T, e *engine.Engine, change func(*engine.ServerSettings)) {
	t.Helper()
	s := e.Settings()
	change(&s.Server)
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
}

// waitUntil runs refresh and checks cond on the test's UI goroutine until
// cond holds: the server follows settings a moment after they change.
func waitUntil(t *testing.T, what string, refresh func(), cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for refresh(); !cond(); refresh() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// send sends a request and returns the status.
func send(t *testing.T, method, url string, body string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestDescribeServer(t *testing.T) {
	since := time.Date(2026, 3, 4, 14, 2, 0, 0, time.Local)
	tests := []struct {
		st   server.Status
		ok   bool
		want []string
		imp  widget.Importance
	}{
		{server.Status{}, false, []string{"No local server runs with this window."}, widget.MediumImportance},
		{server.Status{State: server.StateOff, Reason: "nothing needs it"}, true, []string{"Off: nothing needs it."}, widget.MediumImportance},
		{server.Status{State: server.StateRunning, URL: "http://127.0.0.1:8735", Reason: `target "Door" is async`, Since: since}, true,
			[]string{"Running at http://127.0.0.1:8735 since 14:02, because target \"Door\" is async."}, widget.SuccessImportance},
		{server.Status{State: server.StateRunning, URL: "http://192.168.1.2:8735", LAN: true, Since: since}, true,
			[]string{"It listens on the local network."}, widget.SuccessImportance},
		{server.Status{State: server.StateFailed, Error: "port 8735 is in use by another program: choose another port"}, true,
			[]string{"Cannot run: port 8735 is in use by another program: choose another port.", "the rest of Buttonhook keeps working"}, widget.DangerImportance},
	}
	for _, tt := range tests {
		got, imp := describeServer(tt.st, tt.ok)
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("describeServer(%+v) = %q, want it to say %q", tt.st, got, want)
			}
		}
		if imp != tt.imp {
			t.Errorf("describeServer(%+v) importance = %v, want %v", tt.st, imp, tt.imp)
		}
	}
}

func TestPollRunsUntilStopped(t *testing.T) {
	w, _ := newWindow(t)
	var pending []func() // what the scheduler holds, in order
	w.sched.after = func(_ time.Duration, f func()) func() {
		i := len(pending)
		pending = append(pending, f)
		return func() { pending[i] = nil }
	}
	calls := 0
	stop := w.poll(time.Second, func() { calls++ })
	if calls != 1 || len(pending) != 1 {
		t.Fatalf("after poll: %d calls, %d pending; want 1 call now and the next one pending", calls, len(pending))
	}
	pending[0]()
	if calls != 2 || len(pending) != 2 {
		t.Fatalf("after a tick: %d calls, %d pending; want 2 and 2", calls, len(pending))
	}
	stop()
	if pending[1] != nil {
		t.Error("stop left the next tick pending")
	}
	pending[0]() // a tick already under way when stop was called
	if calls != 2 {
		t.Errorf("a tick after stop called f: %d calls", calls)
	}
}

func TestCopyableCopies(t *testing.T) {
	w, _ := newWindow(t)
	c := w.newCopyable()
	c.set("")
	if c.copy.Visible() {
		t.Error("Copy is shown with nothing to copy")
	}
	c.set("http://127.0.0.1:8735/inspect/demo")
	if !c.copy.Visible() {
		t.Fatal("Copy is hidden")
	}
	test.Tap(c.copy)
	if got := fyne.CurrentApp().Clipboard().Content(); got != "http://127.0.0.1:8735/inspect/demo" {
		t.Errorf("clipboard = %q", got)
	}
	if c.copy.Text != "Copied" {
		t.Errorf("button says %q after copying, want Copied", c.copy.Text)
	}
	c.set("other")
	if c.copy.Text != "Copy" {
		t.Errorf("button says %q for a new value, want Copy", c.copy.Text)
	}
}
