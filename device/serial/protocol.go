// Package serial is Buttonhook's driver for button boards on a serial port
// (an Arduino, a Pico, the simulator on a pseudo-terminal) speaking the BH1
// line protocol of docs/protocol.md. It holds the protocol codec, shared with
// the simulator in device/sim, and a device.Driver built on go.bug.st/serial.
package serial

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// MaxLine is the longest BH1 line in bytes, including its "\n".
const MaxLine = 128

// MaxButtons is the highest button number BH1 allows.
const MaxButtons = 64

// MaxLEDMillis and MinLEDMillis bound the ms field of LED FLASH and PULSE.
const (
	MinLEDMillis = 1
	MaxLEDMillis = 60000
)

// Version is the protocol version word a HELLO line carries.
const Version = "BH1"

// HelloQuery is the host's request for a HELLO line.
const HelloQuery = "HELLO?"

// ErrMalformed is wrapped by every error about a line that does not follow
// BH1. Such a line is counted and ignored; it never closes the connection.
var ErrMalformed = errors.New("malformed BH1 line")

// ErrLineTooLong is returned for a line longer than MaxLine bytes. It wraps
// ErrMalformed.
var ErrLineTooLong = fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxLine)

// Kind says what a device-to-host line is.
type Kind int

// Kinds of device-to-host lines.
const (
	KindHello Kind = iota + 1 // HELLO BH1 key=value ...
	KindDown                  // D n
	KindUp                    // U n
	KindPong                  // PONG [token]
	KindErr                   // ERR text
)

