package ui

import (
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
)

func TestSettingsDialogValidatesAndSaves(t *testing.T) {
	w, e := newWindow(t)
	closed := 0
	se, ed := w.settingsEditor(func() { closed++ })
	if se.keepDays.Text != "90" || se.maxAttempts.Text != "0" {
		t.Fatalf("fields show %q and %q, want the defaults 90 and 0", se.keepDays.Text, se.maxAttempts.Text)
	}

	tests := []struct {
		days, most string
		want       []string // in the problem shown
	}{
		{"ninety", "0", []string{`keep days: "ninety" is not a whole number`}},
		{"-3", "0", []string{"keep days: give 1 to 36500 days, or 0 to keep attempts of any age"}},
		{"30", "-1", []string{"max attempts: give 1 to 100000000, or 0 for no limit"}},
		{"36501", "1e9", []string{"keep days: give 1 to 36500", `max attempts: "1e9" is not a whole number`}},
	}
	for _, tt := range tests {
		se.keepDays.SetText("")
		test.Type(se.keepDays, tt.days)
		se.maxAttempts.SetText("")
		test.Type(se.maxAttempts, tt.most)
		if se.keepDays.Validate() == nil && se.maxAttempts.Validate() == nil {
			t.Errorf("%s, %s: the fields' validators pass", tt.days, tt.most)
		}
		test.Tap(ed.save)
		if closed != 0 || !ed.problem.Visible() {
			t.Fatalf("%s, %s: closed %d times, problem shown %v; want the dialog open with the problem", tt.days, tt.most, closed, ed.problem.Visible())
		}
		for _, want := range tt.want {
			if !strings.Contains(ed.problem.Text, want) {
				t.Errorf("%s, %s: problem %q, want it to say %q", tt.days, tt.most, ed.problem.Text, want)
			}
		}
		if got := e.Settings(); got != engine.DefaultSettings() {
			t.Fatalf("a refused save changed the settings to %+v", got)
		}
	}

	se.keepDays.SetText(" 30")
	se.maxAttempts.SetText("100000")
	if err := se.keepDays.Validate(); err != nil {
		t.Errorf("the keep days validator refuses 30: %v", err)
	}
	test.Tap(ed.save)
	if closed != 1 {
		t.Fatalf("a good save closed the dialog %d times; problem %q", closed, ed.problem.Text)
	}
	if got, want := e.Settings().Log, (engine.LogSettings{KeepDays: 30, MaxAttempts: 100_000}); got != want {
		t.Errorf("settings after save = %+v, want %+v", got, want)
	}
	if s := w.status.Text; !strings.Contains(s, "keeps 30 days of attempts, at most 100000") {
		t.Errorf("status = %q, want it to say what the log keeps", s)
	}

	// Opened again, it shows what is saved; 0 and 0 keep everything.
	se, ed = w.settingsEditor(func() { closed++ })
	if se.keepDays.Text != "30" || se.maxAttempts.Text != "100000" {
		t.Errorf("reopened: fields %q and %q, want 30 and 100000", se.keepDays.Text, se.maxAttempts.Text)
	}
	se.keepDays.SetText("0")
	se.maxAttempts.SetText("0")
	test.Tap(ed.save)
	if got := e.Settings().Log; closed != 2 || got != (engine.LogSettings{}) {
		t.Errorf("0 and 0: closed %d, settings %+v; want saved as no limits", closed, got)
	}
	if s := w.status.Text; !strings.Contains(s, "keeps attempts of any age, of any number") {
		t.Errorf("status = %q", s)
	}
}

func TestSettingsButtonOpensTheDialog(t *testing.T) {
	w, _ := newWindow(t)
	btn := findButton(w.Content(), "Settings")
	if btn == nil {
		t.Fatal("the window has no Settings button")
	}
	test.Tap(btn)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("Settings opened nothing")
	}
	var labels []string
	findLabels(top, &labels)
	all := strings.Join(labels, "|")
	for _, want := range []string{"Keep days", "Max attempts", "0 keeps attempts of any age"} {
		if !strings.Contains(all, want) {
			t.Errorf("the dialog does not show %q; it shows %q", want, all)
		}
	}
	if cancel := findButton(top, "Cancel"); cancel == nil {
		t.Error("the dialog has no Cancel button")
	} else {
		test.Tap(cancel)
		if w.Canvas().Overlays().Top() != nil {
			t.Error("Cancel left the dialog open")
		}
	}
}

