package device

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// memDriver is an in-memory driver for testing the Manager's bookkeeping; the
// real transports are tested in device/serial and end to end.
type memDriver struct {
	mu      sync.Mutex
	present map[string]*memDevice
	openErr error
}

func (d *memDriver) Name() string { return "mem" }

func (d *memDriver) Scan(context.Context) ([]Candidate, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Candidate
	for k := range d.present {
		out = append(out, Candidate{Key: k, Driver: "mem"})
	}
	return out, nil
}

func (d *memDriver) Open(_ context.Context, c Candidate) (Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.openErr != nil {
		return nil, d.openErr
	}
	return d.present[c.Key], nil
}

type memDevice struct {
	id     string
	edges  chan Edge
	gone   chan struct{}
	mu     sync.Mutex
	leds   []LED
	closed int
	ledErr error  // returned by SetLED
	onLED  func() // called by SetLED
}

func newMemDevice(id string) *memDevice {
	return &memDevice{id: id, edges: make(chan Edge, 8), gone: make(chan struct{})}
}

func (m *memDevice) Info() Info { return Info{ID: m.id, Driver: "mem", Buttons: 1} }

func (m *memDevice) Run(ctx context.Context, edge func(Edge)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.gone:
			return ErrGone
		case e := <-m.edges:
			edge(e)
		}
	}
}

func (m *memDevice) SetLED(_ context.Context, _ int, led LED) error {
	if m.onLED != nil {
		m.onLED()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leds = append(m.leds, led)
	return m.ledErr
}

func (m *memDevice) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed++
	return nil
}

func TestManagerAttachEdgeDetachShutdown(t *testing.T) {
	dev := newMemDevice("mem:1")
	drv := &memDriver{present: map[string]*memDevice{"k1": dev}}
	m := NewManager(nil, 10*time.Millisecond, drv)
	events := make(chan Event, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx, func(e Event) { events <- e }) }()

	next := func(want EventKind) Event {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("got event %v, want %v", e.Kind, want)
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatalf("no %v event", want)
		}
		return Event{}
	}
	if e := next(Attached); e.Device.ID != "mem:1" {
		t.Errorf("attached %q, want mem:1", e.Device.ID)
	}
	if got := m.Devices(); len(got) != 1 || got[0].ID != "mem:1" {
		t.Errorf("Devices() = %v, want [mem:1]", got)
	}
	dev.edges <- Edge{Button: 1, Down: true}
	if e := next(EdgeEvent); !e.Edge.Down || e.Edge.Button != 1 {
		t.Errorf("edge = %+v, want button 1 down", e.Edge)
	}
	if err := m.SetLED(ctx, "mem:1", 1, LEDBusy); err != nil {
		t.Fatal(err)
	}
	if err := m.SetLED(ctx, "nobody", 1, LEDBusy); err != nil {
		t.Errorf("SetLED on an unknown device = %v, want nil (dropped)", err)
	}

	// Unplug: removed from the driver and its Run fails.
	drv.mu.Lock()
	delete(drv.present, "k1")
	drv.mu.Unlock()
	close(dev.gone)
	if e := next(Detached); !errors.Is(e.Err, ErrGone) {
		t.Errorf("detach error = %v, want ErrGone", e.Err)
	}
	if got := m.Devices(); len(got) != 0 {
		t.Errorf("Devices() after unplug = %v, want none", got)
	}

	// Replug a new instance with the same identity.
	dev2 := newMemDevice("mem:1")
	drv.mu.Lock()
	drv.present["k1"] = dev2
	drv.mu.Unlock()
	next(Attached)

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	dev2.mu.Lock()
	defer dev2.mu.Unlock()
	if dev2.closed != 1 {
		t.Errorf("closed %d times at shutdown, want 1", dev2.closed)
	}
	if len(dev2.leds) != 1 || dev2.leds[0] != LEDIdle {
		t.Errorf("LEDs at shutdown = %v, want [off]", dev2.leds)
	}
}

