package ui

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device/serial"
)

// DeviceEngine is what the Devices dialog needs of the engine besides the
// device states: the devices section, read and replaced whole (the engine
// checks it and applies it to the running devices).
type DeviceEngine interface {
	DeviceConfig() engine.Devices
	SetDeviceConfig(engine.Devices) error
}

// devicesDialog lists the devices the engine sees, with their state, and
// edits the devices section: the serial ports with their protocol and
// settings, USB on or off, debounce settings and paired lights. Each change
// is saved at once through the engine; the dialog keeps nothing of its own
// and shows the engine's state again after each change and event.
type devicesDialog struct {
	w                              *Window
	states, ports, debounce, pairs *fyne.Container
	usb                            *widget.Check
	message                        *widget.Label // the outcome of the last change
	tabs                           *container.AppTabs
	content                        fyne.CanvasObject
	devs                           []engine.DeviceState // as last read
	// watch is the port a save's message follows until its device
	// connects ("" for none); its device's states since watchSince are
	// news (older ones are of the device as it was before the save).
	watch      string
	watchSince time.Time
}

func (w *Window) newDevicesDialog() *devicesDialog {
	dd := &devicesDialog{w: w, states: container.NewVBox(), ports: container.NewVBox(),
		debounce: container.NewVBox(), pairs: container.NewVBox(), message: widget.NewLabel("")}
	dd.message.Wrapping = fyne.TextWrapWord
	dd.message.Hide()
	dd.usb = widget.NewCheck("Open supported USB devices (Delcom indicator, Dream Cheeky button, blink(1), Luxafor Flag)", dd.setUSB)
	button := func(label string, icon fyne.Resource, f func()) *widget.Button {
		return widget.NewButtonWithIcon(label, icon, f)
	}
	tab := func(hint string, list *fyne.Container, buttons ...fyne.CanvasObject) fyne.CanvasObject {
		return container.NewVScroll(container.NewPadded(container.NewVBox(newHint(hint), list, container.NewHBox(buttons...))))
	}
	dd.tabs = container.NewAppTabs(
		container.NewTabItem("Devices", tab("Every device Buttonhook has seen since it started, and every configured port.",
			dd.states, dd.usb)),
		container.NewTabItem("Serial ports", tab("Buttonhook opens only the ports listed here. "+portsFound(),
			dd.ports,
			button("Add BH1 board", theme.ContentAddIcon(), func() { dd.editPort(engine.Devices{}, "") }),
			button("Add Firmata board", theme.ContentAddIcon(), func() { dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{{}}}, "") }),
			button("Add line device", theme.ContentAddIcon(), func() { dd.editPort(engine.Devices{Lines: []serial.LinesOptions{{}}}, "") }))),
		container.NewTabItem("Debounce", tab("The host ignores a button's bounce for 25 ms after each change. Set another window for "+
			"a device's buttons or for one button; 0 turns debouncing off.",
			dd.debounce, button("Add debounce setting", theme.ContentAddIcon(), func() { dd.editDebounce(nil) }))),
		container.NewTabItem("Paired lights", tab("A light without a button (blink(1), Luxafor Flag) shows the LED states of the button it is paired with.",
			dd.pairs, button("Pair a light", theme.ContentAddIcon(), func() { dd.editPair(nil) }))),
	)
	dd.content = container.NewBorder(nil, dd.message, nil, nil, dd.tabs)
	dd.refresh()
	return dd
}

// portsFound lists the serial ports the operating system has, to pick from.
func portsFound() string {
	ps, _ := serial.ListPorts()
	if len(ps) == 0 {
		return "This computer lists no serial ports now (a simulator's path is printed by `buttonhook sim`)."
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Path+strings.TrimRight(" "+p.Product, " "))
	}
	return "Ports on this computer: " + strings.Join(names, ", ") + "."
}

// handle refreshes the dialog on the engine events that change what it shows.
func (dd *devicesDialog) handle(ev engine.Event) {
	if dd.wants(ev) {
		dd.refresh()
	}
}

// wants reports whether ev may change what the dialog shows (attempts do
// not).
func (dd *devicesDialog) wants(ev engine.Event) bool {
	return ev.Kind == engine.DevicesChanged || ev.Kind == engine.ConfigChanged || ev.Missed > 0
}

