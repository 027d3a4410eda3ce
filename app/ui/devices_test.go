package ui

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
)

// newDevicesWindow builds the window over an engine with the BH1 and
// Firmata drivers.
func newDevicesWindow(t *testing.T) (*Window, *engine.Engine) {
	t.Helper()
	sd := serial.NewDriver(nil)
	w, e, _ := openWindow(t, engine.Options{Ports: sd, Drivers: []device.Driver{sd, serial.NewFirmataDriver(nil)}, ScanInterval: 20 * time.Millisecond})
	return w, e
}

// labelsUnder are the texts of the labels under o, joined with "|".
func labelsUnder(o fyne.CanvasObject) string {
	var labels []string
	findLabels(o, &labels)
	return strings.Join(labels, "|")
}

// closeOverlays closes every dialog.
func closeOverlays(w *Window) {
	for w.Canvas().Overlays().Top() != nil {
		w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())
	}
}

// runUntilShown runs e until the test ends and feeds the dialog engine
// events until its Devices tab shows want.
func runUntilShown(t *testing.T, dd *devicesDialog, e *engine.Engine, events <-chan engine.Event, want ...string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		all := labelsUnder(dd.states)
		missing := ""
		for _, s := range want {
			if !strings.Contains(all, s) {
				missing = s
			}
		}
		if missing == "" {
			return
		}
		select {
		case ev := <-events:
			dd.handle(ev)
		case <-time.After(50 * time.Millisecond):
			dd.refresh()
		case <-deadline:
			t.Fatalf("the Devices tab never showed %q; it shows %q", missing, all)
		}
	}
}

func runEngine(t *testing.T, e *engine.Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestDevicesDialogAddsPortsAndShowsState adds a simulated BH1 board and a
// Firmata board through the dialog while the engine runs: each shows as
// connected with its ID, protocol and reconnects. The Firmata board is
// first given a pin it lacks: its row says why it is not connected, and
// the fixed pin connects it at once.
func TestDevicesDialogAddsPortsAndShowsState(t *testing.T) {
	btn, err := sim.New(sim.Options{Serial: "SIM-DLG"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	fb, err := sim.NewFirmata(sim.FirmataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fb.Close() })
	w, e := newDevicesWindow(t)
	events, unsub := e.Subscribe(256)
	defer unsub()
	runEngine(t, e)
	dd := w.newDevicesDialog()
	if all := labelsUnder(dd.states); !strings.Contains(all, "No devices yet") {
		t.Errorf("Devices tab with nothing configured shows %q", all)
	}

	pe := dd.editPort(engine.Devices{}, "")
	if pe.proto.Selected != protoBH1 || pe.baudRow.content.Visible() {
		t.Errorf("a new port is %q with its baud shown %v, want BH1, no baud", pe.proto.Selected, pe.baudRow.content.Visible())
	}
	test.Type(pe.port, btn.Path())
	test.Tap(pe.f.save)
	runUntilShown(t, dd, e, events, "● sim SIM-DLG — connected", "serial:SIM-DLG · BH1 · "+btn.Path(), "0 reconnect(s)", "since ")
	wantMessage(t, dd, "Saved "+btn.Path()+": connected to sim SIM-DLG.")

	pe = dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{{}}}, "")
	test.Type(pe.port, fb.Path())
	test.Type(pe.buttons.rows[0].val.pin, "40")
	test.Tap(pe.f.save)
	runUntilShown(t, dd, e, events, "○ "+fb.Path()+" — not connected", "pin 40 (button 1) cannot be an input with pull-up on this board")
	wantMessage(t, dd, "Saved "+fb.Path()+", but it is not connected: ", "pin 40 (button 1) cannot be an input")
	if got := labelsUnder(dd.ports); !strings.Contains(got, "Firmata · "+fb.Path()) || !strings.Contains(got, "button pins 40") {
		t.Errorf("Serial ports tab shows %q, want the Firmata board with pin 40", got)
	}

	pe = dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{{Port: fb.Path(), Buttons: []serial.FirmataButton{{Pin: 40}}}}}, fb.Path())
	if pe.proto.Selected != protoFirmata || len(pe.buttons.rows) != 1 || pe.buttons.rows[0].val.pin.Text != "40" {
		t.Fatalf("editing the board shows %q with %d button row(s)", pe.proto.Selected, len(pe.buttons.rows))
	}
	pe.buttons.rows[0].val.pin.SetText("2")
	fixed := time.Now()
	test.Tap(pe.f.save)
	runUntilShown(t, dd, e, events, "firmata:"+fb.Path()+" · Firmata", "● StandardFirmata ("+fb.Path()+") — connected")
	if took := time.Since(fixed); took > 5*time.Second {
		t.Errorf("the fixed board connected %v after the fix, want at once", took)
	}
	wantMessage(t, dd, "Saved "+fb.Path()+": connected to StandardFirmata ("+fb.Path()+").")
}

