package serial

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

func TestParseLine(t *testing.T) {
	rgy := []device.Color{device.Red, device.Green, device.Yellow}
	tests := []struct {
		line string
		want Message
	}{
		{"D 1\n", Message{Kind: KindDown, Button: 1}},
		{"U 1\n", Message{Kind: KindUp, Button: 1}},
		{"D 64", Message{Kind: KindDown, Button: 64}},
		{"d 7\r\n", Message{Kind: KindDown, Button: 7}},
		{"u  12 \n", Message{Kind: KindUp, Button: 12}},
		{"D 007\n", Message{Kind: KindDown, Button: 7}},
		{"PONG\n", Message{Kind: KindPong}},
		{"PONG abc\r\n", Message{Kind: KindPong, Token: "abc"}},
		{"pong 42\n", Message{Kind: KindPong, Token: "42"}},
		{"ERR unknown command\n", Message{Kind: KindErr, Text: "unknown command"}},
		{"err  two  spaces \n", Message{Kind: KindErr, Text: "two  spaces"}},
		{
			"HELLO BH1 model=sim fw=1.0.0 sn=SIM-3F2A buttons=2 leds=red,green,yellow\n",
			Message{Kind: KindHello, Hello: Hello{Model: "sim", Firmware: "1.0.0", Serial: "SIM-3F2A", Buttons: 2, Colors: rgy}},
		},
		{
			// Serial.println from an Arduino, lower case, unknown keys.
			"hello bh1 model=uno fw=1 sn=UNO1 buttons=1 leds=red,green,yellow color=blue future=x\r\n",
			Message{Kind: KindHello, Hello: Hello{Model: "uno", Firmware: "1", Serial: "UNO1", Buttons: 1, Colors: rgy}},
		},
		{"HELLO BH1\n", Message{Kind: KindHello, Hello: Hello{Buttons: 1}}},
		{"HELLO BH1 buttons=0 leds=none\n", Message{Kind: KindHello, Hello: Hello{Buttons: 0}}},
		{
			"HELLO BH1 leds=RED,purple,red,,Blue MODEL=a=b\n",
			Message{Kind: KindHello, Hello: Hello{Model: "a=b", Buttons: 1, Colors: []device.Color{device.Red, device.Blue}}},
		},
		{"HELLO BH1 sn= model=x sn=late\n", Message{Kind: KindHello, Hello: Hello{Model: "x", Serial: "late", Buttons: 1}}},
	}
	for _, tt := range tests {
		got, err := ParseLine([]byte(tt.line))
		if err != nil {
			t.Errorf("ParseLine(%q): %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseLine(%q) = %+v; want %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	tests := []struct {
		line string
		want string // in the error
	}{
		{"\n", "empty line"},
		{"   \r\n", "empty line"},
		{"X 1\n", "unknown keyword"},
		{"DOWN 1\n", "unknown keyword"},
		{"D\n", "wants 1 field"},
		{"D 1 2\n", "wants 1 field"},
		{"U\n", "wants 1 field"},
		{"D 0\n", "out of range"},
		{"D 65\n", "out of range"},
		{"D -1\n", "bad button number"},
		{"D +1\n", "bad button number"},
		{"D x\n", "bad button number"},
		{"D 1e3\n", "bad button number"},
		{"D 99999999999\n", "bad button number"},
		{"PONG a b\n", "at most 1 field"},
		{"ERR\n", "wants a text"},
		{"HELLO\n", "wants a version"},
		{"HELLO BH2 sn=1\n", "unsupported protocol version"},
		{"HELLO BH1 sn\n", "not key=value"},
		{"HELLO BH1 =x\n", "not key=value"},
		{"HELLO BH1 buttons=65\n", "bad buttons"},
		{"HELLO BH1 buttons=-1\n", "bad buttons"},
		{"HELLO BH1 buttons=\n", "bad buttons"},
		{"D\t1\n", "not printable"},
		{"D 1\x00\n", "not printable"},
		{"HELLO BH1 model=caf\xc3\xa9\n", "not printable"},
		{"D 1\r\r\n", "not printable"},
		{"D 1\n\n", "not printable"},
		{"D 1" + strings.Repeat(" ", MaxLine-3) + "\n", "longer than 128"},
	}
	for _, tt := range tests {
		_, err := ParseLine([]byte(tt.line))
		if err == nil {
			t.Errorf("ParseLine(%q) = nil error; want one with %q", tt.line, tt.want)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLine(%q) = %v; want an error wrapping ErrMalformed", tt.line, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseLine(%q) = %q; want it to say %q", tt.line, err, tt.want)
		}
	}
}

func TestParseLineMaxLength(t *testing.T) {
	// 128 bytes including "\n" is the longest line.
	longest := "ERR " + strings.Repeat("x", MaxLine-5) + "\n"
	if len(longest) != MaxLine {
		t.Fatalf("test line has %d bytes; want %d", len(longest), MaxLine)
	}
	if _, err := ParseLine([]byte(longest)); err != nil {
		t.Errorf("ParseLine of a %d-byte line: %v; want it accepted", len(longest), err)
	}
	crlf := longest[:MaxLine-2] + "\r\n"
	if _, err := ParseLine([]byte(crlf)); err != nil {
		t.Errorf("ParseLine of a %d-byte line ending in \\r\\n: %v; want it accepted", len(crlf), err)
	}
	tooLong := "ERR " + strings.Repeat("x", MaxLine-4) + "\n"
	if _, err := ParseLine([]byte(tooLong)); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("ParseLine of a %d-byte line = %v; want ErrLineTooLong", len(tooLong), err)
	}
	// Without its "\n", the line still counts one for it.
	if _, err := ParseLine([]byte(tooLong[:len(tooLong)-1])); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("ParseLine of %d bytes without \\n = %v; want ErrLineTooLong", len(tooLong)-1, err)
	}
}

