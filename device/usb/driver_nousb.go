//go:build nousb

package usb

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/buttonhook/buttonhook/device"
)

var _ device.Driver = (*Driver)(nil)

// Driver is the USB driver of a build without USB support (-tags nousb):
// Scan finds nothing, so that a Manager that runs it stays quiet, and Open
// returns an error wrapping ErrUnsupported.
type Driver struct{}

// NewDriver returns a Driver that finds nothing. The logger is unused.
func NewDriver(logger *slog.Logger) *Driver { return &Driver{} }

// Name returns "usb".
func (d *Driver) Name() string { return DriverName }

// Scan returns no candidates: this build cannot see the USB bus. List
// says why (ErrUnsupported).
func (d *Driver) Scan(ctx context.Context) ([]device.Candidate, error) { return nil, nil }

// Open returns an error wrapping ErrUnsupported.
func (d *Driver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	return nil, fmt.Errorf("open %s: %w", c.Key, ErrUnsupported)
}

// Close does nothing.
func (d *Driver) Close() error { return nil }
