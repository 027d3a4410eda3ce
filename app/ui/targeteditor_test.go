package ui

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
)

// waitFor waits for the editor's goroutines of wg, failing after 10 s.
func waitFor(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func targetNamed(t *testing.T, e *engine.Engine, name string) actions.Target {
	t.Helper()
	for _, tg := range e.Config().Targets {
		if tg.Name == name {
			return tg
		}
	}
	t.Fatalf("no target %q in the config", name)
	return actions.Target{}
}

func selectAuth(a *authEditor, k actions.AuthKind) {
	for i, ak := range authKinds {
		if ak.kind == k {
			a.kind.SetSelectedIndex(i)
		}
	}
}

func TestNewTargetStoresTypedSecretInKeyring(t *testing.T) {
	const token = "s3cret-Token-VALUE"
	var got http.Header
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotQuery = r.Header.Clone(), r.URL.RawQuery
	}))
	defer srv.Close()
	store := &fakeSecrets{}
	w, e := newWindowWithSecrets(t, store)
	w.SetSecretStore(store)

	closed := false
	te := w.newTargetEditor(nil, func() { closed = true })
	test.Type(te.req.name, "Door bell")
	test.Type(te.req.url, srv.URL+"/hook")
	te.req.json.SetText(`{"event":"<ETYPE>"}`)
	test.Tap(te.req.query.addButton)
	test.Type(te.req.query.rows[0].key, "who")
	test.Type(te.req.query.rows[0].value, "<TARGET>")
	test.Tap(te.req.headers.addButton)
	test.Tap(te.req.headers.addButton)
	test.Type(te.req.headers.rows[0].key, "X-Source")
	test.Type(te.req.headers.rows[0].value, "buttonhook")
	test.Tap(te.req.headers.rows[1].remove) // an empty row, removed
	selectAuth(te.auth, actions.AuthBearer)
	test.Type(te.auth.token.value, token)
	test.Tap(te.save)
	waitFor(t, &te.saving, "the keyring write")

	if !closed {
		t.Fatalf("the dialog stayed open: %q", te.problem.Text)
	}
	tg := targetNamed(t, e, "Door bell")
	name, ok := strings.CutPrefix(string(tg.Auth.Token), "keyring:")
	if tg.Auth.Kind != actions.AuthBearer || !ok {
		t.Fatalf("saved auth = %+v, want bearer with a keyring: reference", tg.Auth)
	}
	if vals, _ := store.snapshot(); vals[name] != token || len(vals) != 1 {
		t.Errorf("keyring holds %v, want only %s = the token", vals, name)
	}
	if want := []actions.KV{{Key: "who", Value: "<TARGET>"}}; !reflect.DeepEqual(tg.Query, want) {
		t.Errorf("query = %v, want %v", tg.Query, want)
	}
	if want := []actions.KV{{Key: "X-Source", Value: "buttonhook"}}; !reflect.DeepEqual(tg.Headers, want) {
		t.Errorf("headers = %v, want %v", tg.Headers, want)
	}
	if tg.Method != "POST" || tg.Body.Kind != actions.BodyJSON {
		t.Errorf("method %s, body %s; want POST JSON", tg.Method, tg.Body.Kind)
	}
	doc, err := json.Marshal(e.Config())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), token) {
		t.Errorf("the config JSON holds the secret: %s", doc)
	}
	if strings.Contains(w.status.Text, token) {
		t.Errorf("the status line holds the secret: %q", w.status.Text)
	}

	// The engine sends it with the secret read from the store.
	if r := e.TestTarget(context.Background(), tg); !r.OK {
		t.Fatalf("test send failed: %s", r.Reason())
	}
	if got.Get("Authorization") != "Bearer "+token || got.Get("X-Source") != "buttonhook" || gotQuery != "who=Door+bell" {
		t.Errorf("server got Authorization %q, X-Source %q, query %q", got.Get("Authorization"), got.Get("X-Source"), gotQuery)
	}
}

