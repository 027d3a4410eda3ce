//go:build linux

package firmware_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// buildDir holds the host builds of the Arduino sketch for this test run.
var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "buttonhook-firmware-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "firmware tests:", err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	builds  = map[string]error{}
)

// buildSketch compiles arduino/buttonhook against the host shim with g++,
// once per name, and returns the program. defines are extra -D flags.
// Warnings are errors: a reference sketch should build cleanly.
func buildSketch(t *testing.T, name string, defines ...string) string {
	t.Helper()
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("g++ not found, so the Arduino sketch cannot be built on the host: install g++ (make deps-test does)")
	}
	out := filepath.Join(buildDir, name)
	buildMu.Lock()
	defer buildMu.Unlock()
	err, done := builds[name]
	if !done {
		args := []string{"-std=c++11", "-O1", "-Wall", "-Wextra", "-Werror",
			"-Iarduino/hostshim", "-include", "Arduino.h"}
		for _, d := range defines {
			args = append(args, "-D"+d)
		}
		args = append(args, "-x", "c++", "arduino/buttonhook/buttonhook.ino",
			"-x", "none", "arduino/hostshim/shim.cpp", "-o", out)
		if msg, cerr := exec.Command("g++", args...).CombinedOutput(); cerr != nil {
			err = fmt.Errorf("g++ %s: %v\n%s", strings.Join(args, " "), cerr, msg)
		}
		builds[name] = err
	}
	if err != nil {
		t.Fatalf("build the Arduino sketch: %v", err)
	}
	return out
}

// arduino is the sketch as shipped: one button on D2, a bi-colour LED on D9
// (red) and D10 (green).
func arduino(t *testing.T) firmware {
	return firmware{
		name:   "arduino",
		layout: layout{buttons: []int{2}, leds: [][3]int{{9, 10, noPin}}},
		argv:   []string{buildSketch(t, "arduino")},
	}
}

// arduinoRGB2 is the sketch built for testdata/arduino_rgb2.h: two buttons
// with common-anode RGB LEDs.
func arduinoRGB2(t *testing.T) firmware {
	cfg, err := filepath.Abs("testdata/arduino_rgb2.h")
	if err != nil {
		t.Fatal(err)
	}
	return firmware{
		name: "arduino-rgb2",
		layout: layout{buttons: []int{4, 7}, leds: [][3]int{{3, 5, 6}, {9, 10, 11}},
			rgb: true, activeLow: true},
		argv: []string{buildSketch(t, "arduino-rgb2", `BH_CONFIG="`+cfg+`"`)},
	}
}

// pico is pico/main.py as shipped, under CPython: one button on GP15, an
// RGB LED on GP16-18. config, if not empty, is a directory with a
// bh_config.py.
func pico(t *testing.T) firmware {
	return picoWith(t, "", layout{buttons: []int{15}, leds: [][3]int{{16, 17, 18}}, rgb: true})
}

// picoBicolour2 is pico/main.py with testdata/pico_bicolour2/bh_config.py:
// two buttons with bi-colour LEDs.
func picoBicolour2(t *testing.T) firmware {
	return picoWith(t, "testdata/pico_bicolour2",
		layout{buttons: []int{2, 6}, leds: [][3]int{{3, 4, noPin}, {7, 8, noPin}}})
}

func picoWith(t *testing.T, config string, l layout) firmware {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found, so the Pico script cannot run on the host: install python3 (make deps-test does)")
	}
	argv := []string{py, "-B", "pico/hostshim/run.py", "pico/main.py"}
	if config != "" {
		argv = append(argv, config)
	}
	return firmware{name: "pico", layout: l, argv: argv}
}

func TestArduinoProtocol(t *testing.T) {
	t.Run("Bicolour", func(t *testing.T) { testProtocol(t, arduino(t)) })
	t.Run("RGB2", func(t *testing.T) { testProtocol(t, arduinoRGB2(t)) })
}

func TestPicoProtocol(t *testing.T) {
	t.Run("RGB", func(t *testing.T) { testProtocol(t, pico(t)) })
	t.Run("Bicolour2", func(t *testing.T) { testProtocol(t, picoBicolour2(t)) })
}

func TestArduinoDriver(t *testing.T) { testDriver(t, arduino(t)) }
func TestPicoDriver(t *testing.T)    { testDriver(t, pico(t)) }

func TestArduinoDebounce(t *testing.T) { testDebounce(t, arduino(t)) }
func TestPicoDebounce(t *testing.T)    { testDebounce(t, pico(t)) }

func TestArduinoLEDs(t *testing.T) {
	t.Run("Bicolour", func(t *testing.T) { testLEDs(t, arduino(t)) })
	t.Run("RGB2", func(t *testing.T) { testLEDs(t, arduinoRGB2(t)) })
}

