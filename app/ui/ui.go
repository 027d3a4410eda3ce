// Package ui is Buttonhook's window: devices with their connection state,
// the targets, and the live attempt log, with editors for targets (every
// field, in tabs, with a preview; typed secrets go to a SecretStore, the
// target keeps references), bindings, devices and settings. It drives the
// engine and never holds state of its own beyond what it shows; it is
// refreshed from engine events on the UI thread.
package ui

import (
	"cmp"
	"context"
	"fmt"
	"io"
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
	Search(storage.Query) (storage.Page, error)
	TargetStats() (map[string]storage.Stats, error)
	WriteCSV(io.Writer, storage.Query) error
	Subscribe(buf int) (<-chan engine.Event, func())
	SaveTarget(actions.Target) error
	UpdateTarget(actions.Target) error
	DeleteTarget(idOrName string) error
	SaveBinding(engine.Binding) error
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
	ready      string // the status line's text while nothing else is said
}

// New builds the main window for e in app a, showing the engine's state as
// it is now. It starts nothing: call Listen to keep it up to date.
func New(a fyne.App, e Engine) *Window {
	w := &Window{Window: a.NewWindow("Buttonhook"), app: a, eng: e, sched: realScheduler()}
	w.statsLater = debouncer{s: w.sched}
	w.status = widget.NewLabel("")
	w.status.Truncation = fyne.TextTruncateEllipsis
	w.deviceList = widget.NewList(func() int { return max(len(w.devices), 1) }, newDeviceRow, w.updateDevice)
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
		widget.NewButtonWithIcon("Devices", theme.ComputerIcon(), func() { w.showDevices() }),
		widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), w.showSettings),
		widget.NewButtonWithIcon("Inspector", theme.SearchIcon(), w.showInspector),
	)
	left := container.NewVSplit(
		widget.NewCard("Devices", "", w.deviceList),
		widget.NewCard("Targets", "", w.targetList),
	)
	left.Offset = 0.36 // at the default size: two devices over three targets, whole
	right := widget.NewCard("Attempts", "", w.logs.content)
	split := container.NewHSplit(left, right)
	split.Offset = 0.38
	w.SetContent(container.NewBorder(toolbar, w.status, nil, nil, split))
	w.Resize(fyne.NewSize(1180, 720))

	w.readState()
	w.logs.loadNow()
	return w
}

// showReady says in the status line which devices there are, unless
// something else has been said there since it last did.
func (w *Window) showReady() {
	if w.status.Text == w.ready {
		w.ready = readyText(w.devices)
		w.setStatus(w.ready)
	}
}

