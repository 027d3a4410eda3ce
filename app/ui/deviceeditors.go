package ui

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
)

// deviceIDs are the IDs of the devices seen that want holds for, to
// choose from.
func (dd *devicesDialog) deviceIDs(want func(engine.DeviceState) bool) []string {
	var ids []string
	for _, d := range dd.devs {
		if d.ID != "" && want(d) && !slices.Contains(ids, d.ID) {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// debounceEditor holds the fields of a debounce setting.
type debounceEditor struct {
	f          *itemForm
	device     *widget.SelectEntry
	button, ms *widget.Entry
}

// editDebounce edits a debounce setting (a new one when orig is nil).
func (dd *devicesDialog) editDebounce(orig *engine.Debounce) *debounceEditor {
	f := newItemForm()
	dev := widget.NewSelectEntry(dd.deviceIDs(func(d engine.DeviceState) bool { return d.Buttons > 0 }))
	dev.SetPlaceHolder("serial:SIM-3F2A")
	btn, ms := numberEntry(0, "every button"), numberEntry(0, "25")
	if orig != nil {
		dev.SetText(orig.Device)
		btn = numberEntry(orig.Button, "every button")
		ms.SetText(strconv.Itoa(*orig.MS))
	}
	f.add("device", "Device", dev, "its ID, as the Devices tab shows it")
	f.add("button", "Button", narrow(btn, ""), "a button number, or empty (0) for every button of the device")
	f.add("ms", "Window", narrow(ms, "ms"), fmt.Sprintf("0 to %d; 0 turns debouncing off", engine.MaxDebounceMS))
	de := &debounceEditor{f: f, device: dev, button: btn, ms: ms}
	dd.showForm("Debounce setting", f, func() []string {
		var ps []string
		db := engine.Debounce{Device: strings.TrimSpace(dev.Text), Button: number(btn, "button", 0, &ps)}
		if strings.TrimSpace(ms.Text) == "" {
			ps = append(ps, "ms: give the window in milliseconds, 0 to turn debouncing off")
		}
		w := number(ms, "ms", 0, &ps)
		db.MS = &w
		if len(ps) > 0 {
			return ps
		}
		return saveItem(dd, "debounce", func(d *engine.Devices) *[]engine.Debounce { return &d.Debounce }, orig, db, sameDebounce,
			fmt.Sprintf("Saved: %s %s, %s.", db.Device, buttonText(db.Button, "every button"), debounceText(w)))
	})
	return de
}

// pairEditor holds the fields of a paired light.
type pairEditor struct {
	f                   *itemForm
	buttonDevice, light *widget.SelectEntry
	button, led         *widget.Entry
}

// editPair edits a paired light (a new one when orig is nil).
func (dd *devicesDialog) editPair(orig *engine.Pair) *pairEditor {
	f := newItemForm()
	bdev := widget.NewSelectEntry(dd.deviceIDs(func(d engine.DeviceState) bool { return d.Buttons > 0 }))
	ldev := widget.NewSelectEntry(dd.deviceIDs(func(d engine.DeviceState) bool { return len(d.Colors) > 0 }))
	bdev.SetPlaceHolder("usb:1d34:000d@1-1.2")
	ldev.SetPlaceHolder("usb:27b8:01ed:2000AB12")
	btn, led := numberEntry(1, ""), numberEntry(0, "1")
	if orig != nil {
		bdev.SetText(orig.ButtonDevice)
		ldev.SetText(orig.LightDevice)
		btn, led = numberEntry(orig.Button, ""), numberEntry(orig.LightButton, "1")
	}
	f.add("button_device", "Button's device", bdev, "the device with the button")
	f.add("button", "Button", narrow(btn, ""), "numbered from 1")
	f.add("light_device", "Light", ldev, "the device that shows the button's LED states too")
	f.add("light_button", "Light's LED", narrow(led, ""), "numbered as its buttons; 1 for a light with one")
	pe := &pairEditor{f: f, buttonDevice: bdev, light: ldev, button: btn, led: led}
	dd.showForm("Paired light", f, func() []string {
		var ps []string
		p := engine.Pair{ButtonDevice: strings.TrimSpace(bdev.Text), Button: number(btn, "button", 0, &ps),
			LightDevice: strings.TrimSpace(ldev.Text), LightButton: number(led, "light_button", 1, &ps)}
		if len(ps) > 0 {
			return ps
		}
		return saveItem(dd, "pairs", func(d *engine.Devices) *[]engine.Pair { return &d.Pairs }, orig, p, samePair,
			fmt.Sprintf("Saved: %s button %d shows on %s.", p.ButtonDevice, p.Button, p.LightDevice))
	})
	return pe
}

// Protocols as the port editor offers them.
const (
	protoBH1     = "BH1: Buttonhook firmware or `buttonhook sim`"
	protoFirmata = "Firmata: any Arduino with StandardFirmata"
	protoLines   = "Line device: prints a text line per press"
)

// portEditor holds the fields of a serial port, for any protocol.
type portEditor struct {
	f                    *itemForm
	proto                *widget.Select
	port                 *widget.SelectEntry
	baud, name, debounce *widget.Entry
	ending               *widget.Select
	buttons              *rowList[firmataRow]
	patterns             *rowList[patternRow]
	leds                 *kvRows
	firmataRows          []*row
	linesRows            []*row
	baudRow              *row
}

type firmataRow struct {
	pin, leds *widget.Entry
	low       *widget.Check
}

type patternRow struct {
	re, button *widget.Entry
	means      *widget.Select
}

// Meanings of a line pattern, and the edge or gesture each is.
var (
	meanings  = []string{"down", "up", "press", "double press"}
	meaningOf = map[string]serial.LinePattern{"down": {Edge: "down"}, "up": {Edge: "up"}, "press": {Edge: "press"}, "double press": {Gesture: "double"}}
)

var endings = []string{"LF (\\n)", "CRLF (\\r\\n)", "CR (\\r)"}

// editPort edits the port item of d (the one port it has, under its
// protocol; BH1 when it has none): orig is the port it is configured at,
// "" for a new one.
func (dd *devicesDialog) editPort(d engine.Devices, orig string) *portEditor {
	pe := &portEditor{f: newItemForm()}
	var ports []string
	if ps, err := serial.ListPorts(); err == nil {
		for _, p := range ps {
			ports = append(ports, p.Path)
		}
	}
	pe.port = widget.NewSelectEntry(ports)
	pe.port.SetPlaceHolder("/dev/ttyACM0, COM3, or the path `buttonhook sim` prints")
	pe.baud, pe.name, pe.debounce = numberEntry(0, ""), widget.NewEntry(), numberEntry(0, "25 (the host's)")
	pe.name.SetPlaceHolder("serial lines")
	pe.ending = widget.NewSelect(endings, nil)
	pe.ending.SetSelectedIndex(0)
	pe.buttons = newRowList("Add button", func() (firmataRow, fyne.CanvasObject) {
		r := firmataRow{pin: numberEntry(0, "pin"), leds: widget.NewEntry(), low: widget.NewCheck("active low", nil)}
		r.leds.SetPlaceHolder("LED pins: 13, or red 9, green 10")
		return r, container.NewBorder(nil, nil, narrow(r.pin, ""), r.low, r.leds)
	})
	pe.patterns = newRowList("Add pattern", func() (patternRow, fyne.CanvasObject) {
		r := patternRow{re: widget.NewEntry(), button: numberEntry(1, "button"), means: widget.NewSelect(meanings, nil)}
		r.re.SetPlaceHolder("^PRESSED$")
		r.means.SetSelected("press")
		return r, container.NewBorder(nil, nil, nil, container.NewHBox(narrow(r.button, ""), r.means), r.re)
	})
	pe.leds = newKVRows("LED template", "on, off, flash, pulse, or flash:green", "LIGHT {color} {ms}", dd.w.Window, func() {})
	pe.proto = widget.NewSelect([]string{protoBH1, protoFirmata, protoLines}, func(string) { pe.showRows() })

	f := pe.f
	f.add("protocol", "Protocol", pe.proto, "")
	f.add("port", "Port", pe.port, "the device's serial port; a port speaks one protocol")
	pe.baudRow = f.add("baud", "Baud", narrow(pe.baud, "bit/s"), "")
	pe.firmataRows = []*row{
		f.add("debounce_ms", "Debounce", narrow(pe.debounce, "ms"), "the board's debounce window (StandardFirmata does not debounce)"),
		f.add("buttons", "Buttons", pe.buttons.box, "the pin of each button (to ground, internal pull-up), and its LED pins; "+
			"active low for a common-anode LED"),
	}
	pe.linesRows = []*row{
		f.add("name", "Name", pe.name, "the model name shown"),
		f.add("patterns", "Patterns", pe.patterns.box, "a regular expression for a line, the button it is, and what it means; "+
			"the first that matches wins"),
		f.add("led", "LED templates", pe.leds.box, "the line to send for an LED state: {button}, {color}, {mode}, {ms}"),
		f.add("line_ending", "Line ending", pe.ending, "ends each line sent"),
	}
	f.lists = append(f.lists, pe.buttons.keys("buttons"), pe.patterns.keys("patterns"))
	pe.set(d)
	title := "Serial port " + orig
	if orig == "" {
		title = "Add a serial port"
	}
	dd.showForm(title, f, func() []string { return dd.savePort(pe, orig) })
	return pe
}

// set fills the fields from the one port of d.
func (pe *portEditor) set(d engine.Devices) {
	switch {
	case len(d.Firmata) > 0:
		o := d.Firmata[0]
		defer pe.proto.SetSelected(protoFirmata) // after the rows: an empty list gets one
		pe.port.SetText(o.Port)
		pe.baud.SetText(strings.TrimLeft(strconv.Itoa(o.Baud), "0"))
		pe.debounce.SetText(strings.TrimLeft(strconv.Itoa(o.DebounceMS), "0"))
		for _, b := range o.Buttons {
			r := pe.buttons.add()
			r.pin.SetText(strconv.Itoa(b.Pin))
			r.leds.SetText(formatLEDs(b.LEDs))
			r.low.SetChecked(slices.ContainsFunc(b.LEDs, func(l serial.FirmataLED) bool { return l.ActiveLow }))
		}
	case len(d.Lines) > 0:
		o := d.Lines[0]
		defer pe.proto.SetSelected(protoLines)
		pe.port.SetText(o.Port)
		pe.baud.SetText(strings.TrimLeft(strconv.Itoa(o.Baud), "0"))
		pe.name.SetText(o.Name)
		for _, p := range o.Patterns {
			r := pe.patterns.add()
			r.re.SetText(p.Regexp)
			r.button.SetText(strconv.Itoa(p.Button))
			for m, lp := range meaningOf {
				if lp.Edge == p.Edge && lp.Gesture == p.Gesture || p.Gesture == "press" && m == "press" {
					r.means.SetSelected(m)
				}
			}
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range o.LED {
				if !yield(k) {
					return
				}
			}
		})
		var kvs []actions.KV
		for _, k := range keys {
			kvs = append(kvs, actions.KV{Key: k, Value: o.LED[k]})
		}
		pe.leds.set(kvs)
		pe.ending.SetSelectedIndex(max(slices.Index([]string{"lf", "crlf", "cr"}, o.LineEnding), 0))
	default:
		pe.proto.SetSelected(protoBH1)
		if len(d.BH1) > 0 {
			pe.port.SetText(d.BH1[0])
		}
	}
}

// showRows shows the rows of the chosen protocol.
func (pe *portEditor) showRows() {
	p := pe.proto.Selected
	for _, r := range pe.firmataRows {
		r.show(p == protoFirmata)
	}
	for _, r := range pe.linesRows {
		r.show(p == protoLines)
	}
	pe.baudRow.show(p != protoBH1)
	def := serial.FirmataBaudRate
	if p == protoLines {
		def = serial.LinesBaudRate
	}
	pe.baud.SetPlaceHolder(strconv.Itoa(def))
	if p == protoFirmata && len(pe.buttons.rows) == 0 {
		pe.buttons.add()
	}
	if p == protoLines && len(pe.patterns.rows) == 0 {
		pe.patterns.add()
	}
	if pe.f.content != nil {
		pe.f.content.Refresh()
	}
}

// savePort puts the port the fields hold into the section, in place of
// orig and of whatever was configured at its port.
func (dd *devicesDialog) savePort(pe *portEditor, orig string) []string {
	var ps []string
	port := strings.TrimSpace(pe.port.Text)
	baud := number(pe.baud, "baud", 0, &ps)
	var put func(d *engine.Devices) string
	switch pe.proto.Selected {
	case protoFirmata:
		o := serial.FirmataOptions{Port: port, Baud: baud, DebounceMS: number(pe.debounce, "debounce_ms", 0, &ps)}
		for i, r := range pe.buttons.rows {
			leds, err := parseLEDs(r.val.leds.Text, r.val.low.Checked)
			if err != nil {
				ps = append(ps, fmt.Sprintf("buttons[%d]: %v", i, err))
			}
			if strings.TrimSpace(r.val.pin.Text) == "" {
				ps = append(ps, fmt.Sprintf("buttons[%d]: give the pin the button is on", i))
			}
			o.Buttons = append(o.Buttons, serial.FirmataButton{Pin: number(r.val.pin, fmt.Sprintf("buttons[%d].pin", i), 0, &ps), LEDs: leds})
		}
		put = func(d *engine.Devices) string { return appendAt(&d.Firmata, d.Firmata, o, "firmata") }
	case protoLines:
		o := serial.LinesOptions{Port: port, Baud: baud, Name: strings.TrimSpace(pe.name.Text), LED: map[string]string{}}
		for i, r := range pe.patterns.rows {
			p := meaningOf[r.val.means.Selected]
			p.Regexp, p.Button = r.val.re.Text, number(r.val.button, fmt.Sprintf("patterns[%d].button", i), 0, &ps)
			o.Patterns = append(o.Patterns, p)
		}
		for _, kv := range pe.leds.kvs() {
			o.LED[kv.Key] = kv.Value
		}
		o.LineEnding = []string{"", "crlf", "cr"}[max(pe.ending.SelectedIndex(), 0)]
		put = func(d *engine.Devices) string { return appendAt(&d.Lines, d.Lines, o, "lines") }
	default:
		put = func(d *engine.Devices) string { return appendAt(&d.BH1, d.BH1, port, "bh1") }
	}
	if len(ps) > 0 {
		return ps
	}
	var at string
	before, saved := dd.w.eng.DeviceConfig(), time.Now()
	err := dd.apply(func(d *engine.Devices) {
		drop(d, orig)
		drop(d, port) // a port speaks one protocol: this replaces what was there
		at = put(d)
	})
	if err != nil {
		return relative(err, at, "port")
	}
	dd.report(nil, "Saved "+port+"; connecting…")
	if reflect.DeepEqual(before, dd.w.eng.DeviceConfig()) {
		saved = time.Time{} // nothing was opened again: its state now is news
	}
	dd.follow(port, saved)
	return nil
}

// drop removes a port from every protocol of d.
func drop(d *engine.Devices, port string) {
	d.BH1 = slices.DeleteFunc(d.BH1, equals(port))
	d.Firmata = slices.DeleteFunc(d.Firmata, firmataAt(port))
	d.Lines = slices.DeleteFunc(d.Lines, linesAt(port))
}

// parseLEDs reads a button's LED pins: "13" for a single-colour LED, or
// "red 9, green 10" for one pin per colour.
func parseLEDs(s string, activeLow bool) ([]serial.FirmataLED, error) {
	var out []serial.FirmataLED
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		f := strings.FieldsFunc(item, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == '=' })
		l := serial.FirmataLED{ActiveLow: activeLow}
		var err error
		switch len(f) {
		case 1:
			l.Pin, err = strconv.Atoi(f[0])
		case 2:
			l.Color = device.Color(strings.ToLower(f[0]))
			l.Pin, err = strconv.Atoi(f[1])
		default:
			err = errors.New("x")
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not an LED pin: write a pin number (13), or a colour and a pin for each colour (red 9, green 10)", strings.TrimSpace(item))
		}
		out = append(out, l)
	}
	return out, nil
}
