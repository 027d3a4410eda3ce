package usb

import (
	"fmt"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// This file holds the wire formats of the supported models, as pure
// functions on bytes, so that they are tested without a bus. Sources:
//
//   - Delcom: the "USB IO HID" and "USB HID Visual Indicator" datasheets
//     (8-byte packets: major command, minor command, data LSB, data MSB,
//     4 more data bytes) and open-source drivers that follow them. Writes
//     are HID SET_REPORT feature reports with report ID 101; reads are
//     GET_REPORT feature reports whose report ID is the read command.
//   - Dream Cheeky Big Red Button: public drivers (Python, Node) send an
//     8-byte SET_REPORT (output report 0, last byte 2) and read the status
//     byte from the interrupt IN endpoint.
//   - blink(1): ThingM's HID command list: feature report ID 1, 8 bytes,
//     'n' sets a colour now, 'c' fades to it in units of 10 ms.
//   - Luxafor Flag: 8-byte reports on interrupt OUT endpoint 1: 0x01 static
//     colour, 0x02 fade, 0x03 strobe; LED 0xFF means all LEDs.

// USB control request fields used by the HID class (HID 1.11, 7.2).
const (
	reqTypeClassOut uint8 = 0x21 // host to device, class, interface
	reqTypeClassIn  uint8 = 0xa1 // device to host, class, interface
	reqTypeStdIn    uint8 = 0x80 // device to host, standard, device

	hidGetReport uint8 = 0x01
	hidSetReport uint8 = 0x09
	stdGetStatus uint8 = 0x00

	reportOutput  uint16 = 0x0200
	reportFeature uint16 = 0x0300
)

// request is one control transfer: the setup fields and the data stage.
type request struct {
	reqType uint8
	req     uint8
	value   uint16
	index   uint16
	data    []byte // OUT: the bytes sent; IN: its length is wLength
}

func (r request) String() string {
	return fmt.Sprintf("%02x %02x %04x %04x % x", r.reqType, r.req, r.value, r.index, r.data)
}

// setFeature is a HID SET_REPORT of a feature report to interface 0.
func setFeature(id uint8, data []byte) request {
	return request{reqType: reqTypeClassOut, req: hidSetReport, value: reportFeature | uint16(id), data: data}
}

// getFeature is a HID GET_REPORT of an n-byte feature report from interface 0.
func getFeature(id uint8, n int) request {
	return request{reqType: reqTypeClassIn, req: hidGetReport, value: reportFeature | uint16(id), data: make([]byte, n)}
}

// getStatus is the standard GET_STATUS request to the device, which every
// USB device answers: the LED-only devices use it to notice an unplug.
func getStatus() request {
	return request{reqType: reqTypeStdIn, req: stdGetStatus, data: make([]byte, 2)}
}

// rgb is the colour an RGB LED mixes for a named colour; black for "" and
// for names it does not know.
func rgb(c device.Color) (r, g, b uint8, ok bool) {
	switch c {
	case device.Red:
		return 0xff, 0x00, 0x00, true
	case device.Green:
		return 0x00, 0xff, 0x00, true
	case device.Yellow:
		return 0xff, 0xff, 0x00, true
	case device.Blue:
		return 0x00, 0x00, 0xff, true
	case device.White:
		return 0xff, 0xff, 0xff, true
	}
	return 0, 0, 0, false
}

// --- Delcom USB HID Visual Indicator (0fc5:b080) ---

// Delcom commands (datasheet names in comments).
const (
	delcomReadFirmware = 10  // read command: serial number, version, date
	delcomReadPorts    = 100 // read command: port 0, port 1, clock enables, port 2
	delcomWrite        = 101 // major command: 8-byte write

	delcomSetResetPort1 = 12 // minor: LSB resets (drives low), MSB sets pins of port 1
	delcomClockEnable   = 20 // minor: LSB disables, MSB enables the flash clock on port 1 pins
	delcomDutyPin0      = 21 // minor: LSB high time, MSB low time of P1.0 (22: P1.1, 23: P1.2)
	delcomSyncClock     = 25 // minor: LSB pins to restart now, MSB their initial level
)

// The LEDs hang on port 1 and light when their pin is low. The third pin
// drives the yellow LED of the RGY model (blue on the RGB one).
const (
	delcomGreen  uint8 = 0x01 // P1.0
	delcomRed    uint8 = 0x02 // P1.1
	delcomYellow uint8 = 0x04 // P1.2
	delcomLEDs         = delcomGreen | delcomRed | delcomYellow
)

// delcomButton is the internal switch, P0.0, low while pressed.
const delcomButton uint8 = 0x01

// delcomTick is the time unit of the flash clock's high and low times: the
// prescaler (10 at power-up) in milliseconds.
const delcomTick = 10 * time.Millisecond

// delcomPin returns the port-1 pin of a colour and its index (0-2).
func delcomPin(c device.Color) (pin uint8, index uint8, ok bool) {
	switch c {
	case device.Green:
		return delcomGreen, 0, true
	case device.Red:
		return delcomRed, 1, true
	case device.Yellow:
		return delcomYellow, 2, true
	}
	return 0, 0, false
}

// delcomCmd is one 8-byte write packet.
func delcomCmd(minor, lsb, msb uint8) request {
	return setFeature(delcomWrite, []byte{delcomWrite, minor, lsb, msb, 0, 0, 0, 0})
}

// delcomTicks converts d to flash-clock ticks within [lo, hi].
func delcomTicks(d time.Duration, lo, hi uint8) uint8 {
	n := (d + delcomTick/2) / delcomTick
	return uint8(min(max(n, time.Duration(lo)), time.Duration(hi)))
}

// delcomLED returns the writes that make the indicator show led. A flash
// lights the LED for the flash clock's low time (its LED-on time, at most
// 2.54 s) and leaves it dark for the longest high time, 2.55 s; the driver
// turns the LED off when the flash ends (delcomOff), so the hardware only
// times the first flash. A pulse blinks the LED with equal on and off
// times, each half the period, until the next command.
func delcomLED(led device.LED) ([]request, error) {
	clocksOff := delcomCmd(delcomClockEnable, delcomLEDs, 0)
	if led.Mode == device.LEDOff {
		return delcomOff(), nil
	}
	pin, idx, ok := delcomPin(led.Color)
	if !ok {
		return nil, fmt.Errorf("the Delcom indicator has no %q LED: use green, red or yellow", led.Color)
	}
	on := delcomCmd(delcomSetResetPort1, pin, delcomLEDs&^pin)
	switch led.Mode {
	case device.LEDOn:
		return []request{clocksOff, on}, nil
	case device.LEDFlash, device.LEDPulse:
		high, low := uint8(255), delcomTicks(led.Duration, 1, 254)
		if led.Mode == device.LEDPulse {
			half := delcomTicks(led.Duration/2, 1, 255)
			high, low = half, half
		}
		return []request{
			delcomCmd(delcomDutyPin0+idx, high, low),
			delcomCmd(delcomClockEnable, delcomLEDs&^pin, pin),
			delcomCmd(delcomSyncClock, pin, 0), // start now, LED on
			on,
		}, nil
	}
	return nil, fmt.Errorf("unknown LED mode %v", led.Mode)
}

// delcomOff returns the writes that stop every flash clock and turn every
// LED off.
func delcomOff() []request {
	return []request{
		delcomCmd(delcomClockEnable, delcomLEDs, 0),
		delcomCmd(delcomSetResetPort1, 0, delcomLEDs),
	}
}

// delcomPressed reads the switch from a read-ports answer.
func delcomPressed(ports []byte) (bool, error) {
	if len(ports) < 1 {
		return false, fmt.Errorf("delcom read ports: %d bytes, want 8", len(ports))
	}
	return ports[0]&delcomButton == 0, nil
}

// delcomFirmware is what read command 10 returns.
type delcomFirmware struct {
	Serial           uint32
	Version          uint8
	Year, Month, Day int
}

func parseDelcomFirmware(b []byte) (delcomFirmware, error) {
	if len(b) < 8 {
		return delcomFirmware{}, fmt.Errorf("delcom firmware report: %d bytes, want 8", len(b))
	}
	return delcomFirmware{
		Serial:  uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24,
		Version: b[4],
		Day:     int(b[5]),
		Month:   int(b[6]),
		Year:    2000 + int(b[7]),
	}, nil
}

func (f delcomFirmware) String() string {
	return fmt.Sprintf("%d (%04d-%02d-%02d)", f.Version, f.Year, f.Month, f.Day)
}

// --- Dream Cheeky Big Red Button (1d34:000d) ---

// dreamCheekyQuery asks the button for its status, which it then sends on
// its interrupt IN endpoint.
func dreamCheekyQuery() request {
	return request{reqType: reqTypeClassOut, req: hidSetReport, value: reportOutput,
		data: []byte{0, 0, 0, 0, 0, 0, 0, 2}}
}

// dreamCheekyStatus is the status byte: 0x14 with bit 0 set while the button
// is up and bit 1 set while the lid is open (0x15 lid closed, 0x17 lid open,
// 0x16 pressed).
type dreamCheekyStatus struct {
	Pressed bool
	LidOpen bool
}

func parseDreamCheeky(b []byte) (dreamCheekyStatus, error) {
	if len(b) < 1 || b[0]&^0x03 != 0x14 {
		return dreamCheekyStatus{}, fmt.Errorf("dream cheeky status % x: want 0x14 to 0x17 in the first byte", b)
	}
	return dreamCheekyStatus{Pressed: b[0]&0x01 == 0, LidOpen: b[0]&0x02 != 0}, nil
}

// --- blink(1) (27b8:01ed) ---

const blink1Report = 1

// blink1Fade fades to the colour in d (10 ms steps, at most 655 s); a zero
// d is the "set now" command. The last byte, 0, means every LED.
func blink1Fade(r, g, b uint8, d time.Duration) request {
	if d <= 0 {
		return setFeature(blink1Report, []byte{blink1Report, 'n', r, g, b, 0, 0, 0})
	}
	t := min((d+5*time.Millisecond)/(10*time.Millisecond), 0xffff)
	return setFeature(blink1Report, []byte{blink1Report, 'c', r, g, b, uint8(t >> 8), uint8(t), 0})
}

// --- Luxafor Flag (04d8:f372) ---

const (
	luxaforStatic = 0x01
	luxaforAll    = 0xff
)

// luxaforColor is the static-colour report for every LED.
func luxaforColor(r, g, b uint8) []byte {
	return []byte{luxaforStatic, luxaforAll, r, g, b, 0, 0, 0}
}
