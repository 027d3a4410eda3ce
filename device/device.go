// Package device is Buttonhook's model of the hardware a user plugs in: what a
// device is (Info), what it reports (edges, turned into gestures here), the LED
// states it can show, the Driver/Device seams every transport implements, and the
// Manager that finds devices, reconnects them and fans their events in.
package device

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrGone is returned by a Device whose hardware has disappeared (unplugged,
// port closed by the other side). The Manager forgets the device and looks for
// it again on the next scan.
var ErrGone = errors.New("device gone")

// ErrNoAnswer is returned by Open when something is at the address but it did
// not identify itself as a Buttonhook device in time.
var ErrNoAnswer = errors.New("no Buttonhook device answered")

// Info describes one attached device.
type Info struct {
	// ID is the device's stable identity across reconnects: the driver name and
	// its serial number, or its port path when it has none ("serial:SIM-3F2A").
	ID       string  `json:"id"`
	Driver   string  `json:"driver"`
	Path     string  `json:"path"`
	Model    string  `json:"model"`
	Firmware string  `json:"firmware"`
	Serial   string  `json:"serial"`
	Buttons  int     `json:"buttons"`
	Colors   []Color `json:"colors"`
}

// Name is a short human label for the device.
func (i Info) Name() string {
	if i.Model == "" {
		return i.ID
	}
	if i.Serial == "" {
		return fmt.Sprintf("%s (%s)", i.Model, i.Path)
	}
	return fmt.Sprintf("%s %s", i.Model, i.Serial)
}

// Edge is a raw button transition reported by a device.
type Edge struct {
	Button int       // numbered from 1
	Down   bool      // true when pressed, false when released
	Time   time.Time // when the host received it
}

// Color is an LED colour name as used by the serial protocol.
type Color string

// The colours Buttonhook uses.
const (
	Red    Color = "red"
	Green  Color = "green"
	Yellow Color = "yellow"
	Blue   Color = "blue"
	White  Color = "white"
)

// LEDMode says how an LED shows its colour.
type LEDMode int

// LED modes.
const (
	LEDOff   LEDMode = iota // dark
	LEDOn                   // steady
	LEDFlash                // on for Duration, then off
	LEDPulse                // pulsing with period Duration until the next command
)

func (m LEDMode) String() string {
	switch m {
	case LEDOff:
		return "off"
	case LEDOn:
		return "on"
	case LEDFlash:
		return "flash"
	case LEDPulse:
		return "pulse"
	}
	return fmt.Sprintf("LEDMode(%d)", int(m))
}

// LED is a state to show on one button's LED.
type LED struct {
	Mode     LEDMode
	Color    Color
	Duration time.Duration
}

// The LED language of PRODUCT.md.
var (
	LEDBusy    = LED{Mode: LEDPulse, Color: Yellow, Duration: time.Second}
	LEDSuccess = LED{Mode: LEDFlash, Color: Green, Duration: 1500 * time.Millisecond}
	LEDFailure = LED{Mode: LEDFlash, Color: Red, Duration: 1500 * time.Millisecond}
	LEDIdle    = LED{Mode: LEDOff}
)

// Candidate is something a driver found that may be opened as a device.
type Candidate struct {
	// Key identifies the candidate during discovery (a port path, a USB bus
	// address); the Manager opens each key once while it is attached.
	Key    string
	Driver string
}

// Driver discovers and opens devices of one kind.
type Driver interface {
	// Name is the driver's short name ("serial", "usb").
	Name() string
	// Scan lists what is attached now. It must be cheap: it runs every second.
	Scan(ctx context.Context) ([]Candidate, error)
	// Open connects to a candidate and identifies it.
	Open(ctx context.Context, c Candidate) (Device, error)
}

// Device is one open device.
type Device interface {
	Info() Info
	// Run reads the device until ctx is done (returning nil) or the device
	// fails (returning an error wrapping ErrGone when it is gone), calling edge
	// for every button edge from this one goroutine.
	Run(ctx context.Context, edge func(Edge)) error
	// Close releases the device. It is safe to call twice and releases a
	// blocked Run.
	Close() error
}

// LEDSetter is implemented by devices that have LEDs.
type LEDSetter interface {
	SetLED(ctx context.Context, button int, led LED) error
}