// findLabels collects the text of the labels, rich texts and texts under o.
func findLabels(o fyne.CanvasObject, out *[]string) {
	walk(o, func(o fyne.CanvasObject) bool {
		switch v := o.(type) {
		case *widget.Label:
			*out = append(*out, v.Text)
		case *widget.RichText:
			*out = append(*out, v.String())
		case *canvas.Text:
			*out = append(*out, v.Text)
		}
		return true
	})
}

func TestSettingsServerTabValidatesAndSaves(t *testing.T) {
	w, e, l := newServerWindow(t)
	closed := 0
	se, ed := w.settingsEditor(func() { closed++ })
	sf := se.server
	port := e.Settings().Server.Port
	if sf.port.Text != strconv.Itoa(port) || sf.keep.Text != "50" || sf.publicURL.Text != "" || sf.lan.Checked || sf.https.Checked || sf.inspector.Checked {
		t.Fatalf("fields show port %q, keep %q, public URL %q, LAN %v, HTTPS %v, inspector %v; want the saved settings",
			sf.port.Text, sf.keep.Text, sf.publicURL.Text, sf.lan.Checked, sf.https.Checked, sf.inspector.Checked)
	}
	waitUntil(t, "the server to say it is off because nothing needs it", sf.refresh, func() bool {
		return strings.Contains(sf.status.Text, "○ Off: nothing needs it")
	})
	if !strings.Contains(sf.lanNote.Text, "Anyone on your network can then reach the async callbacks, the REST API") {
		t.Errorf("the network option warns %q", sf.lanNote.Text)
	}

	saved := e.Settings()
	tests := []struct {
		port, public, keep string
		want               string
	}{
		{"http", "", "50", `port: "http" is not a port number`},
		{"0", "", "50", "port: 0 is not a port: give 1-65535"},
		{"70000", "", "50", "port: 70000 is not a port"},
		{"8735", "ftp://files.example.com", "50", "public URL is not an absolute http(s) URL"},
		{"8735", "buttons.example.com", "50", "public URL is not an absolute http(s) URL"},
		{"8735", "https://buttons.example.com/?a=1", "50", "public URL has a query or fragment: give the base URL alone"},
		{"8735", "https://me:pw@buttons.example.com", "50", "public URL carries a user name or password"},
		{"8735", "", "0", "keep: give how many requests each inspector bin keeps, 1-1000"},
		{"8735", "", "1001", "keep: give how many"},
	}
	for _, tt := range tests {
		se.tabs.SelectIndex(settingsLogTab)
		sf.port.SetText(tt.port)
		sf.publicURL.SetText(tt.public)
		sf.keep.SetText(tt.keep)
		if sf.port.Validate() == nil && sf.publicURL.Validate() == nil && sf.keep.Validate() == nil {
			t.Errorf("%+v: every field's validator passes", tt)
		}
		test.Tap(ed.save)
		if closed != 0 || !strings.Contains(ed.problem.Text, tt.want) {
			t.Errorf("%+v: closed %d, problem %q; want the dialog open saying %q", tt, closed, ed.problem.Text, tt.want)
		}
		if se.tabs.SelectedIndex() != settingsServerTab {
			t.Errorf("%+v: the problem did not show the Local server tab", tt)
		}
		if got := e.Settings(); got != saved {
			t.Fatalf("%+v: a refused save changed the settings to %+v", tt, got)
		}
	}

	// Saved with HTTPS and the inspector on, the server runs (the inspector
	// needs it), callbacks go to the public URL, and the fingerprint shows.
	sf.port.SetText(strconv.Itoa(port))
	sf.publicURL.SetText(" https://buttons.example.com/ ")
	sf.keep.SetText("7")
	sf.https.SetChecked(true)
	sf.inspector.SetChecked(true)
	test.Tap(ed.save)
	if closed != 1 {
		t.Fatalf("a good save closed the dialog %d times; problem %q", closed, ed.problem.Text)
	}
	want := engine.ServerSettings{Port: port, PublicURL: "https://buttons.example.com", HTTPS: true, Inspector: true, InspectorKeep: 7}
	if got := e.Settings().Server; got != want {
		t.Errorf("server settings after save = %+v, want %+v", got, want)
	}
	se, _ = w.settingsEditor(func() {})
	sf = se.server
	waitUntil(t, "the server to run with HTTPS", sf.refresh, func() bool { return sf.fingerprintBox.Visible() })
	if want := "Running at https://buttons.example.com since"; !strings.Contains(sf.status.Text, want) || sf.status.Importance != widget.SuccessImportance {
		t.Errorf("status = %q (importance %v), want it to say %q", sf.status.Text, sf.status.Importance, want)
	}
	fp := l.Status().Fingerprint
	if len(fp) != 95 || sf.fingerprint.text.Text != fp {
		t.Errorf("fingerprint shown %q, server's %q", sf.fingerprint.text.Text, fp)
	}
	test.Tap(sf.fingerprint.copy)
	if got := w.app.Clipboard().Content(); got != fp {
		t.Errorf("Copy put %q on the clipboard, want the fingerprint", got)
	}

	// A port in use: the status says so, and what to do.
	se, ed = w.settingsEditor(func() {})
	sf = se.server
	sf.port.SetText(strconv.Itoa(loopbackPort(t, true)))
	sf.https.SetChecked(false)
	test.Tap(ed.save)
	waitUntil(t, "the server to fail", sf.refresh, func() bool { return sf.status.Importance == widget.DangerImportance })
	if want := "is in use by another program: choose another port"; !strings.Contains(sf.status.Text, want) {
		t.Errorf("status = %q, want it to say %q", sf.status.Text, want)
	}
	if sf.fingerprintBox.Visible() {
		t.Error("a failed server still shows a fingerprint")
	}
}

