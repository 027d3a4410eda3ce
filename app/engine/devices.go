package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/storage"
)

// idDevices is the ID of the devices section's document (kind "settings").
// It replaced the document idPorts (BH1 ports only), which is read when it
// is the only one and deleted when the section is next written.
const idDevices = "devices"

// Limits of the devices section.
const (
	// MaxButton is the highest button number a binding, a debounce setting
	// or a pair may name.
	MaxButton = 64
	// MaxDebounceMS is the longest host debounce window, in milliseconds.
	MaxDebounceMS = 1000
)

// Devices is the "devices" section of the config: the serial ports to open
// and the protocol each speaks, USB on or off, host debounce settings per
// device or button, and LED-only lights paired with buttons. A port is
// configured under one protocol only.
type Devices struct {
	// BH1 are the ports of boards that speak Buttonhook's own line protocol
	// (docs/protocol.md), like /dev/ttyACM0 or COM3.
	BH1 []string `json:"bh1"`
	// Firmata are boards running StandardFirmata, with their button and LED
	// pins.
	Firmata []serial.FirmataOptions `json:"firmata"`
	// Lines are devices that print text lines, mapped to buttons by
	// patterns.
	Lines []serial.LinesOptions `json:"lines"`
	// USB turns the USB driver (Delcom, Dream Cheeky, blink(1), Luxafor)
	// on or off. Absent in a file keeps the setting; on by default.
	USB *USBSettings `json:"usb,omitempty"`
	// Debounce overrides the host debounce window of a device's buttons or
	// of one button.
	Debounce []Debounce `json:"debounce"`
	// Pairs send a button's LED states to a light.
	Pairs []Pair `json:"pairs"`
}

// USBSettings is the "usb" part of the devices section.
type USBSettings struct {
	// Enabled turns the USB driver on (true, the default) or off; absent in
	// a file keeps the setting.
	Enabled *bool `json:"enabled,omitempty"`
}

// Debounce sets the host debounce window of one device's buttons.
type Debounce struct {
	// Device is the device's ID, as `buttonhook devices` shows it.
	Device string `json:"device"`
	// Button is the button, from 1; 0 (or absent) means every button of the
	// device. A button's own setting wins over its device's.
	Button int `json:"button,omitempty"`
	// MS is the window in milliseconds, 0 to MaxDebounceMS; 0 turns host
	// debouncing off. Required.
	MS *int `json:"ms"`
}

// Pair sends the LED states of a button (yellow while a request is in
// flight, green or red with its result) to a light as well: an LED-only
// device such as a blink(1) or a Luxafor Flag, for a button that has no LED
// of its own.
type Pair struct {
	// ButtonDevice and Button are the button's device ID and number.
	ButtonDevice string `json:"button_device"`
	Button       int    `json:"button"`
	// LightDevice is the light's device ID.
	LightDevice string `json:"light_device"`
	// LightButton is the light's LED, numbered as its buttons; 0 (or
	// absent) means 1, the LED of a light with one.
	LightButton int `json:"light_button,omitempty"`
}