func TestPicoLEDs(t *testing.T) {
	t.Run("RGB", func(t *testing.T) { testLEDs(t, pico(t)) })
	t.Run("Bicolour2", func(t *testing.T) { testLEDs(t, picoBicolour2(t)) })
}

func TestArduinoPinModes(t *testing.T) { testPinModes(t, arduinoRGB2(t)) }
func TestPicoPinModes(t *testing.T)    { testPinModes(t, picoBicolour2(t)) }

func TestArduinoErr(t *testing.T) { testErr(t, arduino(t)) }
func TestPicoErr(t *testing.T)    { testErr(t, pico(t)) }

// TestArduinoMillisWrap runs the sketch across millis()'s 32-bit wrap (49.7
// days after boot on a real board).
func TestArduinoMillisWrap(t *testing.T) {
	testWrap(t, arduino(t), fmt.Sprintf("BH_MILLIS_START=%d", uint32(1<<32-400)))
}

// TestPicoTicksWrap runs the script across time.ticks_ms()'s wrap at 2**30
// (12.4 days on a Pico).
func TestPicoTicksWrap(t *testing.T) {
	testWrap(t, pico(t), fmt.Sprintf("BH_TICKS_START=%d", 1<<30-400))
}

var hexSerial = regexp.MustCompile(`^[0-9A-F]{8}$`)

// TestArduinoSerialNumber checks that a board without BH_SERIAL makes up a
// serial number once and keeps it in EEPROM, and that BH_SERIAL wins.
func TestArduinoSerialNumber(t *testing.T) {
	fw := arduino(t)
	dir := t.TempDir()
	eeprom := filepath.Join(dir, "eeprom")
	first := openHost(t, fw.start(t, "BH_EEPROM="+eeprom)).hello().Serial
	if !hexSerial.MatchString(first) {
		t.Errorf("made-up serial number %q; want 8 hex digits", first)
	}
	data, err := os.ReadFile(eeprom)
	if err != nil || len(data) != 1024 || string(data[:4]) != "BHsn" {
		t.Errorf("EEPROM after the first boot starts %q (%d bytes, %v); want \"BHsn\" and the id", data[:min(8, len(data))], len(data), err)
	}
	if again := openHost(t, fw.start(t, "BH_EEPROM="+eeprom)).hello().Serial; again != first {
		t.Errorf("serial number after a reboot = %q; want the stored %q", again, first)
	}
	other := openHost(t, fw.start(t, "BH_EEPROM="+filepath.Join(dir, "other"))).hello().Serial
	if other == first || !hexSerial.MatchString(other) {
		t.Errorf("a second board's serial number = %q, the first's %q; want another 8 hex digits", other, first)
	}

	fixed := firmware{layout: fw.layout, argv: []string{buildSketch(t, "arduino-serial", `BH_SERIAL="DESK-7"`)}}
	untouched := filepath.Join(dir, "untouched")
	if got := openHost(t, fixed.start(t, "BH_EEPROM="+untouched)).hello().Serial; got != "DESK-7" {
		t.Errorf("serial number with BH_SERIAL=\"DESK-7\" = %q; want DESK-7", got)
	}
	if _, err := os.Stat(untouched); !os.IsNotExist(err) {
		t.Errorf("a board with BH_SERIAL touched its EEPROM (%v); want it left alone", err)
	}
}

// TestPicoSerialNumber checks that the serial number is the chip's unique
// id, unless bh_config.py sets one.
func TestPicoSerialNumber(t *testing.T) {
	got := openHost(t, pico(t).start(t, "BH_UNIQUE_ID=e66038b7133a4a2f")).hello()
	if got.Serial != "E66038B7133A4A2F" || got.Model != "pico-button" || got.Firmware != "1.0.0" {
		t.Errorf("HELLO for unique id e66038b7133a4a2f = %+v; want sn=E66038B7133A4A2F, model pico-button, fw 1.0.0", got)
	}
	got = openHost(t, picoBicolour2(t).start(t)).hello()
	if got.Serial != "DUO-7" || got.Model != "pico-duo" || got.Buttons != 2 {
		t.Errorf("HELLO with testdata/pico_bicolour2 = %+v; want sn=DUO-7, model pico-duo, 2 buttons", got)
	}
}

// testErr checks the one ERR line the firmware has: an LED command, well
// formed, for a button the board lacks.
func testErr(t *testing.T, fw firmware) {
	h := openHost(t, fw.start(t))
	h.hello()
	n := len(fw.layout.buttons) + 1
	h.send(fmt.Sprintf("LED %d FLASH red 100\n", n))
	if got, want := h.mustLine(), fmt.Sprintf("ERR no LED %d", n); got != want {
		t.Errorf("after LED %d FLASH red 100: %q; want %q", n, got, want)
	}
}

