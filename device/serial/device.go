package serial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// logFirst is how many malformed lines, and how many ERR lines, a Device logs
// before it only counts them.
const logFirst = 5

var (
	_ device.Device    = (*Device)(nil)
	_ device.LEDSetter = (*Device)(nil)
)

// Device is an open BH1 device on a serial port. Its methods are safe for
// concurrent use; Run is meant for one goroutine at a time.
type Device struct {
	path   string
	c      *conn
	lr     *LineReader // used by identify, then by Run
	logger *slog.Logger

	infoMu sync.Mutex
	info   device.Info

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
	c := newConn(p, path)
	return &Device{
		path:   path,
		c:      c,
		lr:     NewLineReader(c),
		logger: logger.With("driver", DriverName, "path", path),
		info:   device.Info{ID: DriverName + ":" + path, Driver: DriverName, Path: path},
	}
}

// identify sends HELLO? and waits for a HELLO line, ignoring other lines,
// for up to timeout and never past ctx.
func (d *Device) identify(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Stale bytes from before the port was opened are not an answer.
	_ = d.c.p.ResetInputBuffer() // optional: some ports cannot
	if err := d.writeLine(ctx, HelloQuery); err != nil {
		return fmt.Errorf("open %s: send %s: %w", d.path, HelloQuery, err)
	}
	for {
		line, err := d.lr.ReadLine()
		if err != nil && !errors.Is(err, ErrMalformed) {
			return fmt.Errorf("open %s: read: %w", d.path, err)
		}
		idle := err == nil && line == nil
		if !idle {
			if m, ok := d.receive(line, err); ok && m.Kind == KindHello {
				d.setHello(m.Hello, true)
				return nil
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("open %s: waiting for HELLO: %w", d.path, err)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("open %s: %w within %v: check that the board runs Buttonhook (BH1) "+
				"firmware at %d baud and that the path is the board's port", d.path, device.ErrNoAnswer, timeout, BaudRate)
		}
		if idle {
			if err := d.c.wait(ctx, deadline); err != nil {
				return fmt.Errorf("open %s: waiting for HELLO: %w", d.path, err)
			}
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
	if first && h.Serial != "" {
		// The ID is fixed at open (newDevice gives the path's): it is the
		// device's identity.
		d.info.ID = DriverName + ":" + h.Serial
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
// U line, with the time the line was received (lines that came in one read
// have one time). It records HELLO lines and
// counts malformed and ERR lines. It returns nil at once when ctx is done
// (the port stays open, for the LEDs to be turned off) or when Close
// interrupts it, and an error wrapping device.ErrGone when the port fails
// underneath (the device was unplugged) or was already closed.
func (d *Device) Run(ctx context.Context, edge func(device.Edge)) error {
	return d.c.run(ctx, func() (bool, error) {
		line, err := d.lr.ReadLine()
		if err != nil && !errors.Is(err, ErrMalformed) {
			return false, err
		}
		if err == nil && line == nil {
			return true, nil
		}
		now := d.lr.receivedAt()
		m, ok := d.receive(line, err)
		switch {
		case !ok:
		case m.Kind == KindDown, m.Kind == KindUp:
			edge(device.Edge{Button: m.Button, Down: m.Kind == KindDown, Time: now})
		case m.Kind == KindHello:
			d.setHello(m.Hello, false)
		}
		return false, nil
	})
}

// SetLED sends one LED command for button (1..64). It waits for the line to
// be written at most until ctx is done and never more than half a second. It
// returns an error wrapping device.ErrGone when the device is gone or closed.
func (d *Device) SetLED(ctx context.Context, button int, led device.LED) error {
	if err := checkButton(d.path, button, MaxButtons); err != nil {
		return err
	}
	if err := d.writeLine(ctx, FormatLED(button, led)); err != nil {
		return fmt.Errorf("set LED %d on %s: %w", button, d.path, err)
	}
	return nil
}

// writeLine writes line and "\n"; see conn.write.
func (d *Device) writeLine(ctx context.Context, line string) error {
	return d.c.write(ctx, []byte(line+"\n"))
}

// Close closes the port, releasing a blocked Run. It first lets a write in
// flight finish, waiting a second at most. It is safe to call twice; later
// calls return nil.
func (d *Device) Close() error { return d.c.close() }
