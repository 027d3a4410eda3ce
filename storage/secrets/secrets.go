// Package secrets is where target secrets (passwords, tokens, API keys) come
// from, so that config and the database hold only references to them, never
// the secrets themselves.
//
// A reference is "keyring:NAME" (a secret stored with Keyring, in the OS
// keyring: Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows), "env:NAME" (an environment variable, for headless machines) or a
// bare NAME, which means "keyring:NAME". Sources resolves references.
//
// Errors never contain a secret value. Errors wrap ErrNotFound when a secret
// is missing and ErrUnavailable when its source cannot be reached.
package secrets

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Store is what a consumer of secrets needs: the value of a secret by name.
type Store interface {
	Get(name string) (string, error)
}

var (
	// ErrNotFound means that the secret does not exist in its source. Errors
	// from the keyring that wrap it also wrap keyring.ErrNotFound.
	ErrNotFound = errors.New("secret not found")

	// ErrUnavailable means that the source of secrets cannot be reached: no
	// Secret Service is running, or the keyring is locked.
	ErrUnavailable = errors.New("secret store unavailable")

	// ErrTooLarge means that a secret is longer than MaxSize.
	ErrTooLarge = errors.New("secret too large")

	// ErrInvalid means that a name or reference is malformed.
	ErrInvalid = errors.New("invalid secret name")
)

// MaxSize is the largest secret Keyring.Set accepts, in bytes. Windows
// Credential Manager rejects secrets over 2,560 bytes and macOS's security
// command fails past about 3 KB (service and name included); 2,048 bytes
// everywhere keeps a config that works on one OS working on all.
const MaxSize = 2048

// maxNameLen is the longest secret name, in bytes.
const maxNameLen = 256

// validateName checks a secret name: non-empty, valid UTF-8, at most 256
// bytes, no control characters.
func validateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty name", ErrInvalid)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: name longer than %d bytes", ErrInvalid, maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: name %q is not UTF-8", ErrInvalid, name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("%w: name %q contains control characters", ErrInvalid, name)
	}
	return nil
}

// Secret is a secret value that does not show itself: formatted with fmt (any
// verb), logged with slog or marshalled to JSON it reads REDACTED. Convert it
// to a string to use it.
type Secret string

const redacted = "REDACTED"

// String returns "REDACTED".
func (Secret) String() string { return redacted }

// GoString returns "REDACTED", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "REDACTED" whatever the verb, so that no verb (such as %x or
// a wrong one like %d) shows the value.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue returns "REDACTED", for slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "REDACTED" as a JSON string, so that a Secret never
// reaches an export.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "REDACTED", for encoders that use encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
