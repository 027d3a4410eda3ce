package sim

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device/serial/firmata"
)

// FirmataOptions describe a simulated board running StandardFirmata. The
// zero value is an Arduino Uno with StandardFirmata 2.5 that is ready at
// once.
type FirmataOptions struct {
	// Name is the firmware name; default "StandardFirmata.ino".
	Name string
	// FirmwareMajor and FirmwareMinor are the firmware version; default 2.5.
	FirmwareMajor, FirmwareMinor byte
	// ProtocolMajor and ProtocolMinor are the protocol version; default
	// 2.5. Below 2.5 the board, like the firmware of that time, has no
	// INPUT_PULLUP mode and no SET_DIGITAL_PIN_VALUE: it ignores both.
	ProtocolMajor, ProtocolMinor byte
	// Pins is the number of digital pins, 1..128; default 20 (an Uno).
	Pins int
	// BootDelay keeps the board deaf and silent for this long after
	// NewFirmata, as an Uno is while its bootloader runs after the port
	// opens; then it announces itself (version and firmware reports).
	BootDelay time.Duration
	// NoCapabilities makes the board ignore the capability query.
	NoCapabilities bool
}

// PinWrite is one digital write the host made to an output pin.
type PinWrite struct {
	Pin  int
	High bool
}

// WriteBuffer is how many pin writes Writes holds for a slow reader.
const WriteBuffer = 1024

// FirmataBoard is a simulated StandardFirmata board on a pseudo-terminal,
// written from the Firmata protocol: it answers version, firmware and
// capability queries, keeps pin modes, reports digital ports while
// reporting is on (the pins in INPUT or INPUT_PULLUP mode, a pressed button
// pulling its pin low), and records digital writes to output pins. One
// goroutine, started by NewFirmata, reads what the host sends; it exits on
// Unplug or Close, which wait for it. All methods are safe for concurrent
// use.
type FirmataBoard struct {
	*terminal
	opts FirmataOptions

	mu        sync.Mutex // the pin state below, and one message at a time to the host
	booted    bool
	mode      []firmata.PinMode
	out       []bool // written levels of output pins
	pressed   []bool // pins pulled low by a pressed button
	reporting [16]bool
	reported  [16]int // last port value sent; -1 for none

	writes    chan PinWrite
	bootTimer *time.Timer

	ignored, malformed, dropped atomic.Uint64
}

// NewFirmata opens a pseudo-terminal and starts simulating a Firmata board
// on it. Call Close when done.
func NewFirmata(opts FirmataOptions) (*FirmataBoard, error) {
	if opts.Name == "" {
		opts.Name = "StandardFirmata.ino"
	}
	if opts.FirmwareMajor == 0 && opts.FirmwareMinor == 0 {
		opts.FirmwareMajor, opts.FirmwareMinor = 2, 5
	}
	if opts.ProtocolMajor == 0 && opts.ProtocolMinor == 0 {
		opts.ProtocolMajor, opts.ProtocolMinor = 2, 5
	}
	if opts.Pins == 0 {
		opts.Pins = 20
	}
	if opts.Pins < 1 || opts.Pins > firmata.MaxPin+1 {
		return nil, fmt.Errorf("sim: %d pins: want 1..%d", opts.Pins, firmata.MaxPin+1)
	}
	t, err := openTerminal()
	if err != nil {
		return nil, err
	}
	b := &FirmataBoard{
		terminal: t,
		opts:     opts,
		mode:     make([]firmata.PinMode, opts.Pins),
		out:      make([]bool, opts.Pins),
		pressed:  make([]bool, opts.Pins),
		writes:   make(chan PinWrite, WriteBuffer),
	}
	b.reset()
	if opts.BootDelay > 0 {
		b.mu.Lock()
		b.bootTimer = time.AfterFunc(opts.BootDelay, b.boot) // exits after announcing
		b.mu.Unlock()
	} else {
		b.boot()
	}
	go b.read()
	return b, nil
}

