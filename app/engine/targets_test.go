package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

type deletedSecrets struct {
	mu    sync.Mutex
	names []string
	fail  error
}

func (d *deletedSecrets) Delete(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names = append(d.names, name)
	return d.fail
}

func TestRenameKeepsBindingsAndIdentity(t *testing.T) {
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Import(Config{Targets: []actions.Target{
		{Name: "Door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door"},
		{Name: "Light", Enabled: true, Method: "GET", URL: "http://127.0.0.1/light"},
	}, Bindings: []Binding{{Button: 1, Gesture: device.Press, Target: "Door"}}}); err != nil {
		t.Fatal(err)
	}
	cfg := e.Config()
	door, _ := cfg.targetByName("Door")
	renamed := door
	renamed.Name = "Front door"
	if err := e.UpdateTarget(renamed); err != nil {
		t.Fatal(err)
	}
	cfg = e.Config()
	got, ok := cfg.target(door.ID)
	if !ok || got.Name != "Front door" || got.Version != door.Version+1 || !got.Created.Equal(door.Created) {
		t.Errorf("after rename: %+v (found %v), want the same id, name Front door, version %d", got, ok, door.Version+1)
	}
	if _, ok := cfg.targetByName("Door"); ok {
		t.Errorf("the old name is still a target")
	}
	if ex := e.Export(); len(ex.Bindings) != 1 || ex.Bindings[0].Target != "Front door" {
		t.Errorf("bindings after rename = %+v, want button 1 bound to Front door", ex.Bindings)
	}
	// It is in the store, not only in memory.
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	cfg = e2.Config()
	if got, _ := cfg.target(door.ID); got.Name != "Front door" {
		t.Errorf("after reopening: %+v", got)
	}

	renamed.Name = "light"
	var ie ImportError
	if err := e.UpdateTarget(renamed); !errors.As(err, &ie) || !strings.Contains(err.Error(), "targets[0].name") {
		t.Errorf("renaming onto another target's name: %v, want a name problem", err)
	}
	renamed.Name, renamed.URL = "Front door", "ftp://x"
	if err := e.UpdateTarget(renamed); !errors.As(err, &ie) || !strings.Contains(err.Error(), "targets[0].url") {
		t.Errorf("invalid update: %v, want a url problem", err)
	}
	renamed.ID = "gone"
	if err := e.UpdateTarget(renamed); err == nil {
		t.Errorf("updating an unknown id succeeded")
	}
}

func TestDeleteTargetRemovesBindingsAndUnsharedSecrets(t *testing.T) {
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secrets := &deletedSecrets{}
	e, err := New(Options{Store: db, SecretStore: secrets})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Import(Config{Targets: []actions.Target{
		{Name: "Door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door",
			Auth:    actions.Auth{Kind: actions.AuthBasic, Username: "u", Password: "keyring:door-pw"},
			Signing: actions.Signing{Secret: "keyring:shared-whsec"}},
		{Name: "Light", Enabled: true, Method: "GET", URL: "http://127.0.0.1/light",
			Auth:    actions.Auth{Kind: actions.AuthBearer, Token: "env:LIGHT_TOKEN"},
			Signing: actions.Signing{Secret: "keyring:shared-whsec"}},
	}, Bindings: []Binding{{Button: 1, Target: "Door"}, {Button: 1, Gesture: device.LongPress, Target: "Door"}, {Button: 2, Target: "Light"}}}); err != nil {
		t.Fatal(err)
	}
	events, unsub := e.Subscribe(8)
	defer unsub()
	if err := e.DeleteTarget("door"); err != nil {
		t.Fatal(err)
	}
	c := e.Config()
	if len(c.Targets) != 1 || c.Targets[0].Name != "Light" || len(c.Bindings) != 1 || c.Bindings[0].Button != 2 {
		t.Errorf("config after delete = %+v", e.Export())
	}
	if !slices.Equal(secrets.names, []string{"door-pw"}) {
		t.Errorf("deleted secrets %q, want only door-pw (the signing secret is shared with Light)", secrets.names)
	}
	e2, _ := New(Options{Store: db})
	if n := len(e2.Config().Targets); n != 1 || len(e2.Config().Bindings) != 1 {
		t.Errorf("after reopening: %+v", e2.Export())
	}
	if ev := <-events; ev.Kind != ConfigChanged {
		t.Errorf("event = %+v, want ConfigChanged", ev)
	}

	// A keyring that cannot delete: the target is gone, and the user is told.
	secrets.fail = errors.New("the keyring is locked")
	if err := e.DeleteTarget("Light"); err != nil {
		t.Fatal(err)
	}
	if len(e.Config().Targets) != 0 {
		t.Errorf("targets = %+v", e.Config().Targets)
	}
	<-events // config changed
	if ev := <-events; ev.Kind != Notice || !strings.Contains(ev.Message, "shared-whsec") || !strings.Contains(ev.Message, "locked") {
		t.Errorf("event = %+v, want a notice about the secret left in the keyring", ev)
	}
	if err := e.DeleteTarget("Light"); err == nil {
		t.Errorf("deleting a deleted target succeeded")
	}
}

