//go:build !nousb

package usb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/google/gousb"
)

// controlTimeout bounds every control transfer (gousb's Control takes no
// context).
const controlTimeout = 500 * time.Millisecond

var _ transport = (*libusbTransport)(nil)

// libusbTransport is an open device's interface 0, claimed through gousb.
type libusbTransport struct {
	name    string // "Delcom ... 0fc5:b080 on bus 1 address 5", for errors
	onClose func() // tells the driver the device is closed

	mu     sync.RWMutex // held for reading by transfers, for writing by close
	closed bool
	dev    *gousb.Device
	cfg    *gousb.Config
	intf   *gousb.Interface
	in     *gousb.InEndpoint  // nil when the interface has no interrupt IN
	out    *gousb.OutEndpoint // nil when the interface has no interrupt OUT
}

// claim detaches the kernel's driver (usbhid) from interface 0 of dev and
// claims it. On error dev is left open: the caller closes it.
func claim(dev *gousb.Device, name string) (*libusbTransport, error) {
	dev.ControlTimeout = controlTimeout
	// Linux only: elsewhere libusb cannot take a HID device from the OS
	// (gousb ignores ErrorNotSupported).
	if err := dev.SetAutoDetach(true); err != nil {
		return nil, openError(name, "enable kernel driver detach", err)
	}
	num, err := dev.ActiveConfigNum()
	if err != nil {
		return nil, openError(name, "read active configuration", err)
	}
	cfg, err := dev.Config(num)
	if err != nil {
		return nil, openError(name, "claim configuration", err)
	}
	intf, err := cfg.Interface(0, 0)
	if err != nil {
		_ = cfg.Close()
		return nil, openError(name, "claim interface 0", err)
	}
	t := &libusbTransport{name: name, dev: dev, cfg: cfg, intf: intf}
	for _, ep := range intf.Setting.Endpoints {
		if ep.TransferType != gousb.TransferTypeInterrupt {
			continue
		}
		switch {
		case ep.Direction == gousb.EndpointDirectionIn && t.in == nil:
			t.in, err = intf.InEndpoint(ep.Number)
		case ep.Direction == gousb.EndpointDirectionOut && t.out == nil:
			t.out, err = intf.OutEndpoint(ep.Number)
		}
		if err != nil {
			t.release()
			return nil, fmt.Errorf("open %s: endpoint %v: %w", name, ep.Address, err)
		}
	}
	return t, nil
}

func (t *libusbTransport) control(ctx context.Context, r request) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return 0, errClosed
	}
	n, err := t.dev.Control(r.reqType, r.req, r.value, r.index, r.data)
	return n, t.wrap(err)
}

func (t *libusbTransport) readInterrupt(ctx context.Context, buf []byte) (int, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return 0, errClosed
	}
	if t.in == nil {
		return 0, fmt.Errorf("%s has no interrupt IN endpoint", t.name)
	}
	n, err := t.in.ReadContext(ctx, buf)
	return n, t.wrap(err)
}

func (t *libusbTransport) writeInterrupt(ctx context.Context, buf []byte) (int, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return 0, errClosed
	}
	if t.out == nil {
		return 0, fmt.Errorf("%s has no interrupt OUT endpoint", t.name)
	}
	n, err := t.out.WriteContext(ctx, buf)
	return n, t.wrap(err)
}

// wrap marks the errors that mean the device was unplugged with
// device.ErrGone.
func (t *libusbTransport) wrap(err error) error {
	if err == nil {
		return nil
	}
	if isGone(err) {
		return fmt.Errorf("%s: %w: %w", t.name, device.ErrGone, err)
	}
	return err
}

// isGone reports whether a gousb error means the device is not there.
func isGone(err error) bool {
	return errors.Is(err, gousb.ErrorNoDevice) || errors.Is(err, gousb.TransferNoDevice)
}

// close waits for transfers in progress (bounded by controlTimeout, or
// cancelled by their context) and releases the interface and the device.
func (t *libusbTransport) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.release()
	if t.onClose != nil {
		t.onClose()
	}
	return err
}

// release gives the interface back to the kernel and closes the device.
func (t *libusbTransport) release() error {
	t.intf.Close()
	err := t.cfg.Close()
	if cerr := t.dev.Close(); err == nil {
		err = cerr
	}
	return err
}

// userError is an error whose message is written for the user.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string   { return e.msg }
func (e *userError) Unwrap() []error { return []error{e.err} }

// rulesHint says how to install the udev rules that give the logged-in user
// access to the supported devices.
const rulesHint = "install the udev rules: sudo cp packaging/linux/60-buttonhook.rules /etc/udev/rules.d/ " +
	"&& sudo udevadm control --reload && sudo udevadm trigger, then plug the device in again"

// openError explains an error from opening or claiming a device, saying
// what to do about it.
func openError(name, doing string, err error) error {
	switch {
	case errors.Is(err, gousb.ErrorAccess):
		return &userError{
			msg: fmt.Sprintf("permission denied opening %s: %s", name, rulesHint),
			err: errors.Join(fs.ErrPermission, err),
		}
	case errors.Is(err, gousb.ErrorBusy):
		return &userError{
			msg: fmt.Sprintf("%s is in use by another program: close it (another Buttonhook, the vendor's tool) and plug the device in again", name),
			err: err,
		}
	case isGone(err):
		return fmt.Errorf("open %s: %s: %w: %w", name, doing, device.ErrGone, err)
	}
	return fmt.Errorf("open %s: %s: %w", name, doing, err)
}
