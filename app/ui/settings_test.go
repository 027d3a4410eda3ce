package ui

import (
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
	switch v := o.(type) {
	case *widget.Label:
		*out = append(*out, v.Text)
	case *widget.RichText:
		*out = append(*out, v.String())
	case *canvas.Text:
		*out = append(*out, v.Text)
	case *fyne.Container:
		for _, c := range v.Objects {
			findLabels(c, out)
		}
		return
	}
	if wd, ok := o.(fyne.Widget); ok {
		for _, c := range test.WidgetRenderer(wd).Objects() {
			findLabels(c, out)
		}
	}
}
