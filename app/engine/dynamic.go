package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

// Dynamic targets (bt.tn's dynamic webhooks): the user's own server sets a
// target's URL through the local server's REST API
// (PUT /api/v1/targets/{id}/url). The URL is runtime state set by the other
// side: stored with the config (kind "dynamic_url"), so it survives a
// restart, deleted with its target, and never exported. See docs/targets.md.

// kindDynamicURL is the storage kind of the dynamic URLs, by target ID.
const kindDynamicURL = "dynamic_url"

// errorDynamic is the error class of an attempt that was not sent because
// its dynamic target had no usable URL.
const errorDynamic = "dynamic"

// Errors of the dynamic URL API.
var (
	// ErrUnknownTarget: no target has the ID (or name) given.
	ErrUnknownTarget = errors.New("no such target")
	// ErrNotDynamic: the target's URL is not settable through the API.
	ErrNotDynamic = errors.New("the target is not dynamic: turn on its dynamic URL in Buttonhook first")
	// ErrBadDynamicURL: the URL is not one the target may be sent to.
	ErrBadDynamicURL = errors.New("the URL cannot be used for this target")
)

// errNoDynamicURL fails an attempt of a dynamic target that has no usable
// URL; nothing was sent.
var errNoDynamicURL = errors.New("no dynamic URL")

// DynamicURL is a dynamic target's URL as the API set it.
type DynamicURL struct {
	URL string    `json:"url"`
	Set time.Time `json:"set"` // zero when never set
}

// reasonError is an error with its own message that is also one of the
// sentinels above (errors.Is finds it).
type reasonError struct {
	msg  string
	kind error
}

func (e reasonError) Error() string { return e.msg }
func (e reasonError) Unwrap() error { return e.kind }

func reasonf(kind error, format string, args ...any) error {
	return reasonError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// dynamicTarget returns the dynamic target with the given ID.
func (c *Config) dynamicTarget(id string) (actions.Target, error) {
	t, ok := c.target(id)
	if !ok {
		return t, reasonf(ErrUnknownTarget, "no target with id %q (see buttonhook targets export for the ids)", id)
	}
	if !t.Dynamic.Enabled {
		return t, reasonf(ErrNotDynamic, "target %q is not dynamic: turn on its dynamic URL in Buttonhook first", t.Name)
	}
	return t, nil
}

// DynamicURL returns the URL the API set for the dynamic target with the
// given ID (a zero DynamicURL when none is set). The URL is returned as
// set: redact it (actions.RedactURL) before showing it to anyone but its
// setter.
func (e *Engine) DynamicURL(targetID string) (DynamicURL, error) {
	e.cfg.Lock()
	defer e.cfg.Unlock()
	if _, err := e.config.dynamicTarget(targetID); err != nil {
		return DynamicURL{}, err
	}
	return e.config.dynamic[targetID], nil
}

// SetDynamicURL sets the URL of the dynamic target with the given ID, after
// actions.Target.CheckDynamicURL (a valid http(s) URL, on a host the target
// allows; a target that carries secrets only to its own hosts). A URL it
// refuses is reported wrapping ErrBadDynamicURL. The URL is stored at once
// and used by the presses that start afterwards.
func (e *Engine) SetDynamicURL(targetID, rawURL string) (DynamicURL, error) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	t, err := c.dynamicTarget(targetID)
	if err != nil {
		return DynamicURL{}, err
	}
	rawURL = strings.TrimSpace(rawURL)
	if err := t.CheckDynamicURL(rawURL); err != nil {
		return DynamicURL{}, fmt.Errorf("%w: %v", ErrBadDynamicURL, err)
	}
	d := DynamicURL{URL: rawURL, Set: time.Now().UTC()}
	c.dynamic = with(c.dynamic, t.ID, d)
	if err := e.commit(c, "save the dynamic URL", docChange(kindDynamicURL, t.ID, d)); err != nil {
		return DynamicURL{}, err
	}
	e.log.Info("dynamic URL set", "target", t.Name, "url", actions.RedactURL(rawURL))
	return d, nil
}

// ClearDynamicURL removes the URL the API set for the dynamic target with
// the given ID: presses go to the target's own URL again, or fail when it
// has none. Clearing a target that has none is not an error.
func (e *Engine) ClearDynamicURL(targetID string) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	t, err := c.dynamicTarget(targetID)
	if err != nil {
		return err
	}
	if _, ok := c.dynamic[t.ID]; !ok {
		return nil
	}
	c.dynamic = without(c.dynamic, t.ID)
	if err := e.commit(c, "clear the dynamic URL", storage.ConfigChange{Kind: kindDynamicURL, ID: t.ID}); err != nil {
		return err
	}
	e.log.Info("dynamic URL cleared", "target", t.Name)
	return nil
}

// withDynamicURL returns t with the URL its attempts go to: for a dynamic
// target, the URL the API set, checked again against the target as it is
// now (its hosts or secrets may have changed since), or else its own URL.
// The error (wrapping errNoDynamicURL) fails the attempt: there is nowhere
// it may be sent.
func (e *Engine) withDynamicURL(t actions.Target) (actions.Target, error) {
	if !t.Dynamic.Enabled {
		return t, nil
	}
	e.cfg.Lock()
	d, ok := e.config.dynamic[t.ID]
	e.cfg.Unlock()
	switch {
	case !ok && t.URL == "":
		return t, fmt.Errorf("%w: target %q is dynamic and no URL has been set yet: PUT it to /api/v1/targets/%s/url", errNoDynamicURL, t.Name, t.ID)
	case !ok:
		return t, nil
	}
	if err := t.CheckDynamicURL(d.URL); err != nil {
		return t, fmt.Errorf("%w: target %q no longer allows the URL the API set (%s): %v; PUT a new one to /api/v1/targets/%s/url", errNoDynamicURL, t.Name, actions.RedactURL(d.URL), err, t.ID)
	}
	t.URL = d.URL
	return t, nil
}

// loadDynamicURLs reads the stored dynamic URLs, by target ID.
func loadDynamicURLs(st Store) (map[string]DynamicURL, error) {
	docs, err := st.Config(kindDynamicURL)
	if err != nil {
		return nil, fmt.Errorf("read dynamic URLs: %w", err)
	}
	out := make(map[string]DynamicURL, len(docs))
	for id, d := range docs {
		var u DynamicURL
		if err := json.Unmarshal(d, &u); err != nil {
			return nil, fmt.Errorf("read dynamic URL of target %s: %w", id, err)
		}
		out[id] = u
	}
	return out, nil
}

// commit stores changes and then installs c, the config they make (see
// setConfig); what says what was being done, for the error. Callers hold
// cfgMu.
func (e *Engine) commit(c Config, what string, changes ...storage.ConfigChange) error {
	if err := e.store.ApplyConfig(changes); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	e.setConfig(c)
	return nil
}

// with returns a copy of m with k set to v. The runtime state's maps are
// shared by copies of a Config, so they are replaced, never changed.
func with[V any](m map[string]V, k string, v V) map[string]V {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]V{}
	}
	out[k] = v
	return out
}

// without returns a copy of m without k (see with).
func without[V any](m map[string]V, k string) map[string]V {
	out := maps.Clone(m)
	delete(out, k)
	return out
}