// String returns the line's keyword.
func (k Kind) String() string {
	switch k {
	case KindHello:
		return "HELLO"
	case KindDown:
		return "D"
	case KindUp:
		return "U"
	case KindPong:
		return "PONG"
	case KindErr:
		return "ERR"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Hello is a device's identity as its HELLO line gives it.
type Hello struct {
	Model    string
	Firmware string
	Serial   string
	// Buttons is the number of buttons; 1 when the line has no buttons key.
	Buttons int
	// Colors are the LED colours the device can show, in its order, without
	// duplicates and without colours BH1 does not name; nil for "none".
	Colors []device.Color
}

// Message is one parsed device-to-host line. Only the fields of its Kind are
// set.
type Message struct {
	Kind   Kind
	Hello  Hello  // KindHello
	Button int    // KindDown, KindUp
	Token  string // KindPong, may be empty
	Text   string // KindErr
}

// String formats m as a BH1 line without its "\n".
func (m Message) String() string {
	switch m.Kind {
	case KindHello:
		return FormatHello(m.Hello)
	case KindDown:
		return FormatEdge(m.Button, true)
	case KindUp:
		return FormatEdge(m.Button, false)
	case KindPong:
		return FormatPong(m.Token)
	case KindErr:
		return "ERR " + m.Text
	}
	return fmt.Sprintf("?%d", int(m.Kind))
}

// ParseLine parses one device-to-host line. The line may end in "\n" or
// "\r\n"; keywords are accepted in any case. Every error wraps ErrMalformed.
func ParseLine(line []byte) (Message, error) {
	s, err := checkLine(line)
	if err != nil {
		return Message{}, err
	}
	f := fields(s)
	if len(f) == 0 {
		return Message{}, malformed("empty line")
	}
	switch kw := strings.ToUpper(f[0]); kw {
	case "HELLO":
		h, err := parseHello(f[1:])
		if err != nil {
			return Message{}, err
		}
		return Message{Kind: KindHello, Hello: h}, nil
	case "D", "U":
		if len(f) != 2 {
			return Message{}, malformed("%s wants 1 field, got %d", kw, len(f)-1)
		}
		n, err := parseButton(f[1])
		if err != nil {
			return Message{}, err
		}
		k := KindDown
		if kw == "U" {
			k = KindUp
		}
		return Message{Kind: k, Button: n}, nil
	case "PONG":
		if len(f) > 2 {
			return Message{}, malformed("PONG wants at most 1 field, got %d", len(f)-1)
		}
		m := Message{Kind: KindPong}
		if len(f) == 2 {
			m.Token = f[1]
		}
		return m, nil
	case "ERR":
		if len(f) < 2 {
			return Message{}, malformed("ERR wants a text")
		}
		// The text is the rest of the line, inner spacing kept.
		text := strings.TrimLeft(s, " ")[len(f[0]):]
		return Message{Kind: KindErr, Text: strings.Trim(text, " ")}, nil
	}
	return Message{}, malformed("unknown keyword %q", f[0])
}

// checkLine strips the line ending and checks length and bytes.
func checkLine(line []byte) (string, error) {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if len(line)+1 > MaxLine {
		return "", ErrLineTooLong
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	for i, c := range line {
		if c < 0x20 || c > 0x7e {
			return "", malformed("byte 0x%02x at %d is not printable ASCII", c, i)
		}
	}
	return string(line), nil
}

// fields splits s at runs of spaces (only spaces: BH1 has no tabs).
func fields(s string) []string {
	var f []string
	for part := range strings.SplitSeq(s, " ") {
		if part != "" {
			f = append(f, part)
		}
	}
	return f
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// parseUint parses a small decimal number made of ASCII digits only.
func parseUint(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func parseButton(s string) (int, error) {
	n, ok := parseUint(s)
	if !ok {
		return 0, malformed("bad button number %q", s)
	}
	if n < 1 || n > MaxButtons {
		return 0, malformed("button %d out of range 1..%d", n, MaxButtons)
	}
	return n, nil
}

func parseHello(f []string) (Hello, error) {
	if len(f) == 0 {
		return Hello{}, malformed("HELLO wants a version")
	}
	if !strings.EqualFold(f[0], Version) {
		return Hello{}, malformed("unsupported protocol version %q, want %s", f[0], Version)
	}
	h := Hello{Buttons: 1}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return Hello{}, malformed("HELLO field %q is not key=value", kv)
		}
		switch strings.ToLower(k) {
		case "model":
			h.Model = v
		case "fw":
			h.Firmware = v
		case "sn":
			h.Serial = v
		case "buttons":
			n, ok := parseUint(v)
			if !ok || n > MaxButtons {
				return Hello{}, malformed("bad buttons=%q, want 0..%d", v, MaxButtons)
			}
			h.Buttons = n
		case "leds":
			h.Colors = parseColors(v)
		}
		// Unknown keys are ignored, so later versions can add some.
	}
	return h, nil
}

// parseColors reads a leds= value: known colours, in order, without
// duplicates. Unknown names (and "none") are ignored.
func parseColors(v string) []device.Color {
	var cs []device.Color
	for name := range strings.SplitSeq(v, ",") {
		c, ok := parseColor(name)
		if !ok || containsColor(cs, c) {
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

func containsColor(cs []device.Color, c device.Color) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// parseColor accepts one of the colours BH1 names, in any case.
func parseColor(s string) (device.Color, bool) {
	switch c := device.Color(strings.ToLower(s)); c {
	case device.Red, device.Green, device.Yellow, device.Blue, device.White:
		return c, true
	}
	return "", false
}

// FormatHello formats a HELLO line without its "\n". Empty model, fw and sn
// are left out.
func FormatHello(h Hello) string {
	var b strings.Builder
	b.WriteString("HELLO " + Version)
	for _, kv := range [...][2]string{{"model", h.Model}, {"fw", h.Firmware}, {"sn", h.Serial}} {
		if kv[1] != "" {
			b.WriteString(" " + kv[0] + "=" + kv[1])
		}
	}
	b.WriteString(" buttons=" + strconv.Itoa(h.Buttons))
	b.WriteString(" leds=")
	if len(h.Colors) == 0 {
		b.WriteString("none")
	}
	for i, c := range h.Colors {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(c))
	}
	return b.String()
}

// FormatEdge formats a "D n" (down) or "U n" line without its "\n".
func FormatEdge(button int, down bool) string {
	if down {
		return "D " + strconv.Itoa(button)
	}
	return "U " + strconv.Itoa(button)
}

// FormatPong formats the answer to "PING token" without its "\n".
func FormatPong(token string) string {
	if token == "" {
		return "PONG"
	}
	return "PONG " + token
}

// FormatPing formats a PING line without its "\n".
func FormatPing(token string) string {
	if token == "" {
		return "PING"
	}
	return "PING " + token
}

// FormatLED formats the host's LED command for one button without its "\n":
// "LED 1 PULSE yellow 1000", "LED 1 FLASH green 1500", "LED 1 ON red",
// "LED 1 OFF". The duration is rounded to milliseconds and clamped to
// 1..60000; an empty colour is sent as white, an unknown mode as OFF.
func FormatLED(button int, led device.LED) string {
	prefix := "LED " + strconv.Itoa(button) + " "
	color := led.Color
	if color == "" {
		color = device.White
	}
	switch led.Mode {
	case device.LEDOn:
		return prefix + "ON " + string(color)
	case device.LEDFlash:
		return prefix + "FLASH " + string(color) + " " + strconv.Itoa(ledMillis(led.Duration))
	case device.LEDPulse:
		return prefix + "PULSE " + string(color) + " " + strconv.Itoa(ledMillis(led.Duration))
	}
	return prefix + "OFF"
}

func ledMillis(d time.Duration) int {
	ms := d.Round(time.Millisecond).Milliseconds()
	return int(min(max(ms, MinLEDMillis), MaxLEDMillis))
}

// CommandKind says what a host-to-device line is.
type CommandKind int

// Kinds of host-to-device lines.
const (
	CommandHello CommandKind = iota + 1 // HELLO?
	CommandPing                         // PING [token]
	CommandLED                          // LED n ...
)

// String returns the line's keyword.
func (k CommandKind) String() string {
	switch k {
	case CommandHello:
		return "HELLO?"
	case CommandPing:
		return "PING"
	case CommandLED:
		return "LED"
	}
	return fmt.Sprintf("CommandKind(%d)", int(k))
}

// Command is one parsed host-to-device line. Only the fields of its Kind are
// set.
type Command struct {
	Kind   CommandKind
	Token  string     // CommandPing, may be empty
	Button int        // CommandLED
	LED    device.LED // CommandLED; Duration is whole milliseconds
}

// String formats c as a BH1 line without its "\n".
func (c Command) String() string {
	switch c.Kind {
	case CommandHello:
		return HelloQuery
	case CommandPing:
		return FormatPing(c.Token)
	case CommandLED:
		return FormatLED(c.Button, c.LED)
	}
	return fmt.Sprintf("?%d", int(c.Kind))
}

// ParseCommand parses one host-to-device line, as a device does. Keywords
// are accepted in any case. Every error wraps ErrMalformed.
func ParseCommand(line []byte) (Command, error) {
	s, err := checkLine(line)
	if err != nil {
		return Command{}, err
	}
	f := fields(s)
	if len(f) == 0 {
		return Command{}, malformed("empty line")
	}
	switch kw := strings.ToUpper(f[0]); kw {
	case HelloQuery:
		if len(f) != 1 {
			return Command{}, malformed("HELLO? wants no fields, got %d", len(f)-1)
		}
		return Command{Kind: CommandHello}, nil
	case "PING":
		if len(f) > 2 {
			return Command{}, malformed("PING wants at most 1 field, got %d", len(f)-1)
		}
		c := Command{Kind: CommandPing}
		if len(f) == 2 {
			c.Token = f[1]
		}
		return c, nil
	case "LED":
		return parseLED(f)
	}
	return Command{}, malformed("unknown keyword %q", f[0])
}

func parseLED(f []string) (Command, error) {
	if len(f) < 3 {
		return Command{}, malformed("LED wants at least 2 fields, got %d", len(f)-1)
	}
	n, err := parseButton(f[1])
	if err != nil {
		return Command{}, err
	}
	c := Command{Kind: CommandLED, Button: n}
	mode := strings.ToUpper(f[2])
	want := map[string]int{"OFF": 3, "ON": 4, "FLASH": 5, "PULSE": 5}[mode]
	if want == 0 {
		return Command{}, malformed("unknown LED mode %q", f[2])
	}
	if len(f) != want {
		return Command{}, malformed("LED %s wants %d fields, got %d", mode, want-1, len(f)-1)
	}
	switch mode {
	case "OFF":
		c.LED = device.LED{Mode: device.LEDOff}
		return c, nil
	case "ON":
		c.LED.Mode = device.LEDOn
	case "FLASH":
		c.LED.Mode = device.LEDFlash
	case "PULSE":
		c.LED.Mode = device.LEDPulse
	}
	color, ok := parseColor(f[3])
	if !ok {
		return Command{}, malformed("unknown colour %q", f[3])
	}
	c.LED.Color = color
	if want == 5 {
		ms, ok := parseUint(f[4])
		if !ok || ms < MinLEDMillis || ms > MaxLEDMillis {
			return Command{}, malformed("bad ms %q, want %d..%d", f[4], MinLEDMillis, MaxLEDMillis)
		}
		c.LED.Duration = time.Duration(ms) * time.Millisecond
	}
	return c, nil
}
