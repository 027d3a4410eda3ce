//go:build nousb

package usb_test

import (
	"errors"
	"strings"
	"testing"

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
