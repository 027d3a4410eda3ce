package ui

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

func TestTargetEditorDynamicURL(t *testing.T) {
	w, e, l := newServerWindow(t)

	// A new dynamic target: no URL needed; the hosts are checked.
	closed := false
	te := w.newTargetEditor(nil, func() { closed = true })
	if te.dyn.details.Visible() {
		t.Error("the dynamic settings show before Dynamic URL is checked")
	}
	test.Type(te.req.name, "Gate")
	te.dyn.enabled.SetChecked(true)
	if !te.dyn.details.Visible() {
		t.Error("checking Dynamic URL does not show its settings")
	}
	if got := te.dyn.endpoint.text.Text; !strings.Contains(got, "Save the target first") || te.dyn.endpoint.copy.Visible() {
		t.Errorf("a new target's endpoint shows %q (Copy visible %v)", got, te.dyn.endpoint.copy.Visible())
	}
	if got := te.dyn.current.Text; !strings.Contains(got, "presses fail until your server sets one") {
		t.Errorf("current URL of a target with no URL = %q", got)
	}
	te.dyn.hosts.SetText("https://gate.example.com/")
	test.Tap(te.save)
	if closed || !strings.Contains(te.problem.Text, "dynamic.hosts[0]") || te.tabs.SelectedIndex() != tabDynamic {
		t.Fatalf("a bad host: closed %v, problem %q, tab %d; want the problem on the Dynamic URL tab", closed, te.problem.Text, te.tabs.SelectedIndex())
	}
	te.dyn.hosts.SetText("gate.example.com\n\n*.home.example.com, ")
	test.Tap(te.save)
	if !closed {
		t.Fatalf("the dialog stayed open: %q", te.problem.Text)
	}
	gate := targetNamed(t, e, "Gate")
	if want := (actions.Dynamic{Enabled: true, Hosts: []string{"gate.example.com", "*.home.example.com"}}); !reflect.DeepEqual(gate.Dynamic, want) || gate.URL != "" {
		t.Errorf("saved dynamic %+v with URL %q, want %+v and no URL", gate.Dynamic, gate.URL, want)
	}

	// Saved, it needs the server, which starts; its endpoint works.
	te = w.newTargetEditor(&gate, func() {})
	if !te.dyn.enabled.Checked || te.dyn.hosts.Text != "gate.example.com\n*.home.example.com" {
		t.Errorf("the editor shows dynamic %v, hosts %q", te.dyn.enabled.Checked, te.dyn.hosts.Text)
	}
	waitUntil(t, "the server to run", te.serverChanged, func() bool { return l.Status().State == server.StateRunning })
	te.serverChanged()
	endpoint := l.Status().URL + "/api/v1/targets/" + gate.ID + "/url"
	if got := te.dyn.endpoint.text.Text; got != endpoint {
		t.Errorf("endpoint = %q, want %q", got, endpoint)
	}
	if got := te.dyn.server.Text; !strings.Contains(got, `Running at `+l.Status().URL) || !strings.Contains(got, `target "Gate" has a dynamic URL`) {
		t.Errorf("server status = %q", got)
	}
	key, _, err := e.CreateAPIKey("test", []string{gate.ID}, false)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
	if code := send(t, "PUT", endpoint, `{"url": "https://gate.example.com/open?token=s3cret&door=2"}`, h); code != http.StatusOK {
		t.Fatalf("PUT the URL: HTTP %d", code)
	}
	te.serverChanged()
	if got := te.dyn.current.Text; !strings.HasPrefix(got, "https://gate.example.com/open?") || strings.Contains(got, "s3cret") || !strings.Contains(got, ", set ") {
		t.Errorf("current URL = %q, want the URL set, redacted, and when", got)
	}
}

func TestTargetEditorDynamicSecretsRule(t *testing.T) {
	w, _ := newWindow(t)
	tg := actions.Target{Name: "Vault", Enabled: true, Method: "POST", URL: "https://vault.example.com/open",
		Auth: actions.Auth{Kind: actions.AuthBearer, Token: "env:VAULT_TOKEN"}, Dynamic: actions.Dynamic{Enabled: true}}
	te := w.newTargetEditor(&tg, func() {})
	if got := te.dyn.secrets.Text; !strings.Contains(got, "only at vault.example.com, the host of the URL on the General tab") ||
		!strings.Contains(got, "sends secrets (auth.token), so only to https:// URLs") {
		t.Errorf("the rule says %q", got)
	}
	te.req.url.SetText("")
	if got := te.dyn.secrets.Text; !strings.Contains(got, "no URL can be set") {
		t.Errorf("with no URL, the rule says %q", got)
	}
	selectAuth(te.auth, actions.AuthNone)
	if got := te.dyn.secrets.Text; strings.Contains(got, "secrets") || !strings.Contains(got, "no URL can be set") {
		t.Errorf("a target with no secrets and no URL: the rule says %q", got)
	}
}

func TestTargetEditorSaysWhyServerIsDown(t *testing.T) {
	w, e, l := newServerWindow(t)
	busy := loopbackPort(t, true)
	setServer(t, e, func(s *engine.ServerSettings) { s.Port = busy })
	job := actions.Target{Name: "Slow job", Enabled: true, Method: "POST", URL: "http://127.0.0.1:9/job", Async: actions.Async{Enabled: true}}
	if err := e.SaveTarget(job); err != nil {
		t.Fatal(err)
	}
	job = targetNamed(t, e, "Slow job")
	te := w.newTargetEditor(&job, func() {})
	waitUntil(t, "the server to fail", te.serverChanged, func() bool { return l.Status().State == server.StateFailed })
	te.serverChanged()
	for _, want := range []string{"The local server cannot run: port", "is in use by another program", "async callbacks cannot reach Buttonhook"} {
		if !strings.Contains(te.warnings.Text, want) {
			t.Errorf("warnings = %q, want %q", te.warnings.Text, want)
		}
	}

	// Not async, the same target needs no server: no warning.
	te.resp.async.SetChecked(false)
	if strings.Contains(te.warnings.Text, "local server") {
		t.Errorf("a target that needs no server warns %q", te.warnings.Text)
	}
}
