package device_test

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

// The hot-plug tests run simulated BH1 boards on real pseudo-terminals
// through the real serial driver and the Manager. A board is reached through
// a stable symlink, as /dev/serial/by-id/... reaches a USB serial adapter:
// unplugging removes the link, as udev does, and then the terminal (a
// dangling link could meet a terminal another process opened with the
// same number); plugging in again makes a new terminal and points the link
// at it. Its serial number, so its Info.ID, stays the same.

// slot is one stable port with a board that can be plugged in and pulled.
type slot struct {
	link   string
	serial string
	mu     sync.Mutex
	btn    *sim.Button // nil while unplugged
}

func newSlot(t testing.TB, dir, serialNo string) *slot {
	s := &slot{link: filepath.Join(dir, "usb-Buttonhook_"+serialNo), serial: serialNo}
	t.Cleanup(func() { s.unplug(t) })
	return s
}

func (s *slot) id() string { return serial.DriverName + ":" + s.serial }

// plug makes a new board and points the slot's link at it.
func (s *slot) plug(t testing.TB) {
	t.Helper()
	btn, err := sim.New(sim.Options{Serial: s.serial, Buttons: 2})
	if err != nil {
		t.Fatal(err)
	}
	tmp := s.link + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(btn.Path(), tmp); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.btn = btn
	s.mu.Unlock()
	if err := os.Rename(tmp, s.link); err != nil {
		t.Fatal(err)
	}
}

// unplug pulls the board, if one is plugged in.
func (s *slot) unplug(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	btn := s.btn
	s.btn = nil
	s.mu.Unlock()
	if btn != nil {
		if err := os.Remove(s.link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Error(err)
		}
		if err := btn.Unplug(); err != nil {
			t.Error(err)
		}
	}
}

// watcher runs a Manager and records what it emits, with the time it
// emitted it.
type watcher struct {
	m    *device.Manager
	drv  *serial.Driver
	mu   sync.Mutex
	cond *sync.Cond
	evs  []stamped
	stop func()
}

type stamped struct {
	device.Event
	at time.Time
}

func startManager(t testing.TB, interval time.Duration, slots ...*slot) *watcher {
	t.Helper()
	w := &watcher{drv: serial.NewDriver(nil)}
	w.cond = sync.NewCond(&w.mu)
	var links []string
	for _, s := range slots {
		links = append(links, s.link)
	}
	w.drv.SetPorts(links)
	w.m = device.NewManager(nil, interval, w.drv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- w.m.Run(ctx, func(e device.Event) {
			if e.Kind == device.EdgeEvent {
				return
			}
			w.mu.Lock()
			w.evs = append(w.evs, stamped{e, time.Now()})
			w.mu.Unlock()
			w.cond.Broadcast()
		})
	}()
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(w.stop)
	return w
}

// next waits up to timeout for the first event after index from of the
// given kind for the device id, and returns it and the index after it.
func (w *watcher) next(t testing.TB, from int, kind device.EventKind, id string, timeout time.Duration) (stamped, int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wake := time.AfterFunc(timeout, w.cond.Broadcast)
	defer wake.Stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for i := from; i < len(w.evs); i++ {
			if e := w.evs[i]; e.Kind == kind && e.Device.ID == id {
				return e, i + 1
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %v event for %s within %v; events since: %v", kind, id, timeout, w.evs[from:])
		}
		w.cond.Wait()
	}
}

func (w *watcher) count(kind device.EventKind) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (w *watcher) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.evs)
}

// openFDs counts the process's open file descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // ReadDir's own
}

