package ui

import (
	"context"
	"image/color"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

// newWindow builds the window over a real engine, a real Badger directory and
// the serial driver.
func newWindow(t *testing.T) (*Window, *engine.Engine) {
	t.Helper()
	return newWindowWithSecrets(t, nil)
}

// newWindowWithSecrets is newWindow with an engine that reads secrets from
// src, and deletes those no target uses through it if it can.
func newWindowWithSecrets(t *testing.T, src actions.SecretSource) (*Window, *engine.Engine) {
	t.Helper()
	sd := serial.NewDriver(nil)
	o := engine.Options{Secrets: src, Ports: sd, Drivers: []device.Driver{sd}, ScanInterval: 20 * time.Millisecond}
	if d, ok := src.(engine.SecretDeleter); ok { // the engine deletes the secrets no target uses
		o.SecretStore = d
	}
	w, e, _ := openWindow(t, o)
	return w, e
}

// openWindow builds the window over an engine made with o and, as its
// store, a real Badger directory, which it also returns.
func openWindow(t *testing.T, o engine.Options) (*Window, *engine.Engine, *storage.DB) {
	t.Helper()
	a := test.NewTempApp(t)
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o.Store = db
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// Fyne's test driver has no UI goroutine (fyne.Do runs in its caller), so
	// the test goroutine is the UI goroutine: it feeds the window the engine's
	// events itself, as Listen's pump does with fyne.Do (which the window test
	// in app/cli exercises in a real window).
	w := New(a, e)
	*w.sched = inlineScheduler()
	t.Cleanup(w.Close)
	return w, e, db
}

// onUI runs f on the test's UI goroutine, this one.
func onUI[T any](f func() T) T { return f() }

// eventually feeds the window engine events until cond holds.
func eventually(t *testing.T, w *Window, events <-chan engine.Event, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case ev := <-events:
			w.handle(ev)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestCreateTargetBindingAndSeeAPress(t *testing.T) {
	hits := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- r.URL.Path }))
	defer srv.Close()
	w, e := newWindow(t)
	events, unsubscribe := e.Subscribe(256)
	defer unsubscribe()

	// A target typed into the editor, with a mistake first.
	var closed bool
	te := w.newTargetEditor(nil, func() { closed = true })
	test.Type(te.req.name, "Door bell")
	test.Type(te.req.url, "ftp://nowhere")
	te.req.json.SetText(`{"id":"<EID>"}`)
	test.Tap(te.save)
	if closed || !te.problem.Visible() || !strings.HasPrefix(te.problem.Text, "url: must start with http") {
		t.Fatalf("saving a bad URL: closed=%v problem=%q; want the dialog open with the url problem", closed, te.problem.Text)
	}
	te.req.url.SetText(srv.URL + "/door")
	test.Tap(te.save)
	if !closed {
		t.Fatalf("saving a good target kept the dialog open: %q", te.problem.Text)
	}
	if c := e.Config(); len(c.Targets) != 1 || c.Targets[0].Name != "Door bell" || c.Targets[0].Method != "POST" {
		t.Fatalf("config after save = %+v", c.Targets)
	}
	eventually(t, w, events, "the target to be listed", func() bool { return len(w.config.Targets) == 1 })

	// A serial port through the Devices dialog, and a binding.
	btn, err := sim.New(sim.Options{Serial: "SIM-UI"})
	if err != nil {
		t.Fatal(err)
	}
	defer btn.Close()
	func() {
		pe := w.newDevicesDialog().editPort(engine.Devices{}, "")
		test.Type(pe.port, btn.Path())
		test.Tap(pe.f.save)
		closeOverlays(w)
		be, bed := w.bindingEditor(func() {})
		if be.target.Selected != "Door bell" {
			t.Errorf("binding editor offers target %q, want Door bell", be.target.Selected)
		}
		test.Tap(bed.save)
	}()
	if c := e.Config(); len(c.Bindings) != 1 || c.Bindings[0].Button != 1 || c.Bindings[0].Gesture != device.Press {
		t.Fatalf("bindings after save = %+v", c.Bindings)
	}

	// Running: the device shows as connected, and a press shows in the log.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, w, events, "the device to show as connected", func() bool {
		return onUI(func() bool { return len(w.devices) == 1 && w.devices[0].Connected })
	})
	if err := btn.Press(1); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-hits:
		if p != "/door" {
			t.Errorf("server got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no request")
	}
	eventually(t, w, events, "an OK row in the log", func() bool {
		return onUI(func() bool { return len(w.logs.rows) == 1 && w.logs.rows[0].Status == storage.StatusOK })
	})
	status := onUI(func() string { return w.status.Text })
	if !strings.Contains(status, "Door bell: OK") {
		t.Errorf("status line = %q, want it to report the OK", status)
	}
	cell := onUI(func() string {
		o := w.logs.table.CreateCell()
		w.logs.table.UpdateCell(widget.TableCellID{Row: 0, Col: 0}, o)
		return o.(*widget.Label).Text
	})
	if cell != "OK" {
		t.Errorf("first log cell = %q, want OK", cell)
	}
}

