package serial

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// LinesDriverName is the lines driver's name in Candidates and Infos.
const LinesDriverName = "lines"

// LinesBaudRate is the line speed of a lines device unless configured.
const LinesBaudRate = 9600

// MaxLinesLine is the longest line, in bytes without its ending, a lines
// device handles. Generic devices print longer lines than BH1 (status
// text, JSON); a longer line is skipped and counted.
const MaxLinesLine = 1024

// LinesOptions configure a serial device that prints text lines (any
// firmware: a barcode reader, a sensor, a board printing "PRESSED") as a
// button device: patterns map lines to button edges, and optional
// templates say what to send to show an LED state. They are JSON so that
// they can live in the app's configuration.
type LinesOptions struct {
	// Port is the serial port path, like /dev/ttyUSB0 or COM3.
	Port string `json:"port"`
	// Baud is the line speed; 0 means 9600.
	Baud int `json:"baud,omitempty"`
	// Name is the device's model name as shown; default "serial lines".
	Name string `json:"name,omitempty"`
	// Patterns map lines to buttons, tried in order; the first that
	// matches a line wins. A line no pattern matches is counted and
	// ignored.
	Patterns []LinePattern `json:"patterns"`
	// LED maps LED states to the line to send, keyed by mode ("off",
	// "on", "flash", "pulse"), or mode and colour ("flash:green"), which
	// wins over the mode alone. A template may use {button}, {color},
	// {mode} and {ms} (the flash duration or pulse period; 0 for on and
	// off), and {{ and }} for braces. Without a template for flash or
	// pulse, the host times them with the "on" and "off" templates.
	LED map[string]string `json:"led,omitempty"`
	// LineEnding ends each line sent: "lf" (the default), "crlf" or "cr".
	// Lines received may end in any of them.
	LineEnding string `json:"line_ending,omitempty"`
}

// LinePattern maps the lines a regular expression matches to a button.
type LinePattern struct {
	// Regexp is matched against the line without its ending (Go RE2
	// syntax: anchor it with ^ and $ to match whole lines).
	Regexp string `json:"regexp"`
	// Button is the button number, from 1.
	Button int `json:"button"`
	// Edge is what the line means: "down", "up", or "press" (down and up
	// at once, for devices that print one line per press).
	Edge string `json:"edge,omitempty"`
	// Gesture, instead of Edge, is a whole gesture: "press" or "double"
	// (two presses at once). Long presses need the device's down and up
	// lines (Edge), as the host times them.
	Gesture string `json:"gesture,omitempty"`
}

// Template fields.
var templateFields = []string{"button", "color", "mode", "ms"}

// linesConfig is LinesOptions checked and compiled.
type linesConfig struct {
	patterns []linePattern
	led      map[string]template
	ending   string
	buttons  int
	colors   []device.Color
}

type linePattern struct {
	re     *regexp.Regexp
	button int
	downs  []bool // the edges a match gives
}

// template is a parsed LED template: literal text and field names.
type template []templatePart

type templatePart struct {
	text  string
	field string // if not empty, the part is this field
}

// Validate checks the options. Each problem is one error, joined, naming
// the field ("patterns[1].regexp: ...").
func (o LinesOptions) Validate() error {
	_, err := o.compile()
	return err
}

