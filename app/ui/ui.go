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
	"slices"
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
	Attempts(storage.Query) ([]storage.Attempt, error)
	Subscribe(buf int) (<-chan engine.Event, func())
	SaveTarget(actions.Target) error
	UpdateTarget(actions.Target) error
	DeleteTarget(idOrName string) error
	SaveBinding(engine.Binding) error
	AddSerialPort(path string) error
	TestTarget(ctx context.Context, t actions.Target) actions.Result
}

// maxRows is how many attempts the live log shows.
const maxRows = 500

// Window is Buttonhook's main window.
type Window struct {
	fyne.Window
	app     fyne.App
	eng     Engine
	secrets SecretStore // nil: secrets come from environment variables only

	devices  []engine.DeviceState
	config   engine.Config
	attempts []storage.Attempt

	deviceList *widget.List
	targetList *widget.List
	log        *widget.Table
	status     *widget.Label
}

// New builds the main window for e in app a, showing the engine's state as
// it is now. It starts nothing: call Listen to keep it up to date.
func New(a fyne.App, e Engine) *Window {
	w := &Window{Window: a.NewWindow("Buttonhook"), app: a, eng: e}
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
	w.log = newLogTable(&w.attempts)

	toolbar := container.NewHBox(
		widget.NewButtonWithIcon("New target", theme.ContentAddIcon(), func() { w.showTargetEditor(nil) }),
		widget.NewButtonWithIcon("New binding", theme.MediaPlayIcon(), func() { w.showBindingEditor() }),
		widget.NewButtonWithIcon("Add serial port", theme.ComputerIcon(), func() { w.showPortEditor() }),
	)
	left := container.NewVSplit(
		widget.NewCard("Devices", "", w.deviceList),
		widget.NewCard("Targets", "", w.targetList),
	)
	right := widget.NewCard("Attempts", "every press, newest first", w.log)
	split := container.NewHSplit(left, right)
	split.Offset = 0.38
	w.SetContent(container.NewBorder(toolbar, w.status, nil, nil, split))
	w.Resize(fyne.NewSize(1180, 720))

	w.reloadAll()
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
		w.reloadAll()
		return
	}
	switch ev.Kind {
	case engine.DevicesChanged:
		w.devices = w.eng.Devices()
		w.deviceList.Refresh()
	case engine.ConfigChanged:
		w.config = w.eng.Config()
		w.targetList.Refresh()
	case engine.AttemptChanged:
		w.upsertAttempt(ev.Attempt)
		w.log.Refresh()
		if ev.Attempt.Status != storage.StatusWaiting {
			w.setStatus(fmt.Sprintf("%s: %s %s", ev.Attempt.TargetName, ev.Attempt.Status, describe(ev.Attempt)))
		}
	case engine.Notice:
		w.setStatus(ev.Message)
	}
}

func (w *Window) setStatus(s string) { w.status.SetText(s) }

func (w *Window) reloadAll() {
	w.devices = w.eng.Devices()
	w.config = w.eng.Config()
	as, err := w.eng.Attempts(storage.Query{Limit: maxRows})
	if err != nil {
		w.setStatus("Cannot read the attempt log: " + err.Error())
	}
	w.attempts = as
	w.deviceList.Refresh()
	w.targetList.Refresh()
	w.log.Refresh()
}

func (w *Window) upsertAttempt(a storage.Attempt) {
	if i := slices.IndexFunc(w.attempts, func(o storage.Attempt) bool { return o.ID == a.ID }); i >= 0 {
		w.attempts[i] = a
		return
	}
	// IDs are time-ordered: keep newest first.
	i, _ := slices.BinarySearchFunc(w.attempts, a, func(o, t storage.Attempt) int { return strings.Compare(t.ID, o.ID) })
	w.attempts = slices.Insert(w.attempts, i, a)
	if len(w.attempts) > maxRows {
		w.attempts = w.attempts[:maxRows]
	}
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
	if len(w.config.Targets) == 0 {
		title.SetText("No targets yet")
		detail.SetText("Create one with New target")
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
