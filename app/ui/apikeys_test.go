package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
)

func TestAPIKeysCreateShowOnceAndRevoke(t *testing.T) {
	w, e := newWindow(t)
	for _, tg := range []actions.Target{
		{Name: "Gate", Enabled: true, Method: "POST", Dynamic: actions.Dynamic{Enabled: true}},
		{Name: "Door", Enabled: true, Method: "POST", URL: "https://example.com/door"},
	} {
		if err := e.SaveTarget(tg); err != nil {
			t.Fatal(err)
		}
	}
	gate := targetNamed(t, e, "Gate")
	labels := func(v *apiKeysView) string { return allText(v.list) }

	v := w.openAPIKeys()
	if got := labels(v); !strings.Contains(got, "No API keys yet.") {
		t.Errorf("an empty list shows %q", got)
	}
	if got, want := strings.Join(v.targets.Options, "|"), "Door (not dynamic)|Gate"; got != want {
		t.Errorf("the targets to choose are %q, want %q", got, want)
	}
	if v.choose.Visible() {
		t.Error("the targets show while the scope is all targets")
	}

	// The engine's refusals show in the dialog.
	test.Tap(v.create)
	if !v.problem.Visible() || !strings.Contains(v.problem.Text, "an API key needs a name") {
		t.Errorf("no name: problem %q", v.problem.Text)
	}
	test.Type(v.name, "home server")
	v.scope.SetSelected(scopeSome)
	if !v.choose.Visible() {
		t.Error("choosing some targets does not show them")
	}
	test.Tap(v.create)
	if !strings.Contains(v.problem.Text, "say which targets the key may change") {
		t.Errorf("no target: problem %q", v.problem.Text)
	}
	if len(e.APIKeys()) != 0 {
		t.Fatal("a refused key was made")
	}

	// A key for Gate: shown once, in its own dialog, with Copy.
	v.targets.SetSelected([]string{"Gate"})
	test.Tap(v.create)
	if v.problem.Visible() {
		t.Fatalf("problem %q", v.problem.Text)
	}
	keys := e.APIKeys()
	if len(keys) != 1 || keys[0].Name != "home server" || keys[0].AllTargets || len(keys[0].Targets) != 1 || keys[0].Targets[0] != gate.ID {
		t.Fatalf("keys = %+v, want home server for Gate alone", keys)
	}
	shown := w.Canvas().Overlays().Top()
	all := allText(shown)
	key := ""
	for _, s := range strings.Split(all, "\n") {
		if strings.HasPrefix(s, "bhk_") {
			key = s
		}
	}
	if key == "" || !strings.Contains(all, "it will not be shown again") {
		t.Fatalf("the new key's dialog shows %q; want the key and that it is shown once", all)
	}
	if _, err := e.Authorize(key, gate.ID); err != nil {
		t.Errorf("the key shown does not authorize Gate: %v", err)
	}
	test.Tap(findButton(shown, "Copy"))
	if got := w.app.Clipboard().Content(); got != key {
		t.Errorf("Copy put %q on the clipboard, want the key", got)
	}
	test.Tap(findButton(shown, "Done"))

	test.Type(v.name, "ci")
	v.scope.SetSelected(scopeAll)
	test.Tap(v.create)
	w.Canvas().Overlays().Top().Hide()
	got := labels(v)
	for _, want := range []string{"home server\nmay change Gate · created ", "never used", "ci\nmay change all targets"} {
		if !strings.Contains(got, want) {
			t.Errorf("the list shows %q, want %q", got, want)
		}
	}
	if strings.Contains(got, "bhk_") || strings.Contains(allText(w.openAPIKeys().content), key) {
		t.Error("the list shows a key")
	}

	// Revoke asks first.
	var revoke *widget.Button
	for _, row := range v.list.Objects {
		if strings.Contains(allText(row), "home server") {
			revoke = findButton(row, "Revoke")
		}
	}
	test.Tap(revoke)
	confirm := w.Canvas().Overlays().Top()
	if !strings.Contains(allText(confirm), `Revoke the API key "home server"?`) {
		t.Fatalf("Revoke asks %q", allText(confirm))
	}
	test.Tap(findButton(confirm, "Cancel"))
	if len(e.APIKeys()) != 2 {
		t.Fatal("Cancel revoked the key")
	}
	test.Tap(revoke)
	test.Tap(findButton(w.Canvas().Overlays().Top(), "Revoke"))
	if _, err := e.Authorize(key, gate.ID); !errors.Is(err, engine.ErrBadAPIKey) {
		t.Errorf("the revoked key authorizes: %v", err)
	}
	if got := labels(v); strings.Contains(got, "home server") || !strings.Contains(got, "ci") {
		t.Errorf("after revoking, the list shows %q", got)
	}
	if !strings.Contains(w.status.Text, "Revoked API key home server.") {
		t.Errorf("status = %q", w.status.Text)
	}
}

func TestSettingsOpensAPIKeysAndInspector(t *testing.T) {
	w, _ := newWindow(t)
	test.Tap(findButton(w.Content(), "Settings"))
	settings := w.Canvas().Overlays().Top()
	test.Tap(findButton(settings, "API keys…"))
	if top := w.Canvas().Overlays().Top(); top == settings || !strings.Contains(allText(top), "No API keys yet.") {
		t.Errorf("API keys… opened %q", allText(top))
	}
	before := len(w.app.Driver().AllWindows())
	test.Tap(findButton(settings, "Request inspector…"))
	if got := len(w.app.Driver().AllWindows()); got != before+1 {
		t.Errorf("Request inspector… made %d windows, want 1", got-before)
	}
}

// allText joins the texts of the labels under o, widgets' included, one a
// line.
func allText(o fyne.CanvasObject) string {
	var out []string
	findLabels(o, &out)
	return strings.Join(out, "\n")
}