// wantMessage checks that the message under the Devices dialog's tabs says
// each of want, and no longer that a port is connecting.
func wantMessage(t *testing.T, dd *devicesDialog, want ...string) {
	t.Helper()
	got := dd.message.Text
	if !dd.message.Visible() || strings.Contains(got, "connecting") {
		t.Errorf("message = %q (shown %v), want the device's state", got, dd.message.Visible())
	}
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("message = %q, want it to say %q", got, s)
		}
	}
}

// TestDevicesDialogEditsEverySetting adds, edits and removes each kind of
// item through the dialog's editors and checks the engine's devices
// section after each.
func TestDevicesDialogEditsEverySetting(t *testing.T) {
	w, e := newDevicesWindow(t)
	dd := w.newDevicesDialog()
	want := engine.Devices{}
	check := func(what string) {
		t.Helper()
		closeOverlays(w)
		got := e.DeviceConfig()
		got.USB = want.USB
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: devices = %v\nwant %v", what, &got, &want)
		}
	}

	pe := dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{{}}}, "")
	test.Type(pe.port, "/dev/ttyACM1")
	test.Type(pe.baud, "115200")
	test.Type(pe.debounce, "40")
	test.Type(pe.buttons.rows[0].val.pin, "2")
	test.Type(pe.buttons.rows[0].val.leds, "red 9, green 10")
	test.Tap(findButton(pe.buttons.box, "Add button"))
	test.Type(pe.buttons.rows[1].val.pin, "3")
	test.Type(pe.buttons.rows[1].val.leds, "13")
	test.Tap(pe.buttons.rows[1].val.low)
	test.Tap(pe.f.save)
	want.Firmata = []serial.FirmataOptions{{Port: "/dev/ttyACM1", Baud: 115200, DebounceMS: 40, Buttons: []serial.FirmataButton{
		{Pin: 2, LEDs: []serial.FirmataLED{{Pin: 9, Color: device.Red}, {Pin: 10, Color: device.Green}}},
		{Pin: 3, LEDs: []serial.FirmataLED{{Pin: 13, ActiveLow: true}}},
	}}}
	check("a Firmata board")

	pe = dd.editPort(engine.Devices{Lines: []serial.LinesOptions{{}}}, "")
	test.Type(pe.port, "/dev/ttyUSB0")
	test.Type(pe.patterns.rows[0].val.re, "^DOWN$")
	pe.patterns.rows[0].val.means.SetSelected("down")
	pe.patterns.add()
	test.Type(pe.patterns.rows[1].val.re, "^UP$")
	pe.patterns.rows[1].val.means.SetSelected("up")
	pe.patterns.add()
	test.Type(pe.patterns.rows[2].val.re, "^TWICE (\\d)$")
	pe.patterns.rows[2].val.button.SetText("2")
	pe.patterns.rows[2].val.means.SetSelected("double press")
	pe.leds.add(actions.KV{Key: "on", Value: "LIGHT {color}"})
	pe.leds.add(actions.KV{Key: "off", Value: "DARK"})
	pe.ending.SetSelectedIndex(1)
	test.Tap(pe.f.save)
	want.Lines = []serial.LinesOptions{{Port: "/dev/ttyUSB0", Patterns: []serial.LinePattern{
		{Regexp: "^DOWN$", Button: 1, Edge: "down"}, {Regexp: "^UP$", Button: 1, Edge: "up"}, {Regexp: "^TWICE (\\d)$", Button: 2, Gesture: "double"},
	}, LED: map[string]string{"on": "LIGHT {color}", "off": "DARK"}, LineEnding: "crlf"}}
	check("a line device")

	// The BH1 board at /dev/ttyACM0, then moved to /dev/ttyACM2.
	pe = dd.editPort(engine.Devices{}, "")
	test.Type(pe.port, "/dev/ttyACM0")
	test.Tap(pe.f.save)
	pe = dd.editPort(engine.Devices{BH1: []string{"/dev/ttyACM0"}}, "/dev/ttyACM0")
	pe.port.SetText("/dev/ttyACM2")
	test.Tap(pe.f.save)
	want.BH1 = []string{"/dev/ttyACM2"}
	check("a BH1 board, moved")

	// The line device becomes a BH1 board: a port speaks one protocol.
	pe = dd.editPort(engine.Devices{Lines: e.DeviceConfig().Lines}, "/dev/ttyUSB0")
	pe.proto.SetSelected(protoBH1)
	test.Tap(pe.f.save)
	want.BH1, want.Lines = []string{"/dev/ttyACM2", "/dev/ttyUSB0"}, nil
	check("the line device as a BH1 board")

	de := dd.editDebounce(nil)
	test.Type(de.device, "serial:SIM-1")
	test.Type(de.ms, "0")
	test.Tap(de.f.save)
	de = dd.editDebounce(nil)
	test.Type(de.device, "serial:SIM-1")
	test.Type(de.button, "2")
	test.Type(de.ms, "60")
	test.Tap(de.f.save)
	want.Debounce = []engine.Debounce{{Device: "serial:SIM-1", MS: ptr(0)}, {Device: "serial:SIM-1", Button: 2, MS: ptr(60)}}
	check("two debounce settings")
	de = dd.editDebounce(&want.Debounce[1])
	if de.button.Text != "2" || de.ms.Text != "60" {
		t.Errorf("editing the setting shows button %q, %q ms", de.button.Text, de.ms.Text)
	}
	de.ms.SetText("80")
	test.Tap(de.f.save)
	want.Debounce[1].MS = ptr(80)
	check("a debounce setting changed")

	pp := dd.editPair(nil)
	test.Type(pp.buttonDevice, "usb:1d34:000d@1-1.2")
	test.Type(pp.light, "usb:27b8:01ed:2000AB12")
	test.Tap(pp.f.save)
	want.Pairs = []engine.Pair{{ButtonDevice: "usb:1d34:000d@1-1.2", Button: 1, LightDevice: "usb:27b8:01ed:2000AB12", LightButton: 1}}
	check("a paired light")
	for _, s := range []string{"usb:1d34:000d@1-1.2 button 1 → usb:27b8:01ed:2000AB12", "the light's LED 1 · the light is not connected"} {
		if got := labelsUnder(dd.pairs); !strings.Contains(got, s) {
			t.Errorf("Paired lights tab shows %q, want %q", got, s)
		}
	}

	test.Tap(dd.usb)
	if e.DeviceConfig().USBEnabled() || dd.usb.Checked {
		t.Errorf("USB unticked: engine's setting %v, box %v; want both off", e.DeviceConfig().USBEnabled(), dd.usb.Checked)
	}
	test.Tap(dd.usb)
	if !e.DeviceConfig().USBEnabled() {
		t.Error("USB ticked again, but the engine's setting is off")
	}

	// Remove asks first; No keeps the item.
	remove := func(list *fyne.Container, answer string) {
		t.Helper()
		test.Tap(findButton(list, "Remove"))
		top := w.Canvas().Overlays().Top()
		if b := findButton(top, answer); b == nil {
			t.Fatalf("Remove asked nothing: %q", labelsUnder(top))
		} else {
			test.Tap(b)
		}
	}
	remove(dd.pairs, "No")
	check("a removal answered No")
	remove(dd.pairs, "Yes")
	want.Pairs = nil
	check("the pair removed")
	remove(dd.ports, "Yes")
	want.BH1 = []string{"/dev/ttyUSB0"}
	check("the first port removed")
	if got := labelsUnder(dd.pairs); !strings.Contains(got, "No paired lights") {
		t.Errorf("Paired lights tab after the removal shows %q", got)
	}
}

