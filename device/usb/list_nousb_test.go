//go:build nousb

package usb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/usb"
)

// TestListNoUSB runs in the -tags nousb build (TestNoUSBBuild runs it).
func TestListNoUSB(t *testing.T) {
	got, err := usb.List(t.Context())
	if got != nil || !errors.Is(err, usb.ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("List() = %v, %v; want nil, usb.ErrUnsupported wrapping errors.ErrUnsupported", got, err)
	}
	if want := "-tags nousb"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestDriverNoUSB runs in the -tags nousb build (TestNoUSBBuild runs it):
// the Driver finds nothing and cannot open anything.
func TestDriverNoUSB(t *testing.T) {
	d := usb.NewDriver(nil)
	if got := d.Name(); got != usb.DriverName {
		t.Errorf("Name() = %q, want %q", got, usb.DriverName)
	}
	cs, err := d.Scan(t.Context())
	if cs != nil || err != nil {
		t.Errorf("Scan() = %v, %v; want nil, nil", cs, err)
	}
	dev, err := d.Open(t.Context(), device.Candidate{Key: "usb:1-1@5", Driver: usb.DriverName})
	if dev != nil || !errors.Is(err, usb.ErrUnsupported) {
		t.Errorf("Open() = %v, %v; want nil, an error wrapping usb.ErrUnsupported", dev, err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}