// everyArea returns targets that together set every field of a target.
func everyArea(t *testing.T) []actions.Target {
	t.Helper()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}))
	kv := func(kvs ...string) []actions.KV {
		var out []actions.KV
		for i := 0; i < len(kvs); i += 2 {
			out = append(out, actions.KV{Key: kvs[i], Value: kvs[i+1]})
		}
		return out
	}
	return []actions.Target{{
		Name: "Everything", Enabled: true, Method: "PATCH", URL: "https://hooks.example.com/door?src=<NAME>",
		Query: kv("eid", "<EID>", "n", "<COUNTER>"), Headers: kv("X-Source", "buttonhook", "X-Empty", ""),
		Body:    actions.Body{Kind: actions.BodyJSON, JSON: "{\n  \"event\": \"<ETYPE>\",\n  \"n\": <COUNTER>\n}"},
		Auth:    actions.Auth{Kind: actions.AuthBearer, Token: "keyring:everything-0123456789abcdef.auth.token"},
		TLS:     actions.TLS{PinSHA256: actions.Fingerprint([]byte("a certificate"))},
		Timeout: 30, Follow: true,
		Success: actions.SuccessRule{StatusMin: 200, StatusMax: 202, JSONPointer: "/status", Equals: `"ok"`, Regexp: `^\{`},
		Async:   actions.Async{Enabled: true, Timeout: 90},
		Retry:   actions.Retry{MaxTries: 3},
		Signing: actions.Signing{Secret: "env:WEBHOOK_SECRET"},
	}, {
		Name: "Basic multipart", Method: "POST", URL: "https://example.com/upload",
		Body: actions.Body{Kind: actions.BodyMultipart, Form: kv("note", "<NAME> at <TIME>", "photo", "file:/tmp/snap.jpg")},
		Auth: actions.Auth{Kind: actions.AuthBasic, Username: "me", Password: "env:UPLOAD_PASSWORD"},
		TLS:  actions.TLS{CAPEM: ca}, Retry: actions.Retry{MaxTries: 1},
	}, {
		Name: "Digest raw", Enabled: true, Method: "PUT", URL: "https://192.0.2.1:8443/x",
		Body: actions.Body{Kind: actions.BodyRaw, ContentType: "application/xml", Text: "<?xml version=\"1.0\"?>\n<p><<NAME></p>"},
		Auth: actions.Auth{Kind: actions.AuthDigest, Username: "cam", Password: "keyring:digest-password"},
		TLS:  actions.TLS{Insecure: true}, Async: actions.Async{Enabled: true},
	}, {
		Name: "Key text", Enabled: true, Method: "POST", URL: "http://localhost:9000/t",
		Body: actions.Body{Kind: actions.BodyText, Text: "pressed <DATETIME>"},
		Auth: actions.Auth{Kind: actions.AuthAPIKey, Header: "X-Token", Key: "keyring:shared-key"},
	}, {
		Name: "OAuth form", Enabled: true, Method: "POST", URL: "https://api.example.com/events",
		Body: actions.Body{Kind: actions.BodyForm, Form: kv("a", "1", "b", "")},
		Auth: actions.Auth{Kind: actions.AuthOAuth2, TokenURL: "https://auth.example.com/token", ClientID: "bh",
			ClientSecret: "env:CLIENT_SECRET", Scopes: []string{"events:write", "read"}},
		Success: actions.SuccessRule{Regexp: "accepted"},
	}, {
		Name: "Chat", Enabled: true, Method: "POST", URL: "http://chat.example.com/hooks/abc",
		Headers: kv("X-Team", "ops"),
		Preset:  actions.Preset{Kind: actions.PresetMattermost, Message: "<NAME> was pressed\nat <TIME>", Channel: "@ops"},
	}, {
		Name: "Slack", Enabled: true, Method: "POST", URL: "https://hooks.slack.com/services/T/B/X",
		Preset: actions.Preset{Kind: actions.PresetSlack, Message: "Door!"},
	}, {
		Name: "Plain get", Method: "GET", URL: "http://192.0.2.7/on",
	}}
}

