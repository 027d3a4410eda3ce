package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
)

// settingsEditor holds the fields of the Settings dialog, in two tabs: how
// long the attempt log keeps attempts, and the local server. Save applies
// them through the engine, which trims the log at once; the server follows
// by itself.
type settingsEditor struct {
	keepDays, maxAttempts *widget.Entry
	server                *serverFields
	tabs                  *container.AppTabs
}

// Tabs of the Settings dialog.
const (
	settingsLogTab = iota
	settingsServerTab
)

// settingsEditor builds the dialog's fields; done closes it. While it is
// open, the Local server tab shows the server's status as it changes.
func (w *Window) settingsEditor(done func()) (*settingsEditor, *editor) {
	cur := w.eng.Settings().Log
	se := &settingsEditor{keepDays: widget.NewEntry(), maxAttempts: widget.NewEntry(), server: w.newServerFields()}
	se.keepDays.SetText(strconv.Itoa(cur.KeepDays))
	se.keepDays.Validator = func(s string) error { _, err := parseKeepDays(s); return err }
	se.maxAttempts.SetText(strconv.FormatInt(cur.MaxAttempts, 10))
	se.maxAttempts.Validator = func(s string) error { _, err := parseMaxAttempts(s); return err }
	note := newHint("Lowering a limit deletes the attempts beyond it at once; they cannot be brought back. The per-target counters are kept.")
	stop := func() {}
	if w.srv != nil {
		stop = w.poll(serverPoll, se.server.refresh)
	}
	ed := newEditor([]*widget.FormItem{
		{Text: "Keep days", Widget: se.keepDays, HintText: fmt.Sprintf("the log keeps the attempts of this many days (default %d); 0 keeps attempts of any age", engine.DefaultSettings().Log.KeepDays)},
		{Text: "Max attempts", Widget: se.maxAttempts, HintText: "the log keeps at most this many attempts, the newest; 0 for no limit"},
		{Text: "", Widget: note},
	}, func() error {
		s, err := se.settings()
		if err != nil {
			return err
		}
		// The fields' checks are the engine's (the same limits), so what
		// SetSettings refuses is a failure to save.
		before := w.eng.Settings()
		if err := w.eng.SetSettings(s); err != nil {
			if strings.HasPrefix(problemText(err), "server.") {
				se.tabs.SelectIndex(settingsServerTab)
			}
			return err
		}
		w.setStatus(describeSave(before, w.eng.Settings()))
		return nil
	}, func() { stop(); done() })
	// The log's form and the server's, in tabs above the editor's buttons.
	se.tabs = container.NewAppTabs(
		container.NewTabItem("Attempt log", container.NewPadded(ed.form)),
		container.NewTabItem("Local server", capped(container.NewPadded(se.server.content), 500)),
	)
	buttons := container.NewHBox(
		widget.NewButtonWithIcon("API keys…", theme.AccountIcon(), w.showAPIKeys),
		widget.NewButtonWithIcon("Request inspector…", theme.SearchIcon(), w.showInspector),
		layout.NewSpacer(), ed.cancel, ed.save)
	ed.content = container.NewBorder(nil, container.NewVBox(ed.problem, buttons), nil, nil, se.tabs)
	se.server.resized = func() { ed.grow() } // ed.grow is set when the dialog shows
	return se, ed
}

// settings returns the settings the fields hold, or what is wrong with
// them, showing the tab of the first problem.
func (se *settingsEditor) settings() (engine.Settings, error) {
	days, err1 := parseKeepDays(se.keepDays.Text)
	most, err2 := parseMaxAttempts(se.maxAttempts.Text)
	srv, err3 := se.server.read()
	switch {
	case err1 != nil || err2 != nil:
		se.tabs.SelectIndex(settingsLogTab)
	case err3 != nil:
		se.tabs.SelectIndex(settingsServerTab)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return engine.Settings{}, err
	}
	return engine.Settings{Log: engine.LogSettings{KeepDays: days, MaxAttempts: most}, Server: srv}, nil
}

func parseKeepDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, fmt.Errorf("keep days: %q is not a whole number of days (0 keeps attempts of any age)", s)
	case n < 0 || n > engine.MaxKeepDays:
		return 0, fmt.Errorf("keep days: give 1 to %d days, or 0 to keep attempts of any age", engine.MaxKeepDays)
	}
	return n, nil
}

func parseMaxAttempts(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("max attempts: %q is not a whole number (0 for no limit)", s)
	case n < 0 || n > engine.MaxLogAttempts:
		return 0, fmt.Errorf("max attempts: give 1 to %d, or 0 for no limit", engine.MaxLogAttempts)
	}
	return n, nil
}

// describeLog says what the log settings keep: "keeps 90 days of attempts,
// of any number".
func describeLog(l engine.LogSettings) string {
	days := fmt.Sprintf("keeps %d days of attempts", l.KeepDays)
	if l.KeepDays == 0 {
		days = "keeps attempts of any age"
	}
	if l.MaxAttempts == 0 {
		return days + ", of any number"
	}
	return fmt.Sprintf("%s, at most %d", days, l.MaxAttempts)
}

// describeSave says what a save of the settings changed: "Saved the
// settings: the log keeps 30 days of attempts, of any number."
func describeSave(before, after engine.Settings) string {
	var changed []string
	if after.Log != before.Log {
		changed = append(changed, "the log "+describeLog(after.Log))
	}
	if after.Server != before.Server {
		changed = append(changed, "the local server "+describeServerSettings(after.Server))
	}
	if len(changed) == 0 {
		return "Saved the settings (nothing changed)."
	}
	return "Saved the settings: " + strings.Join(changed, "; ") + "."
}

// showSettings opens the Settings dialog.
func (w *Window) showSettings() {
	w.show("Settings", func(done func()) *editor { _, ed := w.settingsEditor(done); return ed }, 640)
}