func TestBindingEditorRefusesBadButton(t *testing.T) {
	w, e := newWindow(t)
	problem := onUI(func() string {
		be, ed := w.bindingEditor(func() { t.Error("dialog closed on a bad binding") })
		be.button.SetText("x")
		test.Tap(ed.save)
		return ed.problem.Text
	})
	if !strings.Contains(problem, "button") {
		t.Errorf("problem = %q, want it to name the button", problem)
	}
	if len(e.Config().Bindings) != 0 {
		t.Errorf("a binding was saved")
	}
}

// TestStatusAtStartNamesTheDevices opens the window with no devices, then
// with a configured port before and after it connects: the first status
// line says what is there, and follows the devices until something else
// is said.
func TestStatusAtStartNamesTheDevices(t *testing.T) {
	w, e := newWindow(t)
	if got := w.status.Text; !strings.Contains(got, "No devices yet") || !strings.Contains(got, "Devices") || strings.Contains(got, "add its port.") {
		t.Errorf("status with no devices = %q, want it to say so and point to Devices", got)
	}

	btn, err := sim.New(sim.Options{Serial: "SIM-START"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	if err := e.SetDeviceConfig(engine.Devices{BH1: []string{btn.Path()}}); err != nil {
		t.Fatal(err)
	}
	w = New(fyne.CurrentApp(), e)
	*w.sched = inlineScheduler()
	t.Cleanup(w.Close)
	if got, want := w.status.Text, btn.Path()+" is not connected"; !strings.Contains(got, want) {
		t.Errorf("status with a port not yet open = %q, want it to say %q", got, want)
	}
	events, unsubscribe := e.Subscribe(256)
	defer unsubscribe()
	runEngine(t, e)
	eventually(t, w, events, "the status to say the device is connected", func() bool {
		return strings.Contains(w.status.Text, "sim SIM-START is connected")
	})

	// Opened while the device is connected.
	w = New(fyne.CurrentApp(), e)
	t.Cleanup(w.Close)
	if got, want := w.status.Text, "Ready: sim SIM-START is connected."; got != want {
		t.Errorf("status at start = %q, want %q", got, want)
	}
	// Once something else is said, device changes leave the status alone.
	w.setStatus("Testing Door…")
	w.handle(engine.Event{Kind: engine.DevicesChanged})
	if got := w.status.Text; got != "Testing Door…" {
		t.Errorf("a device change replaced the status with %q", got)
	}
}

// TestDialogButtonsOnTheRight opens each editor from the window: Save is
// at the right of its dialog, with Cancel just before it.
func TestDialogButtonsOnTheRight(t *testing.T) {
	w, e := newDevicesWindow(t)
	if err := e.SaveTarget(actions.Target{Name: "Door", Enabled: true, Method: "POST", URL: "http://127.0.0.1/door"}); err != nil {
		t.Fatal(err)
	}
	w.readState()
	abs := func(o fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	}
	for _, tt := range []struct {
		name string
		open func()
	}{
		{"New binding", func() { test.Tap(findButton(w.Content(), "New binding")) }},
		{"Settings", func() { test.Tap(findButton(w.Content(), "Settings")) }},
		{"New target", func() { test.Tap(findButton(w.Content(), "New target")) }},
		{"a serial port", func() { w.newDevicesDialog().editPort(engine.Devices{}, "") }},
	} {
		closeOverlays(w)
		tt.open()
		top := w.Canvas().Overlays().Top()
		if top == nil {
			t.Fatalf("%s opened nothing", tt.name)
		}
		save, cancel := findButton(top, "Save"), findButton(top, "Cancel")
		if save == nil || cancel == nil {
			t.Fatalf("%s: no Save or Cancel", tt.name)
		}
		dlg := dialogBox(top)
		right := abs(dlg).X + dlg.Size().Width
		saveEnd := abs(save).X + save.Size().Width
		if saveEnd < right-3*theme.Padding()-theme.InnerPadding() || abs(cancel).X > abs(save).X {
			t.Errorf("%s: Save ends at x=%v, Cancel at x=%v, in a dialog ending at x=%v; want Cancel, Save at the right",
				tt.name, saveEnd, abs(cancel).X, right)
		}
	}
}

// dialogBox is the dialog's own box in an overlay (which fills the window):
// the outermost object under it that is narrower.
func dialogBox(overlay fyne.CanvasObject) fyne.CanvasObject {
	var box fyne.CanvasObject
	walk(overlay, func(o fyne.CanvasObject) bool {
		if box == nil && o.Size().Width > 0 && o.Size().Width < overlay.Size().Width-1 {
			box = o
		}
		return box == nil
	})
	return box
}

// walk calls visit with o and, while visit returns true, with everything
// under it: a container's objects, a widget's rendered objects, and the
// content of every tab.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) {
	if !visit(o) {
		return
	}
	switch v := o.(type) {
	case *container.AppTabs:
		for _, it := range v.Items {
			walk(it.Content, visit)
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			walk(c, visit)
		}
	}
}

// TestTargetRowShowsBindings lays a target row out at the window's
// default size: what the target is bound to is shown whole, even with a
// long URL.
func TestTargetRowShowsBindings(t *testing.T) {
	w, e := newWindow(t)
	tg := actions.Target{Name: "Slack alert", Enabled: true, Method: "POST", URL: "https://hooks.example.com/services/T0000000/B0000000/abcdefghijklmnop"}
	if err := e.SaveTarget(tg); err != nil {
		t.Fatal(err)
	}
	for _, b := range []engine.Binding{{Button: 1, Gesture: device.Press, Target: tg.Name}, {Button: 2, Gesture: device.LongPress, Target: tg.Name}} {
		if err := e.SaveBinding(b); err != nil {
			t.Fatal(err)
		}
	}
	w.readState()
	w.Resize(fyne.NewSize(1180, 720))
	o := w.targetList.CreateItem()
	w.updateTarget(0, o)
	o.Resize(fyne.NewSize(w.targetList.Size().Width, o.MinSize().Height))
	if w.targetList.Size().Width < 300 {
		t.Fatalf("the target list is %v wide at the default size", w.targetList.Size().Width)
	}
	want := w.boundText(w.config.Targets[0].ID)
	for _, b := range []string{"button 1 press", "button 2 long"} {
		if !strings.Contains(want, b) {
			t.Errorf("the row says %q, want it to name %q", want, b)
		}
	}
	if got := drawnTexts(o); !strings.Contains(got, "\n"+want+"\n") {
		t.Errorf("at the default size the row draws\n%s\nwant the whole line %q", got, want)
	}
}

// drawnTexts returns the texts drawn under o, one a line, as laid out (a
// line cut with an ellipsis ends in "…").
func drawnTexts(o fyne.CanvasObject) string {
	var out []string
	walk(o, func(o fyne.CanvasObject) bool {
		if t, ok := o.(*canvas.Text); ok && o.Visible() {
			out = append(out, t.Text)
		}
		return true
	})
	return strings.Join(out, "\n")
}

// TestHintsAreReadable renders the hints and other quiet text of the
// dialogs in the dark and the light theme: each is drawn with at least
// 4.5:1 contrast against the dialog's background.
func TestHintsAreReadable(t *testing.T) {
	for _, th := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"dark", theme.VariantDark}, {"light", theme.VariantLight}} {
		t.Run(th.name, func(t *testing.T) {
			w, _ := newDevicesWindow(t)
			fyne.CurrentApp().Settings().SetTheme(variantTheme{theme.DefaultTheme(), th.variant})
			bg := theme.DefaultTheme().Color(theme.ColorNameOverlayBackground, th.variant)
			se, _ := w.settingsEditor(func() {})
			dd := w.newDevicesDialog()
			te := w.newTargetEditor(nil, func() {})
			checked := 0
			for _, o := range []fyne.CanvasObject{se.tabs, dd.tabs, te.tabs} {
				eachQuietLabel(o, func(l *widget.Label) {
					checked++
					for _, c := range drawnColors(l) {
						if r := contrast(c, bg); r < 4.5 {
							t.Errorf("%q is drawn %v on %v: contrast %.1f:1, want 4.5:1 or more", l.Text, c, bg, r)
						}
					}
				})
			}
			if checked < 10 {
				t.Errorf("checked %d hints, want the dialogs' hints", checked)
			}
		})
	}
}

