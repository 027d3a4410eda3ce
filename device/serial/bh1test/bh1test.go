// Package bh1test checks that a board speaks BH1, the Buttonhook line
// protocol of docs/protocol.md, byte for byte: lines in, lines out, over the
// board's real serial line (a pseudo-terminal). It runs against the
// simulator (device/sim) and the reference firmware for Arduino and Pico
// (device/firmware), so that all three keep to the protocol and to each
// other. Where the protocol leaves a choice (an ERR line for an LED the board
// lacks, or silence), the suite accepts either.
package bh1test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
)

// Timeout bounds every wait for a line from the board. It is generous: a
// board may be a Python process starting on a busy machine.
const Timeout = 5 * time.Second

// Board is a BH1 board on a serial line.
type Board interface {
	// Path is the host's end of the board's serial line, in raw mode (no
	// echo, "\n" passed as it is), for the suite to open.
	Path() string
	// Down holds button n (from 1) down until Up. Real firmware sees one
	// clean change of the pin's level, which it still debounces.
	Down(n int) error
	// Up releases button n.
	Up(n int) error
}

// LEDRecorder is implemented by boards that can tell which LED commands
// they acted on. NextLED waits until ctx is done for the next one not yet
// returned, and returns its button and state.
type LEDRecorder interface {
	NextLED(ctx context.Context) (button int, led device.LED, err error)
}

// Harness connects the suite to one kind of board.
type Harness struct {
	// Open starts a fresh board for one check and registers its clean-up
	// with t.Cleanup.
	Open func(t *testing.T) Board
}

// checks are the conformance checks, each run as a subtest on a fresh board.
var checks = []struct {
	name string
	fn   func(c *checker)
}{
	{"Hello", testHello},
	{"Ping", testPing},
	{"LongestLine", testLongestLine},
	{"Burst", testBurst},
	{"LEDCommands", testLEDCommands},
	{"LEDMissingButton", testLEDMissingButton},
	{"MalformedIgnored", testMalformed},
	{"Edges", testEdges},
	{"EdgeWhileAnswering", testEdgeWhileAnswering},
	{"NothingUnasked", testNothingUnasked},
}

// Run runs the conformance checks as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			for _, msg := range runCheck(t, h, ch.fn) {
				t.Error(msg)
			}
		})
	}
}

// checker collects a check's failures instead of reporting them, so that
// the suite's own tests can see a faulty board fail it.
type checker struct {
	t     *testing.T
	board Board
	errs  []string

	f     *os.File
	r     *bufio.Reader
	hello serial.Hello
	sync  int
}

// stop ends a check early.
type stop struct{}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *checker) fatalf(format string, args ...any) {
	c.errorf(format, args...)
	panic(stop{})
}

