// Package ui is Buttonhook's window: devices with their connection state,
// the targets, and the live attempt log, with editors for targets (every
// field, in tabs, with a preview; typed secrets go to a SecretStore, the
// target keeps references), bindings and serial ports. It drives the engine
// and never holds state of its own beyond what it shows; it is refreshed
// from engine events on the UI thread.
package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// Engine is what the window needs from the engine.
type Engine interface {
	Config() engine.Config
	Devices() []engine.DeviceState
	Search(storage.Query) (storage.Page, error)
	TargetStats() (map[string]storage.Stats, error)
	WriteCSV(io.Writer, storage.Query) error
	Subscribe(buf int) (<-chan engine.Event, func())
	SaveTarget(actions.Target) error
	UpdateTarget(actions.Target) error
	DeleteTarget(idOrName string) error
	SaveBinding(engine.Binding) error
	AddSerialPort(path string) error
	TestTarget(ctx context.Context, t actions.Target) actions.Result
	Settings() engine.Settings
	SetSettings(engine.Settings) error
	ServerEngine // API keys and dynamic URLs (server.go)
	DeviceEngine // the devices settings (devices.go)
}

// Window is Buttonhook's main window.
type Window struct {
	fyne.Window
	app     fyne.App
	eng     Engine
	secrets SecretStore // nil: secrets come from environment variables only
	srv     Server      // nil: no local server (tests)

	sched *scheduler // shared with the log view

	devices []engine.DeviceState
	config  engine.Config
	stats   map[string]storage.Stats // by target ID

	statsLater debouncer

	deviceList *widget.List
	targetList *widget.List
	logs       *logView
	status     *widget.Label
}

// New builds the main window for e in app a, showing the engine's state as
// it is now. It starts nothing: call Listen to keep it up to date.
func New(a fyne.App, e Engine) *Window {
	w := &Window{Window: a.NewWindow("Buttonhook"), app: a, eng: e, sched: realScheduler()}
	w.statsLater = debouncer{s: w.sched}
	w.status = widget.NewLabel("Ready. Plug in a button, or run `buttonhook sim` and add its port.")
	w.status.Truncation = fyne.TextTruncateEllipsis
	w.deviceList = widget.NewList(func() int { return max(len(w.devices), 1) }, newTwoLine, w.updateDevice)
	w.targetList = widget.NewList(func() int { return max(len(w.config.Targets), 1) }, newTargetRow, w.updateTarget)
	w.targetList.OnSelected = func(id widget.ListItemID) {
		w.targetList.UnselectAll()
		if id < len(w.config.Targets) {
			t := w.config.Targets[id]
			w.showTargetEditor(&t)
		}
	}
	w.logs = newLogView(e, w.Window, w.sched, w.setStatus)

	toolbar := container.NewHBox(
		widget.NewButtonWithIcon("New target", theme.ContentAddIcon(), func() { w.showTargetEditor(nil) }),
		widget.NewButtonWithIcon("New binding", theme.MediaPlayIcon(), func() { w.showBindingEditor() }),
		widget.NewButtonWithIcon("Add serial port", theme.ComputerIcon(), func() { w.showPortEditor() }),
		widget.NewButtonWithIcon("Devices", theme.ComputerIcon(), func() { w.showDevices() }),
		widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), w.showSettings),
		widget.NewButtonWithIcon("Inspector", theme.SearchIcon(), w.showInspector),
	)
	left := container.NewVSplit(
		widget.NewCard("Devices", "", w.deviceList),
		widget.NewCard("Targets", "", w.targetList),
	)
	right := widget.NewCard("Attempts", "", w.logs.content)
	split := container.NewHSplit(left, right)
	split.Offset = 0.38
	w.SetContent(container.NewBorder(toolbar, w.status, nil, nil, split))
	w.Resize(fyne.NewSize(1180, 720))

	w.readState()
	w.logs.loadNow()
	return w
}

// SetSecretStore gives the target editor a place to store the secrets a
// user types (the OS keyring). Without one, a target's secrets can only be
// read from environment variables.
func (w *Window) SetSecretStore(s SecretStore) { w.secrets = s }

// Listen keeps the window up to date with the engine's events, applied on
// the UI goroutine, until stop is called (its goroutine ends then).
func (w *Window) Listen() (stop func()) {
	events, unsubscribe := w.eng.Subscribe(256)
	go func() { // ends when unsubscribe closes events
		for ev := range events {
			fyne.Do(func() { w.handle(ev) })
		}
	}()
	return unsubscribe
}

func (w *Window) handle(ev engine.Event) {
	if ev.Missed > 0 {
		w.readState()
		w.logs.reload()
		return
	}
	switch ev.Kind {
	case engine.DevicesChanged:
		w.devices = w.eng.Devices()
		w.deviceList.Refresh()
	case engine.ConfigChanged:
		w.config = w.eng.Config()
		w.logs.setTargets(w.config.Targets)
		w.targetList.Refresh()
	case engine.AttemptChanged:
		w.logs.attemptChanged(ev.Attempt)
		w.statsLater.call(requeryPause, w.reloadStats)
		if ev.Attempt.Status != storage.StatusWaiting {
			w.setStatus(fmt.Sprintf("%s: %s %s", ev.Attempt.TargetName, ev.Attempt.Status, describe(ev.Attempt)))
		}
	case engine.Notice:
		w.setStatus(ev.Message)
	}
}

func (w *Window) setStatus(s string) { w.status.SetText(s) }

