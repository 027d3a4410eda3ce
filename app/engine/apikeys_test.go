package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

var keyRE = regexp.MustCompile(`^bhk_([0-9a-f]{16})_([A-Za-z0-9_-]{32})$`)

func TestAPIKeyCreateAuthorizeRevoke(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	ts := saved(t, e,
		actions.Target{Name: "Gate", Method: "POST", Dynamic: actions.Dynamic{Enabled: true}},
		actions.Target{Name: "Door", Method: "POST", Dynamic: actions.Dynamic{Enabled: true}})
	gate, door := ts["Gate"].ID, ts["Door"].ID

	key, k, err := e.CreateAPIKey("home server", []string{"gate", door, "Gate"}, false)
	if err != nil {
		t.Fatal(err)
	}
	m := keyRE.FindStringSubmatch(key)
	if m == nil || m[1] != k.ID {
		t.Fatalf("key %q, want bhk_<id %s>_<32 characters of base64url: 192 bits>", key, k.ID)
	}
	if k.Name != "home server" || !slices.Equal(k.Targets, []string{gate, door}) || k.AllTargets || k.Created.IsZero() || !k.LastUsed.IsZero() {
		t.Errorf("key as listed = %+v, want its name, targets %q (names resolved, once each), a creation time", k, []string{gate, door})
	}
	other, _, err := e.CreateAPIKey("ci", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if other == key || keyID(other) == k.ID {
		t.Errorf("two keys alike: %q and %q", key, other)
	}

	// Only the hash is stored: neither the key nor its secret part.
	docs, err := db.Config(kindAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range docs {
		for _, s := range []string{key, m[2], other, other[len(other)-32:]} {
			if bytes.Contains(d, []byte(s)) {
				t.Errorf("stored key %s holds a key or its secret: %s", id, d)
			}
		}
	}

	for _, tt := range []struct {
		name, key, target string
		err               error
	}{
		{"right key, its target", key, gate, nil},
		{"right key, its other target", key, door, nil},
		{"right key, another target", key, "elsewhere", ErrKeyScope},
		{"all targets", other, "anything", nil},
		{"wrong secret", key[:len(key)-1] + flip(key[len(key)-1]), gate, ErrBadAPIKey},
		{"unknown id", "bhk_0000000000000000_" + m[2], gate, ErrBadAPIKey},
		{"empty", "", gate, ErrBadAPIKey},
		{"no prefix", strings.TrimPrefix(key, "bhk_"), gate, ErrBadAPIKey},
		{"no secret", "bhk_" + k.ID + "_", gate, ErrBadAPIKey},
		{"the hash itself", string(docs[k.ID]), gate, ErrBadAPIKey},
	} {
		got, err := e.Authorize(tt.key, tt.target)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
		}
		if tt.err == nil && got.ID != keyID(tt.key) {
			t.Errorf("%s: authorized as %+v", tt.name, got)
		}
	}

	// Keys survive a restart.
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Authorize(key, gate); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if got := e2.APIKeys(); len(got) != 2 || got[0].Name != "ci" || got[1].Name != "home server" {
		t.Errorf("APIKeys after reopening = %+v, want ci and home server, by name", got)
	}

	// Never exported.
	data, err := json.Marshal(e.Export())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), k.ID) || strings.Contains(string(data), "home server") {
		t.Errorf("the export carries API keys: %s", data)
	}

	if err := e.RevokeAPIKey("HOME SERVER"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Authorize(key, gate); !errors.Is(err, ErrBadAPIKey) {
		t.Errorf("a revoked key: %v, want ErrBadAPIKey", err)
	}
	if err := e.RevokeAPIKey(k.ID); !errors.Is(err, ErrUnknownAPIKey) {
		t.Errorf("revoking twice: %v, want ErrUnknownAPIKey", err)
	}
	if err := e.RevokeAPIKey(keyID(other)); err != nil {
		t.Errorf("revoke by ID: %v", err)
	}
	if docs, _ := db.Config(kindAPIKey); len(docs) != 0 {
		t.Errorf("revoked keys still stored: %q", docs)
	}
	if got := e.APIKeys(); len(got) != 0 {
		t.Errorf("APIKeys after revoking both = %+v", got)
	}
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestAPIKeyCreateRefused(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	saved(t, e, actions.Target{Name: "Gate", Method: "POST", Dynamic: actions.Dynamic{Enabled: true}})
	if _, _, err := e.CreateAPIKey("taken", nil, true); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		keyName string
		targets []string
		all     bool
		want    string
	}{
		{"no name", "  ", nil, true, "needs a name"},
		{"long name", strings.Repeat("x", MaxAPIKeyName+1), nil, true, "longer than 80"},
		{"line break", "a\nb", nil, true, "control characters"},
		{"taken name", "TAKEN", nil, true, `already an API key named "TAKEN"`},
		{"no scope", "k", nil, false, "say which targets"},
		{"both scopes", "k", []string{"Gate"}, true, "not both"},
		{"unknown target", "k", []string{"Gate", "Nope"}, false, `no target named "Nope"`},
	} {
		_, _, err := e.CreateAPIKey(tt.keyName, tt.targets, tt.all)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, _, err := e.CreateAPIKey("k", []string{"Nope"}, false); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("unknown target: %v, want ErrUnknownTarget", err)
	}
	if got := e.APIKeys(); len(got) != 1 {
		t.Errorf("refused creates made keys: %+v", got)
	}
}