func testPinModes(t *testing.T, fw firmware) {
	b := fw.start(t)
	h := openHost(t, b)
	h.hello()
	// Once the firmware's read of this line is in, so is all it did before.
	h.send("LED 1 OFF\n")
	if _, err := b.nextLEDMark(t.Context()); err != nil {
		t.Fatalf("LED 1 OFF: %v", err)
	}
	events, _ := b.snapshot()
	modes := map[int]string{}
	for _, e := range events {
		if e.kind == evMode {
			modes[e.pin] = e.text
		}
	}
	for n, p := range fw.layout.buttons {
		if modes[p] != "INPUT_PULLUP" {
			t.Errorf("button %d's pin %d mode %q; want INPUT_PULLUP (wired to GND)", n+1, p, modes[p])
		}
	}
	for n, pins := range fw.layout.leds {
		for _, p := range pins {
			if p != noPin && modes[p] != "OUTPUT" {
				t.Errorf("LED %d's pin %d mode %q; want OUTPUT", n+1, p, modes[p])
			}
		}
	}
}

// bounce sets pin p to each level in turn, gap apart. It reports false if
// the machine was too slow to keep the gaps well under the 20 ms debounce.
//
// It returns the time just before the last level was set: the contact has
// not settled earlier, however long the write then took.
func bounce(t *testing.T, b *board, p int, levels []int, gap time.Duration) (settled time.Time, ok bool) {
	t.Helper()
	last := time.Now()
	for i, lv := range levels {
		if i > 0 {
			time.Sleep(gap)
			if now := time.Now(); now.Sub(last) > 12*time.Millisecond {
				return time.Time{}, false
			} else {
				last = now
			}
		}
		if err := b.setPin(p, lv); err != nil {
			t.Fatal(err)
		}
	}
	return last, true
}

// testDebounce checks that a bouncing contact gives one edge, 20 ms after it
// settles, and that a glitch shorter than 20 ms gives none.
func testDebounce(t *testing.T, fw firmware) {
	steps := []struct {
		name   string
		levels []int
		want   string // "" for no edge
	}{
		{"BouncingPress", []int{0, 1, 0, 1, 0, 1, 0}, "D 1"},
		{"GlitchWhileDown", []int{1, 0}, ""},
		{"BouncingRelease", []int{1, 0, 1, 0, 1}, "U 1"},
		{"GlitchWhileUp", []int{0, 1}, ""},
	}
	b := fw.start(t)
	h := openHost(t, b)
	h.hello()
	p := fw.layout.buttons[0]
	for _, s := range steps {
		var settled time.Time
		for try := 0; ; try++ {
			var ok bool
			if settled, ok = bounce(t, b, p, s.levels, 3*time.Millisecond); ok {
				break
			}
			if try == 3 {
				t.Skipf("%s: the machine is too busy to bounce a pin every 3 ms", s.name)
			}
			time.Sleep(50 * time.Millisecond) // let any edge from the slow try go by
			_, _ = h.line(50 * time.Millisecond)
		}
		if s.want == "" {
			h.expectQuiet(100*time.Millisecond, s.name)
			continue
		}
		got, err := h.line(lineTimeout)
		after := time.Since(settled)
		if err != nil || got != s.want {
			t.Errorf("%s: the board sent %q (%v); want %q", s.name, got, err, s.want)
			continue
		}
		if after < 18*time.Millisecond {
			t.Errorf("%s: %q came %v after the contact settled; want the 20 ms debounce first", s.name, got, after)
		}
		h.expectQuiet(100*time.Millisecond, s.name)
	}
}

// litFrom returns pin p's brightness (0..255) at each of its OUT events from
// index i on.
func (b *board) litFrom(i, p int) []event {
	var out []event
	for _, e := range b.outs(i, p) {
		e.level = b.layout.lit(map[int]int{p: e.level}, p)
		out = append(out, e)
	}
	return out
}

