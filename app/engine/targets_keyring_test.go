package engine

import (
	"crypto/rand"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// TestEditDeletesTheOldSecretInARealKeyring replaces a target's keyring
// secret in a real Secret Service and checks that the old one is gone and
// the new one kept. It runs when DBUS_SESSION_BUS_ADDRESS is set (make test
// runs it under .ci/with-services), is skipped otherwise, and fails with
// CI=true when there is no Secret Service.
func TestEditDeletesTheOldSecretInARealKeyring(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the real keyring test drives the Linux Secret Service")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but DBUS_SESSION_BUS_ADDRESS is unset: run the tests through .ci/with-services")
		}
		t.Skip("DBUS_SESSION_BUS_ADDRESS is unset: no Secret Service to test against")
	}
	k := secrets.Keyring{}
	oldName, newName := "buttonhook-test-old-"+rand.Text(), "buttonhook-test-new-"+rand.Text()
	for _, n := range []string{oldName, newName} {
		t.Cleanup(func() { k.Delete(n) })
		if err := k.Set(n, "value of "+n); err != nil {
			t.Fatalf("set %s in the keyring: %v", n, err)
		}
	}
	e, _ := newStoreEngine(t, Options{SecretStore: k})
	if err := e.Import(Config{Targets: []actions.Target{{Name: "Door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door",
		Auth: actions.Auth{Kind: actions.AuthBearer, Token: actions.SecretRef("keyring:" + oldName)}}}}); err != nil {
		t.Fatal(err)
	}
	door := targetNamed(t, e, "Door")
	door.Auth.Token = actions.SecretRef("keyring:" + newName)
	if err := e.UpdateTarget(door); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(oldName); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("the replaced secret: Get error = %v, want ErrNotFound (deleted)", err)
	}
	if v, err := k.Get(newName); err != nil || v != "value of "+newName {
		t.Errorf("the new secret: %q, %v; want it kept", v, err)
	}
}
