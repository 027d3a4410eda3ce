package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
)

// PortSetter is told which BH1 serial ports to open (serial.Driver).
type PortSetter interface {
	SetPorts(paths []string)
}

// FirmataPortSetter is told which Firmata boards to open
// (serial.FirmataDriver).
type FirmataPortSetter interface {
	SetPorts(boards []serial.FirmataOptions) error
}

// LinesPortSetter is told which line devices to open (serial.LinesDriver).
type LinesPortSetter interface {
	SetPorts(devices []serial.LinesOptions) error
}

// usbDriverName is the name of the driver that devices.usb.enabled turns on
// and off (usb.DriverName; the engine does not import the cgo package).
const usbDriverName = "usb"

// Reasons a gate closes a device; the Manager reports them as why the
// device is not connected.
var (
	errRemoved    = errors.New("not configured any more: removed from the devices settings")
	errReopen     = errors.New("its settings changed: reopening it")
	errUSBOff     = errors.New("USB devices are turned off (devices.usb.enabled is false)")
	errGateClosed = errors.New("closed")
)

// gate stands between the Manager and one driver, so that config changes
// apply to devices already open: it closes the devices whose port left the
// config or whose settings changed (the Manager then opens them again with
// the new settings, or leaves them), and it turns a driver off (USB), so
// that Scan finds nothing and open devices close.
type gate struct {
	device.Driver

	mu   sync.Mutex
	off  error                   // non-nil: the driver is off, for this reason
	open map[string]*gatedDevice // by candidate key
}

var _ device.Driver = (*gate)(nil)

func newGate(d device.Driver) *gate { return &gate{Driver: d, open: map[string]*gatedDevice{}} }

// Scan lists the driver's candidates, none while it is off.
func (g *gate) Scan(ctx context.Context) ([]device.Candidate, error) {
	g.mu.Lock()
	off := g.off
	g.mu.Unlock()
	if off != nil {
		return nil, nil
	}
	return g.Driver.Scan(ctx)
}

// Open opens a candidate through the driver and remembers it by its key.
func (g *gate) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	g.mu.Lock()
	off := g.off
	g.mu.Unlock()
	if off != nil {
		return nil, fmt.Errorf("open %s: %w", c.Key, off)
	}
	dev, err := g.Driver.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	gd := &gatedDevice{Device: dev, g: g, key: c.Key}
	g.mu.Lock()
	g.open[c.Key] = gd
	g.mu.Unlock()
	if ls, ok := dev.(device.LEDSetter); ok {
		return &gatedLEDDevice{gatedDevice: gd, leds: ls}, nil
	}
	return gd, nil
}

// setOff turns the driver off (reason non-nil, closing its open devices)
// or on again (nil).
func (g *gate) setOff(reason error) {
	g.mu.Lock()
	g.off = reason
	g.mu.Unlock()
	if reason != nil {
		g.closeEach(func(string) error { return reason })
	}
}

// closeEach closes the open devices for whose key why returns an error;
// their Run returns that error.
func (g *gate) closeEach(why func(key string) error) {
	g.mu.Lock()
	var picked []*gatedDevice
	var reasons []error
	for key, gd := range g.open {
		if err := why(key); err != nil {
			picked, reasons = append(picked, gd), append(reasons, err)
		}
	}
	g.mu.Unlock()
	for i, gd := range picked {
		gd.reason.CompareAndSwap(nil, &reasons[i])
		_ = gd.Device.Close() // releases its Run; the Manager closes it again
	}
}

// gatedDevice is a device opened through a gate.
type gatedDevice struct {
	device.Device
	g      *gate
	key    string
	reason atomic.Pointer[error] // why the gate closed it
}

// Run runs the device; when the gate closed it, it returns the gate's reason.
func (d *gatedDevice) Run(ctx context.Context, edge func(device.Edge)) error {
	err := d.Device.Run(ctx, edge)
	if r := d.reason.Load(); r != nil && ctx.Err() == nil {
		return *r
	}
	return err
}

// Close closes the device and forgets it.
func (d *gatedDevice) Close() error {
	d.reason.CompareAndSwap(nil, &errGateClosed)
	d.g.mu.Lock()
	if d.g.open[d.key] == d {
		delete(d.g.open, d.key)
	}
	d.g.mu.Unlock()
	return d.Device.Close()
}

// gatedLEDDevice is a gated device with LEDs.
type gatedLEDDevice struct {
	*gatedDevice
	leds device.LEDSetter
}

func (d *gatedLEDDevice) SetLED(ctx context.Context, button int, led device.LED) error {
	return d.leds.SetLED(ctx, button, led)
}

// drivers are the engine's drivers behind their gates, and those of them
// that take the devices section.
type drivers struct {
	gates   []*gate
	bh1     []PortSetter
	firmata []FirmataPortSetter
	lines   []LinesPortSetter
	// byProto are the gates of the drivers that open the ports of each
	// protocol, to close devices whose port changed.
	byProto map[string][]*gate
	// protoOf is the protocol whose ports each of those drivers opens, by
	// driver name.
	protoOf map[string]string
}

// newDrivers puts every driver behind a gate and finds those that take
// ports: ports (if not nil and not among ds) takes the BH1 ports too.
func newDrivers(ds []device.Driver, ports PortSetter) drivers {
	out := drivers{byProto: map[string][]*gate{}, protoOf: map[string]string{}}
	hasPorts := false
	for _, d := range ds {
		g := newGate(d)
		out.gates = append(out.gates, g)
		proto := ""
		switch s := d.(type) {
		case PortSetter:
			out.bh1 = append(out.bh1, s)
			proto = protoBH1
			hasPorts = hasPorts || any(s) == any(ports)
		case FirmataPortSetter:
			out.firmata = append(out.firmata, s)
			proto = protoFirmata
		case LinesPortSetter:
			out.lines = append(out.lines, s)
			proto = protoLines
		}
		if proto != "" {
			out.byProto[proto] = append(out.byProto[proto], g)
			out.protoOf[d.Name()] = proto
		}
	}
	if ports != nil && !hasPorts {
		out.bh1 = append(out.bh1, ports)
	}
	return out
}

func (ds drivers) managed() []device.Driver {
	out := make([]device.Driver, len(ds.gates))
	for i, g := range ds.gates {
		out[i] = g
	}
	return out
}