// runCheck opens a board, connects to it and runs one check, returning its
// failures.
func runCheck(t *testing.T, h Harness, fn func(c *checker)) (errs []string) {
	t.Helper()
	c := &checker{t: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
		errs = c.errs
	}()
	c.board = h.Open(t)
	if c.board == nil {
		c.fatalf("Harness.Open returned no board")
	}
	f, err := os.OpenFile(c.board.Path(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		c.fatalf("open the board's line: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	c.f, c.r = f, bufio.NewReader(f)
	c.start()
	fn(c)
	return c.errs
}

// start gets in step with a board that may have said HELLO at boot: it
// asks for HELLO and then for a PONG, and expects only HELLO lines before
// that PONG.
func (c *checker) start() {
	c.send("HELLO?\n")
	var hellos []string
	for _, l := range c.syncLines() {
		if !strings.HasPrefix(l, "HELLO ") {
			c.fatalf("before the first PONG the board sent %q; want only HELLO lines", l)
		}
		hellos = append(hellos, l)
	}
	if len(hellos) == 0 {
		c.fatalf("the board sent no HELLO line in answer to HELLO?")
	}
	m, err := serial.ParseLine([]byte(hellos[len(hellos)-1]))
	if err != nil {
		c.fatalf("the board's HELLO line: %v", err)
	}
	c.hello = m.Hello
	if c.hello.Buttons < 1 {
		c.fatalf("the board reports buttons=%d; the suite needs at least one", c.hello.Buttons)
	}
}

// syncLines sends a PING with a fresh token and returns the lines that came
// before its PONG.
func (c *checker) syncLines() []string {
	c.t.Helper()
	c.sync++
	token := fmt.Sprintf("sync%d", c.sync)
	c.send(serial.FormatPing(token) + "\n")
	var before []string
	for {
		l := c.line()
		if l == serial.FormatPong(token) {
			return before
		}
		before = append(before, l)
		if len(before) > 20 {
			c.fatalf("no %q among 20 lines: %q", serial.FormatPong(token), before)
		}
	}
}

// expectNothing checks that the board sent nothing since the last line
// read, by asking for a PONG.
func (c *checker) expectNothing(after string) {
	c.t.Helper()
	if got := c.syncLines(); len(got) > 0 {
		c.errorf("after %s the board sent %q; want nothing", after, got)
	}
}

func (c *checker) send(s string) {
	c.t.Helper()
	if err := c.f.SetWriteDeadline(time.Now().Add(Timeout)); err != nil {
		c.fatalf("set write deadline: %v", err)
	}
	if _, err := c.f.WriteString(s); err != nil {
		c.fatalf("send %q: %v", s, err)
	}
}

// line reads one line and returns it without its line ending, after
// checking that it is a well-formed line: at most 128 bytes, printable
// ASCII, ending in "\n" (a "\r" before it is allowed).
func (c *checker) line() string {
	c.t.Helper()
	if err := c.f.SetReadDeadline(time.Now().Add(Timeout)); err != nil {
		c.fatalf("set read deadline: %v", err)
	}
	raw, err := c.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.fatalf("no line from the board within %v (partial: %q)", Timeout, raw)
		}
		c.fatalf("read from the board: %v (partial: %q)", err, raw)
	}
	if len(raw) > serial.MaxLine {
		c.errorf("the board sent a %d-byte line %q; BH1 allows %d", len(raw), raw, serial.MaxLine)
	}
	l := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
	for i := 0; i < len(l); i++ {
		if l[i] < 0x20 || l[i] > 0x7e {
			c.errorf("the board sent %q: byte 0x%02x is not printable ASCII", raw, l[i])
			break
		}
	}
	return l
}

// ask sends a line and returns the board's one-line answer, checking that
// nothing else follows it.
func (c *checker) ask(send string) string {
	c.t.Helper()
	c.send(send)
	got := c.line()
	c.expectNothing(fmt.Sprintf("%q and its answer %q", send, got))
	return got
}

func testHello(c *checker) {
	first := c.ask("HELLO?\n")
	if !strings.HasPrefix(first, "HELLO BH1 ") {
		c.errorf("answer to HELLO? = %q; want it to start with \"HELLO BH1 \"", first)
	}
	m, err := serial.ParseLine([]byte(first))
	if err != nil {
		c.fatalf("answer to HELLO? = %q: %v", first, err)
	}
	if m.Kind != serial.KindHello {
		c.fatalf("answer to HELLO? = %q, a %v line; want HELLO", first, m.Kind)
	}
	keys := map[string]string{}
	for _, kv := range strings.Fields(first)[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			c.errorf("HELLO field %q is not key=value", kv)
			continue
		}
		if _, dup := keys[k]; dup {
			c.errorf("HELLO has key %q twice", k)
		}
		keys[k] = v
	}
	for _, k := range []string{"model", "fw", "sn", "buttons", "leds"} {
		if keys[k] == "" {
			c.errorf("HELLO %q has no %s=; the board should say it", first, k)
		}
	}
	for _, v := range strings.Split(keys["leds"], ",") {
		if v == "none" && keys["leds"] != "none" {
			c.errorf("leds=%s mixes none with colours", keys["leds"])
		}
		if v != "none" && !knownColor(v) {
			c.errorf("leds=%s names %q; BH1 colours are red, green, yellow, blue and white", keys["leds"], v)
		}
	}
	for _, send := range []string{"HELLO?\n", "HELLO?\r\n", "  HELLO?  \n"} {
		if again := c.ask(send); again != first {
			c.errorf("answer to %q = %q; want the same as before, %q", send, again, first)
		}
	}
}

func knownColor(s string) bool {
	switch device.Color(s) {
	case device.Red, device.Green, device.Yellow, device.Blue, device.White:
		return true
	}
	return false
}