// testLEDs checks the LED modes on the pins: a flash ends on time, a pulse
// fades at its period, a new command replaces a flash, OFF stops a pulse.
func testLEDs(t *testing.T, fw firmware) {
	b := fw.start(t)
	h := openHost(t, b)
	h.hello()
	red, green := fw.layout.leds[0][0], fw.layout.leds[0][1]
	ctx := t.Context()
	// led sends an LED command and waits for the pins to show it. It
	// returns the index of the first event after the firmware read it.
	led := func(cmd string) (mark int, at time.Time) {
		t.Helper()
		h.send(cmd + "\n")
		mark, err := b.nextLEDMark(ctx)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return mark, time.Now()
	}

	t.Run("FlashEnds", func(t *testing.T) {
		mark, _ := led("LED 1 FLASH red 200")
		time.Sleep(800 * time.Millisecond)
		ev := b.litFrom(mark, red)
		if len(ev) != 2 || ev[0].level != 255 || ev[1].level != 0 {
			t.Fatalf("red pin after FLASH red 200: %v; want on, then off", levels(ev))
		}
		if d := ev[1].at.Sub(ev[0].at); d < 180*time.Millisecond || d > 700*time.Millisecond {
			t.Errorf("FLASH red 200 lit red for %v; want about 200ms", d)
		}
	})

	t.Run("NewCommandReplacesFlash", func(t *testing.T) {
		led("LED 1 FLASH red 150")
		mark, _ := led("LED 1 ON green")
		time.Sleep(300 * time.Millisecond)
		for _, p := range []int{red, green} {
			if ev := b.litFrom(mark, p); len(ev) > 1 {
				t.Errorf("pin %d after FLASH red 150, ON green: %v; want steady", p, levels(ev))
			}
		}
		if !fw.layout.shows(levelsAt(mustEvents(b), b.mark()), 1, onGreen) {
			t.Errorf("300ms after FLASH red 150, ON green the LED is not green: the flash's end turned it off")
		}
	})

	t.Run("PulseFades", func(t *testing.T) {
		mark, start := led("LED 1 PULSE green 400")
		time.Sleep(900 * time.Millisecond)
		ev := b.litFrom(mark, green)
		lo, hi, distinct := 255, 0, map[int]bool{}
		var firstDark time.Time
		for _, e := range ev {
			lo, hi = min(lo, e.level), max(hi, e.level)
			distinct[e.level] = true
			if e.level <= 5 && firstDark.IsZero() {
				firstDark = e.at
			}
		}
		if lo > 5 || hi < 240 || len(distinct) < 20 {
			t.Errorf("green pin during PULSE green 400: %d levels from %d to %d; want a fade through 20 or more from dark to full",
				len(distinct), lo, hi)
		}
		if d := firstDark.Sub(start); firstDark.IsZero() || d < 100*time.Millisecond || d > 600*time.Millisecond {
			t.Errorf("PULSE green 400 first went dark %v after it started; want about 200ms (half a period)", d)
		}
		if ev := b.litFrom(mark, red); len(ev) > 0 && slicesMax(ev) > 0 {
			t.Errorf("red pin during PULSE green: %v; want dark", levels(ev))
		}

		led("LED 1 OFF")
		time.Sleep(50 * time.Millisecond)
		settled := b.mark()
		time.Sleep(200 * time.Millisecond)
		if ev := b.litFrom(settled, green); len(ev) > 0 {
			t.Errorf("green pin after PULSE, then OFF: still changing %v; want dark and still", levels(ev))
		}
	})
}

// testWrap starts a board whose clock is 400 ms from wrapping and checks
// that a flash across the wrap ends on time and a press is still reported.
func testWrap(t *testing.T, fw firmware, env string) {
	b := fw.start(t, env)
	h := openHost(t, b)
	h.hello()
	red := fw.layout.leds[0][0]
	h.send("LED 1 FLASH red 800\n")
	mark, err := b.nextLEDMark(t.Context())
	if err != nil {
		t.Fatalf("LED 1 FLASH red 800: %v", err)
	}
	if err := b.Down(1); err != nil {
		t.Fatal(err)
	}
	if got := h.mustLine(); got != "D 1" {
		t.Errorf("Down(1) near the clock's wrap: %q; want D 1", got)
	}
	if err := b.Up(1); err != nil {
		t.Fatal(err)
	}
	if got := h.mustLine(); got != "U 1" {
		t.Errorf("Up(1) near the clock's wrap: %q; want U 1", got)
	}
	time.Sleep(1700 * time.Millisecond)
	ev := b.litFrom(mark, red)
	if len(ev) != 2 || ev[0].level != 255 || ev[1].level != 0 {
		t.Fatalf("red pin after FLASH red 800 across the wrap: %v; want on, then off", levels(ev))
	}
	if d := ev[1].at.Sub(ev[0].at); d < 750*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("FLASH red 800 across the clock's wrap lit red for %v; want about 800ms", d)
	}
}

var onGreen = device.LED{Mode: device.LEDOn, Color: device.Green}

func levels(ev []event) []int {
	var out []int
	for _, e := range ev {
		out = append(out, e.level)
	}
	return out
}

func slicesMax(ev []event) int {
	m := 0
	for _, e := range ev {
		m = max(m, e.level)
	}
	return m
}

func mustEvents(b *board) []event {
	events, _ := b.snapshot()
	return events
}