// variantTheme is a theme that is always in one variant.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (v variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return v.Theme.Color(n, v.variant)
}

// eachQuietLabel calls f with each label under o that is a hint (caption
// size) or low importance, in every tab.
func eachQuietLabel(o fyne.CanvasObject, f func(*widget.Label)) {
	walk(o, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok && (l.SizeName == theme.SizeNameCaptionText || l.Importance == widget.LowImportance) {
			f(l)
		}
		return true
	})
}

// drawnColors are the colours of the texts a label draws.
func drawnColors(l *widget.Label) []color.Color {
	var out []color.Color
	walk(l, func(o fyne.CanvasObject) bool {
		if t, ok := o.(*canvas.Text); ok {
			out = append(out, t.Color)
		}
		return true
	})
	return out
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// TestDefaultLayoutFits lays the window out at its default size with two
// connected devices and three bound targets: every row of both lists shows
// whole, with nothing to scroll to.
func TestDefaultLayoutFits(t *testing.T) {
	w, e := newWindow(t)
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	for i, name := range []string{"Door bell", "Lights off", "Coffee"} {
		tg := actions.Target{Name: name, Enabled: true, Method: "POST", URL: "http://127.0.0.1:18931/" + strings.ToLower(strings.Fields(name)[0])}
		if err := e.SaveTarget(tg); err != nil {
			t.Fatal(err)
		}
		dev := []string{"firmata:/dev/pts/0", "serial:SIM-A1"}[i%2]
		if err := e.SaveBinding(engine.Binding{Device: dev, Button: i + 1, Gesture: device.Press, Target: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.readState()
	w.devices = []engine.DeviceState{
		{Info: device.Info{ID: "firmata:/dev/pts/0", Driver: "firmata", Path: "/dev/pts/0", Model: "StandardFirmata",
			Firmware: "StandardFirmata v2.5", Buttons: 2}, Connected: true, Protocol: "Firmata"},
		{Info: device.Info{ID: "serial:SIM-A1", Driver: "serial", Path: "/dev/pts/1", Model: "sim", Serial: "SIM-A1",
			Firmware: "1.0.0", Buttons: 2}, Connected: true, Protocol: "BH1"},
	}
	w.deviceList.Refresh()
	w.targetList.Refresh()
	w.Resize(fyne.NewSize(1180, 720))
	for _, l := range []struct {
		name string
		list *widget.List
	}{{"devices", w.deviceList}, {"targets", w.targetList}} {
		l.list.ScrollToBottom()
		if off := l.list.GetScrollOffset(); off > 0 {
			t.Errorf("the %s list (%v tall) must scroll %v to show its last row", l.name, l.list.Size().Height, off)
		}
	}
	if got := drawnTexts(w.deviceList); !strings.Contains(got, "firmware StandardFirmata v2.5 · 2 button(s)\n") {
		t.Errorf("the devices list draws\n%s\nwant the Firmata board's firmware whole", got)
	}
	drawn := drawnTexts(w.targetList)
	for _, tg := range w.config.Targets {
		if want := w.boundText(tg.ID); !strings.Contains(drawn, "\n"+want+"\n") {
			t.Errorf("the targets list draws\n%s\nwant the whole line %q", drawn, want)
		}
	}
}
