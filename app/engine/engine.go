// Package engine is Buttonhook's UI-free runtime: devices -> gestures ->
// bindings -> targets -> HTTP requests -> LEDs, with every attempt logged. The
// GUI, the command line and the local server drive it; headless mode is
// engine.Run under a signal context.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

// Store is what the engine needs from storage.
type Store interface {
	PutAttempt(storage.Attempt) error
	PutAttemptDurable(storage.Attempt) error
	Attempts(storage.Query) ([]storage.Attempt, error)
	Config(kind string) (map[string][]byte, error)
	ApplyConfig([]storage.ConfigChange) error
	Counts(device string, button int) (storage.Counts, error)
	PutAttempts(as []storage.Attempt, counts ...storage.ButtonCounts) error
	Search(storage.Query) (storage.Page, error)
	AllTargetStats() (map[string]storage.Stats, error)
	WriteCSV(w io.Writer, q storage.Query) error
	WriteJSONLines(w io.Writer, q storage.Query) error
	RunMaintenance(ctx context.Context, m storage.Maintenance) error
}

// Sender runs attempts of targets.
type Sender interface {
	// SendWithRetries runs an attempt, retrying as the target allows and
	// telling onTry of each try that will be retried.
	SendWithRetries(ctx context.Context, t actions.Target, tags actions.Tags, onTry actions.TryFunc) actions.Result
	// Send runs one try (used for tests of a target).
	Send(ctx context.Context, t actions.Target, tags actions.Tags) actions.Result
}

// Options configure an Engine.
type Options struct {
	Logger *slog.Logger
	Store  Store
	// Sender sends requests; default: an actions.Sender over Secrets.
	Sender  Sender
	Secrets actions.SecretSource
	// SecretStore deletes the keyring secrets that no target uses any more
	// (after a delete, an edit or an import); nil leaves them in place.
	SecretStore SecretDeleter
	// Drivers find and open devices. Those that take ports (a PortSetter,
	// FirmataPortSetter or LinesPortSetter) are given the devices section
	// of the config, at once and whenever it changes; the one named "usb"
	// is turned off when the section says so. New starts none of them.
	Drivers []device.Driver
	// Ports receives the configured BH1 ports plus ExtraPorts, if it is
	// not among Drivers already.
	Ports      PortSetter
	ExtraPorts []string // BH1 ports from the command line (--serial); not saved
	Gestures   device.GestureTiming
	// QueueSize is how many presses of one button may wait while one is in
	// flight; more are refused, and logged as refused. Default 4.
	QueueSize int
	// ScanInterval is how often devices are looked for. Default 1 s.
	ScanInterval time.Duration
	// CallbackBase is the URL async callbacks are addressed to (the local
	// server); "" until one runs. See SetCallbackBase.
	CallbackBase string
	// StopGrace is how long requests in flight may finish after Run's context
	// is cancelled before they are cut. Default 2 s.
	StopGrace time.Duration
}

// Engine is the runtime. Create it with New, then call Run; the config and
// log methods also work when it is not running.
type Engine struct {
	log     *slog.Logger
	store   Store
	sender  Sender
	drv     drivers
	extra   []string
	manager *device.Manager
	timing  device.GestureTiming
	qsize   int
	grace   time.Duration
	host    string

	cfgMu  sync.Mutex // serialises config writers
	cfg    sync.Mutex // guards config
	config Config

	devMu     sync.Mutex // guards the fields below
	names     map[string]string
	gestures  *device.GestureDetector     // while Run runs
	debounce  []Debounce                  // configured
	boards    map[string]time.Duration    // debounce_ms of attached Firmata boards, by device ID
	debounced map[buttonKey]time.Duration // set on gestures
	lights    map[buttonKey][]Pair        // paired lights, by button

	bus bus

	counters    counters
	secretStore SecretDeleter
	// retentionChanged tells the log's maintenance (see maintain) that the
	// log settings changed.
	retentionChanged chan struct{}

	callbacks    *actions.Callbacks
	gate         *pressGate // presses on their way to their requests
	callbackBase atomic.Pointer[string]
}