// reset puts the pins in StandardFirmata's start state: digital outputs,
// low, no reporting. Call with mu held or before the board is shared.
func (b *FirmataBoard) reset() {
	for i := range b.mode {
		b.mode[i], b.out[i] = firmata.Output, false
	}
	for p := range b.reporting {
		b.reporting[p], b.reported[p] = false, -1
	}
}

// boot ends the boot delay: the board listens and announces itself.
func (b *FirmataBoard) boot() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.booted = true
	msg := firmata.AppendVersion(nil, b.opts.ProtocolMajor, b.opts.ProtocolMinor)
	msg = firmata.AppendFirmware(msg, b.opts.FirmwareMajor, b.opts.FirmwareMinor, b.opts.Name)
	_ = b.send(msg) // fails only when unplugged or the host is stuck
}

// Restart simulates a reset of the board (its reset button, a watchdog):
// pins go back to their start state and reporting stops; the board
// announces itself at once.
func (b *FirmataBoard) Restart() {
	b.mu.Lock()
	b.reset()
	b.mu.Unlock()
	b.boot()
}

// pullup reports whether the protocol has INPUT_PULLUP and
// SET_DIGITAL_PIN_VALUE.
func (b *FirmataBoard) pullup() bool {
	return firmata.AtLeast(b.opts.ProtocolMajor, b.opts.ProtocolMinor, 2, 5)
}

