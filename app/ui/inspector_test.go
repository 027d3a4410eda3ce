package ui

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

func TestInspectorShowsRequestsAsTheyArrive(t *testing.T) {
	w, e, l := newServerWindow(t)
	v := w.newInspectorView()
	port := e.Settings().Server.Port
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if got, want := v.url.text.Text, base+"/inspect/demo"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if !v.off.Visible() || !strings.Contains(v.offText.Text, "The request inspector is off") {
		t.Fatalf("the inspector is off, and the window shows %q (visible %v)", v.offText.Text, v.off.Visible())
	}
	if !strings.Contains(v.detail.Text, "Nothing has been sent to this bin yet.") {
		t.Errorf("an empty bin shows %q", v.detail.Text)
	}

	test.Tap(v.turnOn)
	if !e.Settings().Server.Inspector {
		t.Fatal("Turn the inspector on did not save it on")
	}
	waitUntil(t, "the server to run", v.refresh, func() bool { return l.Status().State == server.StateRunning })
	if v.off.Visible() || v.problem.Visible() {
		t.Errorf("with the inspector on and running, the window still shows %q / %q", v.offText.Text, v.problem.Text)
	}
	test.Tap(v.url.copy)
	if got := w.app.Clipboard().Content(); got != base+"/inspect/demo" {
		t.Errorf("Copy put %q on the clipboard", got)
	}

	url := v.url.text.Text
	for _, r := range []struct{ method, path, body, auth string }{
		{"POST", "/hook?who=button+1&token=s3cret-query", `{"event":"pressed","button":1}`, "Bearer s3cret-header"},
		{"GET", "", "", ""},
	} {
		h := http.Header{"Content-Type": {"application/json"}}
		if r.auth != "" {
			h.Set("Authorization", r.auth)
		}
		if code := send(t, r.method, url+r.path, r.body, h); code != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d", r.method, r.path, code)
		}
	}
	waitUntil(t, "two requests", v.refresh, func() bool { return v.list.Length() == 2 })
	row := newTwoLine()
	v.list.UpdateItem(0, row)
	if got := allText(row); !strings.Contains(got, "GET /inspect/demo") || !strings.Contains(got, "0 bytes · from 127.0.0.1") {
		t.Errorf("the newest row shows %q, want the GET", got)
	}
	v.list.Select(1)
	d := v.detail.Text
	for _, want := range []string{
		"POST /inspect/demo/hook?who=button 1&token=••••••\n", // in the order sent
		"Authorization: Bearer ••••••\n",
		"Content-Type: application/json\n",
		"{\n  \"event\": \"pressed\",\n  \"button\": 1\n}",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the request shows\n%s\nwant it to hold %q", d, want)
		}
	}
	if strings.Contains(d, "s3cret") {
		t.Errorf("the request shows a credential:\n%s", d)
	}

	// A new request keeps the one selected in view.
	send(t, "PUT", url+"/third", "plain", nil)
	waitUntil(t, "a third request", v.refresh, func() bool { return v.list.Length() == 3 })
	if !strings.HasPrefix(v.detail.Text, "POST /inspect/demo/hook") {
		t.Errorf("after a new request, the detail shows %q, want the POST still", v.detail.Text)
	}

	// Another bin, then a name that is not one.
	v.bin.SetText("demo-2")
	if got, want := v.url.text.Text, base+"/inspect/demo-2"; got != want {
		t.Errorf("URL for bin demo-2 = %q, want %q", got, want)
	}
	if v.list.Length() != 0 || !strings.Contains(v.detail.Text, "Nothing has been sent") {
		t.Errorf("bin demo-2 lists %d requests and shows %q", v.list.Length(), v.detail.Text)
	}
	v.bin.SetText("demo-2 x")
	if v.bin.Validate() == nil {
		t.Error("the bin name demo-2 x passes")
	}
	v.refresh()
	if got := v.url.text.Text; got != base+"/inspect/demo-2" {
		t.Errorf("URL for a name that is not one = %q, want the last bin's", got)
	}
}

func TestInspectorSaysWhyNothingArrives(t *testing.T) {
	w, e, _ := newServerWindow(t)
	busy := loopbackPort(t, true)
	setServer(t, e, func(s *engine.ServerSettings) { s.Port = busy; s.Inspector = true })
	v := w.newInspectorView()
	waitUntil(t, "the server to fail", v.refresh, v.problem.Visible)
	if want := "The local server does not run, so nothing reaches the inspector. ✕ Cannot run: port"; !strings.HasPrefix(v.problem.Text, want) {
		t.Errorf("problem = %q, want %q", v.problem.Text, want)
	}
	if v.off.Visible() {
		t.Error("the window says the inspector is off")
	}
}

func TestInspectorWithoutServer(t *testing.T) {
	w, _ := newWindow(t)
	before := len(w.app.Driver().AllWindows())
	test.Tap(findButton(w.Content(), "Inspector"))
	wins := w.app.Driver().AllWindows()
	if len(wins) != before+1 || wins[len(wins)-1].Title() != "Request inspector" {
		t.Fatalf("the Inspector button opened %d windows", len(wins)-before)
	}
	got := allText(wins[len(wins)-1].Content())
	for _, want := range []string{"http://127.0.0.1:8735/inspect/demo", "The request inspector is off", "Nothing has been sent to this bin yet."} {
		if !strings.Contains(got, want) {
			t.Errorf("the window shows %q, want %q", got, want)
		}
	}
}
