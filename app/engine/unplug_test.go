package engine

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

// warnings is a slog handler that keeps the records at Warn and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	w.mu.Lock()
	w.msgs = append(w.msgs, msg)
	w.mu.Unlock()
	return nil
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// linkRig is a rig whose board is reached through a stable symlink, as
// /dev/serial/by-id/... reaches a USB serial adapter, so that it can be
// unplugged and plugged in again (a new pseudo-terminal) at the same port.
func linkRig(t *testing.T, o Options) (*rig, string) {
	t.Helper()
	r := newRig(t, o)
	link := filepath.Join(t.TempDir(), "usb-Buttonhook_SIM-TEST")
	pointLink(t, link, r.btn.Path())
	return r, link
}

func pointLink(t *testing.T, link, target string) {
	t.Helper()
	tmp := link + ".new"
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

// waitDevice waits until the engine shows the simulated board as connected
// or not, and returns its state.
func waitDevice(t *testing.T, e *Engine, events <-chan Event, connected bool) DeviceState {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		for _, d := range e.Devices() {
			if d.ID == "serial:SIM-TEST" && d.Connected == connected {
				return d
			}
		}
		select {
		case <-events:
		case <-deadline:
			t.Fatalf("the board never became connected=%v: %+v", connected, e.Devices())
		}
	}
}

// waitAttempt waits until the log holds one attempt, finished.
func waitAttempt(t *testing.T, r *rig, events <-chan Event) storage.Attempt {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		as, _ := r.db.Attempts(storage.Query{})
		if len(as) == 1 && as[0].Status != storage.StatusWaiting {
			return as[0]
		}
		select {
		case <-events:
		case <-deadline:
			t.Fatalf("attempts = %+v, want one finished", as)
		}
	}
}

// unplugMidRequest binds a target at url to button 1 of the board at port,
// starts r, presses the button and unplugs the board once the request has
// arrived (while it is in flight). It returns the engine's events.
func unplugMidRequest(t *testing.T, r *rig, port, url string, arrived <-chan struct{}) <-chan Event {
	t.Helper()
	importTarget(t, r.e, url, device.Press)
	r.e.AddSerialPort(port)
	r.start(t)
	events, unsub := r.e.Subscribe(64)
	t.Cleanup(unsub)
	r.btn.Press(1)
	<-arrived
	if err := r.btn.Unplug(); err != nil {
		t.Fatal(err)
	}
	return events
}

// TestUnplugMidRequestDropsLEDQuietly unplugs a board while its request is
// in flight: the request completes and is logged, the board shows why it is
// not connected, and the result's LED command is dropped without a warning.
func TestUnplugMidRequestDropsLEDQuietly(t *testing.T) {
	url, arrived, release := blockingServer(t)
	logs := &warnings{}
	r, link := linkRig(t, Options{Logger: slog.New(logs)})
	events := unplugMidRequest(t, r, link, url, arrived)
	d := waitDevice(t, r.e, events, false)
	if !strings.Contains(d.Error, "gone") {
		t.Errorf("unplugged device's reason = %q, want it to say the device is gone", d.Error)
	}
	release <- struct{}{} // the answer comes; its green flash has no board to go to
	if a := waitAttempt(t, r, events); a.Status != storage.StatusOK {
		t.Errorf("attempt = %+v, want OK: the request completes and is logged", a)
	}
	r.stop()
	for _, m := range logs.all() {
		if strings.Contains(m, "LED") {
			t.Errorf("logged %q: an LED command to an unplugged board is dropped quietly", m)
		}
	}
	if ds := r.e.Devices(); len(ds) != 1 || ds[0].Connected || ds[0].Error == "" {
		t.Errorf("devices = %+v, want the board alone, not connected, with the reason", ds)
	}
}

func TestReplugMidRequestShowsResult(t *testing.T) {
	url, arrived, release := blockingServer(t)
	r, link := linkRig(t, Options{})
	events := unplugMidRequest(t, r, link, url, arrived)
	waitDevice(t, r.e, events, false)

	// Plugged in again while the request is still in flight: a new
	// pseudo-terminal at the same port, the same board.
	btn, err := sim.New(sim.Options{Serial: "SIM-TEST"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	pointLink(t, link, btn.Path())
	waitDevice(t, r.e, events, true)
	if ds := r.e.Devices(); len(ds) != 1 {
		t.Errorf("devices after the replug = %+v, want the one board, reconnected", ds)
	}

	release <- struct{}{}
	for {
		select {
		case l := <-btn.Commands():
			if !strings.HasPrefix(l, "LED ") {
				continue
			}
			if l != "LED 1 FLASH green 1500" {
				t.Fatalf("LED on the replugged board = %q, want the result's green flash", l)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the replugged board got no LED command")
		}
		break
	}
	if a := waitAttempt(t, r, events); a.Status != storage.StatusOK || a.DeviceID != "serial:SIM-TEST" {
		t.Errorf("attempt = %+v, want OK from serial:SIM-TEST", a)
	}
}
