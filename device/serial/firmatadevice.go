package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
)

// Handshake timing: queries are repeated every firmataQueryInterval until
// answered (the first ones may reach a resetting board's bootloader); after
// the version report, the firmware name and the capability response are
// awaited for firmataAnswerWait at most each, as some Firmata builds lack
// them.
const (
	firmataQueryInterval = time.Second
	firmataAnswerWait    = 500 * time.Millisecond
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
	p       port
	w       *portWriter
	leds    *ledEmulator
	logger  *slog.Logger
	dec     firmata.Decoder // identify's, then Run's
	buttons []firmataButton // Run's

	info         device.Info // fixed by identify
	major, minor byte        // protocol version
	caps         [][]firmata.PinMode

	outMu sync.Mutex
	out   [16]uint8 // levels written to each port, for digital port messages

	running                                                  atomic.Bool
	messages, ignored, malformed, bounces, restarts, strings atomic.Uint64
}

type firmataButton struct {
	pin       int
	port      int
	bit       uint
	debouncer debouncer
}

// FirmataStats counts what a FirmataDevice received.
type FirmataStats struct {
	Messages  uint64 `json:"messages"`  // well-formed messages
	Ignored   uint64 `json:"ignored"`   // well-formed but not used (analog, unknown SysEx, ...)
	Malformed uint64 `json:"malformed"` // skipped bytes and broken messages
	Bounces   uint64 `json:"bounces"`   // button level changes held back by debouncing
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
		p:      p,
		w:      newPortWriter(p),
		logger: logger.With("driver", FirmataDriverName, "path", opts.Port),
	}
	d.leds = newLEDEmulator(d.showLED, nil)
	for _, b := range opts.Buttons {
		port, bit := firmata.PortOf(b.Pin)
		d.buttons = append(d.buttons, firmataButton{pin: b.Pin, port: port, bit: bit,
			debouncer: debouncer{window: opts.debounce()}})
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

// identify waits for the board's version report, asking for it (and for
// the firmware name) every second, then asks for the pins' capabilities
// and checks the configured pins against them. It gives up with
// device.ErrNoAnswer after timeout without a version report.
func (d *FirmataDevice) identify(ctx context.Context, timeout time.Duration) error {
	_ = d.p.ResetInputBuffer() // optional: stale bytes are not an answer
	deadline := time.Now().Add(timeout)
	var (
		nextQuery, versionAt, capsAt    time.Time
		haveVersion, haveName, haveCaps bool
		name                            string
		fwMajor, fwMinor                byte
	)
	buf := make([]byte, 256)
	for {
		now := time.Now()
		var q []byte
		if (!haveVersion || !haveName) && !now.Before(nextQuery) && (!haveVersion || now.Sub(versionAt) < firmataAnswerWait) {
			if !haveVersion {
				q = firmata.AppendVersionQuery(q)
			}
			if !haveName {
				q = firmata.AppendFirmwareQuery(q)
			}
			nextQuery = now.Add(firmataQueryInterval)
		}
		if haveVersion && capsAt.IsZero() {
			q = firmata.AppendCapabilityQuery(q)
			capsAt = now
		}
		if len(q) > 0 {
			if err := d.w.write(ctx, q); err != nil {
				return fmt.Errorf("open %s: send Firmata query: %w", d.path, err)
			}
		}
		if haveVersion && (haveName || now.Sub(versionAt) >= firmataAnswerWait) &&
			(haveCaps || now.Sub(capsAt) >= firmataAnswerWait) {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("open %s: waiting for a Firmata version report: %w", d.path, err)
		}
		if now.After(deadline) {
			if haveVersion {
				break
			}
			return fmt.Errorf("open %s: %w within %v: check that the board runs StandardFirmata "+
				"(Arduino IDE: File > Examples > Firmata) at %d baud and that the path is the board's port",
				d.path, device.ErrNoAnswer, timeout, d.opts.baud())
		}
		n, err := d.p.Read(buf)
		for _, b := range buf[:n] {
			m, ok := d.dec.Feed(b)
			if !ok {
				continue
			}
			d.messages.Add(1)
			switch {
			case m.Command == firmata.ReportVersion:
				if !haveVersion {
					versionAt = time.Now()
				}
				d.major, d.minor, haveVersion = m.Data[0], m.Data[1], true
			case m.Command == firmata.StartSysex && m.SysexID == firmata.ReportFirmware:
				fwMajor, fwMinor, name, haveName = firmata.ParseFirmware(m.Data)
			case m.Command == firmata.StartSysex && m.SysexID == firmata.CapabilityResponse:
				d.caps, haveCaps = firmata.ParseCapabilities(m.Data), true
			default:
				d.other(m)
			}
		}
		d.malformed.Store(d.dec.Malformed())
		if err != nil {
			return fmt.Errorf("open %s: read: %w", d.path, err)
		}
	}
	name = strings.TrimSuffix(name, ".ino")
	d.info.Model = "Firmata"
	if name != "" {
		d.info.Model = name
	}
	if haveName {
		d.info.Firmware = fmt.Sprintf("%s v%d.%d", d.info.Model, fwMajor, fwMinor)
	} else {
		d.info.Firmware = fmt.Sprintf("Firmata protocol v%d.%d", d.major, d.minor)
	}
	return d.checkPins()
}

// pullupMode reports whether the board has INPUT_PULLUP (protocol 2.5); an
// older one gets INPUT with a high write, which turns the pull-up on.
func (d *FirmataDevice) pullupMode() bool { return firmata.AtLeast(d.major, d.minor, 2, 5) }

// checkPins checks the configured pins against the capability response,
// if the board sent one.
func (d *FirmataDevice) checkPins() error {
	if d.caps == nil {
		return nil
	}
	var errs []error
	check := func(what string, pin int, mode firmata.PinMode, modeName string) {
		if pin < len(d.caps) && firmata.Supports(d.caps[pin], mode) {
			return
		}
		errs = append(errs, fmt.Errorf("pin %d (%s) cannot be %s on this board, which has pins 0..%d: choose another pin",
			pin, what, modeName, len(d.caps)-1))
	}
	in, inName := firmata.InputPullup, "an input with pull-up"
	if !d.pullupMode() {
		in, inName = firmata.Input, "an input"
	}
	for i, b := range d.opts.Buttons {
		check(fmt.Sprintf("button %d", i+1), b.Pin, in, inName)
		for _, l := range b.LEDs {
			check(fmt.Sprintf("LED of button %d", i+1), l.Pin, firmata.Output, "an output")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("open %s: %w", d.path, err)
	}
	return nil
}

// setup sets the pin modes, turns the LEDs off and starts reporting the
// buttons' ports.
func (d *FirmataDevice) setup(ctx context.Context) error {
	d.outMu.Lock()
	var b []byte
	ports := map[int]bool{}
	for _, bt := range d.opts.Buttons {
		port, bit := firmata.PortOf(bt.Pin)
		if d.pullupMode() {
			b = firmata.AppendSetPinMode(b, bt.Pin, firmata.InputPullup)
		} else {
			b = firmata.AppendSetPinMode(b, bt.Pin, firmata.Input)
			d.out[port] |= 1 << bit
			ports[port] = true
		}
		for _, l := range bt.LEDs {
			b = firmata.AppendSetPinMode(b, l.Pin, firmata.Output)
		}
	}
	b = d.appendLevels(b, d.allLEDsOff(), ports)
	d.outMu.Unlock()
	reported := map[int]bool{}
	for _, bt := range d.buttons {
		if !reported[bt.port] {
			b = firmata.AppendReportDigital(b, bt.port, true)
			reported[bt.port] = true
		}
	}
	if err := d.w.write(ctx, b); err != nil {
		return fmt.Errorf("open %s: set up pins: %w", d.path, err)
	}
	return nil
}

// pinLevel is one pin to drive.
type pinLevel struct {
	pin  int
	high bool
}

func (d *FirmataDevice) allLEDsOff() []pinLevel {
	var ls []pinLevel
	for _, bt := range d.opts.Buttons {
		for _, l := range bt.LEDs {
			ls = append(ls, pinLevel{l.Pin, l.ActiveLow})
		}
	}
	return ls
}

// appendLevels appends the messages that drive levels: one
// SET_DIGITAL_PIN_VALUE per pin on protocol 2.5, otherwise one digital
// port message per port (for these pins and the ports in also). Call with
// outMu held.
func (d *FirmataDevice) appendLevels(b []byte, levels []pinLevel, also map[int]bool) []byte {
	ports := map[int]bool{}
	for p := range also {
		ports[p] = true
	}
	for _, l := range levels {
		port, bit := firmata.PortOf(l.pin)
		if l.high {
			d.out[port] |= 1 << bit
		} else {
			d.out[port] &^= 1 << bit
		}
		if firmata.AtLeast(d.major, d.minor, 2, 5) {
			b = firmata.AppendSetPinValue(b, l.pin, l.high)
		} else {
			ports[port] = true
		}
	}
	for port := range 16 {
		if ports[port] {
			b = firmata.AppendDigital(b, port, d.out[port])
		}
	}
	return b
}

// showLED drives every LED pin of button for led, which is LEDOn or LEDOff
// (the emulator times flashes and pulses), in one write.
func (d *FirmataDevice) showLED(ctx context.Context, button int, led device.LED) error {
	var levels []pinLevel
	for _, l := range d.opts.Buttons[button-1].LEDs {
		lit := led.Mode != device.LEDOff && lights(l.Color, led.Color)
		levels = append(levels, pinLevel{l.Pin, lit != l.ActiveLow})
	}
	d.outMu.Lock()
	b := d.appendLevels(nil, levels, nil)
	d.outMu.Unlock()
	return d.w.write(ctx, b)
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
		Bounces: d.bounces.Load(), Restarts: d.restarts.Load(), Strings: d.strings.Load()}
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

// Run reads the board and calls edge, from this goroutine, for every
// debounced change of a button pin (low is down). A change held by
// debouncing is reported up to about 100 ms late, with the time it was
// seen. When the board announces itself again (it was reset), its pins are
// set up anew. Run returns nil when ctx is done (within about 100 ms) or
// Close interrupts it, and an error wrapping device.ErrGone when the port
// fails underneath.
func (d *FirmataDevice) Run(ctx context.Context, edge func(device.Edge)) error {
	if d.w.closed.Load() {
		return fmt.Errorf("run %s: %w", d.path, errClosed)
	}
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run %s: already running", d.path)
	}
	defer d.running.Store(false)
	buf := make([]byte, 256)
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := d.p.Read(buf)
		now := time.Now()
		for _, b := range buf[:n] {
			if m, ok := d.dec.Feed(b); ok {
				d.receive(ctx, m, now, edge)
			}
		}
		d.malformed.Store(d.dec.Malformed())
		for i := range d.buttons {
			if ok, down, at := d.buttons[i].debouncer.settle(now); ok {
				edge(device.Edge{Button: i + 1, Down: down, Time: at})
			}
		}
		if err != nil {
			if d.w.closed.Load() {
				return nil
			}
			d.w.gone.Store(true)
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read %s: %w: %w", d.path, device.ErrGone, err)
		}
	}
}

