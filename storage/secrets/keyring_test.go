package secrets

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

// The tests here replace go-keyring's provider with its in-memory mock, for
// the whole process; tests of the real keyring run in a child process (see
// keyring_real_test.go).

func TestKeyringMock(t *testing.T) {
	keyring.MockInit()
	k := Keyring{}

	if _, err := k.Get("api"); !errors.Is(err, ErrNotFound) || !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound and keyring.ErrNotFound", err)
	}
	if err := k.Set("api", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set("api", "v2"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get("api"); err != nil || got != "v2" {
		t.Errorf("Get = %q, %v; want %q, nil", got, err, "v2")
	}
	if got, err := keyring.Get(Service, "api"); err != nil || got != "v2" {
		t.Errorf("stored under service %q: %q, %v; want %q", Service, got, err, "v2")
	}
	if err := k.Delete("api"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("api"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := k.Delete("api"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(missing) error = %v, want ErrNotFound", err)
	}
}

func TestKeyringSetLimits(t *testing.T) {
	keyring.MockInit()
	k := Keyring{}
	tests := []struct {
		name, value string
		wantErr     error
		wantMsg     string
	}{
		{"max", strings.Repeat("x", MaxSize), nil, ""},
		{"max-multibyte", strings.Repeat("é", MaxSize/2), nil, ""},
		{"over", strings.Repeat("x", MaxSize+1), ErrTooLarge, "2049 bytes, more than 2048"},
		{"over-multibyte", strings.Repeat("é", MaxSize/2+1), ErrTooLarge, "2050 bytes, more than 2048"},
		{"empty", "", ErrInvalid, "use Delete"},
		{"", "x", ErrInvalid, "empty name"},
		{"new\nline", "x", ErrInvalid, "control characters"},
	}
	for _, tt := range tests {
		err := k.Set(tt.name, tt.value)
		if tt.wantErr == nil {
			if err != nil {
				t.Errorf("Set(%q, %d bytes) = %v, want nil", tt.name, len(tt.value), err)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("Set(%q, %d bytes) error = %v, want %v with %q", tt.name, len(tt.value), err, tt.wantErr, tt.wantMsg)
		}
		if _, err := keyring.Get(Service, tt.name); err == nil {
			t.Errorf("Set(%q) failed but stored the value", tt.name)
		}
	}
}

func TestKeyringErrorsClassified(t *testing.T) {
	const value = "s3cr3t-value"
	opErr := &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connect: no such file or directory")}
	tests := []struct {
		name    string
		err     error
		wantIs  []error
		wantMsg string
	}{
		{"not found", keyring.ErrNotFound, []error{ErrNotFound, keyring.ErrNotFound}, "secret not found"},
		{"too big", keyring.ErrSetDataTooBig, []error{ErrTooLarge, keyring.ErrSetDataTooBig}, "refused it as too large"},
		{"no socket", opErr, []error{ErrUnavailable, opErr}, "no Secret Service is running"},
		{"no dbus-launch", &exec.Error{Name: "dbus-launch", Err: exec.ErrNotFound}, []error{ErrUnavailable, exec.ErrNotFound}, "start gnome-keyring or KeePassXC"},
		{"not provided", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), []error{ErrUnavailable}, "use env:NAME references on headless machines"},
		{"no bus address", errors.New("dbus: couldn't determine address of session bus"), []error{ErrUnavailable}, "no Secret Service is running"},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), []error{ErrUnavailable}, "the keyring is locked"},
		{"other", errors.New("boom"), nil, "boom"},
		{"other, wrapped", fmt.Errorf("call: %w", opErr), []error{ErrUnavailable, opErr}, "no Secret Service is running"},
	}
	k := Keyring{}
	for _, tt := range tests {
		keyring.MockInitWithError(tt.err)
		errs := map[string]error{}
		_, errs["Get"] = k.Get("name")
		errs["Set"] = k.Set("name", value)
		errs["Delete"] = k.Delete("name")
		for op, err := range errs {
			if err == nil {
				t.Errorf("%s: %s = nil, want an error", tt.name, op)
				continue
			}
			for _, want := range tt.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("%s: %s error = %v, want one wrapping %v", tt.name, op, err, want)
				}
			}
			if tt.wantIs == nil && (errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound)) {
				t.Errorf("%s: %s error = %v, wrongly classified", tt.name, op, err)
			}
			prefix := strings.ToLower(op) + " keyring secret name: "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s: %s error = %q, want %q...%q", tt.name, op, err, prefix, tt.wantMsg)
			}
		}
	}
}

// An OS keyring may echo what it was given in an error; Set must not pass the
// secret on, in the message or in the chain.
func TestKeyringSetErrorWithholdsSecret(t *testing.T) {
	const value = "s3cr3t-value"
	tests := []struct {
		name   string
		err    error
		wantIs error
	}{
		{"unclassified", fmt.Errorf("security: bad input %q", value), nil},
		{"unavailable", fmt.Errorf("%w: %s", &exec.Error{Name: "security", Err: exec.ErrNotFound}, value), ErrUnavailable},
	}
	for _, tt := range tests {
		keyring.MockInitWithError(tt.err)
		err := Keyring{}.Set("name", value)
		if err == nil {
			t.Fatalf("%s: Set = nil, want an error", tt.name)
		}
		walkErr(err, func(e error) {
			if strings.Contains(e.Error(), value) || strings.Contains(fmt.Sprintf("%+v", e), value) {
				t.Errorf("%s: Set error %q contains the secret", tt.name, e)
			}
		})
		if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
			t.Errorf("%s: Set error = %v, want one wrapping %v", tt.name, err, tt.wantIs)
		}
		if !strings.Contains(err.Error(), "set keyring secret name") {
			t.Errorf("%s: Set error = %q, want it to say what failed", tt.name, err)
		}
	}
}

// walkErr calls fn for err and every error in its tree.
func walkErr(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		walkErr(u.Unwrap(), fn)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walkErr(e, fn)
		}
	}
}
