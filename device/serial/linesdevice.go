package serial

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

var (
	_ device.Device    = (*LinesDevice)(nil)
	_ device.LEDSetter = (*LinesDevice)(nil)
)

// LinesDevice is an open serial device whose lines are mapped to button
// edges by patterns. Its methods are safe for concurrent use; Run is meant
// for one goroutine.
type LinesDevice struct {
	path   string
	cfg    *linesConfig
	c      *conn
	leds   *ledEmulator
	lr     *LineReader // Run's
	logger *slog.Logger
	info   device.Info

	lines, matched, unmatched, tooLong atomic.Uint64
}

// LinesStats counts what a LinesDevice received.
type LinesStats struct {
	Lines     uint64 `json:"lines"`     // lines of up to MaxLinesLine bytes
	Matched   uint64 `json:"matched"`   // lines a pattern matched
	Unmatched uint64 `json:"unmatched"` // lines no pattern matched, ignored
	TooLong   uint64 `json:"too_long"`  // lines over MaxLinesLine bytes, skipped
}

func newLinesDevice(p port, opts LinesOptions, cfg *linesConfig, serial string, logger *slog.Logger) *LinesDevice {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := newConn(p, opts.Port)
	d := &LinesDevice{
		path:   opts.Port,
		cfg:    cfg,
		c:      c,
		lr:     newLineReader(c, textLines),
		logger: logger.With("driver", LinesDriverName, "path", opts.Port),
	}
	d.leds = newLEDEmulator(d.showLED, func(led device.LED) bool { return cfg.template(led) != nil })
	id, model := opts.Port, opts.Name
	if serial != "" {
		id = serial
	}
	if model == "" {
		model = "serial lines"
	}
	d.info = device.Info{
		ID:      LinesDriverName + ":" + id,
		Driver:  LinesDriverName,
		Path:    opts.Port,
		Model:   model,
		Serial:  serial,
		Buttons: cfg.buttons,
		Colors:  slices.Clone(cfg.colors),
	}
	return d
}

// Info returns the device's identity: its USB serial number as ID when the
// port has one, else its path.
func (d *LinesDevice) Info() device.Info {
	info := d.info
	info.Colors = slices.Clone(info.Colors)
	return info
}

// Stats returns the counts of lines received so far.
func (d *LinesDevice) Stats() LinesStats {
	return LinesStats{Lines: d.lines.Load(), Matched: d.matched.Load(), Unmatched: d.unmatched.Load(), TooLong: d.tooLong.Load()}
}

// Run reads lines and calls edge, from this goroutine, for the edges of the
// first pattern each line matches (several, at the same time, for press and
// double), with the time the line was read. Unmatched lines are counted and
// ignored. It returns nil at once when ctx is done (the port stays open,
// for the LEDs to be turned off) or Close interrupts it, and an error
// wrapping device.ErrGone when the port fails.
func (d *LinesDevice) Run(ctx context.Context, edge func(device.Edge)) error {
	return d.c.run(ctx, func() (bool, error) {
		line, err := d.lr.ReadLine()
		switch {
		case errors.Is(err, errLinesTooLong):
			if n := d.tooLong.Add(1); n <= logFirst {
				d.logger.Warn("line too long from device, skipped", "max", MaxLinesLine, "count", n, "only_counted_after", logFirst)
			}
			return false, nil
		case err != nil:
			return false, err
		case line == nil:
			return true, nil
		}
		d.receive(line, d.lr.receivedAt(), edge)
		return false, nil
	})
}

// receive counts one line read at now and calls edge for the edges of the
// pattern it matches.
func (d *LinesDevice) receive(line []byte, now time.Time, edge func(device.Edge)) {
	d.lines.Add(1)
	button, downs, ok := d.cfg.match(line)
	if !ok {
		if n := d.unmatched.Add(1); n <= logFirst {
			d.logger.Debug("line matched no pattern", "line", string(line), "count", n, "only_counted_after", logFirst)
		}
		return
	}
	d.matched.Add(1)
	for _, down := range downs {
		edge(device.Edge{Button: button, Down: down, Time: now})
	}
}

// showLED sends the template line for led, if there is one.
func (d *LinesDevice) showLED(ctx context.Context, button int, led device.LED) error {
	t := d.cfg.template(led)
	if t == nil {
		if d.c.closed.Load() {
			return errClosed
		}
		return nil // the device cannot show it
	}
	line, err := t.render(button, led)
	if err != nil {
		return err
	}
	return d.c.write(ctx, []byte(line+d.cfg.ending))
}

// SetLED sends the line the LED templates give for led on button (1..64).
// A state without a template is timed by the host with the on and off
// templates (flash, pulse) or ignored. It waits for the line to be written
// at most until ctx is done and never more than half a second, and returns
// an error wrapping device.ErrGone when the device is gone or closed.
func (d *LinesDevice) SetLED(ctx context.Context, button int, led device.LED) error {
	if err := checkButton(d.path, button, MaxButtons); err != nil {
		return err
	}
	return d.leds.setLED(ctx, d.path, button, led)
}

// Close stops the LED timers and closes the port, releasing a blocked Run.
// It is safe to call twice.
func (d *LinesDevice) Close() error {
	d.leds.close()
	return d.c.close()
}
