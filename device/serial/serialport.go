package serial

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	bugst "go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// openPort opens the serial port at path at baud, 8N1, with the read
// timeout Run loops rely on. Errors say what to do (see openError).
func openPort(path string, baud int) (port, error) {
	p, err := bugst.Open(path, &bugst.Mode{
		BaudRate: baud,
		DataBits: 8,
		Parity:   bugst.NoParity,
		StopBits: bugst.OneStopBit,
		// No InitialStatusBits: see OpenPath.
	})
	if err != nil {
		return nil, openError(path, err)
	}
	if err := p.SetReadTimeout(readTimeout); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("open %s: set read timeout: %w", path, err)
	}
	return p, nil
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
