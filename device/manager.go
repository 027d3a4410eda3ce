package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// Reconnected is set on Attached when a device with this ID was attached
	// before, since the Manager was made, and went away: the same device is
	// back, wherever it was plugged in.
	Reconnected bool
}

// State is what a Manager knows of a device it has seen: attached or not,
// since when, and why not.
type State struct {
	Info      Info
	Connected bool
	// Err is why the device is not connected: the error it went away with,
	// or, for something that failed to open (Info has only Path and
	// Driver), why it failed. It is nil while connected and after the
	// Manager stopped.
	Err error
	// Since is when Connected or Err last changed.
	Since time.Time
	// Attaches counts the times the device was attached; from 2 on, it has
	// reconnected.
	Attaches int
}

// DefaultScanInterval is how often the Manager asks drivers what is attached.
const DefaultScanInterval = time.Second

// maxSettle bounds how long a key is left alone after its device went away
// or failed to open (a quarter of the scan interval, 250 ms by default),
// before the Manager scans again: the operating system has then removed an
// unplugged device, and a device that only glitched is back within that
// time instead of within a scan interval.
const maxSettle = 250 * time.Millisecond

// Manager finds devices through its drivers, opens each once, runs it, notices
// when it goes, and finds it again when it comes back. It is the only owner of
// the devices it opens.
//
// It scans every driver once per interval, and once more a short while after
// a device went away or failed to open. A device is known by its Info.ID, so
// one that comes back (at the same port or another) is a reconnect. An open
// failure is reported only if the candidate is still listed by a scan after
// it failed: a device unplugged while it was being opened is not an error.
type Manager struct {
	drivers  []Driver
	interval time.Duration
	settle   time.Duration
	log      *slog.Logger
	rescan   chan struct{}

	mu       sync.Mutex
	byKey    map[string]*entry   // keys being opened or open
	failures map[string]*failure // per key that failed to open
	byID     map[string]*entry
	states   map[string]*State // by ID, or by failedKey(key) for a key that failed to open
}

// failure remembers why a key failed to open, to report it once and to wait
// longer before each new try (so a port with something else on it is not
// poked every second, and a board that boots slowly is not reset forever).
// It is dropped when the key is no longer listed (unplugged): a key that
// comes back gets a fresh try at once.
type failure struct {
	driver   string
	err      error     // the latest error
	at       time.Time // when it happened
	reported string    // the message last reported
	tries    int
	next     time.Time
}

// Backoff between tries of a key that fails to open: doubling from the scan
// interval up to maxBackoff.
const maxBackoff = 30 * time.Second

type entry struct {
	key  string
	dev  Device // nil while opening
	info Info
	// retry is set (under Manager.mu) when Retry named the key while it was
	// being opened: if this open fails, it was with the old settings, so
	// the next try comes without back-off.
	retry  bool
	ledsMu sync.Mutex // serialises LED commands to one device
}

// NewManager returns a Manager over drivers that scans every interval
// (DefaultScanInterval when 0). It starts nothing: call Run.
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
		settle:   min(interval/4, maxSettle),
		log:      logger,
		rescan:   make(chan struct{}, 1),
		byKey:    map[string]*entry{},
		failures: map[string]*failure{},
		byID:     map[string]*entry{},
		states:   map[string]*State{},
	}
}

func failedKey(key string) string { return "open:" + key }

// Rescan asks a running Manager to scan now (after a configuration change).
func (m *Manager) Rescan() {
	select {
	case m.rescan <- struct{}{}:
	default:
	}
}

