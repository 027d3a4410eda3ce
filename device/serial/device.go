package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// writeTimeout bounds one line write; a device that stops reading (its
// buffer full) must not hang the host.
const writeTimeout = 500 * time.Millisecond

// logFirst is how many malformed lines, and how many ERR lines, a Device logs
// before it only counts them.
const logFirst = 5

var (
	_ device.Device    = (*Device)(nil)
	_ device.LEDSetter = (*Device)(nil)
)

// port is what a Device needs of its transport: go.bug.st/serial's Port in
// production, a fake in the protocol tests.
type port interface {
	// Read blocks until bytes arrive, the read timeout passes (0, nil) or
	// the port fails or is closed (an error).
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	ResetInputBuffer() error
	// Close releases a blocked Read.
	Close() error
}

// errClosed is returned by Run and SetLED on a Device after Close.
var errClosed = fmt.Errorf("device closed: %w", device.ErrGone)

// errWriteTimeout is the cause of a write that did not finish in time.
var errWriteTimeout = fmt.Errorf("write timed out after %v: the device is not reading", writeTimeout)

// Device is an open BH1 device on a serial port. Its methods are safe for
// concurrent use; Run is meant for one goroutine at a time.
type Device struct {
	path   string
	p      port
	lr     *LineReader // used by identify, then by Run
	logger *slog.Logger

	infoMu sync.Mutex
	info   device.Info

	running atomic.Bool
	gone    atomic.Bool // the port failed underneath
	closed  atomic.Bool
	done    chan struct{} // closed by Close
	once    sync.Once
	wsem    chan struct{} // holds a token while a write is in flight

	lines, malformed, errs atomic.Uint64
}

// Stats counts what a Device received.
type Stats struct {
	Lines     uint64 `json:"lines"`     // all lines, well-formed or not
	Malformed uint64 `json:"malformed"` // lines not following BH1, counted and ignored
	Errors    uint64 `json:"errors"`    // ERR lines: host commands the device could not do
}

func newDevice(p port, path string, logger *slog.Logger) *Device {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Device{
		path:   path,
		p:      p,
		lr:     NewLineReader(p),
		logger: logger.With("driver", DriverName, "path", path),
		info:   device.Info{ID: DriverName + ":" + path, Driver: DriverName, Path: path},
		done:   make(chan struct{}),
		wsem:   make(chan struct{}, 1),
	}
}