func TestFormatLED(t *testing.T) {
	tests := []struct {
		button int
		led    device.LED
		want   string
	}{
		{1, device.LEDBusy, "LED 1 PULSE yellow 1000"},
		{1, device.LEDSuccess, "LED 1 FLASH green 1500"},
		{1, device.LEDFailure, "LED 1 FLASH red 1500"},
		{1, device.LEDIdle, "LED 1 OFF"},
		{1, device.LED{Mode: device.LEDOn, Color: device.Red}, "LED 1 ON red"},
		{12, device.LED{Mode: device.LEDOn, Color: device.Blue, Duration: time.Hour}, "LED 12 ON blue"},
		{2, device.LED{Mode: device.LEDOff, Color: device.Red, Duration: time.Second}, "LED 2 OFF"},
		{1, device.LED{Mode: device.LEDFlash, Color: device.White, Duration: 0}, "LED 1 FLASH white 1"},
		{1, device.LED{Mode: device.LEDFlash, Color: device.Green, Duration: -time.Second}, "LED 1 FLASH green 1"},
		{1, device.LED{Mode: device.LEDPulse, Color: device.Red, Duration: 2 * time.Minute}, "LED 1 PULSE red 60000"},
		{1, device.LED{Mode: device.LEDFlash, Color: device.Red, Duration: 1499600 * time.Microsecond}, "LED 1 FLASH red 1500"},
		{1, device.LED{Mode: device.LEDOn}, "LED 1 ON white"},
		{1, device.LED{Mode: device.LEDMode(42), Color: device.Red}, "LED 1 OFF"},
	}
	for _, tt := range tests {
		if got := FormatLED(tt.button, tt.led); got != tt.want {
			t.Errorf("FormatLED(%d, %+v) = %q; want %q", tt.button, tt.led, got, tt.want)
		}
	}
}

func TestFormatDeviceLines(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{FormatHello(Hello{Model: "sim", Firmware: "1.0.0", Serial: "SIM-3F2A", Buttons: 2,
			Colors: []device.Color{device.Red, device.Green, device.Yellow}}),
			"HELLO BH1 model=sim fw=1.0.0 sn=SIM-3F2A buttons=2 leds=red,green,yellow"},
		{FormatHello(Hello{Buttons: 1}), "HELLO BH1 buttons=1 leds=none"},
		{FormatHello(Hello{Model: "m", Buttons: 0, Colors: []device.Color{}}), "HELLO BH1 model=m buttons=0 leds=none"},
		{FormatEdge(3, true), "D 3"},
		{FormatEdge(64, false), "U 64"},
		{FormatPong(""), "PONG"},
		{FormatPong("t1"), "PONG t1"},
		{FormatPing(""), "PING"},
		{FormatPing("t1"), "PING t1"},
		{Message{Kind: KindErr, Text: "no such LED"}.String(), "ERR no such LED"},
		{Command{Kind: CommandHello}.String(), "HELLO?"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line string
		want Command
	}{
		{"HELLO?\n", Command{Kind: CommandHello}},
		{"hello?\r\n", Command{Kind: CommandHello}},
		{"PING\n", Command{Kind: CommandPing}},
		{"PING 17\n", Command{Kind: CommandPing, Token: "17"}},
		{"LED 1 OFF\n", Command{Kind: CommandLED, Button: 1, LED: device.LEDIdle}},
		{"LED 3 ON red\n", Command{Kind: CommandLED, Button: 3, LED: device.LED{Mode: device.LEDOn, Color: device.Red}}},
		{"LED 1 PULSE yellow 1000\n", Command{Kind: CommandLED, Button: 1, LED: device.LEDBusy}},
		{"led 1 flash GREEN 1500\r\n", Command{Kind: CommandLED, Button: 1, LED: device.LEDSuccess}},
		{"LED 64 FLASH white 60000\n", Command{Kind: CommandLED, Button: 64,
			LED: device.LED{Mode: device.LEDFlash, Color: device.White, Duration: time.Minute}}},
		{"LED 2 PULSE blue 1\n", Command{Kind: CommandLED, Button: 2,
			LED: device.LED{Mode: device.LEDPulse, Color: device.Blue, Duration: time.Millisecond}}},
	}
	for _, tt := range tests {
		got, err := ParseCommand([]byte(tt.line))
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", tt.line, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v; want %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{"\n", "empty line"},
		{"HELLO\n", "unknown keyword"},
		{"HELLO? now\n", "wants no fields"},
		{"PING a b\n", "at most 1 field"},
		{"LED\n", "at least 2 fields"},
		{"LED 1\n", "at least 2 fields"},
		{"LED 0 OFF\n", "out of range"},
		{"LED x OFF\n", "bad button number"},
		{"LED 1 BLINK red 10\n", "unknown LED mode"},
		{"LED 1 OFF red\n", "wants 2 fields"},
		{"LED 1 ON\n", "wants 3 fields"},
		{"LED 1 ON red 10\n", "wants 3 fields"},
		{"LED 1 FLASH red\n", "wants 4 fields"},
		{"LED 1 ON purple\n", "unknown colour"},
		{"LED 1 FLASH red 0\n", "bad ms"},
		{"LED 1 PULSE red 60001\n", "bad ms"},
		{"LED 1 PULSE red 1.5\n", "bad ms"},
		{"LED 1 ON r\xe9d\n", "not printable"},
		{"PING " + strings.Repeat("x", MaxLine) + "\n", "longer than 128"},
	}
	for _, tt := range tests {
		_, err := ParseCommand([]byte(tt.line))
		if err == nil {
			t.Errorf("ParseCommand(%q) = nil error; want one with %q", tt.line, tt.want)
			continue
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseCommand(%q) = %q; want an ErrMalformed saying %q", tt.line, err, tt.want)
		}
	}
}

