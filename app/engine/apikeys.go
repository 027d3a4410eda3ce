package engine

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/storage"
)

// API keys authorize the local server's REST API (dynamic URLs). A key is
// shown once, when it is created; the store keeps only its SHA-256 hash.

// kindAPIKey is the storage kind of the API keys, by key ID.
const kindAPIKey = "apikey"

// keyPrefix starts every API key: "bhk_<id>_<secret>".
const keyPrefix = "bhk_"

// keySecretBytes is the size of a key's random secret: 192 bits.
const keySecretBytes = 24

// MaxAPIKeyName is the longest name an API key may have.
const MaxAPIKeyName = 80

// lastUsedEvery is how often a key's last use is saved: at most once a
// minute, so that a busy key does not cost a durable write per request.
const lastUsedEvery = time.Minute

// Errors of the API keys.
var (
	// ErrBadAPIKey: the key is wrong, malformed or revoked (HTTP 401).
	ErrBadAPIKey = errors.New("invalid API key")
	// ErrKeyScope: the key is right, but may not change this target (HTTP 403).
	ErrKeyScope = errors.New("this API key may not change this target")
	// ErrMalformedAPIKey: the key does not even have the shape of one
	// (bhk_ID_SECRET); it is an ErrBadAPIKey too. Such a key cannot be a
	// guess at a real one, so the server does not count it as a failure.
	ErrMalformedAPIKey = fmt.Errorf("%w: it is not a Buttonhook API key (bhk_...)", ErrBadAPIKey)
	// ErrUnknownAPIKey: no key has the ID or name given.
	ErrUnknownAPIKey = errors.New("no such API key")
)

// APIKey is an API key as listed: never the key itself.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Targets    []string  `json:"targets,omitempty"` // target IDs it may change; empty only when AllTargets
	AllTargets bool      `json:"all_targets,omitempty"`
	Created    time.Time `json:"created"`
	LastUsed   time.Time `json:"last_used,omitzero"`
}

// keyDoc is an API key as stored: with the hash of the key, never the key.
type keyDoc struct {
	APIKey
	SHA256 []byte `json:"sha256"`
}

// apiKey is a stored key in memory. Copies of a Config share it; only its
// last use changes, under mu. A change of anything else replaces it.
type apiKey struct {
	APIKey
	hash [sha256.Size]byte

	mu    sync.Mutex
	used  time.Time // last use, in memory
	saved time.Time // last use as saved
}

func newAPIKey(d keyDoc) *apiKey {
	k := &apiKey{APIKey: d.APIKey, used: d.LastUsed, saved: d.LastUsed}
	copy(k.hash[:], d.SHA256)
	return k
}

// listed returns k as listed.
func (k *apiKey) listed() APIKey {
	a := k.APIKey
	a.Targets = slices.Clone(a.Targets)
	k.mu.Lock()
	a.LastUsed = k.used
	k.mu.Unlock()
	return a
}

// doc returns k as stored.
func (k *apiKey) doc() keyDoc { return keyDoc{APIKey: k.listed(), SHA256: k.hash[:]} }

// with returns a new key with k's hash and last use and the given listing.
func (k *apiKey) with(a APIKey) *apiKey {
	d := k.doc()
	d.APIKey = a
	d.LastUsed = k.listed().LastUsed
	return newAPIKey(d)
}

// covers reports whether k may change the target with the given ID.
func (k *apiKey) covers(targetID string) bool {
	return k.AllTargets || slices.Contains(k.Targets, targetID)
}

// touch records a use at now and reports whether it should be saved.
func (k *apiKey) touch(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.used = now
	if now.Sub(k.saved) < lastUsedEvery {
		return false
	}
	k.saved = now
	return true
}

// hashKey hashes a key for storage and comparison. A fast hash is enough:
// keys carry 192 random bits, so no dictionary or brute-force search can
// find one from its hash, as it could a password.
func hashKey(key string) [sha256.Size]byte { return sha256.Sum256([]byte(key)) }

// keyID returns the ID part of a key, "" for a malformed one.
func keyID(key string) string {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok {
		return ""
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" {
		return ""
	}
	return id
}

// CreateAPIKey makes a key for the REST API named name, that may change
// the given targets (IDs or names), or every target when all is true (then
// targets must be empty). It returns the key, which is shown now and never
// again (only its hash is stored), and the key as listed.
func (e *Engine) CreateAPIKey(name string, targets []string, all bool) (string, APIKey, error) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", APIKey{}, errors.New("an API key needs a name: say who or what uses it, like \"home server\"")
	case len([]rune(name)) > MaxAPIKeyName:
		return "", APIKey{}, fmt.Errorf("the name is longer than %d characters", MaxAPIKeyName)
	case hasControl(name):
		return "", APIKey{}, errors.New("the name may not hold control characters or line breaks")
	case all && len(targets) > 0:
		return "", APIKey{}, errors.New("give the targets the key may change, or all targets, not both")
	case !all && len(targets) == 0:
		return "", APIKey{}, errors.New("say which targets the key may change (their names or ids), or give it all targets")
	}
	if _, err := c.apiKey(name); err == nil {
		return "", APIKey{}, fmt.Errorf("there is already an API key named %q: choose another name, or revoke that one", name)
	}
	k := APIKey{ID: newID(), Name: name, AllTargets: all, Created: time.Now().UTC()}
	for _, ref := range targets {
		t, ok := c.target(ref)
		if !ok {
			t, ok = c.targetByName(ref)
		}
		if !ok {
			return "", APIKey{}, reasonf(ErrUnknownTarget, "no target named %q (see buttonhook targets list)", ref)
		}
		if !slices.Contains(k.Targets, t.ID) {
			k.Targets = append(k.Targets, t.ID)
		}
	}
	secret := make([]byte, keySecretBytes)
	if _, err := rand.Read(secret); err != nil {
		return "", APIKey{}, fmt.Errorf("make a key: %w", err)
	}
	key := keyPrefix + k.ID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	h := hashKey(key)
	stored := newAPIKey(keyDoc{APIKey: k, SHA256: h[:]})
	c.keys = with(c.keys, k.ID, stored)
	if err := e.commit(c, "save the API key", docChange(kindAPIKey, k.ID, stored.doc())); err != nil {
		return "", APIKey{}, err
	}
	e.log.Info("API key created", "id", k.ID, "name", k.Name)
	return key, stored.listed(), nil
}