// New returns an engine over the store's config. It starts nothing.
func New(o Options) (*Engine, error) {
	if o.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sender == nil {
		o.Sender = actions.NewSender(o.Secrets)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 2 * time.Second
	}
	cfg, err := loadConfig(o.Store)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	drv := newDrivers(o.Drivers, o.Ports)
	e := &Engine{
		log: o.Logger, store: o.Store, sender: o.Sender, drv: drv, extra: o.ExtraPorts,
		manager: device.NewManager(o.Logger, o.ScanInterval, drv.managed()...),
		timing:  o.Gestures, qsize: o.QueueSize, grace: o.StopGrace, host: host,
		config: cfg, names: map[string]string{}, boards: map[string]time.Duration{}, callbacks: actions.NewCallbacks(), gate: newPressGate(),
		secretStore: o.SecretStore, retentionChanged: make(chan struct{}, 1),
	}
	e.SetCallbackBase(o.CallbackBase)
	e.applyDevices(Devices{}, cfg.devices)
	return e, nil
}

// Config returns a copy of the current config (bindings name targets by ID).
func (e *Engine) Config() Config {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	c := e.config
	c.Targets, c.Bindings, c.devices = slices.Clone(c.Targets), slices.Clone(c.Bindings), c.devices.clone()
	return c
}

// Export returns the config in the file format: bindings name their targets.
func (e *Engine) Export() Config { return e.Config().export() }

// Import validates in and merges it into the config (see Config.merge for the
// rules); if anything is wrong it changes nothing and returns an ImportError.
// OS-keyring secrets that replaced targets no longer refer to, and no other
// target uses, are deleted (see UpdateTarget); new log settings apply at once.
func (e *Engine) Import(in Config) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	old := e.Config()
	merged, changes, err := old.merge(in, time.Now().UTC())
	if err != nil {
		return err
	}
	if err := e.store.ApplyConfig(changes); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	e.cfg.Lock()
	e.config = merged
	e.cfg.Unlock()
	e.applyDevices(old.devices, merged.devices)
	if merged.settings.Log != old.settings.Log {
		e.changeRetention()
	}
	e.bus.publish(Event{Kind: ConfigChanged})
	e.deleteUnusedSecrets(old.Targets, merged.Targets)
	return nil
}

// SaveTarget creates or updates one target (matched by name, see Import).
func (e *Engine) SaveTarget(t actions.Target) error {
	return e.Import(Config{Version: ConfigVersion, Targets: []actions.Target{t}})
}

// SaveBinding creates or replaces the binding for its button and gesture.
// b.Target may be the target's ID or name.
func (e *Engine) SaveBinding(b Binding) error {
	return e.Import(Config{Version: ConfigVersion, Bindings: []Binding{b}})
}

// AddSerialPort adds the port of a BH1 board to open (it replaces what
// was configured at that port).
func (e *Engine) AddSerialPort(path string) error {
	return e.Import(Config{Version: ConfigVersion, Devices: &Devices{BH1: []string{path}}})
}

// Search returns a page of the attempt log: filtered, sorted, with a cursor.
func (e *Engine) Search(q storage.Query) (storage.Page, error) { return e.store.Search(q) }

// TargetStats returns each target's counters (attempts, OK, failed, last
// triggered), by target ID.
func (e *Engine) TargetStats() (map[string]storage.Stats, error) { return e.store.AllTargetStats() }

// WriteCSV writes every attempt q matches as CSV.
func (e *Engine) WriteCSV(w io.Writer, q storage.Query) error { return e.store.WriteCSV(w, q) }

// WriteJSONLines writes every attempt q matches as JSON, one per line.
func (e *Engine) WriteJSONLines(w io.Writer, q storage.Query) error {
	return e.store.WriteJSONLines(w, q)
}

