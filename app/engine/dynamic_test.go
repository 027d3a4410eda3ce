package engine

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

// pathServer is a webhook server that reports each request's path and
// query, and answers 200.
func pathServer(t *testing.T) (*httptest.Server, <-chan string) {
	t.Helper()
	got := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.RequestURI()
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// next waits for the next request pathServer reports.
func next(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no request within 5 s")
		return ""
	}
}

// saved imports targets and returns them as configured, by name.
func saved(t *testing.T, e *Engine, ts ...actions.Target) map[string]actions.Target {
	t.Helper()
	if err := e.Import(Config{Targets: ts}); err != nil {
		t.Fatal(err)
	}
	out := map[string]actions.Target{}
	for _, tg := range e.Config().Targets {
		out[tg.Name] = tg
	}
	return out
}

func TestDynamicURLSetGetClearAndPersist(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	ts := saved(t, e,
		actions.Target{Name: "Gate", Enabled: true, Method: "POST", Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"hooks.example.com", "x.example"}}},
		actions.Target{Name: "Door", Enabled: true, Method: "GET", URL: "https://door.example/x"})
	gate, door := ts["Gate"].ID, ts["Door"].ID

	if d, err := e.DynamicURL(gate); err != nil || d != (DynamicURL{}) {
		t.Errorf("DynamicURL before any set = %+v, %v; want zero, nil", d, err)
	}
	for _, tt := range []struct {
		name string
		err  error
		do   func() error
	}{
		{"get unknown", ErrUnknownTarget, func() error { _, err := e.DynamicURL("nope"); return err }},
		{"set unknown", ErrUnknownTarget, func() error { _, err := e.SetDynamicURL("nope", "https://x.example"); return err }},
		{"clear unknown", ErrUnknownTarget, func() error { return e.ClearDynamicURL("nope") }},
		{"get static", ErrNotDynamic, func() error { _, err := e.DynamicURL(door); return err }},
		{"set static", ErrNotDynamic, func() error { _, err := e.SetDynamicURL(door, "https://x.example"); return err }},
		{"clear static", ErrNotDynamic, func() error { return e.ClearDynamicURL(door) }},
		{"a name is no ID", ErrUnknownTarget, func() error { _, err := e.SetDynamicURL("Gate", "https://x.example"); return err }},
		{"not http", ErrBadDynamicURL, func() error { _, err := e.SetDynamicURL(gate, "ftp://x.example/f"); return err }},
		{"no URL", ErrBadDynamicURL, func() error { _, err := e.SetDynamicURL(gate, ""); return err }},
		{"user info", ErrBadDynamicURL, func() error { _, err := e.SetDynamicURL(gate, "https://me:pw@x.example/"); return err }},
	} {
		if err := tt.do(); !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
		}
	}
	_, err := e.SetDynamicURL(gate, "ftp://x.example/f")
	if want := "must start with http:// or https://"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a bad URL's error %q, want it to say %q", err, want)
	}

	events, unsub := e.Subscribe(8)
	defer unsub()
	const u = "https://hooks.example.com/press?token=s3cret"
	set, err := e.SetDynamicURL(gate, " "+u+" ")
	if err != nil {
		t.Fatal(err)
	}
	if set.URL != u || set.Set.IsZero() {
		t.Errorf("SetDynamicURL = %+v, want %s and the time it was set", set, u)
	}
	if ev := <-events; ev.Kind != ConfigChanged {
		t.Errorf("event %+v, want ConfigChanged", ev)
	}
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e2.DynamicURL(gate); err != nil || got.URL != u || !got.Set.Equal(set.Set) {
		t.Errorf("after reopening: %+v, %v; want %+v", got, err, set)
	}
	// Runtime state set by the other side: not in an export.
	data, err := json.Marshal(e.Export())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "/press?token") {
		t.Errorf("the export carries the dynamic URL: %s", data)
	}

	if err := e.ClearDynamicURL(gate); err != nil {
		t.Fatal(err)
	}
	if err := e.ClearDynamicURL(gate); err != nil {
		t.Errorf("clearing twice: %v", err)
	}
	e3, _ := New(Options{Store: db})
	if got, _ := e3.DynamicURL(gate); got != (DynamicURL{}) {
		t.Errorf("after clearing and reopening: %+v, want none", got)
	}

	// Deleting the target deletes its URL.
	if _, err := e.SetDynamicURL(gate, u); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteTarget("Gate"); err != nil {
		t.Fatal(err)
	}
	if docs, err := db.Config(kindDynamicURL); err != nil || len(docs) != 0 {
		t.Errorf("dynamic URLs stored after the target was deleted: %q, %v", docs, err)
	}
	if _, err := e.DynamicURL(gate); !errors.Is(err, ErrUnknownTarget) {
		t.Errorf("DynamicURL of the deleted target: %v, want ErrUnknownTarget", err)
	}
}

