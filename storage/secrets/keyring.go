package secrets

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"

	"github.com/zalando/go-keyring"
)

// Service is the service name under which Keyring stores secrets.
const Service = "buttonhook"

// Keyring keeps secrets in the OS keyring under Service: the Secret Service
// (gnome-keyring, KeePassXC...) on Linux, the Keychain on macOS, the
// Credential Manager on Windows.
//
// Calls may block while the OS asks the user to unlock the keyring.
type Keyring struct{}

var _ Store = Keyring{}

// Get returns the secret stored under name.
func (Keyring) Get(name string) (string, error) {
	if err := validateName(name); err != nil {
		return "", fmt.Errorf("get keyring secret: %w", err)
	}
	v, err := keyring.Get(Service, name)
	if err != nil {
		return "", fmt.Errorf("get keyring secret %s: %w", name, classify(err, ""))
	}
	return v, nil
}

// Set stores value under name, replacing any previous value. value must be
// non-empty and at most MaxSize bytes.
func (Keyring) Set(name, value string) error {
	if err := validateName(name); err != nil {
		return fmt.Errorf("set keyring secret: %w", err)
	}
	switch {
	case value == "":
		return fmt.Errorf("set keyring secret %s: %w: empty value: use Delete to remove a secret", name, ErrInvalid)
	case len(value) > MaxSize:
		return fmt.Errorf("set keyring secret %s: %w: %d bytes, more than %d (the most that every OS keyring accepts)", name, ErrTooLarge, len(value), MaxSize)
	}
	if err := keyring.Set(Service, name, value); err != nil {
		return fmt.Errorf("set keyring secret %s: %w", name, classify(err, value))
	}
	return nil
}

// Delete removes the secret stored under name. Deleting a missing secret is
// ErrNotFound.
func (Keyring) Delete(name string) error {
	if err := validateName(name); err != nil {
		return fmt.Errorf("delete keyring secret: %w", err)
	}
	if err := keyring.Delete(Service, name); err != nil {
		return fmt.Errorf("delete keyring secret %s: %w", name, classify(err, ""))
	}
	return nil
}

// Fixes for the user, by cause of unavailability.
const (
	fixNoService = "no Secret Service is running: start gnome-keyring or KeePassXC's Secret Service, or use env:NAME references on headless machines"
	fixLocked    = "the keyring is locked and could not be unlocked: unlock it (log in to the desktop, or unlock it in your keyring app), or use env:NAME references on headless machines"
)

// classify turns an error from go-keyring into one that wraps ErrNotFound,
// ErrUnavailable or ErrTooLarge where it is one of those, and that never
// contains secret (unless secret is empty).
func classify(err error, secret string) error {
	var (
		sentinel error
		fix      string
		opErr    *net.OpError
		execErr  *exec.Error
		msg      = err.Error()
	)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		sentinel = ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		sentinel, fix = ErrTooLarge, "the OS keyring refused it as too large"
	case errors.As(err, &opErr), // cannot connect to the D-Bus address
		errors.As(err, &execErr), // no dbus-launch to start a bus
		strings.Contains(msg, "org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "couldn't determine address of session bus"):
		sentinel, fix = ErrUnavailable, fixNoService
	case strings.Contains(msg, "failed to unlock correct collection"):
		sentinel, fix = ErrUnavailable, fixLocked
	}
	if secret != "" && strings.Contains(msg, secret) {
		// Keep the classification, drop the text that holds the secret.
		if sentinel == nil {
			return errors.New("the keyring refused it (its error message is withheld because it contains the secret)")
		}
		return &classified{sentinel: sentinel, fix: fix}
	}
	if sentinel == nil {
		return err
	}
	return &classified{sentinel: sentinel, fix: fix, cause: err}
}

// classified is a keyring error with the sentinel it wraps and, for the user,
// what to do about it.
type classified struct {
	sentinel error
	fix      string // replaces the sentinel's text when set
	cause    error  // nil when withheld
}

func (e *classified) Error() string {
	s := e.fix
	if s == "" {
		s = e.sentinel.Error()
	}
	if e.cause != nil && e.sentinel != ErrNotFound {
		s += " (" + e.cause.Error() + ")"
	}
	return s
}

func (e *classified) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}
