// Package usb is Buttonhook's support for USB HID buttons and lights, through
// gousb (libusb): the table of supported models (Supported), List, and a
// device.Driver (NewDriver) that opens them, reads their buttons and sets
// their LEDs.
//
// The models and how they are driven (wire formats in protocol.go):
//
//   - Delcom USB HID Visual Indicator (0fc5:b080): a switch, polled every
//     10 ms with feature report 100, and green, red and yellow LEDs set with
//     8-byte feature reports 101; flash and pulse use its flash clock.
//   - Dream Cheeky Big Red Button (1d34:000d): asked for its status every
//     10 ms (an output report), which it sends on its interrupt endpoint;
//     lid changes are logged. No LEDs.
//   - blink(1) (27b8:01ed) and Luxafor Flag (04d8:f372): RGB lights without
//     a button (feature report 1; interrupt OUT reports). Where they cannot
//     time a flash or a pulse, the driver does (see planLED).
//
// The Driver keeps one libusb context from its first Scan to Close. Scan
// reads descriptors only and opens nothing, like List, which needs no access
// rights. Open detaches the kernel's HID driver (on Linux; elsewhere the OS
// keeps HID devices) and claims the device, so on Linux the user needs the
// udev rules in packaging/linux; without them Open says how to install them.
// An unplugged device ends Run with an error wrapping device.ErrGone: a
// button within a poll (10 ms), a light within 250 ms.
//
// The tests run the driver, through unmodified gousb and libusb, against
// devices emulated in process by umockdev (internal/usbtestbed):
//
//	go test -tags umockdev -exec umockdev-wrapper ./device/usb/
//
// Built with -tags nousb the package needs neither cgo nor libusb: List
// returns ErrUnsupported, and the Driver finds nothing.
package usb

import (
	"errors"
	"fmt"
	"slices"

	"github.com/buttonhook/buttonhook/device"
)

// ErrUnsupported is returned by List and Driver.Open in a build without USB
// support (built with -tags nousb). It wraps errors.ErrUnsupported.
var ErrUnsupported error = unsupportedError{}

type unsupportedError struct{}

func (unsupportedError) Error() string {
	return "this build has no USB support (built with -tags nousb)"
}

func (unsupportedError) Unwrap() error { return errors.ErrUnsupported }

// Model is a USB device Buttonhook supports, identified by its vendor and
// product IDs.
type Model struct {
	Name string
	VID  uint16
	PID  uint16
	// Buttons is how many buttons it has; 0 for a light only.
	Buttons int
	// Colors are the named colours its LEDs can show; nil when it has none.
	Colors []device.Color
	// RGB is true when the LED mixes any colour; Colors then lists every
	// colour Buttonhook names.
	RGB bool
}

// ID returns the model's IDs as lsusb prints them ("0fc5:b080").
func (m Model) ID() string { return fmt.Sprintf("%04x:%04x", m.VID, m.PID) }

// rgbColors are the named colours an RGB LED shows.
var rgbColors = []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White}

// model is a supported model and the protocol it speaks.
type model struct {
	Model
	kind kind
}

// supported is the table behind Supported, List and the Driver.
var supported = [...]model{
	{Model{
		Name: "Delcom USB HID Visual Indicator", VID: 0x0fc5, PID: 0xb080,
		Buttons: 1, Colors: []device.Color{device.Green, device.Red, device.Yellow},
	}, kindDelcom},
	{Model{
		Name: "Dream Cheeky Big Red Button", VID: 0x1d34, PID: 0x000d,
		Buttons: 1,
	}, kindDreamCheeky},
	{Model{
		Name: "blink(1)", VID: 0x27b8, PID: 0x01ed,
		Colors: rgbColors, RGB: true,
	}, kindBlink1},
	{Model{
		Name: "Luxafor Flag", VID: 0x04d8, PID: 0xf372,
		Colors: rgbColors, RGB: true,
	}, kindLuxafor},
}

// Supported returns the USB devices Buttonhook supports. The result is a
// copy: changing it changes nothing else.
func Supported() []Model {
	ms := make([]Model, len(supported))
	for i, s := range supported {
		m := s.Model
		m.Colors = slices.Clone(m.Colors)
		ms[i] = m
	}
	return ms
}

// lookup returns the supported model with the given IDs.
func lookup(vid, pid uint16) (model, bool) {
	for _, m := range supported {
		if m.VID == vid && m.PID == pid {
			return m, true
		}
	}
	return model{}, false
}

// Found is a supported device attached to the USB bus.
type Found struct {
	Model string `json:"model"` // Model.Name
	VID   string `json:"vid"`   // four lowercase hex digits, "0fc5"
	PID   string `json:"pid"`   // four lowercase hex digits, "b080"
	// Bus and Address locate the device now; the address changes when it
	// is plugged in again.
	Bus     int            `json:"bus"`
	Address int            `json:"address"`
	Buttons int            `json:"buttons"`
	Colors  []device.Color `json:"colors"`
}

// found describes an attached device of model m.
func found(m Model, bus, address int) Found {
	return Found{
		Model:   m.Name,
		VID:     fmt.Sprintf("%04x", m.VID),
		PID:     fmt.Sprintf("%04x", m.PID),
		Bus:     bus,
		Address: address,
		Buttons: m.Buttons,
		Colors:  slices.Clone(m.Colors),
	}
}
