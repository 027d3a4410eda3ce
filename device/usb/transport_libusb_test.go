//go:build !nousb

package usb

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/device"
	"github.com/google/gousb"
)

// TestOpenErrorSaysWhatToDo: libusb's errors from opening a device become
// errors a user can act on, and stay classifiable.
func TestOpenErrorSaysWhatToDo(t *testing.T) {
	const name = "Delcom USB HID Visual Indicator 0fc5:b080 on bus 1 address 5"
	for _, c := range []struct {
		err  error
		is   []error
		says []string
	}{
		{gousb.ErrorAccess, []error{fs.ErrPermission, gousb.ErrorAccess},
			[]string{"permission denied opening " + name + ": install the udev rules", "sudo cp packaging/linux/60-buttonhook.rules /etc/udev/rules.d/"}},
		{gousb.ErrorBusy, []error{gousb.ErrorBusy}, []string{"in use by another program"}},
		{gousb.ErrorNoDevice, []error{device.ErrGone, gousb.ErrorNoDevice}, []string{"open " + name}},
		{gousb.ErrorIO, []error{gousb.ErrorIO}, []string{"open " + name + ": claim interface 0"}},
	} {
		err := openError(name, "claim interface 0", c.err)
		for _, target := range c.is {
			if !errors.Is(err, target) {
				t.Errorf("openError(%v) = %v, which does not wrap %v", c.err, err, target)
			}
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("openError(%v) = %q, which does not say %q", c.err, err, s)
			}
		}
	}
}

func TestIsGone(t *testing.T) {
	for err, want := range map[error]bool{
		gousb.ErrorNoDevice:          true,
		gousb.TransferNoDevice:       true,
		gousb.ErrorTimeout:           false,
		gousb.TransferCancelled:      false,
		errors.New("something else"): false,
	} {
		if got := isGone(err); got != want {
			t.Errorf("isGone(%v) = %v, want %v", err, got, want)
		}
	}
}
