package serial

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

func TestLinesOptionsValidate(t *testing.T) {
	ok := LinePattern{Regexp: "^P$", Button: 1, Edge: "press"}
	tests := []struct {
		name string
		opts LinesOptions
		want []string // each must be in the error; none: valid
	}{
		{"valid", LinesOptions{Port: "p", Patterns: []LinePattern{ok}}, nil},
		{"LED only", LinesOptions{Port: "p", LED: map[string]string{"on": "ON"}}, nil},
		{"empty", LinesOptions{}, []string{"port: is empty", "patterns: none configured"}},
		{"patterns", LinesOptions{Port: "p", Patterns: []LinePattern{
			{Regexp: "(", Button: 1, Edge: "down"},
			{Regexp: "x", Button: 0, Edge: "sideways"},
			{Regexp: "", Button: 65},
			{Regexp: "x", Button: 1, Gesture: "long"},
			{Regexp: "x", Button: 1, Edge: "down", Gesture: "press"},
		}}, []string{
			"patterns[0].regexp: error parsing regexp: missing closing ): `(`: fix the regular expression",
			"patterns[1].button: 0 is out of range 1..64", `patterns[1].edge: unknown edge "sideways"`,
			"patterns[2].regexp: is empty", "patterns[2].button: 65 is out of range", "patterns[2].edge: is empty",
			"patterns[3].gesture: long is not possible from one line", `patterns[4]: has both edge "down" and gesture "press"`,
		}},
		{"templates", LinesOptions{Port: "p", Patterns: []LinePattern{ok}, LineEnding: "\n", LED: map[string]string{
			"blink": "B", "on:purple": "P", "off:red": "O", "on": "A{colour}", "flash": "F{", "pulse": "P}x", "on:red": "R\nESET",
			"off": "",
		}}, []string{
			`led["blink"]: unknown LED mode "blink"`, `led["on:purple"]: unknown colour "purple"`,
			`led["off:red"]: off has no colour`, `led["on"]: unknown field {colour}`, `led["flash"]: unclosed { at 1`,
			`led["pulse"]: stray } at 1`, `led["on:red"]: byte 0x0a at 1 is not printable ASCII`, `led["off"]: is empty`,
			`line_ending: unknown line ending "\n"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.opts.Validate(), tt.want) })
	}
}

// checkValidate checks the result of a Validate: nil when want is empty,
// else an error saying each of want.
func checkValidate(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("Validate() = %v; want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Validate() = nil; want errors %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %q\nwant it to say %q", err, w)
		}
	}
}

func TestLinesTemplates(t *testing.T) {
	cfg, err := LinesOptions{Port: "p", LED: map[string]string{
		"off":         "{mode} {button}",
		"on":          "{{{color}}} {ms}",
		"flash":       "F {button} {color} {ms}",
		"flash:green": "OK",
	}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		led  device.LED
		want string
	}{
		{device.LEDIdle, "off 3"},
		{device.LED{Mode: device.LEDOn}, "{white} 0"},
		{device.LEDFailure, "F 3 red 1500"},
		{device.LED{Mode: device.LEDFlash, Color: device.Blue, Duration: time.Hour}, "F 3 blue 60000"},
		{device.LEDSuccess, "OK"},
	}
	for _, tt := range tests {
		got, err := cfg.template(tt.led).render(3, tt.led)
		if err != nil || got != tt.want {
			t.Errorf("render(3, %+v) = %q, %v; want %q", tt.led, got, err, tt.want)
		}
	}
	if cfg.template(device.LEDBusy) != nil {
		t.Errorf("a template for pulse, which has none")
	}
	if _, err := cfg.template(device.LEDFailure).render(1, device.LED{Mode: device.LEDFlash, Color: "red\nRESET"}); err == nil {
		t.Errorf("render with colour %q = nil error; want it refused", "red\nRESET")
	}
	if got := strings.Join(colorNames(cfg.colors), ","); got != "red,green,yellow,blue,white" {
		t.Errorf("colours = %s; want all", got)
	}
}

func TestLinesMatch(t *testing.T) {
	cfg, err := LinesOptions{Port: "p", Patterns: []LinePattern{
		{Regexp: `^KEY ([0-9]+) DOWN$`, Button: 1, Edge: "down"},
		{Regexp: `DOWN`, Button: 2, Edge: "down"},
		{Regexp: `^TWICE$`, Button: 3, Gesture: "double"},
	}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line   string
		button int
		downs  []bool
	}{
		{"KEY 1 DOWN", 1, []bool{true}},
		{"KEY x DOWN", 2, []bool{true}}, // the first pattern that matches wins
		{"TWICE", 3, []bool{true, false, true, false}},
		{"twice", 0, nil},
	}
	for _, tt := range tests {
		button, downs, ok := cfg.match([]byte(tt.line))
		if button != tt.button || !equalBools(downs, tt.downs) || ok != (tt.button != 0) {
			t.Errorf("match(%q) = %d, %v, %v; want %d, %v", tt.line, button, downs, ok, tt.button, tt.downs)
		}
	}
	if cfg.buttons != 3 {
		t.Errorf("buttons = %d; want 3, the highest in the patterns", cfg.buttons)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// splitAll returns the lines and over-long reports of s split at cut.
func splitAll(t testing.TB, in []byte, cut int) []string {
	// An empty chunk is nothing arrived yet; then io.EOF.
	r := &chunkReader{chunks: []string{string(in[:cut]), "", string(in[cut:]), ""}}
	lr := newLineReader(r, textLines)
	var got []string
	for {
		line, err := lr.ReadLine()
		switch {
		case errors.Is(err, errLinesTooLong):
			got = append(got, "<too long>")
		case errors.Is(err, io.EOF):
			return got
		case err != nil:
			t.Fatalf("next: %v", err)
		case line != nil:
			got = append(got, string(line))
		}
	}
}

// TestLineReaderText splits the text of a lines device: any line ending,
// empty lines skipped, MaxLinesLine bytes at most.
func TestLineReaderText(t *testing.T) {
	long := strings.Repeat("y", MaxLinesLine)
	in := []byte("a\r\nb\rc\n\n\r" + long + "\n" + long + "z\nd" + strings.Repeat("w", 3*MaxLinesLine) + "\re\npartial")
	want := []string{"a", "b", "c", long, "<too long>", "<too long>", "e"}
	for _, cut := range []int{0, 1, 2, 9, MaxLinesLine + 5, len(in) - 20, len(in)} {
		if got := splitAll(t, in, cut); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("split at %d = %q; want %q", cut, got, want)
		}
	}
}

// TestLinesEmulatedFlash checks a device with only on and off templates:
// the host times the flash and the pulse.
func TestLinesEmulatedFlash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := LinesOptions{Port: "/dev/ttyFAKE0", LineEnding: "crlf", LED: map[string]string{"on": "L{button}={color}", "off": "L{button}=0"}}
		cfg, err := opts.compile()
		if err != nil {
			t.Fatal(err)
		}
		p := newFakePort()
		d := newLinesDevice(p, opts, cfg, "", nil)
		defer d.Close()
		expect := func(want string) {
			t.Helper()
			synctest.Wait()
			select {
			case got := <-p.out:
				if string(got) != want+"\r\n" {
					t.Errorf("wrote %q; want %q", got, want+"\r\n")
				}
			default:
				t.Errorf("wrote nothing; want %q", want)
			}
		}
		if err := d.SetLED(t.Context(), 4, device.LEDFailure); err != nil {
			t.Fatal(err)
		}
		expect("L4=red")
		time.Sleep(1500 * time.Millisecond)
		expect("L4=0")
		if err := d.SetLED(t.Context(), 4, device.LEDBusy); err != nil {
			t.Fatal(err)
		}
		expect("L4=yellow")
		time.Sleep(500 * time.Millisecond)
		expect("L4=0")
		time.Sleep(500 * time.Millisecond)
		expect("L4=yellow")
		if err := d.SetLED(t.Context(), 4, device.LEDIdle); err != nil {
			t.Fatal(err)
		}
		expect("L4=0")
		time.Sleep(3 * time.Second)
		synctest.Wait()
		p.none(t)
		if err := d.SetLED(t.Context(), 65, device.LEDIdle); err == nil {
			t.Error("SetLED(65) = nil; want an out-of-range error")
		}
	})
}

// FuzzLineSplitter checks the text LineReader of lines devices: that any bytes, split anywhere, give the same
// lines, each non-empty, at most MaxLinesLine bytes and without a line
// ending.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("B1 down\r\nB1 up\n"), 3)
	f.Add([]byte("\r\r\n\n"), 1)
	f.Add(bytes.Repeat([]byte("x"), MaxLinesLine+1), 7)
	f.Add(append(bytes.Repeat([]byte("x"), 2*MaxLinesLine), "\rok\n"...), MaxLinesLine)
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		if cut < 0 || cut > len(in) {
			cut = len(in) / 2
		}
		whole := splitAll(t, in, len(in))
		if got := splitAll(t, in, cut); strings.Join(got, "\x00") != strings.Join(whole, "\x00") {
			t.Fatalf("split at %d = %q; whole = %q", cut, got, whole)
		}
		for _, l := range whole {
			if l == "" || len(l) > MaxLinesLine || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
		}
	})
}

// FuzzLinesTemplate checks that any template either is refused or renders,
// for every state, a line of printable ASCII.
func FuzzLinesTemplate(f *testing.F) {
	f.Add("LED {button} {mode} {color} {ms}")
	f.Add("{{json}} {\"b\":{button}}")
	f.Add("}{")
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := parseTemplate(s)
		if err != nil {
			return
		}
		for _, led := range []device.LED{device.LEDBusy, device.LEDSuccess, device.LEDIdle, {Mode: device.LEDOn}} {
			line, err := tmpl.render(64, led)
			if err != nil {
				t.Fatalf("render(%q, %+v): %v", s, led, err)
			}
			for i := range len(line) {
				if line[i] < 0x20 || line[i] > 0x7E {
					t.Fatalf("template %q rendered %q", s, line)
				}
			}
		}
	})
}

// FuzzLinesMatch checks any pattern against any line: a pattern that
// compiles gives, on a match, its button and edges that start with a
// press or are a lone release.
func FuzzLinesMatch(f *testing.F) {
	f.Add(`^B([0-9]+) down$`, "B1 down", 1)
	f.Add(`(a+)+$`, strings.Repeat("a", 5000)+"!", 64)
	f.Add(`\x00`, "\x00\xff", 2)
	f.Fuzz(func(t *testing.T, re, line string, button int) {
		cfg, err := LinesOptions{Port: "p", Patterns: []LinePattern{{Regexp: re, Button: button, Edge: "press"}}}.compile()
		if err != nil {
			return
		}
		b, downs, ok := cfg.match([]byte(line))
		if ok && (b != button || len(downs) != 2 || !downs[0] || downs[1]) {
			t.Fatalf("match(%q, %q) = %d, %v", re, line, b, downs)
		}
	})
}