func TestAPIKeyLastUsedIsSavedCoarsely(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	key, k, err := e.CreateAPIKey("ci", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		t.Helper()
		docs, err := db.Config(kindAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		var d keyDoc
		if err := json.Unmarshal(docs[k.ID], &d); err != nil {
			t.Fatal(err)
		}
		return d.LastUsed
	}
	if _, err := e.Authorize(key, "x"); err != nil {
		t.Fatal(err)
	}
	first := stored()
	if first.IsZero() {
		t.Fatal("the first use was not saved")
	}
	if _, err := e.Authorize(key, "x"); err != nil {
		t.Fatal(err)
	}
	listed := e.APIKeys()[0].LastUsed
	if !listed.After(first) {
		t.Errorf("listed last use %v, want the second use, after %v", listed, first)
	}
	if got := stored(); !got.Equal(first) {
		t.Errorf("a second use within a minute was saved: %v, want %v kept", got, first)
	}
	// A minute after the last save, a use is saved again.
	e.cfg.Lock()
	ak := e.config.keys[k.ID]
	e.cfg.Unlock()
	ak.mu.Lock()
	ak.saved = ak.saved.Add(-lastUsedEvery)
	ak.mu.Unlock()
	if _, err := e.Authorize(key, "x"); err != nil {
		t.Fatal(err)
	}
	if got := stored(); !got.After(first) {
		t.Errorf("a use a minute later was not saved: %v", got)
	}
	// A wrong key records nothing.
	before := e.APIKeys()[0].LastUsed
	if _, err := e.Authorize(key+"x", "x"); !errors.Is(err, ErrBadAPIKey) {
		t.Fatal(err)
	}
	if got := e.APIKeys()[0].LastUsed; !got.Equal(before) {
		t.Errorf("a wrong key changed the last use")
	}
	// A use just after a revoke does not bring the key back.
	if err := e.RevokeAPIKey("ci"); err != nil {
		t.Fatal(err)
	}
	e.saveLastUse(ak)
	if docs, _ := db.Config(kindAPIKey); len(docs) != 0 {
		t.Errorf("saving a revoked key's last use stored it again: %q", docs)
	}
}

func TestDeletedTargetLeavesKeyScopes(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	ts := saved(t, e,
		actions.Target{Name: "Gate", Method: "POST", Dynamic: actions.Dynamic{Enabled: true}},
		actions.Target{Name: "Door", Method: "POST", Dynamic: actions.Dynamic{Enabled: true}})
	both, _, err := e.CreateAPIKey("both", []string{"Gate", "Door"}, false)
	if err != nil {
		t.Fatal(err)
	}
	gateOnly, _, err := e.CreateAPIKey("gate only", []string{"Gate"}, false)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := e.CreateAPIKey("all", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Authorize(both, ts["Gate"].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteTarget("Gate"); err != nil {
		t.Fatal(err)
	}
	keys := e.APIKeys()
	if len(keys) != 2 || keys[0].Name != "all" || keys[1].Name != "both" || !slices.Equal(keys[1].Targets, []string{ts["Door"].ID}) {
		t.Errorf("keys after deleting Gate = %+v, want all, and both with Door alone (gate only, covering nothing, revoked)", keys)
	}
	if keys[1].LastUsed.IsZero() {
		t.Errorf("the scope change lost the key's last use")
	}
	if _, err := e.Authorize(both, ts["Door"].ID); err != nil {
		t.Errorf("both, for Door: %v", err)
	}
	if _, err := e.Authorize(both, ts["Gate"].ID); !errors.Is(err, ErrKeyScope) {
		t.Errorf("both, for the deleted Gate: %v, want ErrKeyScope", err)
	}
	if _, err := e.Authorize(gateOnly, ts["Gate"].ID); !errors.Is(err, ErrBadAPIKey) {
		t.Errorf("gate only: %v, want ErrBadAPIKey (revoked with its last target)", err)
	}
	if _, err := e.Authorize(all, ts["Door"].ID); err != nil {
		t.Errorf("all: %v", err)
	}
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.APIKeys(); len(got) != 2 || !slices.Equal(got[1].Targets, []string{ts["Door"].ID}) {
		t.Errorf("after reopening: %+v", got)
	}
}

// BenchmarkAuthorize measures the REST API's key check: a lookup, a
// SHA-256 and a constant-time comparison.
func BenchmarkAuthorize(b *testing.B) {
	db, err := storage.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	e, err := New(Options{Store: db})
	if err != nil {
		b.Fatal(err)
	}
	key, _, err := e.CreateAPIKey("bench", nil, true)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Authorize(key, "x"); err != nil {
			b.Fatal(err)
		}
	}
}
