package serial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/buttonhook/buttonhook/device"
)

var _ device.Driver = (*FirmataDriver)(nil)

// FirmataDriver opens boards running StandardFirmata (Firmata 2.x) as button
// devices, on the ports configured with SetPorts: no custom firmware is
// needed, only the pins of the buttons and LEDs.
type FirmataDriver struct {
	logger *slog.Logger
	// serialNumber finds a port's USB serial number, for a stable ID.
	serialNumber func(path string) string

	mu      sync.Mutex
	configs []FirmataOptions
}

// NewFirmataDriver returns a FirmataDriver with no ports. A nil logger
// discards.
func NewFirmataDriver(logger *slog.Logger) *FirmataDriver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FirmataDriver{logger: logger, serialNumber: usbSerialNumber}
}

// Name returns "firmata".
func (d *FirmataDriver) Name() string { return FirmataDriverName }

// SetPorts sets the boards to look for. It validates every one and, if any
// is wrong, changes nothing and returns the problems with their field paths
// ("[0].buttons[1].pin: ..."). A port may appear once. It is safe to call at
// any time, also while a Manager is scanning.
func (d *FirmataDriver) SetPorts(configs []FirmataOptions) error {
	var errs []error
	seen := map[string]int{}
	for i, c := range configs {
		errs = append(errs, prefixErrors(fmt.Sprintf("[%d].", i), c.Validate()))
		if j, dup := seen[c.Port]; dup && c.Port != "" {
			errs = append(errs, fieldError(fmt.Sprintf("[%d].port", i), "%s is already configured at [%d]", c.Port, j))
		}
		seen[c.Port] = i
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("firmata ports: %w", err)
	}
	cs := make([]FirmataOptions, len(configs))
	for i, c := range configs {
		cs[i] = c.clone()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.configs = cs
	return nil
}

// Ports returns the boards set with SetPorts.
func (d *FirmataDriver) Ports() []FirmataOptions {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := make([]FirmataOptions, len(d.configs))
	for i, c := range d.configs {
		cs[i] = c.clone()
	}
	return cs
}

func (o FirmataOptions) clone() FirmataOptions {
	o.Buttons = slices.Clone(o.Buttons)
	for i := range o.Buttons {
		o.Buttons[i].LEDs = slices.Clone(o.Buttons[i].LEDs)
	}
	return o
}

// Scan returns a Candidate for each configured port that exists now. It
// only looks at the file system.
func (d *FirmataDriver) Scan(ctx context.Context) ([]device.Candidate, error) {
	var cs []device.Candidate
	for _, c := range d.Ports() {
		if err := ctx.Err(); err != nil {
			return cs, err
		}
		if _, err := os.Stat(c.Port); err == nil {
			cs = append(cs, device.Candidate{Key: c.Port, Driver: FirmataDriverName})
		}
	}
	return cs, nil
}

// Open opens the board configured for the port c.Key; see OpenOptions.
func (d *FirmataDriver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	if c.Driver != "" && c.Driver != FirmataDriverName {
		return nil, fmt.Errorf("open %s: candidate of driver %q, not %q", c.Key, c.Driver, FirmataDriverName)
	}
	for _, o := range d.Ports() {
		if o.Port == c.Key {
			return d.OpenOptions(ctx, o)
		}
	}
	return nil, fmt.Errorf("open %s: no Firmata board is configured on this port", c.Key)
}

// OpenOptions opens the board described by opts: it opens the port (57600
// 8N1 unless opts say otherwise), waits up to FirmataOpenTimeout (never past
// ctx) for a version report, asking for one every second, reads the
// firmware name and the pin capabilities, then makes the button pins
// pulled-up inputs and the LED pins outputs (off), and turns on reporting
// for the buttons' ports. A silent port gives an error wrapping
// device.ErrNoAnswer; a missing one fs.ErrNotExist and one the user may not
// open fs.ErrPermission, each saying what to do.
func (d *FirmataDriver) OpenOptions(ctx context.Context, opts FirmataOptions) (*FirmataDevice, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Port, err)
	}
	opts = opts.clone()
	p, err := openPort(opts.Port, opts.baud())
	if err != nil {
		return nil, err
	}
	dev := newFirmataDevice(p, opts, d.serialNumber(opts.Port), d.logger)
	if err := dev.identify(ctx, FirmataOpenTimeout); err != nil {
		_ = dev.Close()
		return nil, err
	}
	if err := dev.setup(ctx); err != nil {
		_ = dev.Close()
		return nil, err
	}
	return dev, nil
}
