package ui

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// fakeSecrets is a SecretStore in memory, and the engine's secret source
// over it (keyring: references only).
type fakeSecrets struct {
	mu      sync.Mutex
	values  map[string]string
	deleted []string
	setErr  error
	gate    chan struct{} // when set, Set waits for it (a keyring asking to unlock)
}

func (f *fakeSecrets) Set(name, value string) error {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.setErr != nil {
		return f.setErr
	}
	if f.values == nil {
		f.values = map[string]string{}
	}
	f.values[name] = value
	return nil
}

func (f *fakeSecrets) Delete(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, name)
	if _, ok := f.values[name]; !ok {
		return fmt.Errorf("delete keyring secret %s: %w", name, secrets.ErrNotFound)
	}
	delete(f.values, name)
	return nil
}

func (f *fakeSecrets) Get(ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[strings.TrimPrefix(ref, "keyring:")]
	if !ok {
		return "", secrets.ErrNotFound
	}
	return v, nil
}

func (f *fakeSecrets) snapshot() (map[string]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]string{}
	for k, v := range f.values {
		m[k] = v
	}
	return m, slices.Clone(f.deleted)
}

func TestEditingReplacesAndDeletesOwnSecrets(t *testing.T) {
	store := &fakeSecrets{}
	w, e := newWindowWithSecrets(t, store)
	w.SetSecretStore(store)
	te := w.newTargetEditor(nil, func() {})
	test.Type(te.req.name, "Lamp")
	test.Type(te.req.url, "https://example.com/lamp")
	selectAuth(te.auth, actions.AuthBearer)
	test.Type(te.auth.token.value, "first")
	test.Tap(te.save)
	waitFor(t, &te.saving, "the first save")
	orig := targetNamed(t, e, "Lamp")
	tokenName := strings.TrimPrefix(string(orig.Auth.Token), "keyring:")

	// Editing shows the secret as stored, never its value; a new value
	// replaces it under the same name.
	te = w.newTargetEditor(&orig, func() {})
	if te.auth.token.value.Text != "" || !strings.Contains(te.auth.token.state.Text, "Stored in the OS keyring as "+tokenName) {
		t.Fatalf("token entry %q, state %q; want empty and stored", te.auth.token.value.Text, te.auth.token.state.Text)
	}
	test.Type(te.auth.token.value, "second")
	test.Tap(te.save)
	waitFor(t, &te.saving, "the second save")
	if got := targetNamed(t, e, "Lamp"); got.Auth.Token != orig.Auth.Token {
		t.Errorf("token ref %q, want it kept as %q", got.Auth.Token, orig.Auth.Token)
	}
	if vals, _ := store.snapshot(); vals[tokenName] != "second" {
		t.Errorf("keyring %v, want %s replaced", vals, tokenName)
	}

	// Moving to an API key from the environment deletes the unused token.
	orig = targetNamed(t, e, "Lamp")
	te = w.newTargetEditor(&orig, func() {})
	selectAuth(te.auth, actions.AuthAPIKey)
	te.auth.key.source.SetSelected(sourceEnv)
	test.Type(te.auth.key.env, "$LAMP_KEY")
	test.Tap(te.save)
	waitFor(t, &te.saving, "the third save")
	if got := targetNamed(t, e, "Lamp"); got.Auth.Key != "env:LAMP_KEY" {
		t.Errorf("key ref %q, want env:LAMP_KEY", got.Auth.Key)
	}
	if vals, deleted := store.snapshot(); len(vals) != 0 || !slices.Equal(deleted, []string{tokenName}) {
		t.Errorf("keyring %v, deleted %v; want the token deleted", vals, deleted)
	}
}

func TestCancelWhileStoringSavesNothing(t *testing.T) {
	store := &fakeSecrets{gate: make(chan struct{})}
	w, e := newWindow(t)
	w.SetSecretStore(store)
	closed := 0
	te := w.newTargetEditor(nil, func() { closed++ })
	test.Type(te.req.name, "Slow")
	test.Type(te.req.url, "https://example.com/")
	selectAuth(te.auth, actions.AuthBearer)
	test.Type(te.auth.token.value, "tok")
	test.Tap(te.save) // the keyring is "asking to unlock"
	if !te.save.Disabled() {
		t.Error("Save stays enabled while the secret is being stored")
	}
	test.Tap(te.cancel)
	close(store.gate)
	waitFor(t, &te.saving, "the keyring write")
	if closed != 1 || len(e.Config().Targets) != 0 {
		t.Errorf("closed %d times, targets %v; want closed once by Cancel and nothing saved", closed, e.Config().Targets)
	}
	if vals, _ := store.snapshot(); len(vals) != 0 {
		t.Errorf("keyring %v, want the secret stored for the cancelled save deleted", vals)
	}
}

func TestBareReferenceIsNeverShown(t *testing.T) {
	// An old config may hold a bare word where a reference belongs: perhaps
	// a pasted secret.
	const pasted = "xoxb-pasted-secret"
	test.NewTempApp(t)
	s := newSecretField("auth.token", "the token", "token", true, func() {})
	s.set(pasted)
	if strings.Contains(s.state.Text, pasted) || s.value.Text != "" || s.env.Text != "" {
		t.Errorf("state %q, value %q, env %q: the bare word is shown", s.state.Text, s.value.Text, s.env.Text)
	}
	if ref, w, problem := s.ref("x"); ref != "" || w != nil || !strings.Contains(problem, "type the token") {
		t.Errorf("ref() = %q, %v, %q; want no reference and a request to type the token", ref, w, problem)
	}
	test.Type(s.value, "new")
	if ref, w, _ := s.ref("door-bell-0123456789abcdef.auth.token"); ref != "keyring:door-bell-0123456789abcdef.auth.token" || w == nil || w.value != "new" {
		t.Errorf("after typing: ref() = %q, %+v", ref, w)
	}
}

func TestSecretNamesAreOwnedOnlyWhenMadeForTheTarget(t *testing.T) {
	name := secretName("Door bell's Ring", "0123456789abcdef", "auth.token")
	if name != "door-bell-s-ring-0123456789abcdef.auth.token" {
		t.Errorf("secretName = %q", name)
	}
	if _, err := secretsParse("keyring:" + name); err != nil {
		t.Errorf("the reference is not valid: %v", err)
	}
	tests := []struct {
		ref   actions.SecretRef
		owned bool
	}{
		{actions.SecretRef("keyring:" + name), true},
		{actions.SecretRef(name), false}, // names no source: never touched
		{"keyring:door-bell-s-ring-0123456789abcdef.auth.key", false},
		{"keyring:shared-token", false},
		{"env:TOKEN", false},
		{"", false},
	}
	for _, tt := range tests {
		if _, ok := ownedSecret(tt.ref, "Door bell's Ring", "auth.token"); ok != tt.owned {
			t.Errorf("ownedSecret(%q) = %v, want %v", tt.ref, ok, tt.owned)
		}
	}
}

// secretsParse checks a reference as the target and the secret sources do.
func secretsParse(ref string) (string, error) {
	if err := (actions.Target{Name: "x", Method: "GET", URL: "http://x/", Auth: actions.Auth{Kind: actions.AuthBearer, Token: actions.SecretRef(ref)}}).Validate(); err != nil {
		return "", err
	}
	_, name, err := secrets.ParseRef(ref)
	return name, err
}
