package serial

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/device"
	bugst "go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// DriverName is the serial driver's name in Candidates and Infos.
const DriverName = "serial"

// BaudRate is BH1's line speed (8N1, no flow control).
const BaudRate = 115200

// HelloTimeout is how long Open waits for a HELLO line after sending HELLO?.
const HelloTimeout = 2 * time.Second

// readTimeout bounds every port read, so that Run notices its context.
const readTimeout = 100 * time.Millisecond

var _ device.Driver = (*Driver)(nil)

// Driver finds and opens BH1 devices on serial ports. It only opens the ports
// it is given with SetPorts: a serial port can be anything (a modem, a GPS),
// so enumerated ports are listed by ListPorts for the user to choose from,
// never probed.
type Driver struct {
	logger *slog.Logger

	mu    sync.Mutex
	ports []string
}

// NewDriver returns a Driver with no ports. A nil logger discards.
func NewDriver(logger *slog.Logger) *Driver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Driver{logger: logger}
}

// SetPorts sets the port paths Scan reports when they exist. It is safe to
// call at any time, also while a Manager is scanning.
func (d *Driver) SetPorts(paths []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ports = slices.Clone(paths)
}

// Ports returns the port paths set with SetPorts.
func (d *Driver) Ports() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ports)
}

// Name returns "serial".
func (d *Driver) Name() string { return DriverName }

// Scan returns a Candidate for each port path set with SetPorts that exists
// now. It only looks at the file system.
func (d *Driver) Scan(ctx context.Context) ([]device.Candidate, error) {
	var cs []device.Candidate
	for _, p := range d.Ports() {
		if err := ctx.Err(); err != nil {
			return cs, err
		}
		if _, err := os.Stat(p); err == nil {
			cs = append(cs, device.Candidate{Key: p, Driver: DriverName})
		}
	}
	return cs, nil
}

// Open opens the port c.Key and identifies the device on it; see OpenPath.
func (d *Driver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	if c.Driver != "" && c.Driver != DriverName {
		return nil, fmt.Errorf("open %s: candidate of driver %q, not %q", c.Key, c.Driver, DriverName)
	}
	dev, err := d.OpenPath(ctx, c.Key)
	if err != nil {
		return nil, err
	}
	return dev, nil
}

// OpenPath opens the serial port at path at 115200 8N1, sends HELLO? and
// waits up to HelloTimeout (never past ctx) for a HELLO line. Without one it
// returns an error wrapping device.ErrNoAnswer. A missing port gives an error
// wrapping fs.ErrNotExist, a port the user may not open one wrapping
// fs.ErrPermission, each saying what to do.
func (d *Driver) OpenPath(ctx context.Context, path string) (*Device, error) {
	p, err := bugst.Open(path, &bugst.Mode{
		BaudRate: BaudRate,
		DataBits: 8,
		Parity:   bugst.NoParity,
		StopBits: bugst.OneStopBit,
		// No InitialStatusBits: setting DTR/RTS fails on ptys and some
		// adapters, and the default (both on) is what an Arduino expects.
	})
	if err != nil {
		return nil, openError(path, err)
	}
	if err := p.SetReadTimeout(readTimeout); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("open %s: set read timeout: %w", path, err)
	}
	dev := newDevice(p, path, d.logger)
	if err := dev.identify(ctx, HelloTimeout); err != nil {
		_ = dev.Close()
		return nil, err
	}
	return dev, nil
}

// userError is an error whose message is written for the user.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// openError turns an error from serial.Open into one that says what to do.
func openError(path string, err error) error {
	var pe *bugst.PortError
	isCode := func(code bugst.PortErrorCode) bool {
		return errors.As(err, &pe) && pe.Code() == code
	}
	switch {
	case errors.Is(err, fs.ErrPermission) || isCode(bugst.PermissionDenied):
		return &userError{
			msg: fmt.Sprintf("permission denied on %s: add your user to the dialout group "+
				"(sudo usermod -aG dialout $USER, then log in again), or install the udev rules", path),
			err: fs.ErrPermission,
		}
	case errors.Is(err, fs.ErrNotExist) || isCode(bugst.PortNotFound):
		return &userError{
			msg: fmt.Sprintf("serial port %s not found: check that the device is plugged in "+
				"and the path is right (buttonhook devices lists the serial ports)", path),
			err: fs.ErrNotExist,
		}
	case isCode(bugst.PortBusy):
		return &userError{
			msg: fmt.Sprintf("serial port %s is busy: close the other program using it "+
				"(a serial monitor, another Buttonhook)", path),
			err: err,
		}
	}
	return fmt.Errorf("open %s: %w", path, err)
}

// PortInfo describes a serial port the operating system lists.
type PortInfo struct {
	Path         string `json:"path"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	SerialNumber string `json:"serial_number,omitempty"`
	Product      string `json:"product,omitempty"`
}

// ListPorts lists the serial ports the operating system knows, with their
// USB vendor and product IDs and serial number when it gives them, for the
// user to pick from. It opens none of them. Pseudo-terminals (the
// simulator) are never listed.
func ListPorts() ([]PortInfo, error) {
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	ports := make([]PortInfo, 0, len(details))
	for _, p := range details {
		ports = append(ports, PortInfo{
			Path:         p.Name,
			USB:          p.IsUSB,
			VID:          p.VID,
			PID:          p.PID,
			SerialNumber: p.SerialNumber,
			Product:      p.Product,
		})
	}
	return ports, nil
}
