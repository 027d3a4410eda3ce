package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretRedacted(t *testing.T) {
	const value = "hunter2-s3cr3t"
	s := Secret(value)
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("sending", "token", s)
	jsonOut, err := json.Marshal(struct{ Token Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"String", s.String(), "REDACTED"},
		{"%v", fmt.Sprintf("%v", s), "REDACTED"},
		{"%s", fmt.Sprintf("%s", s), "REDACTED"},
		{"%q", fmt.Sprintf("%q", s), "REDACTED"},
		{"%x", fmt.Sprintf("%x", s), "REDACTED"},
		{"%#v", fmt.Sprintf("%#v", s), "REDACTED"},
		{"%d (a wrong verb)", fmt.Sprintf("%d", s), "REDACTED"},
		{"%+v in a struct", fmt.Sprintf("%+v", struct{ T Secret }{s}), "{T:REDACTED}"},
		{"slog", logBuf.String(), "token=REDACTED"},
		{"JSON", string(jsonOut), `{"Token":"REDACTED"}`},
		{"error", fmt.Errorf("bad token %v", s).Error(), "bad token REDACTED"},
	}
	for _, tt := range tests {
		if !strings.Contains(tt.got, tt.want) || strings.Contains(tt.got, value) {
			t.Errorf("%s: got %q, want %q and no secret", tt.name, tt.got, tt.want)
		}
	}
	if got := string(s); got != value {
		t.Errorf("string(Secret) = %q, want the value %q", got, value)
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref          string
		scheme, name string
		wantErr      string
	}{
		{"api-token", "keyring", "api-token", ""},
		{"keyring:api-token", "keyring", "api-token", ""},
		{"keyring:a:b", "keyring", "a:b", ""},
		{"env:HOOK_TOKEN", "env", "HOOK_TOKEN", ""},
		{"", "", "", "empty name"},
		{"keyring:", "", "", "empty name"},
		{"env:", "", "", "empty name"},
		{"evn:HOOK_TOKEN", "", "", `unknown source "evn"`},
		{"vault:x", "", "", `unknown source "vault"`},
		{"a:b", "", "", `unknown source "a"`},
		{"tab\tname", "", "", "control characters"},
		{"keyring:" + strings.Repeat("n", 257), "", "", "longer than 256"},
		{"bad\xffutf8", "", "", "not UTF-8"},
	}
	for _, tt := range tests {
		scheme, name, err := ParseRef(tt.ref)
		if tt.wantErr != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRef(%q) error = %v, want ErrInvalid with %q", tt.ref, err, tt.wantErr)
			}
			continue
		}
		if err != nil || scheme != tt.scheme || name != tt.name {
			t.Errorf("ParseRef(%q) = %q, %q, %v; want %q, %q, nil", tt.ref, scheme, name, err, tt.scheme, tt.name)
		}
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("BUTTONHOOK_TEST_TOKEN", "from-env")
	t.Setenv("BUTTONHOOK_TEST_EMPTY", "")
	got, err := Env{}.Get("BUTTONHOOK_TEST_TOKEN")
	if err != nil || got != "from-env" {
		t.Errorf("Get(set) = %q, %v; want %q, nil", got, err, "from-env")
	}
	for _, name := range []string{"BUTTONHOOK_TEST_UNSET", "BUTTONHOOK_TEST_EMPTY"} {
		_, err := Env{}.Get(name)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "set the environment variable "+name) {
			t.Errorf("Get(%s) error = %v, want ErrNotFound naming the variable", name, err)
		}
	}
	if _, err := (Env{}).Get(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Get(\"\") error = %v, want ErrInvalid", err)
	}
}

// fakeStore is a Store over a map that records the names asked for.
type fakeStore struct {
	values map[string]string
	asked  []string
}

func (f *fakeStore) Get(name string) (string, error) {
	f.asked = append(f.asked, name)
	v, ok := f.values[name]
	if !ok {
		return "", fmt.Errorf("fake %s: %w", name, ErrNotFound)
	}
	return v, nil
}

func TestSourcesDispatch(t *testing.T) {
	kr := &fakeStore{values: map[string]string{"tok": "from-keyring", "a:b": "colon"}}
	env := &fakeStore{values: map[string]string{"tok": "from-env"}}
	s := Sources{Keyring: kr, Env: env}
	tests := []struct {
		ref     string
		want    string
		wantErr error
	}{
		{"tok", "from-keyring", nil},
		{"keyring:tok", "from-keyring", nil},
		{"keyring:a:b", "colon", nil},
		{"env:tok", "from-env", nil},
		{"env:other", "", ErrNotFound},
		{"missing", "", ErrNotFound},
		{"file:/etc/passwd", "", ErrInvalid},
		{"", "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := s.Get(tt.ref)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.ref, got, err, tt.want, tt.wantErr)
		}
	}
	if want := "tok,tok,a:b,missing"; strings.Join(kr.asked, ",") != want {
		t.Errorf("keyring asked for %q, want %q", kr.asked, want)
	}
	if want := "tok,other"; strings.Join(env.asked, ",") != want {
		t.Errorf("env asked for %q, want %q", env.asked, want)
	}

	_, err := Sources{Keyring: kr}.Get("env:tok")
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get(env:...) without an env source: error = %v, want ErrUnavailable", err)
	}
}

func TestNewSources(t *testing.T) {
	s := NewSources()
	if _, ok := s.Keyring.(Keyring); !ok {
		t.Errorf("NewSources().Keyring = %T, want Keyring", s.Keyring)
	}
	t.Setenv("BUTTONHOOK_TEST_TOKEN", "x")
	if got, err := s.Get("env:BUTTONHOOK_TEST_TOKEN"); err != nil || got != "x" {
		t.Errorf("NewSources().Get(env:...) = %q, %v; want %q, nil", got, err, "x")
	}
}
