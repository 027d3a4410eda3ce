//go:build linux

package firmware_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/devicetest"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/serial/bh1test"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// A board is reference firmware running as a host process: the Arduino
// sketch built against arduino/hostshim, or the Pico script under CPython
// with pico/hostshim. Its serial port is a real pseudo-terminal (the
// process has the master as stdin and stdout; the host opens Path); its pins
// are driven and watched over two pipes, fd 3 ("PIN <pin> <0|1>" lines in)
// and fd 4 ("MODE", "OUT" and "RX" lines out, see hostshim/shim.cpp).
// Unplug kills the process, which closes the master as pulling a USB cable
// does.
type board struct {
	t      *testing.T
	layout layout
	cmd    *exec.Cmd
	slave  *os.File // kept open so the line stays up while the host reopens it
	pins   *os.File // fd 3's write end
	stderr *syncBuffer

	mu      sync.Mutex
	events  []event
	changed chan struct{} // closed and replaced on every new event
	exited  chan struct{} // closed when the event reader ends (process gone)
	rxNext  int           // NextLED resumes its search here

	unplug sync.Once
}

// layout is where a firmware build has its buttons and LEDs.
type layout struct {
	buttons   []int    // pin of button n at [n-1]
	leds      [][3]int // red, green and blue pins of button n's LED at [n-1]; -1 for none
	rgb       bool     // RGB LED, else bi-colour
	activeLow bool     // a pin at 0 lights the LED
}

// noPin marks an LED colour a board does not wire.
const noPin = -1

// pressHold is how long Press holds a button: well over the firmware's
// 20 ms debounce.
const pressHold = 60 * time.Millisecond

type eventKind int

const (
	evMode eventKind = iota + 1 // pinMode
	evOut                       // an output's new level
	evRX                        // a line the firmware read
)

type event struct {
	kind  eventKind
	pin   int
	level int    // evOut: 0..255 as written (before active-low)
	text  string // evMode: the mode; evRX: the line
	at    time.Time
}

// startBoard runs argv as a board with the given pin layout, stopped at
// clean-up.
func startBoard(t *testing.T, l layout, env []string, argv ...string) *board {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	if err := makeRaw(slave); err != nil {
		t.Fatalf("raw mode on %s: %v", slave.Name(), err)
	}
	pinsR, pinsW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &board{
		t: t, layout: l, slave: slave, pins: pinsW, stderr: &syncBuffer{},
		changed: make(chan struct{}), exited: make(chan struct{}),
	}
	b.cmd = exec.Command(argv[0], argv[1:]...)
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stdin, b.cmd.Stdout, b.cmd.Stderr = master, master, b.stderr
	b.cmd.ExtraFiles = []*os.File{pinsR, evW} // fd 3, fd 4
	err = b.cmd.Start()
	// The child has its copies; the master must live in the child alone,
	// so that killing it is an unplug.
	_ = master.Close()
	_ = pinsR.Close()
	_ = evW.Close()
	if err != nil {
		_ = slave.Close()
		_ = pinsW.Close()
		_ = evR.Close()
		t.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	go b.readEvents(evR)
	t.Cleanup(func() {
		_ = b.Unplug()
		_ = pinsW.Close()
		_ = slave.Close()
		if t.Failed() && b.stderr.Len() > 0 {
			t.Logf("%s wrote on stderr:\n%s", argv[0], b.stderr.String())
		}
	})
	return b
}

// makeRaw sets a terminal like cfmakeraw: no echo, no line editing, "\n"
// passed as it is.
func makeRaw(f *os.File) error {
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, tio)
}

// readEvents records what the board reports on fd 4 until it exits.
func (b *board) readEvents(r io.ReadCloser) {
	defer close(b.exited)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 8192), 8192)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		e := event{at: time.Now()}
		switch kind {
		case "RX":
			e.kind, e.text = evRX, unescape(rest)
		case "MODE", "OUT":
			pin, arg, _ := strings.Cut(rest, " ")
			p, err := strconv.Atoi(pin)
			if err != nil {
				continue
			}
			e.pin = p
			if kind == "MODE" {
				e.kind, e.text = evMode, arg
			} else if e.level, err = strconv.Atoi(arg); err == nil {
				e.kind = evOut
			}
		}
		if e.kind == 0 {
			continue
		}
		b.mu.Lock()
		b.events = append(b.events, e)
		close(b.changed)
		b.changed = make(chan struct{})
		b.mu.Unlock()
	}
}