// Retry forgets the back-off of keys that failed to open, so that the next
// scan tries them at once, and asks for that scan: for ports whose settings
// changed, or that were configured again, as they may open now. A key being
// opened now is tried again without back-off if this open fails, since it
// may have been opened with the old settings.
func (m *Manager) Retry(keys ...string) {
	m.mu.Lock()
	for _, k := range keys {
		if f := m.failures[k]; f != nil {
			f.tries, f.next = 0, time.Time{}
		}
		if e := m.byKey[k]; e != nil && e.dev == nil {
			e.retry = true
		}
	}
	m.mu.Unlock()
	m.Rescan()
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
		started := time.Now()
		cands, err := d.Scan(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("device scan failed", "driver", d.Name(), "err", err)
			}
			continue
		}
		listed := make(map[string]bool, len(cands))
		for _, c := range cands {
			listed[c.Key] = true
		}
		var reports []Event
		m.mu.Lock()
		for key, f := range m.failures {
			if f.driver != d.Name() {
				continue
			}
			if !listed[key] { // unplugged: forget the failure and its backoff
				delete(m.failures, key)
				delete(m.states, failedKey(key))
				continue
			}
			// Still there after it failed: a real failure, reported once
			// per distinct message.
			if f.at.Before(started) && f.err.Error() != f.reported {
				f.reported = f.err.Error()
				m.states[failedKey(key)] = &State{Info: Info{Path: key, Driver: d.Name()}, Err: f.err, Since: f.at}
				reports = append(reports, Event{Kind: OpenFailed, Device: Info{Path: key, Driver: d.Name()}, Err: f.err})
			}
		}
		m.mu.Unlock()
		for _, ev := range reports {
			m.log.Warn("cannot open device", "path", ev.Device.Path, "driver", ev.Device.Driver, "err", ev.Err)
			emit(ev)
		}
		for _, c := range cands {
			m.mu.Lock()
			_, busy := m.byKey[c.Key]
			if f := m.failures[c.Key]; f != nil && time.Now().Before(f.next) {
				busy = true
			}
			var e *entry
			if !busy && ctx.Err() == nil {
				e = &entry{key: c.Key}
				m.byKey[c.Key] = e
			}
			m.mu.Unlock()
			if e == nil {
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

// serve opens one candidate and runs it until it fails or ctx is done. After
// a failure it keeps the key for the settle time, then asks for a scan.
func (m *Manager) serve(ctx context.Context, d Driver, c Candidate, e *entry, emit func(Event)) {
	defer func() {
		m.mu.Lock()
		delete(m.byKey, c.Key)
		m.mu.Unlock()
	}()
	if !m.run(ctx, d, c, e, emit) {
		return // stopping
	}
	t := time.NewTimer(m.settle)
	defer t.Stop()
	select {
	case <-t.C:
		defer m.Rescan() // after the key is free again
	case <-ctx.Done():
	}
}

// run opens and runs one candidate. It reports whether the device went away
// or failed to open (false when ctx is done).
func (m *Manager) run(ctx context.Context, d Driver, c Candidate, e *entry, emit func(Event)) bool {
	dev, err := d.Open(ctx, c)
	var info Info
	reconnected := false
	if err == nil {
		info = dev.Info()
		m.mu.Lock()
		if ctx.Err() != nil { // stopping: a device removed by shutdown is no room for another
			m.mu.Unlock()
			_ = dev.Close()
			return false
		}
		if other, dup := m.byID[info.ID]; dup {
			err = fmt.Errorf("%s: another device with the same identity %s is attached at %s: give each board its own serial number", c.Key, info.ID, other.info.Path)
		} else {
			delete(m.failures, c.Key)
			delete(m.states, failedKey(c.Key))
			e.dev, e.info = dev, info
			m.byID[info.ID] = e
			st := m.states[info.ID]
			if st == nil {
				st = &State{}
				m.states[info.ID] = st
			}
			st.Info, st.Connected, st.Err, st.Since = info, true, nil, time.Now()
			st.Attaches++
			reconnected = st.Attaches > 1
		}
		m.mu.Unlock()
		if err != nil {
			_ = dev.Close()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		m.mu.Lock()
		f := m.failures[c.Key]
		if f == nil {
			f = &failure{driver: d.Name()}
			m.failures[c.Key] = f
		}
		f.err, f.at = err, time.Now()
		f.tries++
		tries := f.tries
		f.next = f.at.Add(min(m.interval<<min(tries-1, 10), maxBackoff))
		if e.retry { // opened with settings that have changed since
			f.tries, f.next = 0, f.at
		}
		m.mu.Unlock()
		m.log.Debug("device open failed", "path", c.Key, "driver", d.Name(), "try", tries, "err", err)
		return true
	}
	m.log.Info("device attached", "id", info.ID, "path", info.Path, "model", info.Model, "reconnected", reconnected)
	emit(Event{Kind: Attached, Device: info, Reconnected: reconnected})

	err = dev.Run(ctx, func(ed Edge) { emit(Event{Kind: EdgeEvent, Device: info, Edge: ed}) })
	stopping := ctx.Err() != nil
	if err == nil && !stopping {
		err = ErrGone
	}
	m.mu.Lock()
	if m.byID[info.ID] == e {
		delete(m.byID, info.ID)
	}
	if st := m.states[info.ID]; st != nil {
		st.Connected, st.Since = false, time.Now()
		st.Err = err
		if stopping {
			st.Err = nil
		}
	}
	m.mu.Unlock()
	e.ledsMu.Lock()
	if stopping {
		lightsOut(dev, info.Buttons)
	}
	_ = dev.Close()
	e.ledsMu.Unlock()
	if stopping {
		return false
	}
	m.log.Info("device detached", "id", info.ID, "err", err)
	emit(Event{Kind: Detached, Device: info, Err: err})
	return true
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
// no LEDs, one that is not attached (unplugged), or one that goes away while
// the command is sent is not an error: the command is dropped, as
// PRODUCT.md's LED language allows. Errors are left for a device that is
// still attached and did not take the command.
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
	err := ls.SetLED(ctx, button, led)
	e.ledsMu.Unlock()
	if err == nil || errors.Is(err, ErrGone) {
		return nil
	}
	m.mu.Lock()
	gone := m.byID[deviceID] != e
	m.mu.Unlock()
	if gone { // it went away during the command: whatever failed, it is gone
		return nil
	}
	return err
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

// States lists every device the Manager has attached since it was made, and
// every port that is listed but failed to open: connected ones first, then by
// ID (or path).
func (m *Manager) States() []State {
	m.mu.Lock()
	out := make([]State, 0, len(m.states))
	for _, st := range m.states {
		s := *st
		s.Info.Colors = slices.Clone(s.Info.Colors)
		out = append(out, s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Connected != out[j].Connected {
			return out[i].Connected
		}
		return out[i].Info.ID+out[i].Info.Path < out[j].Info.ID+out[j].Info.Path
	})
	return out
}
