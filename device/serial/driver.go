package serial

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"go.bug.st/serial/enumerator"
)

// DriverName is the serial driver's name in Candidates and Infos.
const DriverName = "serial"

// BaudRate is BH1's line speed (8N1, no flow control).
const BaudRate = 115200

// HelloTimeout is how long Open waits for a HELLO line after sending HELLO?.
const HelloTimeout = 2 * time.Second

var _ device.Driver = (*Driver)(nil)

// Driver finds and opens BH1 devices on serial ports. It only opens the ports
// it is given with SetPorts: a serial port can be anything (a modem, a GPS),
// so enumerated ports are listed by ListPorts for the user to choose from,
// never probed.
type Driver struct {
	logger *slog.Logger
	ports  portSet[string]
}

// NewDriver returns a Driver with no ports. A nil logger discards.
func NewDriver(logger *slog.Logger) *Driver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	same := func(p string) string { return p }
	return &Driver{logger: logger, ports: portSet[string]{driver: DriverName, what: "BH1 device", port: same, clone: same}}
}

// SetPorts sets the port paths Scan reports when they exist. It is safe to
// call at any time, also while a Manager is scanning.
func (d *Driver) SetPorts(paths []string) { d.ports.set(paths) }

// Ports returns the port paths set with SetPorts.
func (d *Driver) Ports() []string { return d.ports.get() }

// Name returns "serial".
func (d *Driver) Name() string { return DriverName }

// Scan returns a Candidate for each port path set with SetPorts that exists
// now. It only looks at the file system.
func (d *Driver) Scan(ctx context.Context) ([]device.Candidate, error) { return d.ports.scan(ctx) }

// Open opens the port c.Key and identifies the device on it; see OpenPath.
func (d *Driver) Open(ctx context.Context, c device.Candidate) (device.Device, error) {
	if err := checkCandidate(c, DriverName); err != nil {
		return nil, err
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
	p, err := openPort(path, BaudRate)
	if err != nil {
		return nil, err
	}
	dev := newDevice(p, path, d.logger)
	if err := dev.identify(ctx, HelloTimeout); err != nil {
		_ = dev.Close()
		return nil, err
	}
	return dev, nil
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
