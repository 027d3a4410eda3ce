package serial

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	bugst "go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// openPort opens the serial port at path at baud, 8N1, with no read
// timeout: a device's reader goroutine blocks in Read until bytes come,
// the port fails or Close releases it, so an idle port costs no CPU.
// Errors say what to do (see openError).
func openPort(path string, baud int) (port, error) {
	p, err := bugst.Open(path, &bugst.Mode{
		BaudRate: baud,
		DataBits: 8,
		Parity:   bugst.NoParity,
		StopBits: bugst.OneStopBit,
		// No InitialStatusBits: setting DTR/RTS fails on ptys and some
		// adapters, and the default (both on) is what an Arduino expects.
	})
	if err != nil {
		return nil, openError(path, err)
	}
	if err := p.SetReadTimeout(bugst.NoTimeout); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("open %s: set read timeout: %w", path, err)
	}
	return p, nil
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

// usbSerialNumber returns the USB serial number the operating system gives
// for the port at path (a symbolic link such as /dev/serial/by-id/... is
// followed), or "" when it has none or the ports cannot be listed.
func usbSerialNumber(path string) string {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return ""
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	for _, p := range ports {
		if p.IsUSB && (p.Name == path || p.Name == real) {
			return strings.TrimSpace(p.SerialNumber)
		}
	}
	return ""
}

// fieldError is a configuration error at a field path, like
// "buttons[1].pin: 200 is out of range 0..127: ...".
func fieldError(path, format string, args ...any) error {
	return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

// prefixErrors puts prefix before the field path of each error joined in
// err.
func prefixErrors(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = append(errs, fmt.Errorf("%s%w", prefix, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s%w", prefix, err)
}
