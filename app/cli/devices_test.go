package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/usb"
)

// TestPrintDevices prints a device of every driver, connected or not, as
// `buttonhook devices` does with an instance running and without one.
func TestPrintDevices(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	ms := func(n int) *int { return &n }
	rep := devicesReport{
		Devices: []engine.DeviceState{
			{Info: device.Info{ID: "serial:UNO1", Driver: "serial", Path: "/dev/ttyACM0", Model: "uno", Firmware: "1.2", Buttons: 1,
				Colors: []device.Color{device.Red, device.Green}}, Connected: true, Since: since, Reconnects: 2, Protocol: "BH1"},
			{Info: device.Info{ID: "firmata:/dev/ttyACM1", Driver: "firmata", Path: "/dev/ttyACM1", Model: "StandardFirmata", Buttons: 2,
				Colors: []device.Color{}}, Connected: true, Since: since, Protocol: "Firmata"},
			{Info: device.Info{ID: "lines:/dev/ttyUSB0", Driver: "lines", Path: "/dev/ttyUSB0", Model: "serial lines", Buttons: 1},
				Error: "read /dev/ttyUSB0: device gone", Since: since, Protocol: "lines"},
			{Info: device.Info{ID: "usb:27b8:01ed:AB12", Driver: "usb", Path: "1-1.2", Model: "blink(1)",
				Colors: []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White}}, Connected: true, Since: since},
			{Info: device.Info{Driver: "usb", Path: "usb:2-1@7"}, Error: "permission denied opening Dream Cheeky Big Red Button: install the udev rules", Since: since},
			{Info: device.Info{Driver: "serial", Path: "/dev/ttyACM9"}, Error: "serial port /dev/ttyACM9 not found", Protocol: "BH1"},
		},
		USBEnabled: true,
		Debounce:   []engine.Debounce{{Device: "serial:UNO1", MS: ms(40)}, {Device: "serial:UNO1", Button: 1, MS: ms(0)}},
		Pairs: []engine.Pair{
			{ButtonDevice: "serial:UNO1", Button: 1, LightDevice: "usb:27b8:01ed:AB12", LightButton: 1},
			{ButtonDevice: "firmata:/dev/ttyACM1", Button: 2, LightDevice: "usb:04d8:f372:X", LightButton: 1},
		},
		Ports: []serial.PortInfo{{Path: "/dev/ttyACM0", USB: true, VID: "2341", PID: "0043", SerialNumber: "UNO1", Product: "Arduino Uno"}, {Path: "/dev/ttyS0"}},
		USB:   []usb.Found{{Model: "blink(1)", VID: "27b8", PID: "01ed", Bus: 1, Address: 4}},
	}
	cfg := engine.Devices{BH1: []string{"/dev/ttyACM0"}, Firmata: []serial.FirmataOptions{{Port: "/dev/ttyACM1", DebounceMS: 60}}}
	show := func(rep devicesReport) []string {
		t.Helper()
		var b bytes.Buffer
		if err := printDevices(&b, rep, cfg); err != nil {
			t.Fatal(err)
		}
		return strings.Split(b.String(), "\n")
	}
	expect := func(lines []string, want [][]string) {
		t.Helper()
		for _, w := range want {
			found := false
			for _, l := range lines {
				if strings.HasPrefix(l, w[0]) && containsInOrder(l, w[1:]) {
					found = true
				}
			}
			if !found {
				t.Errorf("no line %q:\n%s", w, strings.Join(lines, "\n"))
			}
		}
	}
	at := since.Format(time.DateTime)
	lines := show(rep)
	if !strings.HasPrefix(lines[0], "DEVICE") || !strings.HasSuffix(strings.TrimSpace(lines[0]), "STATE") {
		t.Errorf("header %q, want DEVICE ... STATE", lines[0])
	}
	expect(lines, [][]string{
		{"serial:UNO1 ", at, " 2 ", "/dev/ttyACM0", "BH1", "uno", "1.2", " 1 ", "red,green", "connected"},
		{"firmata:/dev/ttyACM1 ", at, " 0 ", "Firmata", "StandardFirmata", " 2 ", " - ", "connected"},
		{"lines:/dev/ttyUSB0 ", at, "lines", "serial lines", "not connected: read /dev/ttyUSB0: device gone"},
		{"usb:27b8:01ed:AB12 ", "1-1.2", " usb ", "blink(1)", " 0 ", "red,green,yellow,blue,white", "connected"},
		{"- ", "usb:2-1@7", " usb ", " - ", "not connected: permission denied opening Dream Cheeky Big Red Button: install the udev rules"},
		{"- ", " - ", " 0 ", "/dev/ttyACM9", "BH1", " - ", "not connected: serial port /dev/ttyACM9 not found"},
		{"  the Firmata board at /dev/ttyACM1: 60 ms"},
		{"  serial:UNO1 every button: 40 ms"},
		{"  serial:UNO1 button 1: off"},
		{"  serial:UNO1 button 1 -> usb:27b8:01ed:AB12 LED 1"},
		{"  firmata:/dev/ttyACM1 button 2 -> usb:04d8:f372:X LED 1  (light not connected)"},
		{"  /dev/ttyACM0  USB 2341:0043  serial UNO1  Arduino Uno  (configured: BH1)"},
		{"  /dev/ttyS0"},
		{"Supported USB devices on this computer (opened unless devices.usb.enabled is false"},
		{"  blink(1)  27b8:01ed  light  bus 1 address 4"},
	})
	for _, l := range lines {
		if strings.Contains(l, "usb:27b8:01ed:AB12 LED 1  (light not connected)") {
			t.Errorf("the connected light is said not to be connected: %q", l)
		}
	}

	// Without an instance: each device was opened once; no since, no
	// reconnects. USB turned off, then a build without USB.
	rep.Probed, rep.USBEnabled = true, false
	lines = show(rep)
	expect(lines, [][]string{
		{"No Buttonhook runs on this data directory: each device was opened once"},
		{"serial:UNO1 ", " - ", " - ", "/dev/ttyACM0", "connected"},
		{"Supported USB devices on this computer (not opened: USB is turned off (devices.usb.enabled is false)):"},
	})
	rep.USB, rep.usbUnsupported = nil, true
	expect(show(rep), [][]string{{"USB devices: not supported by this build"}})
	rep.Devices, rep.usbUnsupported = nil, false
	expect(show(rep), [][]string{{"(no devices: add one in the window's Devices dialog"}, {"USB devices: turned off (devices.usb.enabled is false)."}})
}

// containsInOrder reports whether s holds each of parts, in order.
func containsInOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}