// notFoundSecrets is a keyring that holds some secrets and says which it
// deleted; deleting a missing one fails as the real keyring does.
type notFoundSecrets struct {
	deletedSecrets
	held map[string]bool
}

func (n *notFoundSecrets) Delete(name string) error {
	if err := n.deletedSecrets.Delete(name); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.held[name] {
		return fmt.Errorf("delete keyring secret %s: %w", name, secrets.ErrNotFound)
	}
	delete(n.held, name)
	return nil
}

func TestEditsDeleteSecretsNoTargetUses(t *testing.T) {
	store := &notFoundSecrets{held: map[string]bool{"door-token": true, "door-token-2": true, "shared-whsec": true, "door-token-3": true}}
	e, _ := newStoreEngine(t, Options{SecretStore: store})
	if err := e.Import(Config{Targets: []actions.Target{
		{Name: "Door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door",
			Auth:    actions.Auth{Kind: actions.AuthBearer, Token: "keyring:door-token"},
			Signing: actions.Signing{Secret: "keyring:shared-whsec"}},
		{Name: "Light", Enabled: true, Method: "GET", URL: "http://127.0.0.1/light",
			Signing: actions.Signing{Secret: "keyring:shared-whsec"}},
	}}); err != nil {
		t.Fatal(err)
	}
	deleted := func() []string {
		store.mu.Lock()
		defer store.mu.Unlock()
		out := store.names
		store.names = nil
		return out
	}
	events, unsub := e.Subscribe(16)
	defer unsub()

	// An edit (the window's, by ID) that replaces the token and drops the
	// shared signing secret: the old token goes, the shared one stays.
	door := targetNamed(t, e, "Door")
	door.Auth.Token, door.Signing = "keyring:door-token-2", actions.Signing{}
	if err := e.UpdateTarget(door); err != nil {
		t.Fatal(err)
	}
	if got := deleted(); !slices.Equal(got, []string{"door-token"}) {
		t.Errorf("after an edit: deleted %q, want only door-token (Light still uses shared-whsec)", got)
	}
	// An edit that keeps its references deletes nothing.
	door = targetNamed(t, e, "Door")
	door.URL = "http://127.0.0.1/door2"
	if err := e.UpdateTarget(door); err != nil {
		t.Fatal(err)
	}
	if got := deleted(); len(got) != 0 {
		t.Errorf("an edit that kept its secrets deleted %q", got)
	}

	// An import (the command line's and the control socket's way) that
	// replaces targets by name does the same.
	if err := e.Import(Config{Targets: []actions.Target{
		{Name: "door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door",
			Auth: actions.Auth{Kind: actions.AuthBearer, Token: "env:DOOR_TOKEN"}},
		{Name: "Light", Enabled: true, Method: "GET", URL: "http://127.0.0.1/light",
			Signing: actions.Signing{Secret: "keyring:door-token-3"}},
	}}); err != nil {
		t.Fatal(err)
	}
	if got := deleted(); !slices.Equal(got, []string{"door-token-2", "shared-whsec"}) {
		t.Errorf("after an import: deleted %q, want door-token-2 and shared-whsec", got)
	}
	for len(events) > 0 {
		if ev := <-events; ev.Kind == Notice {
			t.Errorf("a notice when every delete worked: %q", ev.Message)
		}
	}

	// A secret already gone is no problem; one that cannot be deleted is
	// reported, and the edit is saved anyway.
	for _, ref := range []actions.SecretRef{"keyring:door-token", "", "keyring:locked-one", ""} {
		if ref == "" && strings.Contains(string(targetNamed(t, e, "Light").Signing.Secret), "locked") {
			store.fail = errors.New("the keyring is locked")
		}
		light := targetNamed(t, e, "Light")
		light.Signing = actions.Signing{Secret: ref}
		if err := e.UpdateTarget(light); err != nil {
			t.Fatal(err)
		}
		if got := targetNamed(t, e, "Light"); got.Signing.Secret != ref {
			t.Errorf("the edit was not saved: %+v", got.Signing)
		}
	}
	if got := deleted(); !slices.Equal(got, []string{"door-token-3", "door-token", "locked-one"}) {
		t.Errorf("deleted %q, want door-token-3, door-token (already gone) and locked-one (failed)", got)
	}
	var notices []string
	for len(events) > 0 {
		if ev := <-events; ev.Kind == Notice {
			notices = append(notices, ev.Message)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "Saved Light") || !strings.Contains(notices[0], "locked-one (signing.secret)") || !strings.Contains(notices[0], "is locked") {
		t.Errorf("notices %q, want one saying Light's old secret locked-one could not be deleted", notices)
	}
}

func targetNamed(t *testing.T, e *Engine, name string) actions.Target {
	t.Helper()
	tg, err := e.targetNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