func TestSettingsWithoutServer(t *testing.T) {
	w, _ := newWindow(t)
	se, _ := w.settingsEditor(func() {})
	if want := "No local server runs with this window."; se.server.status.Text != want {
		t.Errorf("status = %q, want %q", se.server.status.Text, want)
	}
}

// TestLANWarningOnlyWhenTicked shows the warning about the local network
// only while Listen on the local network is ticked.
func TestLANWarningOnlyWhenTicked(t *testing.T) {
	w, e := newWindow(t)
	se, _ := w.settingsEditor(func() {})
	sf := se.server
	if sf.lan.Checked || sf.lanNote.Visible() {
		t.Errorf("at start: ticked %v, warning shown %v; want neither", sf.lan.Checked, sf.lanNote.Visible())
	}
	test.Tap(sf.lan)
	if !sf.lanNote.Visible() {
		t.Error("ticked, but the warning is hidden")
	}
	test.Tap(sf.lan)
	if sf.lanNote.Visible() {
		t.Error("unticked, but the warning is shown")
	}
	setServer(t, e, func(s *engine.ServerSettings) { s.LAN = true })
	se, _ = w.settingsEditor(func() {})
	if !se.server.lanNote.Visible() {
		t.Error("opened with the local network on, but the warning is hidden")
	}
}

// TestSettingsStatusSaysWhatChanged saves the server settings alone, the
// log settings alone, and nothing: the status line names what was saved.
func TestSettingsStatusSaysWhatChanged(t *testing.T) {
	w, _ := newWindow(t)
	save := func(change func(se *settingsEditor)) string {
		t.Helper()
		se, ed := w.settingsEditor(func() {})
		change(se)
		test.Tap(ed.save)
		if ed.problem.Visible() {
			t.Fatalf("save refused: %q", ed.problem.Text)
		}
		return w.status.Text
	}
	tests := []struct {
		name      string
		change    func(se *settingsEditor)
		want, not string
	}{
		{"server only", func(se *settingsEditor) { se.server.port.SetText("9123"); test.Tap(se.server.lan) },
			"Saved the settings: the local server uses port 9123, on the local network.", "log"},
		{"log only", func(se *settingsEditor) { se.keepDays.SetText("30") },
			"Saved the settings: the log keeps 30 days of attempts, of any number.", "server"},
		{"both", func(se *settingsEditor) { se.keepDays.SetText("0"); test.Tap(se.server.inspector) },
			"Saved the settings: the log keeps attempts of any age, of any number; the local server uses port 9123, on the local network, with the request inspector (50 requests per bin).", ""},
		{"nothing", func(*settingsEditor) {}, "Saved the settings (nothing changed).", "log"},
	}
	for _, tt := range tests {
		got := save(tt.change)
		if got != tt.want || tt.not != "" && strings.Contains(got, tt.not) {
			t.Errorf("%s: status %q, want %q", tt.name, got, tt.want)
		}
	}
}
