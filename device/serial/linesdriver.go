package serial

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/buttonhook/buttonhook/device"
)

var _ device.Driver = (*LinesDriver)(nil)

// LinesDriver opens serial devices that print text lines as button
// devices, on the ports configured with SetPorts, mapping lines to buttons
// by the configured patterns.
type LinesDriver struct {
	core portDriver[LinesOptions, *LinesDevice]
}

// NewLinesDriver returns a LinesDriver with no ports. A nil logger discards.
func NewLinesDriver(logger *slog.Logger) *LinesDriver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &LinesDriver{}
	d.core = portDriver[LinesOptions, *LinesDevice]{
		logger: logger, serialNumber: usbSerialNumber, validate: LinesOptions.Validate, open: d.OpenOptions,
		ports: portSet[LinesOptions]{driver: LinesDriverName, what: "lines device",
			port: func(o LinesOptions) string { return o.Port }, clone: LinesOptions.clone},
	}
	return d
}

// Name returns "lines".
func (d *LinesDriver) Name() string { return LinesDriverName }

// SetPorts sets the devices to look for. It validates every one and, if any
// is wrong, changes nothing and returns the problems with their field paths
// ("[0].patterns[1].regexp: ..."). A port may appear once. It is safe to call at
// any time, also while a Manager is scanning.
func (d *LinesDriver) SetPorts(configs []LinesOptions) error { return d.core.setPorts(configs) }

// Ports returns the devices set with SetPorts.
func (d *LinesDriver) Ports() []LinesOptions { return d.core.ports.get() }

// Scan returns a Candidate for each configured port that exists now. It
// only looks at the file system.
func (d *LinesDriver) Scan(ctx context.Context) ([]device.Candidate, error) {
	return d.core.ports.scan(ctx)
}

// Open opens the device configured for the port c.Key; see OpenOptions.
func (d *LinesDriver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	return d.core.openCandidate(ctx, c)
}

func (o LinesOptions) clone() LinesOptions {
	o.Patterns = slices.Clone(o.Patterns)
	o.LED = maps.Clone(o.LED)
	return o
}

func (o LinesOptions) baud() int {
	if o.Baud == 0 {
		return LinesBaudRate
	}
	return o.Baud
}

// OpenOptions opens the port of opts (9600 8N1 unless opts say otherwise).
// A generic device has no handshake: any device on the port is taken, and
// lines no pattern matches are counted. A missing port gives an error
// wrapping fs.ErrNotExist, one the user may not open fs.ErrPermission, each
// saying what to do.
func (d *LinesDriver) OpenOptions(ctx context.Context, opts LinesOptions) (*LinesDevice, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Port, err)
	}
	cfg, err := opts.compile()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Port, err)
	}
	p, err := openPort(opts.Port, opts.baud())
	if err != nil {
		return nil, err
	}
	_ = p.ResetInputBuffer() // optional: lines from before the open are stale
	return newLinesDevice(p, opts.clone(), cfg, d.core.serialNumber(opts.Port), d.core.logger), nil
}