// APIKeys lists the API keys by name (never the keys themselves).
func (e *Engine) APIKeys() []APIKey {
	e.cfg.Lock()
	keys := slices.Collect(maps.Values(e.config.keys))
	e.cfg.Unlock()
	out := make([]APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.listed())
	}
	slices.SortFunc(out, func(a, b APIKey) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out
}

// apiKey finds a key by ID, or by name (case-insensitive).
func (c *Config) apiKey(idOrName string) (*apiKey, error) {
	if k, ok := c.keys[idOrName]; ok {
		return k, nil
	}
	for _, k := range c.keys {
		if strings.EqualFold(k.Name, idOrName) {
			return k, nil
		}
	}
	return nil, reasonf(ErrUnknownAPIKey, "no API key named %q (see buttonhook apikey list)", idOrName)
}

// RevokeAPIKey deletes the key with the given ID or name: from now on it
// authorizes nothing.
func (e *Engine) RevokeAPIKey(idOrName string) error {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	c := e.Config()
	k, err := c.apiKey(idOrName)
	if err != nil {
		return err
	}
	c.keys = without(c.keys, k.ID)
	if err := e.commit(c, "revoke the API key", storage.ConfigChange{Kind: kindAPIKey, ID: k.ID}); err != nil {
		return err
	}
	e.log.Info("API key revoked", "id", k.ID, "name", k.Name)
	return nil
}

// Authorize checks key for a change of the target with the given ID. It
// returns ErrBadAPIKey for a wrong, malformed or revoked key, and
// ErrKeyScope (with the key) for a right key that may not change the
// target. A malformed key, an unknown ID and a wrong secret take the same
// path: a map lookup, one hash, and a constant-time comparison.
func (e *Engine) Authorize(key, targetID string) (APIKey, error) {
	id := keyID(key)
	e.cfg.Lock()
	k := e.config.keys[id]
	e.cfg.Unlock()
	var want [sha256.Size]byte // matches no key: finding a preimage of it is infeasible
	if k != nil {
		want = k.hash
	}
	got := hashKey(key)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || k == nil {
		if id == "" {
			return APIKey{}, ErrMalformedAPIKey
		}
		return APIKey{}, ErrBadAPIKey
	}
	if now := time.Now().UTC(); k.touch(now) {
		e.saveLastUse(k)
	}
	if !k.covers(targetID) {
		return k.listed(), ErrKeyScope
	}
	return k.listed(), nil
}

// saveLastUse stores k's last use, unless k was revoked or changed
// meanwhile (a revoked key must not come back). A failure is logged only:
// the last use is informational.
func (e *Engine) saveLastUse(k *apiKey) {
	e.cfgMu.Lock()
	defer e.cfgMu.Unlock()
	e.cfg.Lock()
	current := e.config.keys[k.ID] == k
	e.cfg.Unlock()
	if !current {
		return
	}
	if err := e.store.ApplyConfig([]storage.ConfigChange{docChange(kindAPIKey, k.ID, k.doc())}); err != nil {
		e.log.Warn("cannot save an API key's last use", "id", k.ID, "name", k.Name, "err", err)
	}
}

// forgetTarget returns c without the deleted target's dynamic URL and
// without the target in the API keys' scopes (a key left with no target is
// revoked), and the store changes that make it so.
func (c Config) forgetTarget(id string) (Config, []storage.ConfigChange) {
	var changes []storage.ConfigChange
	if _, ok := c.dynamic[id]; ok {
		c.dynamic = without(c.dynamic, id)
		changes = append(changes, storage.ConfigChange{Kind: kindDynamicURL, ID: id})
	}
	keys := maps.Clone(c.keys)
	for kid, k := range c.keys {
		if !slices.Contains(k.Targets, id) {
			continue
		}
		a := k.listed()
		a.Targets = slices.DeleteFunc(a.Targets, func(t string) bool { return t == id })
		if len(a.Targets) == 0 && !a.AllTargets {
			delete(keys, kid)
			changes = append(changes, storage.ConfigChange{Kind: kindAPIKey, ID: kid})
			continue
		}
		keys[kid] = k.with(a)
		changes = append(changes, docChange(kindAPIKey, kid, keys[kid].doc()))
	}
	c.keys = keys
	return c, changes
}

// loadAPIKeys reads the stored API keys, by ID.
func loadAPIKeys(st Store) (map[string]*apiKey, error) {
	docs, err := st.Config(kindAPIKey)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	out := make(map[string]*apiKey, len(docs))
	for id, data := range docs {
		var d keyDoc
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("read API key %s: %w", id, err)
		}
		if len(d.SHA256) != sha256.Size {
			return nil, fmt.Errorf("read API key %s: its hash is %d bytes, not %d", id, len(d.SHA256), sha256.Size)
		}
		out[id] = newAPIKey(d)
	}
	return out, nil
}

// hasControl reports whether s holds a control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}
