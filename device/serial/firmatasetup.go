package serial

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// handshake is the state of identify: what was asked when, what answered.
type handshake struct {
	deadline, nextQuery, versionAt, capsAt time.Time
	haveVersion, haveName, haveCaps        bool
	name                                   string
	fwMajor, fwMinor                       byte
}

// queries returns the queries to send at now: the version and firmware
// queries every firmataQueryInterval until both are answered (the firmware
// one only for firmataAnswerWait after the version), then the capability
// query once.
func (h *handshake) queries(now time.Time) []byte {
	var q []byte
	if h.querying(now) && !now.Before(h.nextQuery) {
		if !h.haveVersion {
			q = firmata.AppendVersionQuery(q)
		}
		if !h.haveName {
			q = firmata.AppendFirmwareQuery(q)
		}
		h.nextQuery = now.Add(firmataQueryInterval)
	}
	if h.haveVersion && h.capsAt.IsZero() {
		q = firmata.AppendCapabilityQuery(q)
		h.capsAt = now
	}
	return q
}

func (h *handshake) querying(now time.Time) bool {
	return (!h.haveVersion || !h.haveName) && (!h.haveVersion || now.Sub(h.versionAt) < firmataAnswerWait)
}

// complete reports whether every answer came or was waited for long enough.
func (h *handshake) complete(now time.Time) bool {
	return h.haveVersion && (h.haveName || now.Sub(h.versionAt) >= firmataAnswerWait) &&
		(h.haveCaps || now.Sub(h.capsAt) >= firmataAnswerWait)
}

// wake returns when the handshake next has something to do without an
// answer: a query to repeat, an answer no longer to wait for, the deadline.
func (h *handshake) wake(now time.Time) time.Time {
	t := h.deadline
	earlier := func(u time.Time) {
		if u.Before(t) {
			t = u
		}
	}
	if h.querying(now) {
		earlier(h.nextQuery)
	}
	if h.haveVersion && !h.haveName {
		earlier(h.versionAt.Add(firmataAnswerWait))
	}
	if !h.capsAt.IsZero() && !h.haveCaps {
		earlier(h.capsAt.Add(firmataAnswerWait))
	}
	return t
}

// identify waits for the board's version report, asking for it (and for
// the firmware name) every second, then asks for the pins' capabilities
// and checks the configured pins against them. It gives up with
// device.ErrNoAnswer after timeout without a version report.
func (d *FirmataDevice) identify(ctx context.Context, timeout time.Duration) error {
	_ = d.c.p.ResetInputBuffer() // optional: stale bytes are not an answer
	h := handshake{deadline: time.Now().Add(timeout)}
	buf := make([]byte, 256)
	for {
		now := time.Now()
		if q := h.queries(now); len(q) > 0 {
			if err := d.c.write(ctx, q); err != nil {
				return fmt.Errorf("open %s: send Firmata query: %w", d.path, err)
			}
		}
		if h.complete(now) {
			break
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("open %s: waiting for a Firmata version report: %w", d.path, err)
		}
		if !now.Before(h.deadline) {
			if h.haveVersion {
				break
			}
			return fmt.Errorf("open %s: %w within %v: check that the board runs StandardFirmata "+
				"(Arduino IDE: File > Examples > Firmata) at %d baud and that the path is the board's port",
				d.path, device.ErrNoAnswer, timeout, d.opts.baud())
		}
		n, err := d.c.Read(buf)
		d.feed(buf[:n], func(m firmata.Message) { d.answer(&h, m) })
		if err != nil {
			return fmt.Errorf("open %s: read: %w", d.path, err)
		}
		if n == 0 {
			if err := d.c.wait(ctx, h.wake(now)); err != nil {
				return fmt.Errorf("open %s: waiting for a Firmata version report: %w", d.path, err)
			}
		}
	}
	name := strings.TrimSuffix(h.name, ".ino")
	d.info.Model = "Firmata"
	if name != "" {
		d.info.Model = name
	}
	if h.haveName {
		d.info.Firmware = fmt.Sprintf("%s v%d.%d", d.info.Model, h.fwMajor, h.fwMinor)
	} else {
		d.info.Firmware = fmt.Sprintf("Firmata protocol v%d.%d", d.major, d.minor)
	}
	return d.checkPins()
}

// answer records one message received during identify.
func (d *FirmataDevice) answer(h *handshake, m firmata.Message) {
	switch {
	case m.Command == firmata.ReportVersion:
		if !h.haveVersion {
			h.versionAt = time.Now()
		}
		d.major, d.minor, h.haveVersion = m.Data[0], m.Data[1], true
	case m.Command == firmata.StartSysex && m.SysexID == firmata.ReportFirmware:
		h.fwMajor, h.fwMinor, h.name, h.haveName = firmata.ParseFirmware(m.Data)
	case m.Command == firmata.StartSysex && m.SysexID == firmata.CapabilityResponse:
		d.caps, h.haveCaps = firmata.ParseCapabilities(m.Data), true
	default:
		d.other(m)
	}
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
	if err := d.c.write(ctx, b); err != nil {
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
	return d.c.write(ctx, b)
}