func testPing(c *checker) {
	tests := []struct{ send, want string }{
		{"PING\n", "PONG"},
		{"PING abc123\n", "PONG abc123"},
		{"PING x\r\n", "PONG x"},
		{"  PING   tok-_.:/=?!  \n", "PONG tok-_.:/=?!"},
		{"PING 0\n", "PONG 0"},
	}
	for _, tt := range tests {
		if got := c.ask(tt.send); got != tt.want {
			c.errorf("answer to %q = %q; want %q", tt.send, got, tt.want)
		}
	}
}

// testLongestLine sends lines at BH1's 128-byte limit: one that fits is
// answered, one a byte longer is ignored, and so is a very long one.
func testLongestLine(c *checker) {
	fits := "PING " + strings.Repeat("t", serial.MaxLine-len("PING \n"))
	if got, want := c.ask(fits+"\n"), "PONG "+fits[5:]; got != want {
		c.errorf("answer to a %d-byte PING line = %q; want %q", len(fits)+1, got, want)
	}
	tooLong := fits + "u"
	c.send(tooLong + "\n")
	c.expectNothing(fmt.Sprintf("a %d-byte PING line (over the limit)", len(tooLong)+1))
	crTooLong := fits + "\r\n" // the "\r" counts
	c.send(crTooLong)
	c.expectNothing(fmt.Sprintf("a %d-byte PING line ending in \\r\\n (over the limit)", len(crTooLong)))
	// A long line, then a good one in the same write: only the long one goes.
	c.send("PING " + strings.Repeat("v", 1000) + "\nPING after\n")
	if got := c.line(); got != "PONG after" {
		c.errorf("after a 1006-byte line and PING after, the board sent %q; want PONG after", got)
	}
	c.expectNothing("PONG after")
}

func testBurst(c *checker) {
	const n = 20
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PING b%d\n", i)
	}
	c.send(b.String())
	for i := range n {
		if got, want := c.line(), fmt.Sprintf("PONG b%d", i); got != want {
			c.fatalf("answer %d to a burst of %d PINGs = %q; want %q", i+1, n, got, want)
		}
	}
	c.expectNothing(fmt.Sprintf("%d PONGs", n))
}

// ledCommands are well-formed LED commands for button n.
func ledCommands(n int) []string {
	p := fmt.Sprintf("LED %d ", n)
	return []string{
		p + "ON red", p + "ON green", p + "ON yellow", p + "ON blue", p + "ON white",
		p + "FLASH green 1500", p + "FLASH red 1", p + "FLASH white 60000",
		p + "PULSE yellow 1000", p + "PULSE blue 60000", p + "PULSE red 1",
		p + "on Red", " " + p + " FLASH  yellow  200 ", p + "OFF",
	}
}

func testLEDCommands(c *checker) {
	rec, _ := c.board.(LEDRecorder)
	for n := 1; n <= c.hello.Buttons; n++ {
		for _, l := range ledCommands(n) {
			c.send(l + "\r\n")
			c.expectNothing(fmt.Sprintf("%q", l))
			if rec == nil {
				continue
			}
			want, err := serial.ParseCommand([]byte(l))
			if err != nil {
				panic(fmt.Sprintf("bh1test: a command in the suite does not parse: %v", err))
			}
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			button, led, err := rec.NextLED(ctx)
			cancel()
			if err != nil {
				c.fatalf("after %q: the board did not act on it: %v", l, err)
			}
			if button != want.Button || led != want.LED {
				c.errorf("after %q: the board set LED %d to %+v; want LED %d to %+v", l, button, led, want.Button, want.LED)
			}
		}
	}
}

// testLEDMissingButton sends an LED command for a button the board does not
// have: it may answer one ERR line or nothing.
func testLEDMissingButton(c *checker) {
	n := c.hello.Buttons + 1
	if n > serial.MaxButtons {
		return
	}
	l := fmt.Sprintf("LED %d ON red", n)
	c.send(l + "\n")
	got := c.syncLines()
	switch {
	case len(got) == 0:
	case len(got) == 1 && strings.HasPrefix(got[0], "ERR ") && strings.TrimSpace(got[0][4:]) != "":
	default:
		c.errorf("after %q for a %d-button board the board sent %q; want nothing or one ERR line", l, n-1, got)
	}
}