func TestManagerReportsOpenFailureOnce(t *testing.T) {
	drv := &memDriver{present: map[string]*memDevice{"k1": nil}, openErr: errors.New("permission denied")}
	m := NewManager(nil, 5*time.Millisecond, drv)
	var mu sync.Mutex
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := m.Run(ctx, func(e Event) {
		if e.Kind == OpenFailed {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("OpenFailed reported %d times, want 1", n)
	}
}

func TestManagerRefusesDuplicateIdentityAndBacksOff(t *testing.T) {
	a, b := newMemDevice("mem:same"), newMemDevice("mem:same")
	drv := &memDriver{present: map[string]*memDevice{"k1": a, "k2": b}}
	var opens sync.Map
	counting := &countingDriver{memDriver: drv, opens: &opens}
	m := NewManager(nil, 5*time.Millisecond, counting)
	var mu sync.Mutex
	var failed []Event
	attached := 0
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	m.Run(ctx, func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case Attached:
			attached++
		case OpenFailed:
			failed = append(failed, e)
		}
	})
	if attached != 1 || len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "same identity mem:same") {
		t.Fatalf("attached %d, failures %v; want one attached and one refused as a duplicate", attached, failed)
	}
	// The refused key is retried with backoff (5, 10, 20, 40, 80 ms...), not on
	// each of the ~60 scans.
	tries := 0
	opens.Range(func(k, v any) bool {
		if n := v.(int); n > tries {
			tries = n
		}
		return true
	})
	if tries < 2 || tries > 10 {
		t.Errorf("the duplicate was opened %d times in 300 ms, want a few (backoff)", tries)
	}
}

type countingDriver struct {
	*memDriver
	mu    sync.Mutex
	opens *sync.Map
}

func (c *countingDriver) Open(ctx context.Context, cand Candidate) (Device, error) {
	c.mu.Lock()
	n, _ := c.opens.LoadOrStore(cand.Key, 0)
	c.opens.Store(cand.Key, n.(int)+1)
	c.mu.Unlock()
	return c.memDriver.Open(ctx, cand)
}

// plug puts a device at key (nil unplugs the key) in a memDriver.
func (d *memDriver) plug(key string, dev *memDevice) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dev == nil {
		delete(d.present, key)
		return
	}
	d.present[key] = dev
}

// recorder collects a Manager's events other than edges.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) emit(e Event) {
	if e.Kind == EdgeEvent {
		return
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func kinds(es []Event) []EventKind {
	var out []EventKind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// runManager runs m in the current synctest bubble until the test ends.
func runManager(t *testing.T, m *Manager, r *recorder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx, r.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestManagerReconnectKeepsIdentity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		drv := &memDriver{present: map[string]*memDevice{}}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		start := time.Now()

		dev := newMemDevice("mem:A")
		drv.plug("/dev/ttyACM0", dev)
		time.Sleep(time.Second)
		synctest.Wait()
		if es := r.take(); len(es) != 1 || es[0].Kind != Attached || es[0].Reconnected {
			t.Fatalf("first plug: events %v, want one Attached, not a reconnect", es)
		}

		// Unplugged: detached at once, shown not connected with the reason.
		drv.plug("/dev/ttyACM0", nil)
		close(dev.gone)
		synctest.Wait()
		if es := r.take(); len(es) != 1 || es[0].Kind != Detached || !errors.Is(es[0].Err, ErrGone) {
			t.Fatalf("unplug: events %v, want one Detached with ErrGone", es)
		}
		unplugged := time.Now()
		st := m.States()
		if len(st) != 1 || st[0].Connected || !errors.Is(st[0].Err, ErrGone) || !st[0].Since.Equal(unplugged) || st[0].Info.ID != "mem:A" {
			t.Fatalf("States after unplug = %+v, want mem:A not connected since %v, with ErrGone", st, unplugged.Sub(start))
		}

		// Back at another port: the same device, reconnected.
		time.Sleep(5 * time.Second)
		drv.plug("/dev/ttyACM1", newMemDevice("mem:A"))
		time.Sleep(time.Second)
		synctest.Wait()
		if es := r.take(); len(es) != 1 || es[0].Kind != Attached || !es[0].Reconnected {
			t.Fatalf("replug: events %v, want one Attached marked Reconnected", es)
		}
		st = m.States()
		if len(st) != 1 || !st[0].Connected || st[0].Err != nil || st[0].Attaches != 2 {
			t.Errorf("States after replug = %+v, want mem:A connected, attached twice", st)
		}
	})
}