// TestDevicesDialogShowsProblemsByField saves items with mistakes: the
// dialog stays open, nothing is saved, and each problem is shown under its
// field, in words.
func TestDevicesDialogShowsProblemsByField(t *testing.T) {
	w, e := newDevicesWindow(t)
	dd := w.newDevicesDialog()
	hint := func(f *itemForm, key string) string {
		t.Helper()
		rows := map[string]*row{}
		for k, r := range f.rows {
			rows[k] = r
		}
		for _, l := range f.lists {
			l(func(k string, r *row) { rows[k] = r })
		}
		r := rows[key]
		if r == nil || !r.hint.Visible() {
			return ""
		}
		return r.hint.Text
	}
	expect := func(f *itemForm, problems map[string]string) {
		t.Helper()
		test.Tap(f.save)
		if w.Canvas().Overlays().Top() == nil {
			t.Fatal("the editor closed on a refused save")
		}
		for key, want := range problems {
			if got := hint(f, key); !strings.Contains(got, want) {
				t.Errorf("under %s: %q, want %q", key, got, want)
			}
		}
		if got := e.DeviceConfig(); !reflect.DeepEqual(got, engine.Devices{}) {
			t.Errorf("a refused save changed the devices: %v", &got)
		}
	}

	pe := dd.editPort(engine.Devices{Firmata: []serial.FirmataOptions{{}}}, "")
	test.Type(pe.baud, "fast")
	expect(pe.f, map[string]string{"baud": `"fast" is not a whole number`, "buttons[0]": "Give the pin the button is on"})
	pe.baud.SetText("")
	test.Type(pe.buttons.rows[0].val.pin, "2")
	pe.buttons.add()
	test.Type(pe.buttons.rows[1].val.pin, "2")
	test.Type(pe.buttons.rows[0].val.leds, "pink 9")
	expect(pe.f, map[string]string{
		"port":       "Port is empty: set the board's serial port",
		"buttons[1]": "Pin 2 is already used by button 1: give each button and LED its own pin",
		"buttons[0]": `Unknown colour "pink"`,
		"baud":       "",
	})
	if h := hint(pe.f, "baud"); strings.Contains(h, "whole number") {
		t.Errorf("the baud's old problem is still shown: %q", h)
	}
	test.Type(pe.buttons.rows[1].val.leds, "red")
	expect(pe.f, map[string]string{"buttons[1]": `"red" is not an LED pin`})
	closeOverlays(w)

	pe = dd.editPort(engine.Devices{Lines: []serial.LinesOptions{{}}}, "")
	test.Type(pe.port, "/dev/ttyUSB0")
	test.Type(pe.patterns.rows[0].val.re, "(")
	pe.leds.add(actions.KV{Key: "blink", Value: "X"})
	expect(pe.f, map[string]string{"patterns[0]": "Error parsing regexp", "led": `Unknown LED mode "blink"`})
	closeOverlays(w)

	de := dd.editDebounce(nil)
	test.Type(de.device, "SIM-1")
	test.Type(de.ms, "5000")
	expect(de.f, map[string]string{"device": `"SIM-1" is not a device ID`, "ms": "5000 is out of range 0-1000"})
	closeOverlays(w)

	pp := dd.editPair(nil)
	test.Type(pp.buttonDevice, "serial:X")
	test.Type(pp.light, "serial:X")
	pp.button.SetText("0")
	expect(pp.f, map[string]string{"button": "0 is not a button number", "light_device": "serial:X is the button's own device"})
}

