package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// targetNamed finds a target by name, or says how to list them.
func (e *Engine) targetNamed(name string) (actions.Target, error) {
	c := e.Config()
	if t, ok := c.targetByName(name); ok {
		return t, nil
	}
	return actions.Target{}, fmt.Errorf("no target named %q (see buttonhook targets list)", name)
}

// SecretDeleter deletes secrets from the OS keyring by name (storage/secrets'
// Keyring is one).
type SecretDeleter interface {
	Delete(name string) error
}

// UpdateTarget saves t over the configured target with t's ID: a new name
// renames it (its bindings and secrets follow it, as they refer to the ID
// and to their own names). Its creation time is kept and its version goes
// up. The OS-keyring secrets the target no longer refers to and no other
// target uses are deleted (as by DeleteTarget). Problems are reported as an
// ImportError.
func (e *Engine) UpdateTarget(t actions.Target) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	i := slices.IndexFunc(c.Targets, func(o actions.Target) bool { return o.ID == t.ID })
	if t.ID == "" || i < 0 {
		return fmt.Errorf("no target with id %q: it may have been deleted", t.ID)
	}
	errs := ImportError(targetProblems("targets[0]", t))
	if other, ok := c.targetByName(t.Name); ok && other.ID != t.ID {
		errs = append(errs, fmt.Sprintf("targets[0].name: %q is the name of another target", other.Name))
	}
	if len(errs) > 0 {
		return errs
	}
	old := c.Targets[i]
	t.Created, t.Version, t.Updated = old.Created, old.Version+1, time.Now().UTC()
	c.Targets[i] = t
	if err := e.store.ApplyConfig([]storage.ConfigChange{docChange(kindTarget, t.ID, t)}); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	before := e.Config().Targets
	c.sort()
	e.setConfig(c)
	e.deleteUnusedSecrets(before, c.Targets)
	return nil
}

// DeleteTarget deletes the target with the given ID or name, its bindings,
// its dynamic URL and its place in API keys' scopes (a key that covered it
// alone is revoked), then the OS-keyring secrets it referred to that no
// other target uses. A secret that cannot be deleted is reported as a
// notice; the target is gone either way.
func (e *Engine) DeleteTarget(idOrName string) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	t, ok := c.target(idOrName)
	if !ok {
		if t, ok = c.targetByName(idOrName); !ok {
			return fmt.Errorf("no target named %q (see buttonhook targets list)", idOrName)
		}
	}
	changes := []storage.ConfigChange{{Kind: kindTarget, ID: t.ID}}
	c.Targets = slices.DeleteFunc(c.Targets, func(o actions.Target) bool { return o.ID == t.ID })
	c.Bindings = slices.DeleteFunc(c.Bindings, func(b Binding) bool {
		if b.Target == t.ID {
			changes = append(changes, storage.ConfigChange{Kind: kindBinding, ID: b.ID})
			return true
		}
		return false
	})
	c, forget := c.forgetTarget(t.ID) // its dynamic URL, and it in API keys' scopes
	if err := e.store.ApplyConfig(append(changes, forget...)); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	before := e.Config().Targets
	e.setConfig(c)
	e.deleteUnusedSecrets(before, c.Targets)
	return nil
}

// deleteUnusedSecrets deletes the OS-keyring secrets that the targets
// before a change referred to and the targets after it do not. A secret that
// is already gone is fine; one that cannot be deleted is reported as a
// notice (the change is made either way). Callers hold cfgMu, so no other
// change can start using a secret while it is deleted.
func (e *Engine) deleteUnusedSecrets(before, after []actions.Target) {
	if e.secretStore == nil {
		return
	}
	used := map[actions.SecretRef]bool{}
	kept := map[string]bool{} // target IDs
	for _, t := range after {
		kept[t.ID] = true
		for _, ref := range t.SecretRefs() {
			used[ref] = true
		}
	}
	for _, t := range before {
		refs := t.SecretRefs()
		for _, field := range slices.Sorted(maps.Keys(refs)) {
			ref := refs[field]
			name, isKeyring := strings.CutPrefix(string(ref), "keyring:")
			if !isKeyring || used[ref] {
				continue
			}
			used[ref] = true // deleted once, even if several targets left it
			err := e.secretStore.Delete(name)
			if err == nil || errors.Is(err, secrets.ErrNotFound) {
				continue
			}
			done := "Deleted " + t.Name
			if kept[t.ID] {
				done = "Saved " + t.Name
			}
			e.log.Warn("cannot delete a secret no target uses", "target", t.Name, "field", field, "err", err)
			e.bus.publish(Event{Kind: Notice, Message: fmt.Sprintf("%s, but its old secret %s (%s) could not be deleted from the OS keyring: %v. No target uses it now: delete it in your keyring's app (service %q).", done, name, field, err, secrets.Service)})
		}
	}
}

// setConfig installs a saved config and tells subscribers.
func (e *Engine) setConfig(c Config) {
	e.cfg.Lock()
	e.config = c
	e.cfg.Unlock()
	e.bus.publish(Event{Kind: ConfigChanged})
}
