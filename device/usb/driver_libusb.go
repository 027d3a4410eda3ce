//go:build !nousb

package usb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/buttonhook/buttonhook/device"
	"github.com/google/gousb"
)

var _ device.Driver = (*Driver)(nil)

// errDriverClosed is returned by a Driver after Close.
var errDriverClosed = errors.New("usb driver closed")

// Driver finds and opens the supported USB devices through gousb. It keeps
// one libusb context from the first Scan or Open until Close, so that a
// scan every second only walks libusb's device list (kept up to date by its
// hotplug thread) instead of starting and stopping libusb; the context's
// event goroutine sleeps in poll(2) between events.
type Driver struct {
	logger *slog.Logger

	mu     sync.RWMutex // held for reading while the context is used
	closed bool
	uc     *gousb.Context

	openMu sync.Mutex
	open   map[*Device]struct{}
}

// NewDriver returns a Driver. It starts nothing: libusb starts on the first
// Scan or Open. A nil logger discards. Call Close when done.
func NewDriver(logger *slog.Logger) *Driver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Driver{logger: logger, open: map[*Device]struct{}{}}
}

// Name returns "usb".
func (d *Driver) Name() string { return DriverName }

// withContext calls f with the driver's libusb context, starting it first
// if need be, while holding d.mu for reading so that Close waits.
func (d *Driver) withContext(f func(uc *gousb.Context) error) error {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		return errDriverClosed
	}
	if d.uc == nil {
		d.mu.RUnlock()
		d.mu.Lock()
		if !d.closed && d.uc == nil {
			uc, err := openContext(gousb.NewContext)
			if err != nil {
				d.mu.Unlock()
				return err
			}
			d.uc = uc
		}
		d.mu.Unlock()
		return d.withContext(f)
	}
	defer d.mu.RUnlock()
	return f(d.uc)
}

// Scan returns a Candidate for every supported device on the bus, keyed by
// its port path and bus address ("usb:1-1.2@5"). It reads descriptors only:
// it opens nothing and needs no access rights.
func (d *Driver) Scan(ctx context.Context) ([]device.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var cs []device.Candidate
	err := d.withContext(func(uc *gousb.Context) error {
		_, err := uc.OpenDevices(func(desc *gousb.DeviceDesc) bool {
			if _, ok := lookup(uint16(desc.Vendor), uint16(desc.Product)); ok {
				cs = append(cs, device.Candidate{Key: candidateKey(desc.Bus, desc.Address, desc.Path), Driver: DriverName})
			}
			return false // open none
		})
		return err
	})
	// libusb lists what it could read even when some device failed.
	if err != nil && len(cs) == 0 {
		return nil, fmt.Errorf("scan USB devices: %w", err)
	}
	return cs, nil
}

// Open opens the candidate's device: it detaches the kernel's HID driver,
// claims interface 0 and identifies the device. An unplugged candidate gives
// an error wrapping device.ErrGone; missing access rights one wrapping
// fs.ErrPermission that says how to install the udev rules.
func (d *Driver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	if c.Driver != "" && c.Driver != DriverName {
		return nil, fmt.Errorf("open %s: candidate of driver %q, not %q", c.Key, c.Driver, DriverName)
	}
	bus, address, err := parseKey(c.Key)
	if err != nil {
		return nil, err
	}
	var dev device.Device
	err = d.withContext(func(uc *gousb.Context) error {
		var m model
		var name string
		devs, err := uc.OpenDevices(func(desc *gousb.DeviceDesc) bool {
			if desc.Bus != bus || desc.Address != address {
				return false
			}
			var ok bool
			m, ok = lookup(uint16(desc.Vendor), uint16(desc.Product))
			name = fmt.Sprintf("%s %s on bus %d address %d", m.Name, m.ID(), bus, address)
			return ok
		})
		if len(devs) == 0 {
			if err != nil && name != "" {
				return openError(name, "open", err)
			}
			return fmt.Errorf("open %s: no supported device there any more: %w", c.Key, device.ErrGone)
		}
		for _, extra := range devs[1:] { // cannot happen: an address is unique on a bus
			_ = extra.Close()
		}
		dev, err = d.setUp(ctx, devs[0], m, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return dev, nil
}

// setUp claims an opened gousb device and identifies it. It returns an
// LEDDevice for a model with LEDs.
func (d *Driver) setUp(ctx context.Context, gd *gousb.Device, m model, name string) (device.Device, error) {
	t, err := claim(gd, name)
	if err != nil {
		_ = gd.Close()
		return nil, err
	}
	serial, _ := gd.SerialNumber() // optional: "" when it has none
	serial, fw, err := identify(ctx, t, m.kind, serial, gd.Desc.Device.String())
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	dev := newDevice(deviceInfo(m.Model, portPath(gd.Desc.Bus, gd.Desc.Path), serial, fw), m.kind, t, d.logger)
	d.openMu.Lock()
	d.open[dev] = struct{}{}
	d.openMu.Unlock()
	t.onClose = func() {
		d.openMu.Lock()
		delete(d.open, dev)
		d.openMu.Unlock()
	}
	if len(m.Colors) > 0 {
		return &LEDDevice{dev}, nil
	}
	return dev, nil
}

// Close closes the devices still open and stops libusb. Scan and Open fail
// afterwards. It is safe to call twice.
func (d *Driver) Close() error {
	d.openMu.Lock()
	devs := make([]*Device, 0, len(d.open))
	for dev := range d.open {
		devs = append(devs, dev)
	}
	d.openMu.Unlock()
	var errs []error
	for _, dev := range devs {
		errs = append(errs, dev.Close())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.Join(errs...)
	}
	d.closed = true
	if d.uc != nil {
		errs = append(errs, d.uc.Close())
		d.uc = nil
	}
	return errors.Join(errs...)
}