// readyText names the devices that are connected and those that are not,
// or says where to add one.
func readyText(devs []engine.DeviceState) string {
	var on, off []string
	for _, d := range devs {
		name := cmp.Or(d.Name(), d.Path)
		if d.Connected {
			on = append(on, name)
		} else {
			off = append(off, name)
		}
	}
	are := func(names []string) string {
		if len(names) == 1 {
			return names[0] + " is"
		}
		return strings.Join(names, ", ") + " are"
	}
	switch {
	case len(devs) == 0:
		return "Ready. No devices yet: plug in a supported USB button, or add a serial port with Devices (`buttonhook sim` makes one to try)."
	case len(off) == 0:
		return "Ready: " + are(on) + " connected."
	case len(on) == 0:
		return "Ready, but " + are(off) + " not connected: see Devices."
	}
	return "Ready: " + are(on) + " connected; " + are(off) + " not (see Devices)."
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
		w.targetList.Refresh() // the names of the devices bindings are on
		w.showReady()
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
	w.showReady()
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
		parts = append(parts, "in "+engine.FormatDuration(a.Duration))
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

// newDeviceRow is a device's name and state over a line about it.
func newDeviceRow() fyne.CanvasObject { return newListRow(newRowTitle(), 1) }

func (w *Window) updateDevice(id widget.ListItemID, o fyne.CanvasObject) {
	row := o.(*fyne.Container)
	title := row.Objects[0].(*widget.Label)
	if len(w.devices) == 0 {
		title.Importance = widget.MediumImportance
		title.SetText("No devices yet")
		setRowLines(row, "Add a serial port with Devices (or run `buttonhook sim`)")
		return
	}
	d := w.devices[id]
	name := cmp.Or(d.Name(), d.Path)
	if d.Connected {
		title.Importance = widget.SuccessImportance
		title.SetText("● " + name)
		setRowLines(row, deviceLine(d))
	} else {
		title.Importance = widget.DangerImportance
		title.SetText("○ " + name + " — not connected")
		setRowLines(row, d.Error)
	}
}

// deviceLine describes a connected device under its name: its firmware
// first (the line may be cut at the end), its buttons, then its ID and its
// port, each only if the name does not already show it: a Firmata board
// without a serial number is "StandardFirmata (/dev/ttyACM0)", and its ID
// "firmata:/dev/ttyACM0" is that port again.
func deviceLine(d engine.DeviceState) string {
	name := cmp.Or(d.Name(), d.Path)
	var parts []string
	if d.Firmware != "" {
		parts = append(parts, "firmware "+d.Firmware)
	}
	parts = append(parts, fmt.Sprintf("%d button(s)", d.Buttons))
	id := d.ID
	if _, own, ok := strings.Cut(id, ":"); id == name || ok && strings.Contains(name, own) {
		id = "" // the name shows what the ID is made of
	}
	if id != "" {
		parts = append(parts, id)
	}
	if d.Path != "" && !strings.Contains(name, d.Path) && !strings.Contains(id, d.Path) {
		parts = append(parts, d.Path)
	}
	return strings.Join(parts, " · ")
}

// newTargetRow is a target's name with Edit and Test, over what it is
// bound to, its request and its counters.
func newTargetRow() fyne.CanvasObject {
	edit := widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), nil)
	test := widget.NewButton("Test", nil)
	return newListRow(container.NewBorder(nil, nil, nil, container.NewHBox(edit, test), newRowTitle()), 3)
}

func (w *Window) updateTarget(id widget.ListItemID, o fyne.CanvasObject) {
	row := o.(*fyne.Container)
	head := row.Objects[0].(*fyne.Container)
	title, buttons := head.Objects[0].(*widget.Label), head.Objects[1].(*fyne.Container)
	edit, test := buttons.Objects[0].(*widget.Button), buttons.Objects[1].(*widget.Button)
	if len(w.config.Targets) == 0 {
		title.SetText("No targets yet")
		setRowLines(row, "Create one with New target")
		buttons.Hide()
		return
	}
	if !buttons.Visible() {
		buttons.Show()
		head.Refresh() // lays the head out again with its buttons
	}
	t := w.config.Targets[id]
	state := ""
	if !t.Enabled {
		state = " (disabled)"
	}
	title.SetText(t.Name + state)
	setRowLines(row, w.boundText(t.ID),
		fmt.Sprintf("%s %s · v%d", t.Method, actions.RedactURL(t.URL), t.Version),
		statsText(w.stats[t.ID], time.Now()))
	edit.OnTapped = func() { w.showTargetEditor(&t) }
	test.OnTapped = func() { w.testTarget(t) }
}

// boundText says which buttons call a target: "Bound to button 1 press,
// button 2 long on sim SIM-1".
func (w *Window) boundText(target string) string {
	var bound []string
	for _, b := range w.config.Bindings {
		if b.Target != target {
			continue
		}
		s := fmt.Sprintf("button %d %s", b.Button, b.Gesture)
		if b.Device != "" {
			i := slices.IndexFunc(w.devices, func(d engine.DeviceState) bool { return d.ID == b.Device })
			name := b.Device
			if i >= 0 {
				name = cmp.Or(w.devices[i].Name(), name)
			}
			s += " on " + name
		}
		bound = append(bound, s)
	}
	if len(bound) == 0 {
		return "Not bound to a button yet"
	}
	return "Bound to " + strings.Join(bound, ", ")
}

func (w *Window) testTarget(t actions.Target) {
	w.setStatus("Testing " + t.Name + "…")
	go func() { // ends by the target's deadline
		r := w.eng.TestTarget(context.Background(), t)
		fyne.Do(func() {
			if r.OK {
				w.setStatus(fmt.Sprintf("Test of %s: HTTP %d in %s (not logged)", t.Name, r.Code, engine.FormatDuration(r.Duration)))
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