// compile checks the options and compiles them.
func (o LinesOptions) compile() (*linesConfig, error) {
	var errs []error
	add := func(path, format string, args ...any) { errs = append(errs, fieldError(path, format, args...)) }
	c := &linesConfig{led: map[string]template{}}
	if o.Port == "" {
		add("port", "is empty: set the device's serial port, like /dev/ttyUSB0 or COM3")
	}
	if o.Baud < 0 {
		add("baud", "%d is negative: leave it out for %d", o.Baud, LinesBaudRate)
	}
	if len(o.Patterns) == 0 && len(o.LED) == 0 {
		add("patterns", "none configured: add a pattern for the lines a button press prints (or LED templates for an LED-only device)")
	}
	for i, p := range o.Patterns {
		path := fmt.Sprintf("patterns[%d]", i)
		lp := linePattern{button: p.Button}
		re, err := regexp.Compile(p.Regexp)
		switch {
		case p.Regexp == "":
			add(path+".regexp", "is empty: write a regular expression for the line, like ^PRESSED$")
		case err != nil:
			add(path+".regexp", "%v: fix the regular expression (Go RE2 syntax)", err)
		default:
			lp.re = re
		}
		if p.Button < 1 || p.Button > MaxButtons {
			add(path+".button", "%d is out of range 1..%d", p.Button, MaxButtons)
		}
		switch {
		case p.Edge != "" && p.Gesture != "":
			add(path, "has both edge %q and gesture %q: set one", p.Edge, p.Gesture)
		case p.Edge == "down":
			lp.downs = []bool{true}
		case p.Edge == "up":
			lp.downs = []bool{false}
		case p.Edge == "press", p.Gesture == "press":
			lp.downs = []bool{true, false}
		case p.Gesture == "double":
			lp.downs = []bool{true, false, true, false}
		case p.Gesture == "long":
			add(path+".gesture", "long is not possible from one line, as the host times long presses: "+
				"map the device's press and release lines with edge down and edge up instead")
		case p.Gesture != "":
			add(path+".gesture", "unknown gesture %q: want press or double", p.Gesture)
		case p.Edge != "":
			add(path+".edge", "unknown edge %q: want down, up or press", p.Edge)
		default:
			add(path+".edge", "is empty: set down, up or press (or a gesture)")
		}
		c.patterns = append(c.patterns, lp)
		c.buttons = max(c.buttons, min(max(p.Button, 0), MaxButtons))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range o.LED {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		path := fmt.Sprintf("led[%q]", k)
		if err := checkLEDKey(k); err != nil {
			add(path, "%v", err)
			continue
		}
		t, err := parseTemplate(o.LED[k])
		if err != nil {
			add(path, "%v", err)
			continue
		}
		c.led[k] = t
	}
	switch o.LineEnding {
	case "", "lf":
		c.ending = "\n"
	case "crlf":
		c.ending = "\r\n"
	case "cr":
		c.ending = "\r"
	default:
		add("line_ending", "unknown line ending %q: want lf, crlf or cr", o.LineEnding)
	}
	for _, color := range allColors {
		if c.template(device.LED{Mode: device.LEDOn, Color: color}) != nil ||
			c.template(device.LED{Mode: device.LEDFlash, Color: color}) != nil ||
			c.template(device.LED{Mode: device.LEDPulse, Color: color}) != nil {
			c.colors = append(c.colors, color)
		}
	}
	if c.colors == nil {
		c.colors = []device.Color{}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func checkLEDKey(k string) error {
	mode, color, hasColor := strings.Cut(k, ":")
	switch mode {
	case "off", "on", "flash", "pulse":
	default:
		return fmt.Errorf("unknown LED mode %q: want off, on, flash or pulse, optionally with :colour", mode)
	}
	if hasColor {
		if mode == "off" {
			return errors.New("off has no colour: use the key off")
		}
		if !slices.Contains(allColors, device.Color(color)) {
			return fmt.Errorf("unknown colour %q: want red, green, yellow, blue or white", color)
		}
	}
	return nil
}

// parseTemplate parses an LED template. It must be printable ASCII (the
// line ending is added when it is sent), with only known fields.
func parseTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c > 0x7E:
			return nil, fmt.Errorf("byte %#02x at %d is not printable ASCII: the line ending is set by line_ending", c, i)
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at %d: write {{ for a brace", i)
			}
			name := s[i+1 : i+end]
			if !slices.Contains(templateFields, name) {
				return nil, fmt.Errorf("unknown field {%s}: want {button}, {color}, {mode} or {ms} ({{ for a brace)", name)
			}
			if lit.Len() > 0 {
				t = append(t, templatePart{text: lit.String()})
				lit.Reset()
			}
			t = append(t, templatePart{field: name})
			i += end
		case c == '}':
			return nil, fmt.Errorf("stray } at %d: write }} for a brace", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t = append(t, templatePart{text: lit.String()})
	}
	if len(t) == 0 {
		return nil, errors.New("is empty: write the line to send")
	}
	return t, nil
}

// template returns the template for led: mode and colour, else mode; nil
// if there is none.
func (c *linesConfig) template(led device.LED) template {
	mode := led.Mode.String()
	if led.Mode != device.LEDOff {
		if t, ok := c.led[mode+":"+string(ledColor(led))]; ok {
			return t
		}
	}
	return c.led[mode]
}

// ledColor is the colour a state shows: white when none is given, as BH1.
func ledColor(led device.LED) device.Color {
	if led.Color == "" {
		return device.White
	}
	return led.Color
}

// render fills t for button and led. Every value comes from a fixed
// vocabulary or is a number, and the result is checked again, so a line
// sent never holds a line ending or a control byte.
func (t template) render(button int, led device.LED) (string, error) {
	color := ledColor(led)
	if !slices.Contains(allColors, color) {
		return "", fmt.Errorf("unknown colour %q", led.Color)
	}
	ms := 0
	if led.Mode == device.LEDFlash || led.Mode == device.LEDPulse {
		ms = int(min(max(led.Duration, time.Millisecond), maxLEDDuration) / time.Millisecond)
	}
	var sb strings.Builder
	for _, p := range t {
		switch p.field {
		case "":
			sb.WriteString(p.text)
		case "button":
			sb.WriteString(strconv.Itoa(button))
		case "color":
			sb.WriteString(string(color))
		case "mode":
			sb.WriteString(led.Mode.String())
		case "ms":
			sb.WriteString(strconv.Itoa(ms))
		}
	}
	line := sb.String()
	for i := range len(line) {
		if line[i] < 0x20 || line[i] > 0x7E {
			return "", fmt.Errorf("rendered line %q has byte %#02x", line, line[i])
		}
	}
	return line, nil
}

// match returns the button and edges (true: down) of the first pattern
// that matches line.
func (c *linesConfig) match(line []byte) (button int, downs []bool, ok bool) {
	for _, p := range c.patterns {
		if p.re.Match(line) {
			return p.button, p.downs, true
		}
	}
	return 0, nil, false
}
