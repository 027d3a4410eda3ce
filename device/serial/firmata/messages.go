package firmata

import "strings"

// AppendVersionQuery appends the host's request for a version report.
func AppendVersionQuery(b []byte) []byte { return append(b, ReportVersion) }

// AppendFirmwareQuery appends the host's request for the firmware name and
// version.
func AppendFirmwareQuery(b []byte) []byte { return append(b, StartSysex, ReportFirmware, EndSysex) }

// AppendCapabilityQuery appends the host's request for every pin's modes.
func AppendCapabilityQuery(b []byte) []byte {
	return append(b, StartSysex, CapabilityQuery, EndSysex)
}

// AppendSetPinMode appends a SET_PIN_MODE message. pin must be 0..MaxPin.
func AppendSetPinMode(b []byte, pin int, mode PinMode) []byte {
	return append(b, SetPinMode, byte(pin)&0x7F, byte(mode)&0x7F)
}

// AppendSetPinValue appends a SET_DIGITAL_PIN_VALUE message (protocol 2.5).
func AppendSetPinValue(b []byte, pin int, high bool) []byte {
	return append(b, SetDigitalPinValue, byte(pin)&0x7F, bit(high))
}

// AppendDigital appends a digital message: the levels of port's 8 pins
// (bit i is pin port*8+i). The host sends it to write outputs, the board to
// report inputs.
func AppendDigital(b []byte, port int, value uint8) []byte {
	return append(b, DigitalMessage|byte(port)&0x0F, value&0x7F, value>>7)
}

// AppendReportDigital appends the host's request to start (or stop)
// reporting port's input levels.
func AppendReportDigital(b []byte, port int, on bool) []byte {
	return append(b, ReportDigital|byte(port)&0x0F, bit(on))
}

// AppendVersion appends the board's version report.
func AppendVersion(b []byte, major, minor byte) []byte {
	return append(b, ReportVersion, major&0x7F, minor&0x7F)
}

// AppendFirmware appends the board's firmware report: its version and
// name, each character as two 7-bit bytes.
func AppendFirmware(b []byte, major, minor byte, name string) []byte {
	b = append(b, StartSysex, ReportFirmware, major&0x7F, minor&0x7F)
	b = appendChars(b, name)
	return append(b, EndSysex)
}

// AppendString appends a STRING_DATA message, as boards send errors.
func AppendString(b []byte, s string) []byte {
	b = append(b, StartSysex, StringData)
	b = appendChars(b, s)
	return append(b, EndSysex)
}

// AppendCapabilities appends the board's capability response: for each
// pin, its modes (all with resolution 1).
func AppendCapabilities(b []byte, pins [][]PinMode) []byte {
	b = append(b, StartSysex, CapabilityResponse)
	for _, modes := range pins {
		for _, m := range modes {
			b = append(b, byte(m)&0x7F, 1)
		}
		b = append(b, 0x7F)
	}
	return append(b, EndSysex)
}

func appendChars(b []byte, s string) []byte {
	for i := range len(s) {
		b = append(b, s[i]&0x7F, s[i]>>7)
	}
	return b
}

func bit(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// ParseFirmware reads the payload of a firmware report. Characters outside
// printable ASCII become '?', so the name is safe to show and log; an odd
// trailing byte is ignored. ok is false when the version is missing.
func ParseFirmware(data []byte) (major, minor byte, name string, ok bool) {
	if len(data) < 2 {
		return 0, 0, "", false
	}
	return data[0], data[1], parseChars(data[2:]), true
}

// ParseString reads the payload of a STRING_DATA message; see ParseFirmware.
func ParseString(data []byte) string { return parseChars(data) }

func parseChars(data []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(data); i += 2 {
		c := int(data[i]) | int(data[i+1])<<7
		if c < 0x20 || c > 0x7E {
			c = '?'
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// ParseCapabilities reads the payload of a capability response: the modes
// of each pin, in pin order (nil for a pin Firmata cannot use).
func ParseCapabilities(data []byte) [][]PinMode {
	var pins [][]PinMode
	var modes []PinMode
	for i := 0; i < len(data); {
		if data[i] == 0x7F {
			pins = append(pins, modes)
			modes = nil
			i++
			continue
		}
		modes = append(modes, PinMode(data[i]))
		i += 2 // the mode's resolution
	}
	return pins
}

// Supports reports whether modes holds m.
func Supports(modes []PinMode, m PinMode) bool {
	for _, x := range modes {
		if x == m {
			return true
		}
	}
	return false
}