// TestLEDRoundTrip checks that every LED the host formats parses back the
// same on the device, apart from the documented clamping.
func TestLEDRoundTrip(t *testing.T) {
	var leds []device.LED
	for _, m := range []device.LEDMode{device.LEDOn, device.LEDFlash, device.LEDPulse} {
		for _, c := range []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White} {
			for _, d := range []time.Duration{time.Millisecond, 1500 * time.Millisecond, time.Minute} {
				led := device.LED{Mode: m, Color: c, Duration: d}
				if m == device.LEDOn {
					led.Duration = 0
				}
				leds = append(leds, led)
			}
		}
	}
	leds = append(leds, device.LEDIdle)
	for _, led := range leds {
		line := FormatLED(5, led)
		got, err := ParseCommand([]byte(line + "\n"))
		if err != nil {
			t.Errorf("ParseCommand(%q): %v", line, err)
			continue
		}
		if want := (Command{Kind: CommandLED, Button: 5, LED: led}); got != want {
			t.Errorf("ParseCommand(FormatLED(5, %+v)) = %+v; want %+v", led, got, want)
		}
	}
}

// FuzzParseLine checks that ParseLine never panics and that whatever it
// accepts formats to a line that parses to the same Message.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"HELLO BH1 model=sim fw=1.0.0 sn=SIM-3F2A buttons=2 leds=red,green,yellow\n",
		"hello bh1 model=uno fw=1 sn=UNO1 buttons=1 leds=red,green,yellow\r\n",
		"HELLO BH1 leds=none buttons=0\n",
		"HELLO BH1 x=y leds=Red,,purple,red\n",
		"D 1\n", "U 64\r\n", "d 007\n", "D 65\n",
		"PONG\n", "PONG 123\n", "ERR  no  such LED \n",
		"LED 1 ON red\n", "\xff\xfe\n", "",
		strings.Repeat("D ", 70) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseLine(%q) = %v; want an ErrMalformed", line, err)
			}
			return
		}
		again := m.String() + "\n"
		m2, err := ParseLine([]byte(again))
		if err != nil {
			// Formatting a HELLO spells out buttons= and leds=, which may
			// not fit in a line when the original left them out.
			if m.Kind == KindHello && errors.Is(err, ErrLineTooLong) {
				return
			}
			t.Fatalf("ParseLine(%q) = %+v, formatted %q, which fails: %v", line, m, again, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("ParseLine(%q) = %+v, formatted %q, parses to %+v", line, m, again, m2)
		}
	})
}

// FuzzParseCommand is FuzzParseLine for host-to-device lines.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"HELLO?\n", "PING\n", "PING abc\r\n", "LED 1 OFF\n", "LED 1 ON red\n",
		"LED 1 PULSE yellow 1000\n", "led 64 flash WHITE 60000\n", "LED 1 FLASH red 0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseCommand(%q) = %v; want an ErrMalformed", line, err)
			}
			return
		}
		again := c.String() + "\n"
		c2, err := ParseCommand([]byte(again))
		if err != nil {
			t.Fatalf("ParseCommand(%q) = %+v, formatted %q, which fails: %v", line, c, again, err)
		}
		if c != c2 {
			t.Fatalf("ParseCommand(%q) = %+v, formatted %q, parses to %+v", line, c, again, c2)
		}
	})
}