// unescape undoes the shims' \xNN escapes.
func unescape(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				out = append(out, byte(v))
				i += 3
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Path is the host's end of the board's serial port.
func (b *board) Path() string { return b.slave.Name() }

func (b *board) buttonPin(n int) (int, error) {
	if n < 1 || n > len(b.layout.buttons) {
		return 0, fmt.Errorf("no button %d: the board has buttons 1..%d", n, len(b.layout.buttons))
	}
	return b.layout.buttons[n-1], nil
}

// setPin drives an input pin to level 0 or 1.
func (b *board) setPin(pin, level int) error {
	if _, err := fmt.Fprintf(b.pins, "PIN %d %d\n", pin, level); err != nil {
		return fmt.Errorf("set pin %d: %w", pin, err)
	}
	return nil
}

// Down pulls button n's pin to ground, as pressing it does.
func (b *board) Down(n int) error {
	pin, err := b.buttonPin(n)
	if err != nil {
		return err
	}
	return b.setPin(pin, 0)
}

// Up lets button n's pin go back up.
func (b *board) Up(n int) error {
	pin, err := b.buttonPin(n)
	if err != nil {
		return err
	}
	return b.setPin(pin, 1)
}

// Press holds button n down for pressHold and lets it go.
func (b *board) Press(n int) error {
	if err := b.Down(n); err != nil {
		return err
	}
	time.Sleep(pressHold)
	return b.Up(n)
}

// Unplug kills the firmware process and waits for it.
func (b *board) Unplug() error {
	b.unplug.Do(func() {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
		<-b.exited
	})
	return nil
}

// snapshot returns the events so far and a channel closed when more come.
func (b *board) snapshot() ([]event, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.events, b.changed
}

// wait waits for a new event, the process's end or ctx.
func (b *board) wait(ctx context.Context, changed <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-b.exited:
		return errors.New("the firmware process has ended")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NextLED returns the next LED command the firmware read for an LED it has,
// once its pins show it: the colour's channels lit and the others dark
// (for PULSE, at the bright start of its fade), or all dark for OFF.
func (b *board) NextLED(ctx context.Context) (int, device.LED, error) {
	for {
		events, changed := b.snapshot()
		for ; b.rxNext < len(events); b.rxNext++ {
			e := events[b.rxNext]
			if e.kind != evRX {
				continue
			}
			c, err := serial.ParseCommand([]byte(e.text))
			if err != nil || c.Kind != serial.CommandLED || c.Button > len(b.layout.leds) {
				continue
			}
			b.rxNext++
			if err := b.waitShown(ctx, b.rxNext, c.Button, c.LED); err != nil {
				return 0, device.LED{}, fmt.Errorf("the firmware read %q but its pins never showed it: %w", e.text, err)
			}
			return c.Button, c.LED, nil
		}
		if err := b.wait(ctx, changed); err != nil {
			return 0, device.LED{}, err
		}
	}
}

// nextLEDMark is NextLED for the board's own tests: it returns the index
// of the first event after the firmware read the command, so that what
// follows is what the command did.
func (b *board) nextLEDMark(ctx context.Context) (int, error) {
	_, _, err := b.NextLED(ctx)
	return b.rxNext, err
}

// levelsAt replays the OUT events before index i: each pin's level as written.
func levelsAt(events []event, i int) map[int]int {
	lv := map[int]int{}
	for _, e := range events[:i] {
		if e.kind == evOut {
			lv[e.pin] = e.level
		}
	}
	return lv
}

// lit is how bright pin p of the layout is, 0..255, from its written level.
func (l layout) lit(lv map[int]int, p int) int {
	level, ok := lv[p]
	if !ok {
		return 0 // never written: setup leaves it dark or never set it
	}
	if l.activeLow {
		return 255 - level
	}
	return level
}

// channels says which of an LED's red, green and blue are on for colour c.
func (l layout) channels(c device.Color) [3]bool {
	if l.rgb {
		return map[device.Color][3]bool{
			device.Red: {true, false, false}, device.Green: {false, true, false},
			device.Yellow: {true, true, false}, device.Blue: {false, false, true},
			device.White: {true, true, true},
		}[c]
	}
	// A bi-colour LED shows the nearest it has: blue as green, white as yellow.
	return map[device.Color][3]bool{
		device.Red: {true, false, false}, device.Green: {false, true, false},
		device.Yellow: {true, true, false}, device.Blue: {false, true, false},
		device.White: {true, true, false},
	}[c]
}

// shows reports whether button n's LED pins show led at levels lv.
func (l layout) shows(lv map[int]int, n int, led device.LED) bool {
	want := [3]bool{}
	if led.Mode != device.LEDOff {
		want = l.channels(led.Color)
	}
	for i, p := range l.leds[n-1] {
		if p == noPin {
			continue
		}
		if on := l.lit(lv, p) > 0; on != want[i] {
			return false
		}
	}
	return true
}

// waitShown waits until, at some event from index i on, button n's LED pins
// show led.
func (b *board) waitShown(ctx context.Context, i, n int, led device.LED) error {
	events, changed := b.snapshot()
	lv := levelsAt(events, i)
	for {
		if b.layout.shows(lv, n, led) {
			return nil
		}
		for ; i < len(events); i++ {
			if e := events[i]; e.kind == evOut {
				lv[e.pin] = e.level
				if b.layout.shows(lv, n, led) {
					return nil
				}
			}
		}
		if err := b.wait(ctx, changed); err != nil {
			return err
		}
		events, changed = b.snapshot()
	}
}

// outs returns the OUT events for pin p from index i on.
func (b *board) outs(i, p int) []event {
	events, _ := b.snapshot()
	var out []event
	for _, e := range events[min(i, len(events)):] {
		if e.kind == evOut && e.pin == p {
			out = append(out, e)
		}
	}
	return out
}

// mark is the index of the next event the test has seen, for outs. Events
// the firmware wrote just before may still be on their way.
func (b *board) mark() int {
	events, _ := b.snapshot()
	return len(events)
}

// syncBuffer is a bytes.Buffer safe for the process's stderr copier and
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// host is the host's end of a board's port, opened as a plain file.
type host struct {
	t *testing.T
	f *os.File
	r *bufio.Reader
}

func openHost(t *testing.T, b *board) *host {
	t.Helper()
	f, err := os.OpenFile(b.Path(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", b.Path(), err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &host{t: t, f: f, r: bufio.NewReader(f)}
}

func (h *host) send(s string) {
	h.t.Helper()
	if _, err := h.f.WriteString(s); err != nil {
		h.t.Fatalf("send %q: %v", s, err)
	}
}

// line reads one line without its "\n", waiting at most d.
func (h *host) line(d time.Duration) (string, error) {
	if err := h.f.SetReadDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	l, err := h.r.ReadString('\n')
	return strings.TrimSuffix(l, "\n"), err
}

// lineTimeout bounds a wait for a line in the firmware's own tests: a
// Python board can take a second to start on a busy machine.
const lineTimeout = 5 * time.Second

// mustLine reads one line, failing the test after lineTimeout.
func (h *host) mustLine() string {
	h.t.Helper()
	l, err := h.line(lineTimeout)
	if err != nil {
		h.t.Fatalf("read a line from the board: %v (got %q)", err, l)
	}
	return l
}

// hello asks for the board's identity, skipping its boot HELLO.
func (h *host) hello() serial.Hello {
	h.t.Helper()
	h.send("HELLO?\nPING hello\n")
	var last string
	for {
		l := h.mustLine()
		if l == "PONG hello" {
			break
		}
		last = l
	}
	m, err := serial.ParseLine([]byte(last))
	if err != nil || m.Kind != serial.KindHello {
		h.t.Fatalf("answer to HELLO? = %q (%v); want a HELLO line", last, err)
	}
	return m.Hello
}

// expectQuiet fails the test if the board sends a line within d.
func (h *host) expectQuiet(d time.Duration, after string) {
	h.t.Helper()
	if l, err := h.line(d); !errors.Is(err, os.ErrDeadlineExceeded) {
		h.t.Errorf("after %s the board sent %q (%v); want nothing for %v", after, l, err, d)
	}
}

// firmware is one build of the reference firmware, with its pin layout.
type firmware struct {
	name   string
	layout layout
	argv   []string
	env    []string
}

func (fw firmware) start(t *testing.T, env ...string) *board {
	t.Helper()
	return startBoard(t, fw.layout, append(append([]string(nil), fw.env...), env...), fw.argv...)
}

// testProtocol runs the BH1 suite that the simulator also passes.
func testProtocol(t *testing.T, fw firmware) {
	bh1test.Run(t, bh1test.Harness{Open: func(t *testing.T) bh1test.Board { return fw.start(t) }})
}

// testDriver runs the serial driver's conformance suite with the firmware
// at the other end of the port.
func testDriver(t *testing.T, fw firmware) {
	devicetest.Run(t, devicetest.Harness{Open: func(t *testing.T) (device.Device, devicetest.Board) {
		b := fw.start(t)
		dev, err := serial.NewDriver(nil).OpenPath(t.Context(), b.Path())
		if err != nil {
			t.Fatalf("open %s with the serial driver: %v", b.Path(), err)
		}
		return dev, b
	}})
}
