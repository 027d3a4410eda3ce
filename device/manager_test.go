package device

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
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
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leds = append(m.leds, led)
	return nil
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
