package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// EventKind says what a Manager event reports.
type EventKind int

// Manager event kinds.
const (
	Attached   EventKind = iota // a device was opened and identified
	Detached                    // a device went away or was closed
	EdgeEvent                   // a button edge on an attached device
	OpenFailed                  // something was found but could not be opened (reported once per distinct error)
)

func (k EventKind) String() string {
	switch k {
	case Attached:
		return "attached"
	case Detached:
		return "detached"
	case EdgeEvent:
		return "edge"
	case OpenFailed:
		return "open-failed"
	}
	return "unknown"
}

// Event is something the Manager observed.
type Event struct {
	Kind   EventKind
	Device Info // for OpenFailed only Path and Driver are set
	Edge   Edge
	Err    error // why a device detached or failed to open
}

// DefaultScanInterval is how often the Manager asks drivers what is attached.
const DefaultScanInterval = time.Second

// Manager finds devices through its drivers, opens each once, runs it, notices
// when it goes, and finds it again when it comes back. It is the only owner of
// the devices it opens.
type Manager struct {
	drivers  []Driver
	interval time.Duration
	log      *slog.Logger
	rescan   chan struct{}

	mu       sync.Mutex
	byKey    map[string]*entry   // keys being opened or open
	failures map[string]*failure // per key that failed to open
	byID     map[string]*entry
}

// failure remembers why a key failed to open, to report it once and to wait
// longer before each new try (so a port with something else on it is not
// poked every second, and a board that boots slowly is not reset forever).
type failure struct {
	msg   string
	tries int
	next  time.Time
}

// Backoff between tries of a key that fails to open: doubling from the scan
// interval up to maxBackoff.
const maxBackoff = 30 * time.Second

type entry struct {
	key    string
	dev    Device // nil while opening
	info   Info
	ledsMu sync.Mutex // serialises LED commands to one device
}

// NewManager returns a Manager over drivers. It starts nothing: call Run.
func NewManager(logger *slog.Logger, interval time.Duration, drivers ...Driver) *Manager {
	if interval <= 0 {
		interval = DefaultScanInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		drivers:  drivers,
		interval: interval,
		log:      logger,
		rescan:   make(chan struct{}, 1),
		byKey:    map[string]*entry{},
		failures: map[string]*failure{},
		byID:     map[string]*entry{},
	}
}

// Rescan asks a running Manager to scan now (after a configuration change).
func (m *Manager) Rescan() {
	select {
	case m.rescan <- struct{}{}:
	default:
	}
}

// Run scans every interval until ctx is done, calling emit from the Manager's
// goroutines (never concurrently for one device, but possibly concurrently
// across devices). Each device has one goroutine, which exits when the device
// goes or ctx is done; on return every LED has been turned off, every device
// closed and every goroutine has exited.
func (m *Manager) Run(ctx context.Context, emit func(Event)) error {
	var wg sync.WaitGroup
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.scan(ctx, &wg, emit)
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		case <-m.rescan:
		}
	}
}

func (m *Manager) scan(ctx context.Context, wg *sync.WaitGroup, emit func(Event)) {
	for _, d := range m.drivers {
		cands, err := d.Scan(ctx)
		if err != nil {
			m.log.Warn("device scan failed", "driver", d.Name(), "err", err)
			continue
		}
		for _, c := range cands {
			m.mu.Lock()
			_, busy := m.byKey[c.Key]
			if f := m.failures[c.Key]; f != nil && time.Now().Before(f.next) {
				busy = true
			}
			var e *entry
			if !busy {
				e = &entry{key: c.Key}
				m.byKey[c.Key] = e
			}
			m.mu.Unlock()
			if busy {
				continue
			}
			wg.Add(1)
			go func() { // exits when the device is gone or ctx is done
				defer wg.Done()
				m.serve(ctx, d, c, e, emit)
			}()
		}
	}
}

// serve opens one candidate and runs it until it fails or ctx is done.
func (m *Manager) serve(ctx context.Context, d Driver, c Candidate, e *entry, emit func(Event)) {
	defer func() {
		m.mu.Lock()
		delete(m.byKey, c.Key)
		if e.info.ID != "" && m.byID[e.info.ID] == e {
			delete(m.byID, e.info.ID)
		}
		m.mu.Unlock()
	}()
	dev, err := d.Open(ctx, c)
	var info Info
	if err == nil {
		info = dev.Info()
		m.mu.Lock()
		if ctx.Err() != nil { // stopping: a device removed by shutdown is no room for another
			m.mu.Unlock()
			_ = dev.Close()
			return
		}
		if other, dup := m.byID[info.ID]; dup {
			err = fmt.Errorf("%s: another device with the same identity %s is attached at %s: give each board its own serial number", c.Key, info.ID, other.info.Path)
		} else {
			delete(m.failures, c.Key)
			e.dev, e.info = dev, info
			m.byID[info.ID] = e
		}
		m.mu.Unlock()
		if err != nil {
			_ = dev.Close()
			info = Info{}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		m.mu.Lock()
		f := m.failures[c.Key]
		if f == nil {
			f = &failure{}
			m.failures[c.Key] = f
		}
		repeated := f.msg == err.Error()
		f.msg = err.Error()
		f.tries++
		f.next = time.Now().Add(min(m.interval<<min(f.tries-1, 10), maxBackoff))
		m.mu.Unlock()
		if !repeated {
			m.log.Warn("cannot open device", "path", c.Key, "driver", d.Name(), "err", err)
			emit(Event{Kind: OpenFailed, Device: Info{Path: c.Key, Driver: d.Name()}, Err: err})
		}
		return
	}
	m.log.Info("device attached", "id", info.ID, "path", info.Path, "model", info.Model)
	emit(Event{Kind: Attached, Device: info})

	err = dev.Run(ctx, func(ed Edge) { emit(Event{Kind: EdgeEvent, Device: info, Edge: ed}) })
	m.mu.Lock()
	if m.byID[info.ID] == e {
		delete(m.byID, info.ID)
	}
	m.mu.Unlock()
	e.ledsMu.Lock()
	if ctx.Err() != nil {
		lightsOut(dev, info.Buttons)
	}
	_ = dev.Close()
	e.ledsMu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		err = ErrGone
	}
	m.log.Info("device detached", "id", info.ID, "err", err)
	emit(Event{Kind: Detached, Device: info, Err: err})
}

// lightsOut turns every LED of a device off, briefly bounded: used at
// shutdown, when the device is still there.
func lightsOut(dev Device, buttons int) {
	ls, ok := dev.(LEDSetter)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for b := 1; b <= max(buttons, 1); b++ {
		if err := ls.SetLED(ctx, b, LEDIdle); err != nil {
			return
		}
	}
}

// SetLED shows led on a button of the device with the given ID. A device with
// no LEDs, or one that is not attached (unplugged), is not an error: the
// command is dropped, as PRODUCT.md's LED language allows.
func (m *Manager) SetLED(ctx context.Context, deviceID string, button int, led LED) error {
	m.mu.Lock()
	e := m.byID[deviceID]
	m.mu.Unlock()
	if e == nil {
		return nil
	}
	ls, ok := e.dev.(LEDSetter)
	if !ok {
		return nil
	}
	e.ledsMu.Lock()
	defer e.ledsMu.Unlock()
	if err := ls.SetLED(ctx, button, led); err != nil && !errors.Is(err, ErrGone) {
		return err
	}
	return nil
}

// Devices lists the attached devices, sorted by ID.
func (m *Manager) Devices() []Info {
	m.mu.Lock()
	out := make([]Info, 0, len(m.byID))
	for _, e := range m.byID {
		out = append(out, e.info)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