func TestManagerScansSoonAfterDetach(t *testing.T) {
	// A device that went away but whose port is still listed (it glitched,
	// or the operating system was slow to remove it) is tried again a
	// quarter interval later, not an interval later.
	synctest.Test(t, func(t *testing.T) {
		dev := newMemDevice("mem:A")
		drv := &memDriver{present: map[string]*memDevice{"k": dev}}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		synctest.Wait()
		r.take()

		time.Sleep(100 * time.Millisecond) // between two ticks
		drv.plug("k", newMemDevice("mem:A"))
		close(dev.gone)
		time.Sleep(249 * time.Millisecond)
		synctest.Wait()
		if got := m.Devices(); len(got) != 0 {
			t.Fatalf("Devices() 249 ms after the detach = %v, want none yet (settling)", got)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if got := m.Devices(); len(got) != 1 {
			t.Fatalf("Devices() 251 ms after the detach = %v, want mem:A again (one interval is 1 s)", got)
		}
		if got := kinds(r.take()); !slices.Equal(got, []EventKind{Detached, Attached}) {
			t.Errorf("events %v, want detached, attached", got)
		}
	})
}

func TestManagerUnplugDuringOpenIsNotAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		drv := &answeringDriver{memDriver: &memDriver{present: map[string]*memDevice{"k": nil}}, opens: make(chan chan error)}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		open := <-drv.opens
		drv.plug("k", nil) // unplugged while HELLO is in flight
		open <- errors.New("open k: read: port has been closed")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if es := r.take(); len(es) != 0 {
			t.Errorf("events %v, want none: the device was unplugged, nothing failed", es)
		}
		if st := m.States(); len(st) != 0 {
			t.Errorf("States = %+v, want none", st)
		}
	})
}

func TestManagerOpenFailureOfUnpluggedPortIsForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		drv := &memDriver{present: map[string]*memDevice{"k": nil}, openErr: errors.New("permission denied on k")}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)

		// Failing for a minute: reported once, tried with growing backoff.
		time.Sleep(time.Minute)
		synctest.Wait()
		if es := r.take(); len(es) != 1 || es[0].Kind != OpenFailed || es[0].Device.Path != "k" {
			t.Fatalf("events %v, want one OpenFailed for k", es)
		}
		if st := m.States(); len(st) != 1 || st[0].Connected || st[0].Err == nil || st[0].Info.Path != "k" {
			t.Fatalf("States = %+v, want k, not connected, with the error", st)
		}

		// Unplugged: forgotten, backoff and all.
		drv.plug("k", nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if st := m.States(); len(st) != 0 {
			t.Fatalf("States after unplug = %+v, want none", st)
		}
		// Plugged in again, still failing: tried and reported again.
		drv.mu.Lock()
		drv.present["k"] = nil
		drv.mu.Unlock()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if es := r.take(); len(es) != 1 || es[0].Kind != OpenFailed {
			t.Fatalf("events after replug %v, want OpenFailed again", es)
		}

		// Fixed (the user installed the udev rules) and replugged: it
		// attaches within a scan, not after the 30 s backoff.
		drv.plug("k", nil)
		drv.setOpenErr(nil)
		time.Sleep(2 * time.Second)
		drv.plug("k", newMemDevice("mem:A"))
		time.Sleep(time.Second)
		synctest.Wait()
		if got := m.Devices(); len(got) != 1 {
			t.Fatalf("Devices() 1 s after the replug = %v, want mem:A (within a scan interval, not after the 30 s backoff)", got)
		}
		if st := m.States(); len(st) != 1 || !st[0].Connected || st[0].Info.ID != "mem:A" {
			t.Errorf("States = %+v, want only mem:A, connected (the failure at k replaced)", st)
		}
	})
}

func TestManagerSetLEDToGoneDeviceIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev := newMemDevice("mem:A")
		drv := &memDriver{present: map[string]*memDevice{"k": dev}}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		synctest.Wait()
		ctx := context.Background()

		// Attached, but the command fails: that is an error.
		dev.ledErr = errors.New("write timed out after 500ms: the device is not reading")
		if err := m.SetLED(ctx, "mem:A", 1, LEDBusy); err == nil {
			t.Error("SetLED with a failing write on an attached device = nil, want the error")
		}
		// Unplugged while the command is sent, failing with whatever error:
		// dropped.
		dev.onLED = func() {
			close(dev.gone)
			for len(m.Devices()) != 0 { // the Manager takes it off its list
				runtime.Gosched() // (it then waits for this command to end)
			}
		}
		if err := m.SetLED(ctx, "mem:A", 1, LEDSuccess); err != nil {
			t.Errorf("SetLED on a device unplugged during the command = %v, want nil", err)
		}
		// And after: dropped.
		if err := m.SetLED(ctx, "mem:A", 1, LEDFailure); err != nil {
			t.Errorf("SetLED on an unplugged device = %v, want nil", err)
		}
	})
}

// setOpenErr sets the error a memDriver's Open returns (nil: it opens).
func (d *memDriver) setOpenErr(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.openErr = err
}

func TestManagerRetryForgetsBackoff(t *testing.T) {
	// A key that has failed for a minute waits up to 30 s between tries;
	// after its settings changed (Retry), it is tried at once.
	synctest.Test(t, func(t *testing.T) {
		drv := &memDriver{present: map[string]*memDevice{"k": newMemDevice("mem:A")}, openErr: errors.New("wrong pin")}
		m := NewManager(nil, time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := kinds(r.take()); !slices.Equal(got, []EventKind{OpenFailed}) {
			t.Fatalf("events while failing = %v, want one OpenFailed", got)
		}

		drv.setOpenErr(nil) // the settings were fixed
		m.Retry("k", "not-a-key")
		synctest.Wait()
		if got := m.Devices(); len(got) != 1 || got[0].ID != "mem:A" {
			t.Fatalf("Devices() right after Retry = %v, want mem:A (not after the back-off)", got)
		}
		if st := m.States(); len(st) != 1 || !st[0].Connected {
			t.Errorf("States = %+v, want mem:A alone, connected (the failure replaced)", st)
		}
	})
}

func TestManagerRetryDuringOpen(t *testing.T) {
	// Retry while the key is being opened with the old settings: when that
	// open fails, the next try comes after the settle time, not after the
	// back-off (a whole interval, here 10 s).
	synctest.Test(t, func(t *testing.T) {
		drv := &answeringDriver{memDriver: &memDriver{present: map[string]*memDevice{"k": newMemDevice("mem:A")}}, opens: make(chan chan error)}
		m := NewManager(nil, 10*time.Second, drv)
		r := &recorder{}
		runManager(t, m, r)
		open := <-drv.opens
		m.Retry("k")
		open <- errors.New("wrong pin") // the open with the old settings fails
		select {
		case open = <-drv.opens:
			open <- nil
		case <-time.After(time.Second):
			t.Fatal("not tried again within a second of the failed open; want after the settle time, not the 10 s back-off")
		}
		synctest.Wait()
		if got := m.Devices(); len(got) != 1 {
			t.Errorf("Devices() = %v, want mem:A", got)
		}
	})
}

// answeringDriver's Open waits for the test to answer it: it sends a
// channel on opens and fails with the error the test sends back, or opens
// the memDriver's device on nil.
type answeringDriver struct {
	*memDriver
	opens chan chan error
}

func (d *answeringDriver) Open(ctx context.Context, c Candidate) (Device, error) {
	answer := make(chan error)
	select {
	case d.opens <- answer:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case err := <-answer:
		if err != nil {
			return nil, err
		}
		return d.memDriver.Open(ctx, c)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
