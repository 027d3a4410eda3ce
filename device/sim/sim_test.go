package sim_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/serial/bh1test"
	"github.com/buttonhook/buttonhook/device/sim"
)

// newButton starts a simulated board, closed at clean-up.
func newButton(t *testing.T, opts sim.Options) *sim.Button {
	t.Helper()
	b, err := sim.New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// host is the far end of the pseudo-terminal, opened as a plain file: the
// simulator's own terminal settings are what count.
type host struct {
	t *testing.T
	f *os.File
	r *bufio.Reader
}

func openHost(t *testing.T, b *sim.Button) *host {
	t.Helper()
	f, err := os.OpenFile(b.Path(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", b.Path(), err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return &host{t: t, f: f, r: bufio.NewReader(f)}
}

func (h *host) send(line string) {
	h.t.Helper()
	if _, err := h.f.WriteString(line); err != nil {
		h.t.Fatalf("host write %q: %v", line, err)
	}
}

// line reads one line, with its "\n", failing the test after a second.
func (h *host) line() string {
	h.t.Helper()
	if err := h.f.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		h.t.Fatalf("SetReadDeadline: %v", err)
	}
	l, err := h.r.ReadString('\n')
	if err != nil {
		h.t.Fatalf("host read: %v (got %q)", err, l)
	}
	return l
}

// command waits for the next line on Commands.
func command(t *testing.T, b *sim.Button) string {
	t.Helper()
	select {
	case l, ok := <-b.Commands():
		if !ok {
			t.Fatalf("Commands closed")
		}
		return l
	case <-time.After(time.Second):
		t.Fatalf("no command within 1s")
		return ""
	}
}

func TestDefaults(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := b.Hello()
	if h.Model != "sim" || h.Firmware != "1.0.0" || h.Buttons != 1 {
		t.Errorf("Hello() = %+v; want model sim, fw 1.0.0, 1 button", h)
	}
	if !regexp.MustCompile(`^SIM-[0-9A-F]{4}$`).MatchString(h.Serial) {
		t.Errorf("default serial %q; want SIM-XXXX", h.Serial)
	}
	if want := []device.Color{device.Red, device.Green, device.Yellow}; !reflect.DeepEqual(h.Colors, want) {
		t.Errorf("default colours %v; want %v", h.Colors, want)
	}
	if !strings.HasPrefix(b.Path(), "/dev/") {
		t.Errorf("Path() = %q; want a device path", b.Path())
	}
}

func TestBadOptions(t *testing.T) {
	tests := []struct {
		opts sim.Options
		want string
	}{
		{sim.Options{Model: "two words"}, "model"},
		{sim.Options{Serial: "caf\u00e9"}, "serial"},
		{sim.Options{Firmware: "1\n"}, "firmware"},
		{sim.Options{Buttons: 65}, "65 buttons"},
		{sim.Options{Buttons: -1}, "-1 buttons"},
		{sim.Options{Colors: []device.Color{device.Red, "purple"}}, "purple"},
		{sim.Options{Model: strings.Repeat("m", 120)}, "longer than 128"},
	}
	for _, tt := range tests {
		b, err := sim.New(tt.opts)
		if err == nil {
			_ = b.Close()
			t.Errorf("New(%+v) = nil error; want one about %q", tt.opts, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %q; want it to say %q", tt.opts, err, tt.want)
		}
	}
}

func TestAnswers(t *testing.T) {
	b := newButton(t, sim.Options{Model: "desk", Serial: "D1", Buttons: 3, Colors: []device.Color{}})
	h := openHost(t, b)
	tests := []struct{ send, want string }{
		{"HELLO?\n", "HELLO BH1 model=desk fw=1.0.0 sn=D1 buttons=3 leds=none\n"},
		{"hello?\r\n", "HELLO BH1 model=desk fw=1.0.0 sn=D1 buttons=3 leds=none\n"},
		{"PING abc\n", "PONG abc\n"},
		{"PING\n", "PONG\n"},
	}
	var hello string
	for _, tt := range tests {
		h.send(tt.send)
		got := h.line()
		if got != tt.want {
			t.Errorf("after %q the host read %q; want %q", tt.send, got, tt.want)
		}
		if hello == "" {
			hello = got
		}
	}
	m, err := serial.ParseLine([]byte(hello))
	if err != nil || !reflect.DeepEqual(m.Hello, b.Hello()) {
		t.Errorf("the HELLO line parses to %+v, %v; want Hello() = %+v", m.Hello, err, b.Hello())
	}
}

func TestEdges(t *testing.T) {
	b := newButton(t, sim.Options{Buttons: 2})
	h := openHost(t, b)
	steps := []struct {
		do   func() error
		want []string
	}{
		{func() error { return b.Down(2) }, []string{"D 2\n"}},
		{func() error { return b.Up(2) }, []string{"U 2\n"}},
		{func() error { return b.Press(1) }, []string{"D 1\n", "U 1\n"}},
		{func() error { return b.Bounce(2, true, false, true) }, []string{"D 2\n", "U 2\n", "D 2\n"}},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, want := range s.want {
			if got := h.line(); got != want {
				t.Errorf("step %d: host read %q; want %q (exact bytes: raw mode)", i, got, want)
			}
		}
	}
	for _, n := range []int{0, 3, -1} {
		if err := b.Down(n); err == nil {
			t.Errorf("Down(%d) on a 2-button board = nil; want an error", n)
		}
		if err := b.Bounce(n, true); err == nil {
			t.Errorf("Bounce(%d) on a 2-button board = nil; want an error", n)
		}
	}
}

func TestPressHoldsDown(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := openHost(t, b)
	start := time.Now()
	if err := b.PressFor(1, 80*time.Millisecond); err != nil {
		t.Fatalf("PressFor: %v", err)
	}
	if took := time.Since(start); took < 80*time.Millisecond {
		t.Errorf("PressFor(1, 80ms) returned after %v; want it to return when the button is up", took)
	}
	if d, u := h.line(), h.line(); d != "D 1\n" || u != "U 1\n" {
		t.Errorf("host read %q, %q; want D 1, U 1", d, u)
	}
}

// TestNoEcho checks the terminal is raw: what the board sends does not come
// back to it as host commands, and "\n" stays "\n".
func TestNoEcho(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := openHost(t, b)
	if err := b.Down(1); err != nil {
		t.Fatal(err)
	}
	h.send("PING z\n")
	if got := command(t, b); got != "PING z" {
		t.Errorf("first command = %q; want %q (an echo would show D 1 first)", got, "PING z")
	}
	// D 1 was read exactly, then PONG.
	if got := h.line() + h.line(); got != "D 1\nPONG z\n" {
		t.Errorf("host read %q; want %q", got, "D 1\nPONG z\n")
	}
}

func TestCommands(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	b := newButton(t, sim.Options{OnCommand: func(l string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, l)
	}})
	h := openHost(t, b)
	lines := []string{"LED 1 PULSE yellow 1000", "nonsense here", "LED 1 FLASH green 1500", "LED 9 ON red", "PING end"}
	for _, l := range lines {
		h.send(l + "\r\n")
	}
	h.send(strings.Repeat("x", 500) + "\n") // over-long: counted, not delivered
	h.send("PING last\n")
	if got := h.line() + h.line(); got != "PONG end\nPONG last\n" {
		t.Fatalf("host read %q; want the two PONGs", got)
	}
	want := append(lines, "PING last")
	var got []string
	for range want {
		got = append(got, command(t, b))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commands gave %q; want %q", got, want)
	}
	mu.Lock()
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("OnCommand saw %q; want %q", seen, want)
	}
	mu.Unlock()
	if got, want := b.LED(1), device.LEDSuccess; got != want {
		t.Errorf("LED(1) = %+v; want %+v", got, want)
	}
	if got, want := b.LED(9), (device.LED{Mode: device.LEDOn, Color: device.Red}); got != want {
		t.Errorf("LED(9) = %+v; want %+v", got, want)
	}
	if got := b.Malformed(); got != 2 {
		t.Errorf("Malformed() = %d; want 2 (nonsense and the over-long line)", got)
	}
}

// TestCommandsNotRead checks that a board nobody reads Commands from keeps
// answering, and counts what it drops.
func TestCommandsNotRead(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := openHost(t, b)
	const extra = 10
	for range sim.CommandBuffer + extra {
		h.send("LED 1 OFF\n")
	}
	// The board answers a line before it delivers it: once PONG 2 is
	// back, everything up to PING 1 has been delivered or dropped.
	h.send("PING 1\nPING 2\n")
	if got := h.line() + h.line(); got != "PONG 1\nPONG 2\n" {
		t.Fatalf("host read %q; want PONG 1, PONG 2", got)
	}
	if got := b.Dropped(); got != extra+1 && got != extra+2 {
		t.Errorf("Dropped() = %d; want %d or %d", got, extra+1, extra+2)
	}
	if got := len(b.Commands()); got != sim.CommandBuffer {
		t.Errorf("Commands holds %d lines; want %d", got, sim.CommandBuffer)
	}
}

func TestUnplug(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := openHost(t, b)
	if err := b.Unplug(); err != nil {
		t.Fatalf("Unplug: %v", err)
	}
	if err := b.Unplug(); err != nil {
		t.Errorf("second Unplug: %v", err)
	}
	// The host sees the device vanish.
	if err := h.f.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := h.f.Read(make([]byte, 16)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("host read after Unplug = %d, %v; want the device gone (EIO or EOF)", n, err)
	}
	if _, ok := <-b.Commands(); ok {
		t.Errorf("Commands still open after Unplug")
	}
	for name, f := range map[string]func() error{
		"Down":    func() error { return b.Down(1) },
		"Up":      func() error { return b.Up(1) },
		"Press":   func() error { return b.Press(1) },
		"SendRaw": func() error { return b.SendRaw([]byte("D 1\n")) },
	} {
		if err := f(); !errors.Is(err, sim.ErrUnplugged) {
			t.Errorf("%s after Unplug = %v; want ErrUnplugged", name, err)
		}
	}
}

func TestUnplugDuringPress(t *testing.T) {
	b := newButton(t, sim.Options{})
	h := openHost(t, b)
	errc := make(chan error, 1)
	go func() { errc <- b.PressFor(1, time.Hour) }()
	if got := h.line(); got != "D 1\n" {
		t.Fatalf("host read %q; want D 1", got)
	}
	if err := b.Unplug(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, sim.ErrUnplugged) {
			t.Errorf("PressFor cut short by Unplug = %v; want ErrUnplugged", err)
		}
	case <-time.After(time.Second):
		t.Fatal("PressFor still holding 1s after Unplug")
	}
}