func TestDynamicPressGoesToTheURLSet(t *testing.T) {
	srv, got := pathServer(t)
	e, _ := newStoreEngine(t, Options{})
	gate := saved(t, e, actions.Target{Name: "Gate", Enabled: true, Method: "POST", Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"127.0.0.1"}}})["Gate"]
	ctx := context.Background()

	// Neither a URL set nor one of its own: nothing is sent.
	a, err := e.Fire(ctx, "Gate")
	if err != nil {
		t.Fatal(err)
	}
	want := `target "Gate" is dynamic and no URL has been set yet: PUT it to /api/v1/targets/` + gate.ID + `/url`
	if a.Status != storage.StatusFailed || !strings.Contains(a.Error, want) || a.ErrorClass != errorDynamic {
		t.Errorf("fire without a URL: %s %q (class %q), want Failed, %q, class %q", a.Status, a.Error, a.ErrorClass, want, errorDynamic)
	}
	if r := e.TestTarget(ctx, gate); r.OK || r.Err == nil || !strings.Contains(r.Err.Error(), want) {
		t.Errorf("test without a URL: %+v, want the same failure", r)
	}

	if _, err := e.SetDynamicURL(gate.ID, srv.URL+"/dynamic?token=s3cret"); err != nil {
		t.Fatal(err)
	}
	a, err = e.Fire(ctx, "Gate")
	if err != nil {
		t.Fatal(err)
	}
	if p := next(t, got); p != "/dynamic?token=s3cret" {
		t.Errorf("the request went to %s, want /dynamic?token=s3cret", p)
	}
	if a.Status != storage.StatusOK || strings.Contains(a.URL, "s3cret") || !strings.Contains(a.URL, srv.URL+"/dynamic?token=REDACTED") {
		t.Errorf("attempt %s with URL %q, want OK with the dynamic URL redacted", a.Status, a.URL)
	}
	stored, err := e.Search(storage.Query{TargetID: gate.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stored.Attempts {
		if strings.Contains(s.URL, "s3cret") {
			t.Errorf("a stored attempt carries the secret: %q", s.URL)
		}
	}
	if r := e.TestTarget(ctx, gate); !r.OK || next(t, got) != "/dynamic?token=s3cret" {
		t.Errorf("test run: %+v, want OK at the dynamic URL", r)
	}

	// Its own URL is the fallback while none is set.
	gate.URL = srv.URL + "/own"
	if err := e.UpdateTarget(gate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fire(ctx, "Gate"); err != nil {
		t.Fatal(err)
	}
	if p := next(t, got); p != "/dynamic?token=s3cret" {
		t.Errorf("with a URL of its own and one set: went to %s, want the one set", p)
	}
	if err := e.ClearDynamicURL(gate.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fire(ctx, "Gate"); err != nil {
		t.Fatal(err)
	}
	if p := next(t, got); p != "/own" {
		t.Errorf("after clearing: went to %s, want its own URL /own", p)
	}
}

func TestDynamicURLSecretsStayWithTheirHosts(t *testing.T) {
	_, got := pathServer(t)
	e, _ := newStoreEngine(t, Options{})
	bearer := actions.Auth{Kind: actions.AuthBearer, Token: "env:GATE_TOKEN"}
	ts := saved(t, e,
		actions.Target{Name: "Own host", Method: "POST", URL: "http://127.0.0.1:9/own", Auth: bearer, Dynamic: actions.Dynamic{Enabled: true}},
		actions.Target{Name: "Listed", Method: "POST", Auth: bearer, Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"*.example.com", "127.0.0.1"}}},
		actions.Target{Name: "Unlisted", Method: "POST", Auth: bearer, Dynamic: actions.Dynamic{Enabled: true}},
		actions.Target{Name: "Header", Method: "POST", URL: "https://api.example.com/x", Headers: []actions.KV{{Key: "X-Api-Key", Value: "abc"}}, Dynamic: actions.Dynamic{Enabled: true}},
		actions.Target{Name: "Open", Enabled: true, Method: "POST", Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"anywhere.example"}}},
		actions.Target{Name: "Own body", Method: "POST", URL: "http://hooks.example.com/x", Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"k":"anything"}`}, Dynamic: actions.Dynamic{Enabled: true}},
	)
	for _, tt := range []struct {
		target, url, refusal string // refusal "" means accepted
	}{
		{"Own host", "http://127.0.0.1:8080/other-port", ""},
		{"Own host", "http://localhost:9/own", "may only be set to URLs on its own host, 127.0.0.1"},
		{"Own host", "http://attacker.example/", "may only be set to URLs on its own host, 127.0.0.1"},
		{"Listed", "https://a.example.com/x", ""},
		{"Listed", "https://a.b.example.com/x", ""},
		{"Listed", "http://127.0.0.1/x", ""},
		{"Listed", "https://example.com/x", "is not one target \"Listed\" allows (*.example.com, 127.0.0.1)"},
		{"Listed", "https://evil-example.com/x", "is not one target"},
		{"Unlisted", "https://anything.example/", "lists no hosts its URL may be set to, and has no URL of its own"},
		{"Header", "https://api.example.com/y", ""},
		{"Header", "https://other.example.com/y", "may only be set to URLs on its own host, api.example.com"},
		{"Header", "http://api.example.com/y", "sends secrets (headers[0] (X-Api-Key)): its URL must be https://"},
		{"Open", "https://anywhere.example/", ""},
		{"Open", "https://elsewhere.example/", "is not one target"},
		// No secret, but a body that may hold anything: its own host only.
		{"Own body", "http://hooks.example.com/y", ""},
		{"Own body", "https://collector.example/", "may only be set to URLs on its own host, hooks.example.com"},
	} {
		_, err := e.SetDynamicURL(ts[tt.target].ID, tt.url)
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s %s: %v, want it accepted", tt.target, tt.url, err)
		case tt.refusal != "" && (!errors.Is(err, ErrBadDynamicURL) || !strings.Contains(err.Error(), tt.refusal)):
			t.Errorf("%s %s: error %v, want ErrBadDynamicURL saying %q", tt.target, tt.url, err, tt.refusal)
		}
	}

	// A URL set while the target carried no secret is checked again at
	// each press: after auth is added, it is not sent there (over http).
	open := ts["Open"]
	if _, err := e.SetDynamicURL(open.ID, "http://anywhere.example/x"); err != nil {
		t.Fatal(err)
	}
	open.Auth = bearer
	if err := e.UpdateTarget(open); err != nil {
		t.Fatal(err)
	}
	a, err := e.Fire(context.Background(), "Open")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != storage.StatusFailed || a.ErrorClass != errorDynamic || !strings.Contains(a.Error, `target "Open" no longer allows the URL the API set`) {
		t.Errorf("fire after auth was added: %s %q (class %q), want Failed: no longer allowed", a.Status, a.Error, a.ErrorClass)
	}
	select {
	case p := <-got:
		t.Errorf("a request reached %s", p)
	default:
	}
}
