package serial

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/buttonhook/buttonhook/device"
)

var _ device.Driver = (*LinesDriver)(nil)

// LinesDriver opens serial devices that print text lines as button
// devices, on the ports configured with SetPorts, mapping lines to buttons
// by the configured patterns.
type LinesDriver struct {
	logger       *slog.Logger
	serialNumber func(path string) string

	mu      sync.Mutex
	configs []LinesOptions
}

// NewLinesDriver returns a LinesDriver with no ports. A nil logger discards.
func NewLinesDriver(logger *slog.Logger) *LinesDriver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &LinesDriver{logger: logger, serialNumber: usbSerialNumber}
}

// Name returns "lines".
func (d *LinesDriver) Name() string { return LinesDriverName }

// SetPorts sets the devices to look for. It validates every one and, if
// any is wrong, changes nothing and returns the problems with their field
// paths ("[0].patterns[1].regexp: ..."). A port may appear once. It is safe
// to call at any time, also while a Manager is scanning.
func (d *LinesDriver) SetPorts(configs []LinesOptions) error {
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
		return fmt.Errorf("lines ports: %w", err)
	}
	cs := make([]LinesOptions, len(configs))
	for i, c := range configs {
		cs[i] = c.clone()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.configs = cs
	return nil
}

// Ports returns the devices set with SetPorts.
func (d *LinesDriver) Ports() []LinesOptions {
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := make([]LinesOptions, len(d.configs))
	for i, c := range d.configs {
		cs[i] = c.clone()
	}
	return cs
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

// Scan returns a Candidate for each configured port that exists now. It
// only looks at the file system.
func (d *LinesDriver) Scan(ctx context.Context) ([]device.Candidate, error) {
	var cs []device.Candidate
	for _, c := range d.Ports() {
		if err := ctx.Err(); err != nil {
			return cs, err
		}
		if _, err := os.Stat(c.Port); err == nil {
			cs = append(cs, device.Candidate{Key: c.Port, Driver: LinesDriverName})
		}
	}
	return cs, nil
}

// Open opens the device configured for the port c.Key; see OpenOptions.
func (d *LinesDriver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	if c.Driver != "" && c.Driver != LinesDriverName {
		return nil, fmt.Errorf("open %s: candidate of driver %q, not %q", c.Key, c.Driver, LinesDriverName)
	}
	for _, o := range d.Ports() {
		if o.Port == c.Key {
			return d.OpenOptions(ctx, o)
		}
	}
	return nil, fmt.Errorf("open %s: no lines device is configured on this port", c.Key)
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
	return newLinesDevice(p, opts.clone(), cfg, d.serialNumber(opts.Port), d.logger), nil
}