// refresh shows the engine's devices and devices section again.
func (dd *devicesDialog) refresh() {
	cfg := dd.w.eng.DeviceConfig()
	dd.devs = dd.w.eng.Devices()
	dd.states.RemoveAll()
	for i, d := range dd.devs {
		if i > 0 {
			dd.states.Add(widget.NewSeparator())
		}
		dd.states.Add(stateRow(d, time.Now()))
	}
	if len(dd.devs) == 0 {
		dd.states.Add(newHint("No devices yet: add a serial port, or plug in a supported USB device."))
	}
	dd.usb.OnChanged = nil // setting it is not the user's change
	dd.usb.SetChecked(cfg.USBEnabled())
	dd.usb.OnChanged = dd.setUSB

	dd.ports.RemoveAll()
	for _, p := range cfg.BH1 {
		dd.ports.Add(dd.configRow("BH1 · "+p, "Buttonhook's own protocol (reference firmware, `buttonhook sim`), 115200 baud",
			func() { dd.editPort(engine.Devices{BH1: []string{p}}, p) }, func(d *engine.Devices) { d.BH1 = slices.DeleteFunc(d.BH1, equals(p)) }))
	}
	for _, f := range cfg.Firmata {
		dd.ports.Add(dd.configRow("Firmata · "+f.Port, describeFirmata(f),
			func() { dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{f}}, f.Port) },
			func(d *engine.Devices) { d.Firmata = slices.DeleteFunc(d.Firmata, firmataAt(f.Port)) }))
	}
	for _, l := range cfg.Lines {
		dd.ports.Add(dd.configRow("Line device · "+l.Port, describeLines(l),
			func() { dd.editPort(engine.Devices{Lines: []serial.LinesOptions{l}}, l.Port) },
			func(d *engine.Devices) { d.Lines = slices.DeleteFunc(d.Lines, linesAt(l.Port)) }))
	}
	emptyHint(dd.ports, "No serial ports configured.")

	dd.debounce.RemoveAll()
	for _, db := range cfg.Debounce {
		dd.debounce.Add(dd.configRow(db.Device+" · "+buttonText(db.Button, "every button"), debounceText(*db.MS),
			func() { dd.editDebounce(&db) }, func(d *engine.Devices) { d.Debounce = slices.DeleteFunc(d.Debounce, sameDebounce(db)) }))
	}
	emptyHint(dd.debounce, "Every button has the default 25 ms window.")

	dd.pairs.RemoveAll()
	for _, p := range cfg.Pairs {
		dd.pairs.Add(dd.configRow(fmt.Sprintf("%s button %d → %s", p.ButtonDevice, p.Button, p.LightDevice), dd.lightText(p),
			func() { dd.editPair(&p) }, func(d *engine.Devices) { d.Pairs = slices.DeleteFunc(d.Pairs, samePair(p)) }))
	}
	emptyHint(dd.pairs, "No paired lights.")
	dd.showWatched()
	dd.content.Refresh()
}

// lightText says which LED of a pair's light shows the button's states,
// and whether the light is connected.
func (dd *devicesDialog) lightText(p engine.Pair) string {
	state := "the light is not connected"
	if slices.ContainsFunc(dd.devs, func(d engine.DeviceState) bool { return d.ID == p.LightDevice && d.Connected }) {
		state = "the light is connected"
	}
	return fmt.Sprintf("the light's LED %d · %s", p.LightButton, state)
}

func emptyHint(list *fyne.Container, text string) {
	if len(list.Objects) == 0 {
		list.Add(newHint(text))
	}
}

func equals(s string) func(string) bool { return func(o string) bool { return o == s } }

func firmataAt(port string) func(serial.FirmataOptions) bool {
	return func(o serial.FirmataOptions) bool { return o.Port == port }
}

func linesAt(port string) func(serial.LinesOptions) bool {
	return func(o serial.LinesOptions) bool { return o.Port == port }
}

func sameDebounce(db engine.Debounce) func(engine.Debounce) bool {
	return func(o engine.Debounce) bool { return o.Device == db.Device && o.Button == db.Button }
}

func samePair(p engine.Pair) func(engine.Pair) bool {
	return func(o engine.Pair) bool { return o.ButtonDevice == p.ButtonDevice && o.Button == p.Button }
}

// stateRow shows one device: connected or not, why not, since when, and
// how often it came back.
func stateRow(d engine.DeviceState, now time.Time) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name := cmp.Or(d.Name(), d.Path)
	parts := []string{cmp.Or(d.ID, "not identified"), cmp.Or(d.Protocol, d.Driver)}
	if !strings.Contains(name, d.Path) {
		parts = append(parts, d.Path)
	}
	if d.Connected {
		title.SetText("● " + name + " — connected")
		title.Importance = widget.SuccessImportance
		parts = append(parts, fmt.Sprintf("%d button(s)", d.Buttons))
	} else {
		title.SetText("○ " + name + " — not connected")
		title.Importance = widget.DangerImportance
	}
	if !d.Since.IsZero() {
		parts = append(parts, "since "+sinceText(d.Since, now))
	}
	parts = append(parts, fmt.Sprintf("%d reconnect(s)", d.Reconnects))
	detail := widget.NewLabel(strings.Join(parts, " · "))
	detail.Wrapping = fyne.TextWrapWord
	box := container.New(layout.NewCustomPaddedVBoxLayout(0), title, detail)
	if !d.Connected && d.Error != "" {
		reason := widget.NewLabel(d.Error)
		reason.Wrapping = fyne.TextWrapWord
		reason.Importance = widget.DangerImportance
		box.Add(reason)
	}
	return box
}

// sinceText is a time of today as 15:04:05, else with its date.
func sinceText(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04")
}