// settleGoroutines waits up to a second for the goroutine count to come
// down to want (plus slack), and returns the last count. (A baseline may
// hold a goroutine of an earlier test that was just ending: a leak is a
// count above it, not below.)
func settleGoroutines(want, slack int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > want+slack && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestHotplugCyclesLeakNothing pulls and replugs a board 100 times, at
// different moments (while it is being opened, right after it attached,
// while LED commands and presses are in flight), and checks that every
// unplug is noticed, every replug is a reconnect of the same device, no
// LED command to the gone device is an error, nothing is reported as a
// failure, and goroutines and file descriptors come back to where they were.
func TestHotplugCyclesLeakNothing(t *testing.T) {
	const cycles = 100
	dir := t.TempDir()
	s := newSlot(t, dir, "SIM-HOTPLUG")
	// Warm up: the runtime opens its poller's descriptors on first use.
	s.plug(t)
	s.unplug(t)
	fds0, gs0 := openFDs(t), settleGoroutines(0, 1<<20)

	w := startManager(t, 20*time.Millisecond, s)
	s.plug(t)
	_, i := w.next(t, 0, device.Attached, s.id(), 5*time.Second)
	time.Sleep(50 * time.Millisecond) // past the settle time of every goroutine
	fds1, gs1 := openFDs(t), settleGoroutines(0, 1<<20)

	ctx := context.Background()
	for c := range cycles {
		// A command in flight as the board goes, and more after.
		ledErr := make(chan error, 1)
		go func() {
			var err error
			for range 20 {
				if e := w.m.SetLED(ctx, s.id(), 1, device.LEDBusy); e != nil && err == nil {
					err = e
				}
			}
			ledErr <- err
		}()
		if c%2 == 1 {
			s.mu.Lock()
			_ = s.btn.Down(1) // the button is held as it is pulled
			s.mu.Unlock()
		}
		s.unplug(t)
		var e stamped
		e, i = w.next(t, i, device.Detached, s.id(), 2*time.Second)
		if !errors.Is(e.Err, device.ErrGone) {
			t.Fatalf("cycle %d: detach error %v, want ErrGone", c, e.Err)
		}
		if err := <-ledErr; err != nil {
			t.Fatalf("cycle %d: SetLED to a device being unplugged: %v, want it dropped (nil)", c, err)
		}
		if err := w.m.SetLED(ctx, s.id(), 1, device.LEDFailure); err != nil {
			t.Fatalf("cycle %d: SetLED to an unplugged device: %v, want nil", c, err)
		}

		// Every third cycle the board is also pulled while it is being
		// opened (HELLO in flight or not yet answered), which is not an
		// error: nothing is reported.
		if c%3 == 0 {
			s.plug(t)
			time.Sleep(time.Duration(rand.N(30)) * time.Millisecond)
			s.unplug(t)
			time.Sleep(30 * time.Millisecond) // past the settle time
			// If it did attach in that time, it detached again.
			if n := w.len(); n > i {
				_, i = w.next(t, i, device.Detached, s.id(), 2*time.Second)
			}
		}
		s.plug(t)
		e, i = w.next(t, i, device.Attached, s.id(), 2*time.Second)
		if !e.Reconnected {
			t.Fatalf("cycle %d: attach not marked as a reconnect", c)
		}
	}
	if n := w.count(device.OpenFailed); n != 0 {
		t.Errorf("%d OpenFailed events, want none: unplugging is not a failure", n)
	}
	st := w.m.States()
	if len(st) != 1 || !st[0].Connected || st[0].Info.ID != s.id() || st[0].Attaches < cycles+1 {
		t.Errorf("States = %+v, want %s alone, connected, attached at least %d times", st, s.id(), cycles+1)
	}

	time.Sleep(50 * time.Millisecond)
	if gs := settleGoroutines(gs1, 0); gs > gs1 {
		t.Errorf("goroutines after %d cycles: %d, want %d as before them", cycles, gs, gs1)
	}
	if fds := openFDs(t); fds > fds1 {
		t.Errorf("open files after %d cycles: %d, want %d as before them", cycles, fds, fds1)
	}
	w.stop()
	s.unplug(t)
	if gs := settleGoroutines(gs0, 0); gs > gs0 {
		t.Errorf("goroutines after the Manager stopped: %d, want %d as before it started", gs, gs0)
	}
	if fds := openFDs(t); fds > fds0 {
		t.Errorf("open files after the Manager stopped: %d, want %d as before it started", fds, fds0)
	}
	t.Logf("%d cycles: goroutines %d -> %d -> %d, open files %d -> %d -> %d",
		cycles, gs0, gs1, runtime.NumGoroutine(), fds0, fds1, openFDs(t))
}

// TestHotplugTimes checks the product's promises with the default scan
// interval on a few unplugs: an unplug is noticed within 250 ms and a
// replug reconnects within 2 s. BenchmarkHotplug gives the distribution.
func TestHotplugTimes(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	s := newSlot(t, t.TempDir(), "SIM-TIMES")
	w := startManager(t, device.DefaultScanInterval, s)
	s.plug(t)
	_, i := w.next(t, 0, device.Attached, s.id(), 5*time.Second)
	for c := range 3 {
		start := time.Now()
		s.unplug(t)
		var e stamped
		e, i = w.next(t, i, device.Detached, s.id(), 2*time.Second)
		if d := e.at.Sub(start); d > 250*time.Millisecond {
			t.Errorf("cycle %d: unplug noticed after %v, want within 250 ms", c, d)
		}
		time.Sleep(300 * time.Millisecond)
		start = time.Now()
		s.plug(t)
		e, i = w.next(t, i, device.Attached, s.id(), 5*time.Second)
		if d := e.at.Sub(start); d > 2*time.Second {
			t.Errorf("cycle %d: reconnected after %v, want within 2 s", c, d)
		}
	}
}

// BenchmarkHotplug measures, with the default 1 s scan interval, the time
// from pulling a board to the Manager's Detached event (notice), and from
// plugging it in again to its Attached event (reconnect, which includes the
// wait for the next scan, opening the port and HELLO). Each replug comes at
// a random moment 0.3-1.3 s after the unplug, as a hand would. One unplug
// and replug per iteration: go test -run '^$' -bench Hotplug -benchtime 50x ./device/
func BenchmarkHotplug(b *testing.B) {
	s := newSlot(b, b.TempDir(), "SIM-BENCH")
	w := startManager(b, device.DefaultScanInterval, s)
	s.plug(b)
	_, i := w.next(b, 0, device.Attached, s.id(), 5*time.Second)
	var notice, reconnect []time.Duration
	for b.Loop() {
		start := time.Now()
		s.unplug(b)
		var e stamped
		e, i = w.next(b, i, device.Detached, s.id(), 5*time.Second)
		notice = append(notice, e.at.Sub(start))
		time.Sleep(300*time.Millisecond + rand.N(time.Second))
		start = time.Now()
		s.plug(b)
		e, i = w.next(b, i, device.Attached, s.id(), 5*time.Second)
		reconnect = append(reconnect, e.at.Sub(start))
	}
	report(b, "unplug-notice", notice, time.Microsecond, "µs")
	report(b, "reconnect", reconnect, time.Millisecond, "ms")
}

func report(b *testing.B, name string, ds []time.Duration, unit time.Duration, unitName string) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / float64(unit) }
	b.ReportMetric(p(0.50), name+"-p50-"+unitName)
	b.ReportMetric(p(0.99), name+"-p99-"+unitName)
	b.ReportMetric(p(1), name+"-max-"+unitName)
}
