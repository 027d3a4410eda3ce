//go:build !nousb

package usb

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/gousb"
)

// gousb.NewContext panics when libusb_init fails; openContext must return
// that as an error and let other panics through.
func TestOpenContextInitFails(t *testing.T) {
	c, err := openContext(func() *gousb.Context { panic(gousb.ErrorNoMem) })
	if c != nil || !errors.Is(err, gousb.ErrorNoMem) {
		t.Fatalf("openContext = %v, %v; want nil and an error wrapping %v", c, err, gousb.ErrorNoMem)
	}
	if want := "libusb did not start"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestOpenContextOtherPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v; want the panic \"boom\" to pass through", r)
		}
	}()
	_, _ = openContext(func() *gousb.Context { panic("boom") })
	t.Error("openContext returned; want the panic to pass through")
}