// Subscribe returns a channel of engine events and a function that ends the
// subscription. A subscriber that falls more than buf events behind misses
// events (counted in Event.Missed of the next one it gets); it can re-read
// state with Devices, Config and Attempts.
func (e *Engine) Subscribe(buf int) (<-chan Event, func()) { return e.bus.subscribe(buf) }

// Run runs devices and presses until ctx is done. On return LEDs are off,
// queued and in-flight attempts are logged, and every goroutine has exited.
func (e *Engine) Run(ctx context.Context) error {
	e.closeInterrupted()
	// Sends outlive ctx by the grace period, so a request in flight at
	// shutdown can still complete and be logged.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(e.grace, cancelSends) })
	defer stop()

	maintDone := make(chan struct{})
	go func() { // retention and value-log GC, until ctx is done
		defer close(maintDone)
		e.maintain(ctx)
	}()
	defer func() { <-maintDone }()

	p := &presser{e: e, queues: map[buttonKey]chan job{}}
	gestures := device.NewGestureDetector(e.timing, e.wants, func(id string, button int, g device.Gesture, at time.Time) {
		p.press(ctx, sendCtx, id, button, g, at)
	})
	e.setGestures(gestures)
	err := e.manager.Run(ctx, func(ev device.Event) {
		switch ev.Kind {
		case device.EdgeEvent:
			gestures.Edge(ev.Device.ID, ev.Edge)
		case device.Attached:
			e.attached(ev.Device)
			e.bus.publish(Event{Kind: DevicesChanged})
		case device.Detached:
			gestures.Forget(ev.Device.ID)
			e.bus.publish(Event{Kind: DevicesChanged})
		case device.OpenFailed:
			e.bus.publish(Event{Kind: DevicesChanged})
		}
	})
	e.setGestures(nil)
	gestures.Stop() // presses waiting for a double-press window are refused and logged
	p.wait()
	return err
}

// closeInterrupted marks attempts that were left Waiting (Buttonhook stopped
// or crashed before their result was known) as Failed, so none stays
// "Waiting" forever.
func (e *Engine) closeInterrupted() {
	as, err := e.store.Attempts(storage.Query{Status: storage.StatusWaiting, Limit: storage.MaxLimit})
	if err != nil {
		e.log.Warn("cannot check the log for interrupted attempts", "err", err)
		return
	}
	for _, a := range as {
		if a.Status != storage.StatusWaiting {
			continue
		}
		a.Status, a.Finished = storage.StatusFailed, time.Now()
		a.Error = "interrupted: Buttonhook stopped before the result was known (the request may have reached the server)"
		if err := e.store.PutAttemptDurable(a); err != nil {
			e.log.Warn("cannot close interrupted attempt", "id", a.ID, "err", err)
			return
		}
		e.log.Info("closed interrupted attempt", "id", a.ID, "target", a.TargetName)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// deviceName is the name of the device with the given ID as it last
// attached, or the ID.
func (e *Engine) deviceName(id string) string {
	e.devMu.Lock()
	defer e.devMu.Unlock()
	if n, ok := e.names[id]; ok {
		return n
	}
	return id
}

// wants reports whether a button has a binding for a gesture.
func (e *Engine) wants(deviceID string, button int, g device.Gesture) bool {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	for _, b := range e.config.Bindings {
		if b.Gesture == g && b.Button == button && (b.Device == "" || b.Device == deviceID) {
			return true
		}
	}
	return false
}

// targetsFor returns the enabled targets bound to a button's gesture.
func (e *Engine) targetsFor(deviceID string, button int, g device.Gesture) []actions.Target {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	var out []actions.Target
	for _, b := range e.config.Bindings {
		if b.Gesture != g || b.Button != button || (b.Device != "" && b.Device != deviceID) {
			continue
		}
		if t, ok := e.config.target(b.Target); ok && t.Enabled {
			out = append(out, t)
		}
	}
	return out
}