func TestEditingRoundTripsEveryField(t *testing.T) {
	store := &fakeSecrets{}
	w, e := newWindow(t)
	w.SetSecretStore(store)
	for _, in := range everyArea(t) {
		t.Run(in.Name, func(t *testing.T) {
			if err := e.SaveTarget(in); err != nil {
				t.Fatal(err)
			}
			orig := targetNamed(t, e, in.Name)
			closed := false
			te := w.newTargetEditor(&orig, func() { closed = true })
			test.Tap(te.save)
			waitFor(t, &te.saving, "the save")
			if !closed {
				t.Fatalf("saving unchanged kept the dialog open: %q", te.problem.Text)
			}
			got := targetNamed(t, e, in.Name)
			want := orig
			want.Version++
			want.Updated = got.Updated
			if !reflect.DeepEqual(got, want) {
				t.Errorf("after an unchanged save:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	if vals, deleted := store.snapshot(); len(vals) != 0 || len(deleted) != 0 {
		t.Errorf("unchanged saves touched the keyring: set %v, deleted %v", vals, deleted)
	}
}

func TestRenameThenDelete(t *testing.T) {
	w, e := newWindow(t)
	if err := e.Import(engine.Config{Targets: []actions.Target{{Name: "Door", Enabled: true, Method: "GET", URL: "http://127.0.0.1/door"}},
		Bindings: []engine.Binding{{Button: 1, Target: "Door"}}}); err != nil {
		t.Fatal(err)
	}
	orig := targetNamed(t, e, "Door")
	closed := false
	te := w.newTargetEditor(&orig, func() { closed = true })
	te.req.name.SetText("Front door")
	test.Tap(te.save)
	if !closed {
		t.Fatalf("rename kept the dialog open: %q", te.problem.Text)
	}
	c := e.Export()
	if len(c.Targets) != 1 || c.Targets[0].ID != orig.ID || c.Targets[0].Name != "Front door" || c.Bindings[0].Target != "Front door" {
		t.Fatalf("after rename: %+v, want one target, same id, bound as Front door", c)
	}

	renamed := targetNamed(t, e, "Front door")
	closed = false
	te = w.newTargetEditor(&renamed, func() { closed = true })
	del := findButton(te.content, "Delete")
	if del == nil {
		t.Fatal("the editor of a saved target has no Delete button")
	}
	test.Tap(del)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("Delete asked nothing")
	}
	if len(e.Config().Targets) != 1 {
		t.Fatal("the target was deleted before confirming")
	}
	yes := findButton(top, "Yes")
	if yes == nil {
		t.Fatal("the confirmation has no Yes button")
	}
	test.Tap(yes)
	if c := e.Config(); !closed || len(c.Targets) != 0 || len(c.Bindings) != 0 {
		t.Errorf("after delete: closed=%v, config %+v", closed, c)
	}
	if te := w.newTargetEditor(nil, func() {}); findButton(te.content, "Delete") != nil {
		t.Errorf("a new target's editor offers Delete")
	}
}

func TestProblemsKeepTheEditorOpenAndSaveNothing(t *testing.T) {
	store := &fakeSecrets{}
	w, e := newWindow(t)
	w.SetSecretStore(store)
	closed := false
	te := w.newTargetEditor(nil, func() { closed = true })
	test.Type(te.req.url, "ftp://nowhere")
	selectAuth(te.auth, actions.AuthBearer) // and no token typed
	te.tr.timeout.SetText("soon")
	te.tabs.SelectIndex(tabPreview)
	test.Tap(te.save)

	for _, want := range []string{"name: is required", "url: must start with http", "auth.token: type the token", `timeout: "soon" is not a whole number`} {
		if !strings.Contains(te.problem.Text, want) {
			t.Errorf("problems %q do not include %q", te.problem.Text, want)
		}
	}
	if closed || len(e.Config().Targets) != 0 {
		t.Errorf("closed=%v, targets=%v; want the dialog open and nothing saved", closed, e.Config().Targets)
	}
	if got := te.tabs.SelectedIndex(); got != tabGeneral {
		t.Errorf("selected tab %d, want General (%d), where the first problem is", got, tabGeneral)
	}

	// Fixed, but the keyring refuses: still nothing saved.
	store.setErr = errors.New("set keyring secret x: the keyring is locked and could not be unlocked: unlock it")
	te.req.name.SetText("Locked")
	te.req.url.SetText("https://example.com/")
	te.tr.timeout.SetText("")
	test.Type(te.auth.token.value, "tok")
	test.Tap(te.save)
	waitFor(t, &te.saving, "the keyring write")
	if !strings.Contains(te.problem.Text, "auth.token: cannot store it in the OS keyring") || !strings.Contains(te.problem.Text, "unlock it") {
		t.Errorf("problem = %q, want the keyring error with its fix", te.problem.Text)
	}
	if closed || len(e.Config().Targets) != 0 || te.save.Disabled() {
		t.Errorf("closed=%v, targets=%v, save disabled=%v; want open, nothing saved, Save usable", closed, e.Config().Targets, te.save.Disabled())
	}
	if te.tabs.SelectedIndex() != tabAuth {
		t.Errorf("selected tab %d, want Auth", te.tabs.SelectedIndex())
	}
}

func TestPreviewMasksSecretsAndCopiesCurl(t *testing.T) {
	const token = "do-not-show-me"
	w, _ := newWindow(t)
	w.SetSecretStore(&fakeSecrets{})
	te := w.newTargetEditor(nil, func() {})
	test.Type(te.req.name, "Door bell")
	test.Type(te.req.url, "https://example.com/hook")
	te.req.json.SetText(`{"who":"<TARGET>"}`)
	selectAuth(te.auth, actions.AuthBearer)
	test.Type(te.auth.token.value, token)

	te.tabs.SelectIndex(tabPreview)
	text := te.prev.text.Text
	if !strings.Contains(text, "Authorization: Bearer ***") || !strings.Contains(text, `{"who":"Door bell"}`) || strings.Contains(text, token) {
		t.Errorf("preview:\n%s\nwant the masked token and the body, never the token", text)
	}
	test.Tap(te.prev.copy)
	clip := w.app.Clipboard().Content()
	if !strings.HasPrefix(clip, "curl ") || !strings.Contains(clip, "$"+actions.CurlTokenVar) || strings.Contains(clip, token) {
		t.Errorf("clipboard = %q, want a curl command with $%s and no token", clip, actions.CurlTokenVar)
	}
	if !strings.Contains(te.prev.state.Text, actions.CurlTokenVar) {
		t.Errorf("state %q does not say to set %s", te.prev.state.Text, actions.CurlTokenVar)
	}
}

func TestFetchPinFillsFingerprintAfterConfirming(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	w, _ := newWindow(t)
	te := w.newTargetEditor(nil, func() {})
	te.req.url.SetText(srv.URL + "/hook?who=<NAME>")
	te.tr.tlsMode.SetSelected(tlsPin)
	test.Tap(te.tr.fetch)
	waitFor(t, &te.tr.fetches, "the fetch")

	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no confirmation shown; pin state %q", te.tr.pinState.Text)
	}
	want := actions.Fingerprint(srv.Certificate().Raw)
	if te.tr.pin.Text != "" {
		t.Fatalf("the pin was filled in before confirming: %q", te.tr.pin.Text)
	}
	pin := findButton(top, "Pin")
	if pin == nil {
		t.Fatal("the confirmation has no Pin button")
	}
	test.Tap(pin)
	if te.tr.pin.Text != want {
		t.Errorf("pin = %q, want %q", te.tr.pin.Text, want)
	}
	tg, _, problems := te.read()
	if tg.TLS.PinSHA256 != want || len(problems) != 0 {
		t.Errorf("target TLS %+v, problems %v", tg.TLS, problems)
	}
}

func TestWarningsShowButDoNotBlock(t *testing.T) {
	w, e := newWindow(t)
	closed := false
	te := w.newTargetEditor(nil, func() { closed = true })
	test.Type(te.req.name, "Warned")
	test.Type(te.req.url, "https://example.com/?x=<FOO>")
	te.tr.tlsMode.SetSelected(tlsInsecure)
	if !te.warnings.Visible() || !strings.Contains(te.warnings.Text, "<FOO> is not a tag") || !strings.Contains(te.warnings.Text, "tls.insecure") {
		t.Errorf("warnings = %q, want the unknown tag and insecure TLS", te.warnings.Text)
	}
	test.Tap(te.save)
	if !closed || len(e.Config().Targets) != 1 {
		t.Errorf("a target with warnings was not saved: %q", te.problem.Text)
	}
}

func TestEveryTagHasHelp(t *testing.T) {
	for _, name := range actions.TagNames() {
		if tagHelp[name] == "" {
			t.Errorf("tag %s has no help text", name)
		}
	}
}

// findButton finds the button labelled text in o's tree.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
		return found == nil
	})
	return found
}
