package serial

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/buttonhook/buttonhook/device"
)

var _ device.Driver = (*FirmataDriver)(nil)

// FirmataDriver opens boards running StandardFirmata (Firmata 2.x) as button
// devices, on the ports configured with SetPorts: no custom firmware is
// needed, only the pins of the buttons and LEDs.
type FirmataDriver struct {
	core portDriver[FirmataOptions, *FirmataDevice]
}

// NewFirmataDriver returns a FirmataDriver with no ports. A nil logger
// discards.
func NewFirmataDriver(logger *slog.Logger) *FirmataDriver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &FirmataDriver{}
	d.core = portDriver[FirmataOptions, *FirmataDevice]{
		logger: logger, serialNumber: usbSerialNumber, validate: FirmataOptions.Validate, open: d.OpenOptions,
		ports: portSet[FirmataOptions]{driver: FirmataDriverName, what: "Firmata board",
			port: func(o FirmataOptions) string { return o.Port }, clone: FirmataOptions.clone},
	}
	return d
}

// Name returns "firmata".
func (d *FirmataDriver) Name() string { return FirmataDriverName }

// SetPorts sets the boards to look for. It validates every one and, if any
// is wrong, changes nothing and returns the problems with their field paths
// ("[0].buttons[1].pin: ..."). A port may appear once. It is safe to call at
// any time, also while a Manager is scanning.
func (d *FirmataDriver) SetPorts(configs []FirmataOptions) error { return d.core.setPorts(configs) }

// Ports returns the boards set with SetPorts.
func (d *FirmataDriver) Ports() []FirmataOptions { return d.core.ports.get() }

// Scan returns a Candidate for each configured port that exists now. It
// only looks at the file system.
func (d *FirmataDriver) Scan(ctx context.Context) ([]device.Candidate, error) {
	return d.core.ports.scan(ctx)
}

// Open opens the board configured for the port c.Key; see OpenOptions.
func (d *FirmataDriver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	return d.core.openCandidate(ctx, c)
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
	dev := newFirmataDevice(p, opts, d.core.serialNumber(opts.Port), d.core.logger)
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