// identify sends HELLO? and waits for a HELLO line, ignoring other lines,
// for up to timeout and never past ctx.
func (d *Device) identify(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Stale bytes from before the port was opened are not an answer.
	_ = d.p.ResetInputBuffer() // optional: some ports cannot
	if err := d.writeLine(ctx, HelloQuery); err != nil {
		return fmt.Errorf("open %s: send %s: %w", d.path, HelloQuery, err)
	}
	for {
		line, err := d.lr.ReadLine()
		if err != nil && !errors.Is(err, ErrMalformed) {
			return fmt.Errorf("open %s: read: %w", d.path, err)
		}
		if err != nil || line != nil {
			m, ok := d.receive(line, err)
			if ok && m.Kind == KindHello {
				d.setHello(m.Hello, true)
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("open %s: waiting for HELLO: %w", d.path, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("open %s: %w within %v: check that the board runs Buttonhook (BH1) "+
				"firmware at %d baud and that the path is the board's port", d.path, device.ErrNoAnswer, timeout, BaudRate)
		}
	}
}

// receive counts and parses one line (or the error ReadLine gave for it),
// logging the first few malformed and ERR lines.
func (d *Device) receive(line []byte, err error) (Message, bool) {
	d.lines.Add(1)
	var m Message
	if err == nil {
		m, err = ParseLine(line)
	}
	if err != nil {
		if n := d.malformed.Add(1); n <= logFirst {
			attrs := []any{"err", err, "count", n, "only_counted_after", logFirst}
			if line != nil {
				attrs = append(attrs, "line", trimEOL(line))
			}
			d.logger.Warn("malformed line from device", attrs...)
		}
		return Message{}, false
	}
	if m.Kind == KindErr {
		if n := d.errs.Add(1); n <= logFirst {
			d.logger.Warn("device reported an error", "text", m.Text, "count", n, "only_counted_after", logFirst)
		}
	}
	return m, true
}

// trimEOL returns line without its line ending, for a log.
func trimEOL(line []byte) string {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return string(line)
}

func (d *Device) setHello(h Hello, first bool) {
	d.infoMu.Lock()
	defer d.infoMu.Unlock()
	if first {
		// The ID is fixed at open: it is the device's identity.
		d.info.ID = DriverName + ":" + d.path
		if h.Serial != "" {
			d.info.ID = DriverName + ":" + h.Serial
		}
	}
	d.info.Model = h.Model
	d.info.Firmware = h.Firmware
	d.info.Serial = h.Serial
	d.info.Buttons = h.Buttons
	d.info.Colors = append([]device.Color{}, h.Colors...)
}

// Info returns what the device said about itself in its latest HELLO.
func (d *Device) Info() device.Info {
	d.infoMu.Lock()
	defer d.infoMu.Unlock()
	info := d.info
	info.Colors = slices.Clone(info.Colors)
	return info
}

// Stats returns the counts of lines received so far.
func (d *Device) Stats() Stats {
	return Stats{Lines: d.lines.Load(), Malformed: d.malformed.Load(), Errors: d.errs.Load()}
}

// Run reads the device and calls edge, from this goroutine, for every D and
// U line, with the time the line was read. It records HELLO lines and
// counts malformed and ERR lines. It returns nil when ctx is done (within
// about 100 ms) or when Close interrupts it, and an error wrapping
// device.ErrGone when the port fails underneath (the device was unplugged)
// or was already closed.
func (d *Device) Run(ctx context.Context, edge func(device.Edge)) error {
	if d.closed.Load() {
		return fmt.Errorf("run %s: %w", d.path, errClosed)
	}
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run %s: already running", d.path)
	}
	defer d.running.Store(false)
	for {
		if ctx.Err() != nil {
			return nil
		}
		line, err := d.lr.ReadLine()
		now := time.Now()
		if err != nil && !errors.Is(err, ErrMalformed) {
			if d.closed.Load() {
				return nil
			}
			d.gone.Store(true)
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read %s: %w: %w", d.path, device.ErrGone, err)
		}
		if err == nil && line == nil {
			continue // read timeout
		}
		m, ok := d.receive(line, err)
		if !ok {
			continue
		}
		switch m.Kind {
		case KindDown, KindUp:
			edge(device.Edge{Button: m.Button, Down: m.Kind == KindDown, Time: now})
		case KindHello:
			d.setHello(m.Hello, false)
		}
	}
}

// SetLED sends one LED command for button (1..64). It waits for the line to
// be written at most until ctx is done and never more than half a second. It
// returns an error wrapping device.ErrGone when the device is gone or closed.
func (d *Device) SetLED(ctx context.Context, button int, led device.LED) error {
	if button < 1 || button > MaxButtons {
		return fmt.Errorf("set LED on %s: button %d out of range 1..%d", d.path, button, MaxButtons)
	}
	if err := d.writeLine(ctx, FormatLED(button, led)); err != nil {
		return fmt.Errorf("set LED %d on %s: %w", button, d.path, err)
	}
	return nil
}

// writeLine writes line and "\n", one writer at a time. A write that does not
// finish in time is left to finish in its own goroutine, which holds off
// other writes (and Close, for up to a second) until it does.
func (d *Device) writeLine(ctx context.Context, line string) error {
	if d.closed.Load() {
		return errClosed
	}
	if d.gone.Load() {
		return device.ErrGone
	}
	select {
	case d.wsem <- struct{}{}:
	case <-d.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if d.closed.Load() {
		<-d.wsem
		return errClosed
	}
	ctx, cancel := context.WithTimeoutCause(ctx, writeTimeout, errWriteTimeout)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		defer func() { <-d.wsem }()
		res <- writeAll(d.p, []byte(line+"\n"))
	}()
	select {
	case err := <-res:
		if err != nil {
			d.gone.Store(true)
			return fmt.Errorf("write: %w: %w", device.ErrGone, err)
		}
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func writeAll(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		b = b[n:]
	}
	return nil
}

// Close closes the port, releasing a blocked Run. It first lets a write in
// flight finish, waiting a second at most. It is safe to call twice; later
// calls return nil.
func (d *Device) Close() error {
	err := error(nil)
	d.once.Do(func() {
		d.closed.Store(true)
		close(d.done)
		// Let a write in flight finish before its file descriptor goes.
		select {
		case d.wsem <- struct{}{}:
		case <-time.After(time.Second):
		}
		if cerr := d.p.Close(); cerr != nil {
			err = fmt.Errorf("close %s: %w", d.path, cerr)
		}
	})
	return err
}
