package secrets

import (
	"fmt"
	"os"
	"strings"
)

// The schemes of a secret reference.
const (
	SchemeKeyring = "keyring"
	SchemeEnv     = "env"
)

// ParseRef splits a secret reference into its scheme and name. A reference
// without a colon is a keyring name; a name that contains a colon must be
// written with its scheme ("keyring:a:b").
func ParseRef(ref string) (scheme, name string, err error) {
	scheme, name, found := strings.Cut(ref, ":")
	if !found {
		scheme, name = SchemeKeyring, ref
	}
	switch scheme {
	case SchemeKeyring, SchemeEnv:
	default:
		return "", "", fmt.Errorf("%w: reference %q: unknown source %q: use keyring:NAME or env:NAME", ErrInvalid, ref, scheme)
	}
	if err := validateName(name); err != nil {
		return "", "", fmt.Errorf("reference %q: %w", ref, err)
	}
	return scheme, name, nil
}

// Sources resolves secret references by dispatching them to the Store for
// their scheme. Its Get takes a reference, so a Sources is itself a Store.
type Sources struct {
	Keyring Store // for "keyring:NAME" and bare names
	Env     Store // for "env:NAME"
}

// NewSources returns the Sources of a running Buttonhook: the OS keyring and
// the environment.
func NewSources() Sources {
	return Sources{Keyring: Keyring{}, Env: Env{}}
}

var _ Store = Sources{}

// Get returns the value of the secret that ref refers to. A source that is
// not set (nil) is ErrUnavailable.
func (s Sources) Get(ref string) (string, error) {
	scheme, name, err := ParseRef(ref)
	if err != nil {
		return "", fmt.Errorf("get secret: %w", err)
	}
	store := s.Keyring
	if scheme == SchemeEnv {
		store = s.Env
	}
	if store == nil {
		return "", fmt.Errorf("get secret %s: %w: no %s source configured", ref, ErrUnavailable, scheme)
	}
	return store.Get(name)
}

// Env reads secrets from environment variables, for machines without a
// keyring ("env:NAME" references).
type Env struct{}

var _ Store = Env{}

// Get returns the value of the environment variable name. A variable that is
// unset, or set but empty, is ErrNotFound.
func (Env) Get(name string) (string, error) {
	if err := validateName(name); err != nil {
		return "", fmt.Errorf("get environment secret: %w", err)
	}
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("get environment secret %s: %w: set the environment variable %s", name, ErrNotFound, name)
	}
	return v, nil
}
