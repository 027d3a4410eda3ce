package serial

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
)

var (
	_ device.Device    = (*FirmataDevice)(nil)
	_ device.LEDSetter = (*FirmataDevice)(nil)
)

// FirmataDevice is an open Firmata board used as a button device. Its
// methods are safe for concurrent use; Run is meant for one goroutine.
type FirmataDevice struct {
	path    string
	opts    FirmataOptions
	c       *conn
	leds    *ledEmulator
	logger  *slog.Logger
	dec     firmata.Decoder // identify's, then Run's
	buttons []firmataButton // Run's

	info         device.Info // fixed by identify
	major, minor byte        // protocol version
	caps         [][]firmata.PinMode

	outMu sync.Mutex
	out   [16]uint8 // levels written to each port, for digital port messages

	messages, ignored, malformed, restarts, strings atomic.Uint64
}

type firmataButton struct {
	port int
	bit  uint
	down bool // the level last reported
}

// FirmataStats counts what a FirmataDevice received.
type FirmataStats struct {
	Messages  uint64 `json:"messages"`  // well-formed messages
	Ignored   uint64 `json:"ignored"`   // well-formed but not used (analog, unknown SysEx, ...)
	Malformed uint64 `json:"malformed"` // skipped bytes and broken messages
	Restarts  uint64 `json:"restarts"`  // times the board announced itself again and was set up anew
	Strings   uint64 `json:"strings"`   // text messages (errors) from the board
}

func newFirmataDevice(p port, opts FirmataOptions, serial string, logger *slog.Logger) *FirmataDevice {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &FirmataDevice{
		path:   opts.Port,
		opts:   opts,
		c:      newConn(p, opts.Port),
		logger: logger.With("driver", FirmataDriverName, "path", opts.Port),
	}
	d.leds = newLEDEmulator(d.showLED, nil)
	for _, b := range opts.Buttons {
		port, bit := firmata.PortOf(b.Pin)
		d.buttons = append(d.buttons, firmataButton{port: port, bit: bit})
	}
	id := opts.Port
	if serial != "" {
		id = serial
	}
	d.info = device.Info{
		ID:      FirmataDriverName + ":" + id,
		Driver:  FirmataDriverName,
		Path:    opts.Port,
		Serial:  serial,
		Buttons: len(opts.Buttons),
		Colors:  opts.colors(),
	}
	return d
}

// Info returns the board's identity: its firmware name as Model, "name
// vX.Y" as Firmware, and the USB serial number as ID when the port has one.
func (d *FirmataDevice) Info() device.Info {
	info := d.info
	info.Colors = slices.Clone(info.Colors)
	return info
}

// Protocol returns the Firmata protocol version the board reported.
func (d *FirmataDevice) Protocol() (major, minor byte) { return d.major, d.minor }

// Stats returns what the device has received so far.
func (d *FirmataDevice) Stats() FirmataStats {
	return FirmataStats{Messages: d.messages.Load(), Ignored: d.ignored.Load(), Malformed: d.malformed.Load(),
		Restarts: d.restarts.Load(), Strings: d.strings.Load()}
}

// LED returns the state last set on button's LED, which the host times
// (flash, pulse) by switching the pins.
func (d *FirmataDevice) LED(button int) device.LED { return d.leds.get(button) }

// other counts a message that is not a button report.
func (d *FirmataDevice) other(m firmata.Message) {
	if m.Command == firmata.StartSysex && m.SysexID == firmata.StringData {
		if n := d.strings.Add(1); n <= logFirst {
			d.logger.Warn("board says", "text", firmata.ParseString(m.Data), "count", n, "only_counted_after", logFirst)
		}
		return
	}
	d.ignored.Add(1)
}

// feed decodes b and counts what it held; each message is handed to
// handle.
func (d *FirmataDevice) feed(b []byte, handle func(firmata.Message)) {
	for _, c := range b {
		if m, ok := d.dec.Feed(c); ok {
			d.messages.Add(1)
			handle(m)
		}
	}
	d.malformed.Store(d.dec.Malformed())
}

// Run reads the board and calls edge, from this goroutine, for every
// change of a button pin (low is down) with the time it was read. The pins
// are not debounced here: StandardFirmata reports every change it samples,
// and the Manager's gesture detector debounces every device's buttons
// (device.GestureTiming.Debounce). When the board announces itself again
// (it was reset), its pins are set up anew. Run returns nil at once when
// ctx is done (the port stays open, for the LEDs to be turned off) or
// Close interrupts it, and an error wrapping device.ErrGone when the port
// fails underneath.
func (d *FirmataDevice) Run(ctx context.Context, edge func(device.Edge)) error {
	buf := make([]byte, 256)
	return d.c.run(ctx, func() (bool, error) {
		n, err := d.c.Read(buf)
		now := time.Now()
		d.feed(buf[:n], func(m firmata.Message) { d.receive(ctx, m, now, edge) })
		return n == 0 && err == nil, err
	})
}

// receive acts on one message read by Run at now.
func (d *FirmataDevice) receive(ctx context.Context, m firmata.Message, now time.Time, edge func(device.Edge)) {
	switch {
	case m.Command == firmata.DigitalMessage:
		value := m.Value14()
		for i := range d.buttons {
			bt := &d.buttons[i]
			if bt.port != int(m.Channel) {
				continue
			}
			if down := value>>bt.bit&1 == 0; down != bt.down { // active low
				bt.down = down
				edge(device.Edge{Button: i + 1, Down: down, Time: now})
			}
		}
	case m.Command == firmata.StartSysex && m.SysexID == firmata.ReportFirmware:
		// StandardFirmata announces itself after a reset, with its pins
		// back to their defaults and reporting off.
		d.restarts.Add(1)
		d.logger.Info("board restarted; setting up its pins again")
		if err := d.setup(ctx); err != nil {
			d.logger.Warn("cannot set up the board's pins again", "err", err)
		}
	case m.Command == firmata.ReportVersion:
	default:
		d.other(m)
	}
}

// SetLED shows led on button's LED (1..number of buttons), timing flashes
// and pulses on the host. A button without LED pins ignores it. It waits
// for the pins to be written at most until ctx is done and never more than
// half a second, and returns an error wrapping device.ErrGone when the
// device is gone or closed.
func (d *FirmataDevice) SetLED(ctx context.Context, button int, led device.LED) error {
	if err := checkButton(d.path, button, len(d.opts.Buttons)); err != nil {
		return err
	}
	if len(d.opts.Buttons[button-1].LEDs) == 0 {
		if d.c.closed.Load() {
			return fmt.Errorf("set LED %d on %s: %w", button, d.path, errClosed)
		}
		return nil
	}
	return d.leds.setLED(ctx, d.path, button, led)
}

// Close stops the LED timers and closes the port, releasing a blocked Run.
// It is safe to call twice.
func (d *FirmataDevice) Close() error {
	d.leds.close()
	return d.c.close()
}
