// Package firmata is a codec for the Firmata 2.x protocol
// (github.com/firmata/protocol, protocol.md), the MIDI-framed byte protocol
// StandardFirmata speaks at 57600 baud. It covers what Buttonhook needs to
// use a board as a button: version and firmware reports, pin modes, digital
// port reporting and digital writes, and the capability query. It is shared
// by the host driver (device/serial) and the board simulator (device/sim).
package firmata

// Command bytes. The channel commands (DigitalMessage, AnalogMessage,
// ReportAnalog, ReportDigital) carry a port or pin number in their low nibble.
const (
	DigitalMessage     = 0x90 // digital port value, both ways: 0x90|port, bits 0-6, bit 7
	AnalogMessage      = 0xE0 // analog value: 0xE0|pin, bits 0-6, bits 7-13
	ReportAnalog       = 0xC0 // 0xC0|pin, 0 or 1
	ReportDigital      = 0xD0 // 0xD0|port, 0 or 1
	StartSysex         = 0xF0 // start of a SysEx message
	SetPinMode         = 0xF4 // pin, mode
	SetDigitalPinValue = 0xF5 // pin, 0 or 1 (protocol 2.5 and later)
	EndSysex           = 0xF7 // end of a SysEx message
	ReportVersion      = 0xF9 // a query from the host; major, minor from the board
	SystemReset        = 0xFF // from the host: reset the board's state
)

// SysEx IDs (the byte after StartSysex).
const (
	CapabilityQuery    = 0x6B
	CapabilityResponse = 0x6C
	StringData         = 0x71
	ReportFirmware     = 0x79
)

// PinMode is a Firmata pin mode.
type PinMode byte

// Pin modes Buttonhook uses or reports.
const (
	Input       PinMode = 0x00
	Output      PinMode = 0x01
	Analog      PinMode = 0x02
	PWM         PinMode = 0x03
	Servo       PinMode = 0x04
	InputPullup PinMode = 0x0B // protocol 2.5 and later
)

// MaxPin is the highest pin number a message can name; pins are grouped in
// ports of 8, so the highest port is MaxPin/8.
const MaxPin = 127

// MaxSysex is the most data bytes a Decoder keeps for one SysEx message (a
// capability response of a board with many pins is the longest expected);
// a longer message is dropped and counted as malformed.
const MaxSysex = 2048

// PortOf returns the digital port of pin and the pin's bit in it.
func PortOf(pin int) (port int, bit uint) { return pin / 8, uint(pin % 8) }

// AtLeast reports whether protocol version major.minor is at least
// wantMajor.wantMinor.
func AtLeast(major, minor, wantMajor, wantMinor byte) bool {
	return major > wantMajor || major == wantMajor && minor >= wantMinor
}