// read is the only reader of the master. It exits when the master is
// closed (Unplug, Close) or fails.
func (b *FirmataBoard) read() {
	defer close(b.readerDone)
	dec := firmata.Decoder{Dir: firmata.FromHost}
	buf := make([]byte, 256)
	for {
		n, err := b.master.Read(buf)
		b.mu.Lock()
		for _, c := range buf[:n] {
			if !b.booted {
				continue // the bootloader has the port
			}
			if m, ok := dec.Feed(c); ok {
				b.handle(m)
			}
		}
		b.malformed.Store(dec.Malformed())
		if n > 0 {
			b.reportChanges()
		}
		b.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// handle acts on one host message. Call with mu held.
func (b *FirmataBoard) handle(m firmata.Message) {
	pin := -1
	if len(m.Data) > 0 && int(m.Data[0]) < b.opts.Pins {
		pin = int(m.Data[0])
	}
	switch {
	case m.Command == firmata.ReportVersion:
		_ = b.send(firmata.AppendVersion(nil, b.opts.ProtocolMajor, b.opts.ProtocolMinor))
	case m.Command == firmata.StartSysex && m.SysexID == firmata.ReportFirmware && len(m.Data) == 0:
		_ = b.send(firmata.AppendFirmware(nil, b.opts.FirmwareMajor, b.opts.FirmwareMinor, b.opts.Name))
	case m.Command == firmata.StartSysex && m.SysexID == firmata.CapabilityQuery && !b.opts.NoCapabilities:
		modes := []firmata.PinMode{firmata.Input, firmata.Output}
		if b.pullup() {
			modes = append(modes, firmata.InputPullup)
		}
		pins := make([][]firmata.PinMode, b.opts.Pins)
		for i := range pins {
			pins[i] = modes
		}
		_ = b.send(firmata.AppendCapabilities(nil, pins))
	case m.Command == firmata.SetPinMode && pin >= 0:
		switch mode := firmata.PinMode(m.Data[1]); {
		case mode == firmata.Input || mode == firmata.Output || mode == firmata.InputPullup && b.pullup():
			b.mode[pin] = mode
		default:
			b.ignored.Add(1)
		}
	case m.Command == firmata.SetDigitalPinValue && pin >= 0 && b.pullup() && b.mode[pin] == firmata.Output:
		b.write(pin, m.Data[1] != 0)
	case m.Command == firmata.DigitalMessage:
		value := m.Value14()
		for i := range 8 {
			p := int(m.Channel)*8 + i
			if p >= b.opts.Pins {
				break
			}
			high := value>>i&1 == 1
			switch {
			case b.mode[p] == firmata.Output:
				b.write(p, high)
			case b.mode[p] == firmata.Input && high:
				b.mode[p] = firmata.InputPullup // a high write turns the pull-up on
			}
		}
	case m.Command == firmata.ReportDigital:
		port := int(m.Channel)
		b.reporting[port] = m.Data[0] != 0
		b.reported[port] = -1 // report the port now (protocol 2.4)
	case m.Command == firmata.SystemReset:
		b.reset()
	default:
		b.ignored.Add(1)
	}
}

// write records a write to an output pin. Call with mu held.
func (b *FirmataBoard) write(pin int, high bool) {
	b.out[pin] = high
	select {
	case b.writes <- PinWrite{Pin: pin, High: high}:
	default:
		b.dropped.Add(1)
	}
}

// portValue is what a digital report of port carries: the levels of its
// input pins. Call with mu held.
func (b *FirmataBoard) portValue(port int) int {
	v := 0
	for i := range 8 {
		p := port*8 + i
		if p >= b.opts.Pins {
			break
		}
		high := b.mode[p] == firmata.InputPullup && !b.pressed[p]
		if high {
			v |= 1 << i
		}
	}
	return v
}

// reportChanges sends the ports being reported whose value changed, as
// StandardFirmata's main loop does. Call with mu held.
func (b *FirmataBoard) reportChanges() {
	for port := range b.reporting {
		if !b.reporting[port] {
			continue
		}
		if v := b.portValue(port); v != b.reported[port] {
			b.reported[port] = v
			_ = b.send(firmata.AppendDigital(nil, port, uint8(v)))
		}
	}
}

// SetButton presses (pulls low) or releases the button on pin; while the
// pin's port is reported, the host gets the change.
func (b *FirmataBoard) SetButton(pin int, pressed bool) error {
	if pin < 0 || pin >= b.opts.Pins {
		return fmt.Errorf("sim: pin %d out of range 0..%d", pin, b.opts.Pins-1)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.unplugged:
		return ErrUnplugged
	default:
	}
	b.pressed[pin] = pressed
	b.reportChanges()
	return nil
}

// Press presses the button on pin for PressDuration and releases it. Unplug
// cuts the wait short.
func (b *FirmataBoard) Press(pin int) error {
	if err := b.SetButton(pin, true); err != nil {
		return err
	}
	t := time.NewTimer(PressDuration)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.unplugged:
		return ErrUnplugged
	}
	return b.SetButton(pin, false)
}

// Writes delivers every digital write the host makes to an output pin, in
// order. It holds WriteBuffer writes; further ones are dropped and counted
// by Dropped.
func (b *FirmataBoard) Writes() <-chan PinWrite { return b.writes }

// Dropped is how many pin writes Writes had no room for.
func (b *FirmataBoard) Dropped() uint64 { return b.dropped.Load() }

// Ignored is how many well-formed host messages the board did not act on.
func (b *FirmataBoard) Ignored() uint64 { return b.ignored.Load() }

// Malformed is how many broken messages and stray bytes the board got.
func (b *FirmataBoard) Malformed() uint64 { return b.malformed.Load() }

// Mode returns pin's mode.
func (b *FirmataBoard) Mode(pin int) firmata.PinMode {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mode[pin]
}

// Output returns the level last written to pin.
func (b *FirmataBoard) Output(pin int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out[pin]
}

// Reporting reports whether the host has turned on reporting for port.
func (b *FirmataBoard) Reporting(port int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reporting[port]
}

// SendRaw sends p to the host as it is, for tests of what the host does
// with bytes that break the protocol.
func (b *FirmataBoard) SendRaw(p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.send(p)
}

// send writes p to the host, failing after a second if the host does not
// read. Call with mu held.
func (b *FirmataBoard) send(p []byte) error { return b.terminal.write(p) }

// Unplug makes the board vanish: it closes the pseudo-terminal, so that the
// host's reads and writes fail, and waits for the reader goroutine. It is
// safe to call twice.
func (b *FirmataBoard) Unplug() error {
	err := b.unplug()
	b.mu.Lock()
	if b.bootTimer != nil {
		b.bootTimer.Stop() // a boot that still fires can send nothing
	}
	b.mu.Unlock()
	return err
}

// Close releases the board; it is Unplug, and safe to call twice.
func (b *FirmataBoard) Close() error { return b.Unplug() }