// TestDevicesButtonOpensTheDialog opens the dialog from the toolbar.
func TestDevicesButtonOpensTheDialog(t *testing.T) {
	w, e := newDevicesWindow(t)
	if err := e.SetDeviceConfig(engine.Devices{BH1: []string{"/dev/buttonhook-nothing"}}); err != nil {
		t.Fatal(err)
	}
	btn := findButton(w.Content(), "Devices")
	if btn == nil {
		t.Fatal("the window has no Devices button")
	}
	if findButton(w.Content(), "Add serial port") != nil {
		t.Error("the toolbar still has Add serial port, which the Devices dialog does")
	}
	test.Tap(btn)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("Devices opened nothing")
	}
	all := labelsUnder(top)
	for _, want := range []string{"/dev/buttonhook-nothing — not connected", "serial port /dev/buttonhook-nothing not found", "Open supported USB devices"} {
		if !strings.Contains(all, want) {
			t.Errorf("the dialog does not show %q; it shows %q", want, all)
		}
	}
	test.Tap(findButton(top, "Close"))
	if w.Canvas().Overlays().Top() != nil {
		t.Error("Close left the dialog open")
	}
}

func ptr[T any](v T) *T { return &v }

// TestDeviceLine describes each kind of device under its name, showing its
// port once (a Firmata board's name and ID both hold it) and its firmware
// first.
func TestDeviceLine(t *testing.T) {
	tests := []struct {
		name string
		info device.Info
		want string
	}{
		{"Firmata board without a serial number",
			device.Info{ID: "firmata:/dev/pts/0", Driver: "firmata", Path: "/dev/pts/0", Model: "StandardFirmata", Firmware: "StandardFirmata v2.5", Buttons: 2},
			"firmware StandardFirmata v2.5 · 2 button(s)"},
		{"Firmata board with a USB serial number",
			device.Info{ID: "firmata:8573432", Driver: "firmata", Path: "/dev/ttyACM0", Model: "StandardFirmata", Firmware: "StandardFirmata v2.5", Serial: "8573432", Buttons: 2},
			"firmware StandardFirmata v2.5 · 2 button(s) · /dev/ttyACM0"},
		{"BH1 board",
			device.Info{ID: "serial:SIM-A1", Driver: "serial", Path: "/dev/pts/1", Model: "sim", Serial: "SIM-A1", Firmware: "1.0.0", Buttons: 2},
			"firmware 1.0.0 · 2 button(s) · /dev/pts/1"},
		{"BH1 board that gave no serial number",
			device.Info{ID: "serial:/dev/ttyACM1", Driver: "serial", Path: "/dev/ttyACM1", Model: "uno", Firmware: "1.2", Buttons: 1},
			"firmware 1.2 · 1 button(s)"},
		{"lines device without a model",
			device.Info{ID: "lines:/dev/ttyUSB0", Driver: "lines", Path: "/dev/ttyUSB0", Buttons: 1},
			"1 button(s)"},
		{"USB light",
			device.Info{ID: "usb:27b8:01ed:AB12", Driver: "usb", Path: "1-1.2", Model: "blink(1)", Serial: "AB12", Firmware: "v204"},
			"firmware v204 · 0 button(s) · usb:27b8:01ed:AB12 · 1-1.2"},
		{"USB button without a serial number",
			device.Info{ID: "usb:1d34:000d@1-1.2", Driver: "usb", Path: "1-1.2", Model: "Dream Cheeky Big Red Button", Buttons: 1},
			"1 button(s) · usb:1d34:000d@1-1.2"}, // the ID also says the VID:PID
	}
	for _, tt := range tests {
		d := engine.DeviceState{Info: tt.info, Connected: true}
		if got := deviceLine(d); got != tt.want {
			t.Errorf("%s (%s): deviceLine = %q, want %q", tt.name, d.Name(), got, tt.want)
		}
	}
}