// malformedLines do not follow BH1. A board ignores each: no answer, no ERR.
var malformedLines = []string{
	"\n", "   \n", "\r\n",
	"FOO\n", "HELLO\n", "HELLO? now\n", "HELLO?x\n", "PINGx\n",
	"PING a b\n", "PING\ta\n", "PING caf\xc3\xa9\n", "PING \x01\n", "PING a\r\r\n", "PING \x00\n",
	"D 1\n", "U 1\n", "PONG\n", "ERR x\n", // the device's own lines
	"LED\n", "LED 1\n", "LED 0 OFF\n", "LED 65 OFF\n", "LED x OFF\n", "LED -1 OFF\n", "LED 1x OFF\n",
	"LED 1 BLINK red\n", "LED 1 ON\n", "LED 1 ON purple\n", "LED 1 ON red 5\n", "LED 1 OFF red\n",
	"LED 1 FLASH red\n", "LED 1 FLASH red 0\n", "LED 1 FLASH red 60001\n", "LED 1 FLASH red -5\n",
	"LED 1 FLASH red 1e3\n", "LED 1 PULSE red 99999999999\n", "LED 1 PULSE red 12a\n",
	"LED 1 FLASH red 100 extra\n", "LED\t1 ON red\n",
}

func testMalformed(c *checker) {
	for _, l := range malformedLines {
		c.send(l)
		c.expectNothing(fmt.Sprintf("the malformed line %q", l))
	}
	// None of the malformed LED lines was acted on: the next LED command
	// the board reports is this one.
	rec, ok := c.board.(LEDRecorder)
	if !ok {
		return
	}
	c.send("LED 1 ON white\n")
	c.expectNothing("LED 1 ON white")
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	button, led, err := rec.NextLED(ctx)
	want := device.LED{Mode: device.LEDOn, Color: device.White}
	if err != nil || button != 1 || led != want {
		c.errorf("after the malformed lines and LED 1 ON white, the board set LED %d to %+v (%v); want LED 1 to %+v",
			button, led, err, want)
	}
}

func (c *checker) press(down bool, n int) {
	c.t.Helper()
	do, name := c.board.Up, "Up"
	if down {
		do, name = c.board.Down, "Down"
	}
	if err := do(n); err != nil {
		c.fatalf("%s(%d): %v", name, n, err)
	}
}

func (c *checker) expectLine(after, want string) {
	c.t.Helper()
	if got := c.line(); got != want {
		c.errorf("after %s the board sent %q; want %q", after, got, want)
	}
}

func testEdges(c *checker) {
	for n := 1; n <= c.hello.Buttons; n++ {
		c.press(true, n)
		c.expectLine(fmt.Sprintf("Down(%d)", n), serial.FormatEdge(n, true))
		c.press(false, n)
		c.expectLine(fmt.Sprintf("Up(%d)", n), serial.FormatEdge(n, false))
	}
	c.expectNothing("one press of each button")
	if c.hello.Buttons < 2 {
		return
	}
	// Two buttons held at once are reported each on its own.
	c.press(true, 1)
	c.expectLine("Down(1)", "D 1")
	c.press(true, 2)
	c.expectLine("Down(1), Down(2)", "D 2")
	c.press(false, 1)
	c.expectLine("Down(1), Down(2), Up(1)", "U 1")
	c.press(false, 2)
	c.expectLine("Down(1), Down(2), Up(1), Up(2)", "U 2")
	c.expectNothing("two overlapping presses")
}

// testEdgeWhileAnswering presses a button while the host talks: each line
// arrives whole.
func testEdgeWhileAnswering(c *checker) {
	c.press(true, 1)
	c.send("PING p1\nHELLO?\nPING p2\n")
	got := map[string]int{}
	for range 4 {
		l := c.line()
		if strings.HasPrefix(l, "HELLO ") {
			l = "HELLO"
		}
		got[l]++
	}
	want := map[string]int{"D 1": 1, "PONG p1": 1, "HELLO": 1, "PONG p2": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		c.errorf("after Down(1) and three host lines the board sent %v; want %v", got, want)
	}
	c.press(false, 1)
	c.expectLine("Up(1)", "U 1")
	c.expectNothing("a press while answering")
}

// testNothingUnasked checks that an idle board stays quiet: no debug
// output, no repeated HELLO.
func testNothingUnasked(c *checker) {
	if err := c.f.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		c.fatalf("set read deadline: %v", err)
	}
	if l, err := c.r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) || l != "" {
		c.errorf("an idle board sent %q (%v) within 300ms; want nothing", l, err)
	}
}