// TestHostNotReading checks that writes give up when nobody reads the
// terminal, instead of blocking forever.
func TestHostNotReading(t *testing.T) {
	b := newButton(t, sim.Options{})
	chunk := []byte(strings.Repeat("U 1\n", 256))
	start := time.Now()
	var err error
	for i := 0; err == nil && i < 10000; i++ {
		err = b.SendRaw(chunk)
	}
	if err == nil || errors.Is(err, sim.ErrUnplugged) {
		t.Fatalf("writing %d KB nobody reads = %v; want a timeout", 10000*len(chunk)/1024, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the write gave up after %v; want about 1s", took)
	}
}

func TestDo(t *testing.T) {
	b := newButton(t, sim.Options{Buttons: 2})
	h := openHost(t, b)
	tests := []struct {
		cmd      string
		wantRead []string
		wantErr  string
		wantQuit bool
	}{
		{cmd: "press", wantRead: []string{"D 1\n", "U 1\n"}},
		{cmd: "  PRESS 2 ", wantRead: []string{"D 2\n", "U 2\n"}},
		{cmd: "down", wantRead: []string{"D 1\n"}},
		{cmd: "up 1", wantRead: []string{"U 1\n"}},
		{cmd: "down 2", wantRead: []string{"D 2\n"}},
		{cmd: "up 2", wantRead: []string{"U 2\n"}},
		{cmd: ""},
		{cmd: "press 3", wantErr: "no button 3: this board has buttons 1..2"},
		{cmd: "press 0", wantErr: "no button 0"},
		{cmd: "press x", wantErr: `"x" is not a button number`},
		{cmd: "press 1 2", wantErr: "takes one button number"},
		{cmd: "jump", wantErr: `unknown command "jump": want press [N], down [N], up [N], unplug or quit`},
		{cmd: "quit now", wantErr: "takes no arguments"},
		{cmd: "quit", wantQuit: true},
		{cmd: "QUIT", wantQuit: true},
	}
	for _, tt := range tests {
		quit, err := b.Do(tt.cmd)
		if quit != tt.wantQuit {
			t.Errorf("Do(%q) quit = %v; want %v", tt.cmd, quit, tt.wantQuit)
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Do(%q): %v", tt.cmd, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Do(%q) = %v; want an error saying %q", tt.cmd, err, tt.wantErr)
		}
		for _, want := range tt.wantRead {
			if got := h.line(); got != want {
				t.Errorf("Do(%q): host read %q; want %q", tt.cmd, got, want)
			}
		}
	}
	if quit, err := b.Do("unplug"); quit || err != nil {
		t.Errorf("Do(unplug) = %v, %v; want false, nil", quit, err)
	}
	if _, err := b.Do("press"); !errors.Is(err, sim.ErrUnplugged) {
		t.Errorf("Do(press) after unplug = %v; want ErrUnplugged", err)
	}
}

// recorder is a simulated board whose LED commands bh1test can follow.
type recorder struct{ *sim.Button }

// NextLED returns the next LED command from Commands, skipping other lines
// (malformed ones included: the board did not act on them).
func (r recorder) NextLED(ctx context.Context) (int, device.LED, error) {
	for {
		select {
		case line, ok := <-r.Commands():
			if !ok {
				return 0, device.LED{}, sim.ErrUnplugged
			}
			if c, err := serial.ParseCommand([]byte(line)); err == nil && c.Kind == serial.CommandLED {
				return c.Button, c.LED, nil
			}
		case <-ctx.Done():
			return 0, device.LED{}, ctx.Err()
		}
	}
}

// TestBH1Conformance runs the protocol suite that the reference firmware
// also passes (device/firmware), so that the simulator and the firmware
// speak the same BH1.
func TestBH1Conformance(t *testing.T) {
	for _, buttons := range []int{1, 3} {
		t.Run(fmt.Sprintf("%dButtons", buttons), func(t *testing.T) {
			bh1test.Run(t, bh1test.Harness{Open: func(t *testing.T) bh1test.Board {
				return recorder{newButton(t, sim.Options{Buttons: buttons})}
			}})
		})
	}
}