// receive acts on one message read by Run at now.
func (d *FirmataDevice) receive(ctx context.Context, m firmata.Message, now time.Time, edge func(device.Edge)) {
	d.messages.Add(1)
	switch {
	case m.Command == firmata.DigitalMessage:
		value := m.Value14()
		for i := range d.buttons {
			bt := &d.buttons[i]
			if bt.port != int(m.Channel) {
				continue
			}
			down := value>>bt.bit&1 == 0 // active low
			isEdge, bounced := bt.debouncer.observe(down, now)
			if bounced {
				d.bounces.Add(1)
			}
			if isEdge {
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
	if button < 1 || button > len(d.opts.Buttons) {
		return fmt.Errorf("set LED on %s: button %d out of range 1..%d", d.path, button, len(d.opts.Buttons))
	}
	if len(d.opts.Buttons[button-1].LEDs) == 0 {
		if d.w.closed.Load() {
			return fmt.Errorf("set LED %d on %s: %w", button, d.path, errClosed)
		}
		return nil
	}
	if err := d.leds.set(ctx, button, led); err != nil {
		return fmt.Errorf("set LED %d on %s: %w", button, d.path, err)
	}
	return nil
}

// Close stops the LED timers and closes the port, releasing a blocked Run.
// It is safe to call twice.
func (d *FirmataDevice) Close() error {
	d.leds.close()
	if err := d.w.close(); err != nil {
		return fmt.Errorf("close %s: %w", d.path, err)
	}
	return nil
}