// configRow is one item of the devices section with Edit and Remove.
func (dd *devicesDialog) configRow(title, detail string, edit func(), remove func(*engine.Devices)) fyne.CanvasObject {
	about := widget.NewLabel(detail)
	about.Wrapping = fyne.TextWrapWord
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), about)
	del := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		dialog.ShowConfirm("Remove", "Remove "+title+"?", func(ok bool) {
			if ok {
				dd.report(dd.apply(remove), "Removed "+title+".")
			}
		}, dd.w.Window)
	})
	buttons := container.NewHBox(widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), edit), del)
	return container.NewBorder(nil, nil, nil, container.NewCenter(buttons), text)
}

// apply saves the devices section as change makes it from the engine's.
func (dd *devicesDialog) apply(change func(*engine.Devices)) error {
	d := dd.w.eng.DeviceConfig()
	change(&d)
	if err := dd.w.eng.SetDeviceConfig(d); err != nil {
		return err
	}
	dd.refresh()
	return nil
}

// report shows the outcome of a change under the tabs.
func (dd *devicesDialog) report(err error, ok string) {
	dd.watch = ""
	if err != nil {
		dd.say(widget.DangerImportance, problemText(err))
		return
	}
	dd.say(widget.SuccessImportance, ok)
}

func (dd *devicesDialog) say(imp widget.Importance, text string) {
	dd.message.Importance = imp
	dd.message.SetText(text)
	dd.message.Show()
	dd.content.Refresh()
}

// follow makes the message follow the device at port, saved at since
// (zero when its settings did not change), until it connects.
func (dd *devicesDialog) follow(port string, since time.Time) {
	dd.watch, dd.watchSince = port, since
	dd.showWatched()
}

// showWatched says how the followed port's device is doing once there is
// news of it: connected (and the message stops following it), or why not.
func (dd *devicesDialog) showWatched() {
	i := slices.IndexFunc(dd.devs, func(d engine.DeviceState) bool { return d.Path == dd.watch })
	if dd.watch == "" || i < 0 {
		return
	}
	d := dd.devs[i]
	news := !d.Since.Before(dd.watchSince)
	if d.Since.IsZero() { // not opened yet, or not there to open
		_, err := os.Stat(d.Path)
		news = errors.Is(err, fs.ErrNotExist)
	}
	switch {
	case !news:
	case d.Connected:
		dd.watch = ""
		dd.say(widget.SuccessImportance, fmt.Sprintf("Saved %s: connected to %s.", d.Path, cmp.Or(d.Name(), d.ID)))
	case d.Error != "":
		dd.say(widget.DangerImportance, fmt.Sprintf("Saved %s, but it is not connected: %s", d.Path, d.Error))
	}
}

func (dd *devicesDialog) setUSB(on bool) {
	msg := "USB devices are turned off."
	if on {
		msg = "Supported USB devices are opened."
	}
	err := dd.apply(func(d *engine.Devices) { d.USB = &engine.USBSettings{Enabled: &on} })
	dd.report(err, msg)
	if err != nil {
		dd.refresh() // refused: show the setting as it is
	}
}

func buttonText(b int, all string) string {
	if b == 0 {
		return all
	}
	return fmt.Sprintf("button %d", b)
}

func debounceText(ms int) string {
	if ms == 0 {
		return "debouncing off"
	}
	return fmt.Sprintf("%d ms window", ms)
}

func formatLEDs(leds []serial.FirmataLED) string {
	s := make([]string, len(leds))
	for i, l := range leds {
		s[i] = strings.TrimSpace(string(l.Color) + " " + strconv.Itoa(l.Pin))
	}
	return strings.Join(s, ", ")
}

func describeFirmata(o serial.FirmataOptions) string {
	var pins []string
	for _, b := range o.Buttons {
		p := strconv.Itoa(b.Pin)
		if len(b.LEDs) > 0 {
			p += " (LED " + formatLEDs(b.LEDs) + ")"
		}
		pins = append(pins, p)
	}
	return fmt.Sprintf("StandardFirmata, %d baud · button pins %s", cmp.Or(o.Baud, serial.FirmataBaudRate), strings.Join(pins, ", "))
}

func describeLines(o serial.LinesOptions) string {
	leds := "no LED"
	if len(o.LED) > 0 {
		leds = fmt.Sprintf("%d LED template(s)", len(o.LED))
	}
	return fmt.Sprintf("%d baud · %d pattern(s) · %s", cmp.Or(o.Baud, serial.LinesBaudRate), len(o.Patterns), leds)
}

// showDevices opens the Devices dialog, kept up to date with the engine's
// events while it is open.
func (w *Window) showDevices() *devicesDialog {
	dd := w.newDevicesDialog()
	events, unsubscribe := w.eng.Subscribe(64)
	go func() { // ends when unsubscribe closes events (the dialog closed)
		for ev := range events {
			if dd.wants(ev) {
				fyne.Do(dd.refresh)
			}
		}
	}()
	var d dialog.Dialog
	closeButton := widget.NewButton("Close", func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons("Devices", container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), closeButton), nil, nil, dd.content), w.Window)
	d.SetOnClosed(unsubscribe)
	size := w.Canvas().Size()
	d.Resize(fyne.NewSize(min(920, size.Width-40), min(660, size.Height-40)))
	d.Show()
	return dd
}