// readState reads the devices, config and target counters again.
func (w *Window) readState() {
	w.devices = w.eng.Devices()
	w.config = w.eng.Config()
	w.logs.setTargets(w.config.Targets)
	w.applyStats(w.eng.TargetStats())
	w.deviceList.Refresh()
	w.targetList.Refresh()
}

// reloadStats reads the target counters again, off the UI goroutine.
func (w *Window) reloadStats() {
	w.sched.background(func() func() {
		stats, err := w.eng.TargetStats()
		return func() { w.applyStats(stats, err) }
	})
}

func (w *Window) applyStats(stats map[string]storage.Stats, err error) {
	if err != nil {
		w.setStatus("Cannot read the target counters: " + err.Error())
		return
	}
	w.stats = stats
	w.targetList.Refresh()
}

func describe(a storage.Attempt) string {
	parts := []string{}
	if a.Code != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", a.Code))
	}
	if a.Duration > 0 {
		parts = append(parts, "in "+a.Duration.Round(time.Millisecond).String())
	}
	if a.Error != "" && a.Status == storage.StatusFailed {
		parts = append(parts, a.Error)
	}
	return strings.Join(parts, ", ")
}

func newTwoLine() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	detail := widget.NewLabel("")
	detail.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(title, detail)
}

func (w *Window) updateDevice(id widget.ListItemID, o fyne.CanvasObject) {
	box := o.(*fyne.Container)
	title, detail := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	if len(w.devices) == 0 {
		title.SetText("No devices yet")
		detail.SetText("Add a serial port (or run `buttonhook sim`)")
		title.Importance = widget.LowImportance
		title.Refresh()
		return
	}
	d := w.devices[id]
	name := d.Name()
	if name == "" {
		name = d.Path
	}
	if d.Connected {
		title.Importance = widget.SuccessImportance
		title.SetText("● " + name)
		detail.SetText(fmt.Sprintf("%s · %s · %d button(s) · firmware %s", d.ID, d.Path, d.Buttons, d.Firmware))
	} else {
		title.Importance = widget.DangerImportance
		title.SetText("○ " + name + " — not connected")
		detail.SetText(d.Error)
	}
	title.Refresh()
}

func newTargetRow() fyne.CanvasObject {
	text := newTwoLine()
	counters := widget.NewLabel("")
	counters.Truncation = fyne.TextTruncateEllipsis
	text.(*fyne.Container).Add(counters)
	edit := widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), nil)
	test := widget.NewButton("Test", nil)
	return container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(edit, test)), text)
}

func (w *Window) updateTarget(id widget.ListItemID, o fyne.CanvasObject) {
	row := o.(*fyne.Container)
	box := row.Objects[0].(*fyne.Container)
	buttons := row.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container)
	edit, test := buttons.Objects[0].(*widget.Button), buttons.Objects[1].(*widget.Button)
	title, detail := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	counters := box.Objects[2].(*widget.Label)
	if len(w.config.Targets) == 0 {
		title.SetText("No targets yet")
		detail.SetText("Create one with New target")
		counters.SetText("")
		buttons.Hide()
		return
	}
	if !buttons.Visible() {
		buttons.Show()
		row.Refresh() // lays the row out again with its buttons
	}
	t := w.config.Targets[id]
	state := ""
	if !t.Enabled {
		state = " (disabled)"
	}
	title.SetText(t.Name + state)
	var bound []string
	for _, b := range w.config.Bindings {
		if b.Target == t.ID {
			bound = append(bound, fmt.Sprintf("button %d %s", b.Button, b.Gesture))
		}
	}
	on := "not bound"
	if len(bound) > 0 {
		on = strings.Join(bound, ", ")
	}
	detail.SetText(fmt.Sprintf("%s %s · %s · v%d", t.Method, actions.RedactURL(t.URL), on, t.Version))
	counters.SetText(statsText(w.stats[t.ID], time.Now()))
	edit.OnTapped = func() { w.showTargetEditor(&t) }
	test.OnTapped = func() { w.testTarget(t) }
}

func (w *Window) testTarget(t actions.Target) {
	w.setStatus("Testing " + t.Name + "…")
	go func() { // ends by the target's deadline
		r := w.eng.TestTarget(context.Background(), t)
		fyne.Do(func() {
			if r.OK {
				w.setStatus(fmt.Sprintf("Test of %s: HTTP %d in %s (not logged)", t.Name, r.Code, r.Duration.Round(time.Millisecond)))
			} else {
				w.setStatus(fmt.Sprintf("Test of %s failed: %s (not logged)", t.Name, r.Reason()))
			}
		})
	}()
}

// statsText sums up a target's counters: "12 attempts · 10 OK · 2 failed ·
// last 14:02" (with the date if not today).
func statsText(s storage.Stats, now time.Time) string {
	if s.Attempts == 0 && s.LastTriggered.IsZero() {
		return "No attempts yet"
	}
	noun := "attempts"
	if s.Attempts == 1 {
		noun = "attempt"
	}
	text := fmt.Sprintf("%d %s · %d OK · %d failed", s.Attempts, noun, s.OK, s.Failed)
	if !s.LastTriggered.IsZero() {
		last, now := s.LastTriggered.Local(), now.Local()
		switch {
		case last.YearDay() == now.YearDay() && last.Year() == now.Year():
			text += " · last " + last.Format("15:04")
		case last.Year() == now.Year():
			text += " · last " + last.Format("Jan 2 15:04")
		default:
			text += " · last " + last.Format("Jan 2, 2006")
		}
	}
	return text
}