// String shows the section as a file writes it (so that %v shows values,
// not pointers).
func (d *Devices) String() string {
	if d == nil {
		return "<nil>"
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// USBEnabled reports whether the USB driver is on (the default).
func (d Devices) USBEnabled() bool { return d.USB == nil || d.USB.Enabled == nil || *d.USB.Enabled }

// clone returns a deep copy of d.
func (d Devices) clone() Devices {
	out := Devices{BH1: slices.Clone(d.BH1), Debounce: slices.Clone(d.Debounce), Pairs: slices.Clone(d.Pairs)}
	for _, f := range d.Firmata {
		f.Buttons = slices.Clone(f.Buttons)
		for i := range f.Buttons {
			f.Buttons[i].LEDs = slices.Clone(f.Buttons[i].LEDs)
		}
		out.Firmata = append(out.Firmata, f)
	}
	for _, l := range d.Lines {
		l.Patterns = slices.Clone(l.Patterns)
		if l.LED != nil {
			m := make(map[string]string, len(l.LED))
			for k, v := range l.LED {
				m[k] = v
			}
			l.LED = m
		}
		out.Lines = append(out.Lines, l)
	}
	if d.USB != nil && d.USB.Enabled != nil {
		on := *d.USB.Enabled
		out.USB = &USBSettings{Enabled: &on}
	}
	for i, db := range out.Debounce {
		if db.MS != nil {
			ms := *db.MS
			out.Debounce[i].MS = &ms
		}
	}
	return out
}

// section returns d as an export writes it: every list present, USB said.
func (d Devices) section() *Devices {
	out := d.clone()
	on := d.USBEnabled()
	out.USB = &USBSettings{Enabled: &on}
	out.BH1, out.Firmata, out.Lines = nonNil(out.BH1), nonNil(out.Firmata), nonNil(out.Lines)
	out.Debounce, out.Pairs = nonNil(out.Debounce), nonNil(out.Pairs)
	return &out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// protocol names, as problems and `buttonhook devices` say them.
const (
	protoBH1     = "BH1"
	protoFirmata = "Firmata"
	protoLines   = "lines"
)

// portUse is where an imported port is configured in a file.
type portUse struct{ proto, path string }

// mergeDevices returns cur with the devices section in and the legacy
// serial_ports list merged into it, and every problem with its path. A port
// in the file replaces what is configured at that port, under whatever
// protocol (BH1 ports are added); a debounce setting replaces the one for
// its device and button, a pair the one for its button; USB is switched
// only when the file says so. With replace, the result is in alone (USB
// kept when in leaves it out).
func mergeDevices(cur Devices, in *Devices, legacy []string, replace bool) (Devices, []string) {
	var errs []string
	add := func(path, format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	out := cur.clone()
	if replace {
		out = Devices{USB: out.USB}
	}
	if in == nil {
		in = &Devices{}
	}
	ports := map[string]portUse{}
	// use records a port of the file and drops what was configured at it;
	// it reports false (and a problem) when the file already has the port
	// under another protocol, or twice under one that takes a port once.
	use := func(port, proto, path string) bool {
		u, dup := ports[port]
		if !dup {
			ports[port] = portUse{proto, path}
			out.dropPort(port)
			return true
		}
		if u.proto != proto {
			add(path, "%s is also configured as a %s device at %s: a port speaks one protocol, keep one of them", port, u.proto, u.path)
		} else if proto != protoBH1 {
			add(path, "%s is also configured at %s: give each port once", port, u.path)
		}
		return false
	}
	bh1 := func(path, p string) {
		if strings.TrimSpace(p) == "" {
			add(path, "is empty: give the board's serial port, like /dev/ttyACM0 or COM3")
			return
		}
		if use(p, protoBH1, path) {
			out.BH1 = append(out.BH1, p)
		}
	}
	for i, p := range legacy {
		bh1(fmt.Sprintf("serial_ports[%d]", i), p)
	}
	for i, p := range in.BH1 {
		bh1(fmt.Sprintf("devices.bh1[%d]", i), p)
	}
	for i, f := range in.Firmata {
		path := fmt.Sprintf("devices.firmata[%d]", i)
		if ps := fieldProblems(path, f.Validate()); len(ps) > 0 {
			errs = append(errs, ps...)
			continue
		}
		if use(f.Port, protoFirmata, path+".port") {
			out.Firmata = append(out.Firmata, f)
		}
	}
	for i, l := range in.Lines {
		path := fmt.Sprintf("devices.lines[%d]", i)
		if ps := fieldProblems(path, l.Validate()); len(ps) > 0 {
			errs = append(errs, ps...)
			continue
		}
		if use(l.Port, protoLines, path+".port") {
			out.Lines = append(out.Lines, l)
		}
	}
	if in.USB != nil && in.USB.Enabled != nil {
		on := *in.USB.Enabled
		out.USB = &USBSettings{Enabled: &on}
	}
	seenDebounce := map[Debounce]string{}
	for i, d := range in.Debounce {
		path := fmt.Sprintf("devices.debounce[%d]", i)
		n := len(errs)
		if p := deviceIDProblem(d.Device); p != "" {
			add(path+".device", "%s", p)
		}
		if d.Button < 0 || d.Button > MaxButton {
			add(path+".button", "%d is not a button number (1-%d), or 0 for every button of the device", d.Button, MaxButton)
		}
		switch {
		case d.MS == nil:
			add(path+".ms", "is missing: give the window in milliseconds (0-%d), 0 to turn debouncing off", MaxDebounceMS)
		case *d.MS < 0 || *d.MS > MaxDebounceMS:
			add(path+".ms", "%d is out of range 0-%d (0 turns debouncing off)", *d.MS, MaxDebounceMS)
		}
		key := Debounce{Device: d.Device, Button: d.Button}
		if other, dup := seenDebounce[key]; dup {
			add(path, "%s button %d is also set at %s", d.Device, d.Button, other)
		}
		seenDebounce[key] = path
		if len(errs) > n {
			continue
		}
		ms := *d.MS
		d.MS = &ms
		out.Debounce = upsert(out.Debounce, d, func(o Debounce) bool { return o.Device == d.Device && o.Button == d.Button })
	}
	seenPair := map[Pair]string{}
	for i, p := range in.Pairs {
		path := fmt.Sprintf("devices.pairs[%d]", i)
		n := len(errs)
		if msg := deviceIDProblem(p.ButtonDevice); msg != "" {
			add(path+".button_device", "%s", msg)
		}
		if p.Button < 1 || p.Button > MaxButton {
			add(path+".button", "%d is not a button number (1-%d)", p.Button, MaxButton)
		}
		if msg := deviceIDProblem(p.LightDevice); msg != "" {
			add(path+".light_device", "%s", msg)
		} else if p.LightDevice == p.ButtonDevice {
			add(path+".light_device", "%s is the button's own device: its LED already shows the button's states; pair the button with another device", p.LightDevice)
		}
		if p.LightButton < 0 || p.LightButton > MaxButton {
			add(path+".light_button", "%d is not an LED number (1-%d), or 0 for 1", p.LightButton, MaxButton)
		}
		key := Pair{ButtonDevice: p.ButtonDevice, Button: p.Button}
		if other, dup := seenPair[key]; dup {
			add(path, "%s button %d is also paired at %s: a button has one light", p.ButtonDevice, p.Button, other)
		}
		seenPair[key] = path
		if len(errs) > n {
			continue
		}
		if p.LightButton == 0 {
			p.LightButton = 1
		}
		out.Pairs = upsert(out.Pairs, p, func(o Pair) bool { return o.ButtonDevice == p.ButtonDevice && o.Button == p.Button })
	}
	return out, errs
}

// upsert replaces the first element of s that same reports true for with v,
// or appends v.
func upsert[T any](s []T, v T, same func(T) bool) []T {
	if i := slices.IndexFunc(s, same); i >= 0 {
		s[i] = v
		return s
	}
	return append(s, v)
}

// dropPort removes port from every protocol's list.
func (d *Devices) dropPort(port string) {
	d.BH1 = slices.DeleteFunc(d.BH1, func(p string) bool { return p == port })
	d.Firmata = slices.DeleteFunc(d.Firmata, func(f serial.FirmataOptions) bool { return f.Port == port })
	d.Lines = slices.DeleteFunc(d.Lines, func(l serial.LinesOptions) bool { return l.Port == port })
}

// Protocol returns the protocol a port is configured with ("BH1",
// "Firmata" or "lines"), or "".
func (d Devices) Protocol(port string) string {
	switch {
	case slices.Contains(d.BH1, port):
		return protoBH1
	case slices.ContainsFunc(d.Firmata, func(f serial.FirmataOptions) bool { return f.Port == port }):
		return protoFirmata
	case slices.ContainsFunc(d.Lines, func(l serial.LinesOptions) bool { return l.Port == port }):
		return protoLines
	}
	return ""
}

// deviceIDProblem says what is wrong with a device ID, or "".
func deviceIDProblem(id string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return "is empty: give the device's ID as `buttonhook devices` shows it, like serial:SIM-3F2A"
	case !strings.Contains(id, ":") || strings.HasPrefix(id, ":"):
		return fmt.Sprintf("%q is not a device ID: IDs start with their driver, like serial:SIM-3F2A or usb:27b8:01ed:12345 (see `buttonhook devices`)", id)
	}
	return ""
}

// fieldProblems lists the problems joined in a driver's validation error,
// each prefixed with path ("devices.firmata[0]." + "buttons[1].pin: ...").
func fieldProblems(path string, err error) []string {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = path + "." + e.Error()
	}
	return out
}

// changes returns the store changes that save d: the devices document, and
// the deletion of the document it replaced.
func (d Devices) changes() []storage.ConfigChange {
	return []storage.ConfigChange{docChange(kindSettings, idDevices, d), {Kind: kindSettings, ID: idPorts}}
}

// loadDevices reads the devices section from the settings documents: the
// devices document, or else the BH1 ports of the document it replaced.
func loadDevices(docs map[string][]byte) (Devices, error) {
	var d Devices
	if data, ok := docs[idDevices]; ok {
		if err := json.Unmarshal(data, &d); err != nil {
			return d, fmt.Errorf("read device settings: %w", err)
		}
		return d, nil
	}
	if data, ok := docs[idPorts]; ok {
		if err := json.Unmarshal(data, &d.BH1); err != nil {
			return d, fmt.Errorf("read serial ports: %w", err)
		}
	}
	return d, nil
}
