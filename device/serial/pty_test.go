package serial_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/devicetest"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/creack/pty"
)

// These tests run the driver on real pseudo-terminals, with the simulator
// (device/sim) at the other end.

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newSim starts a simulated board, closed at clean-up.
func newSim(t *testing.T, opts sim.Options) *sim.Button {
	t.Helper()
	b, err := sim.New(opts)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// openSim opens the driver on a new simulated board.
func openSim(t *testing.T, opts sim.Options) (*serial.Device, *sim.Button) {
	t.Helper()
	b := newSim(t, opts)
	d := serial.NewDriver(testLogger(t))
	d.SetPorts([]string{b.Path()})
	return openOnly(t, d).(*serial.Device), b
}

// openOnly opens the one port drv finds, as the Manager does; the device
// is closed at clean-up.
func openOnly(t testing.TB, drv device.Driver) device.Device {
	t.Helper()
	cs, err := drv.Scan(context.Background())
	if err != nil || len(cs) != 1 {
		t.Fatalf("Scan() = %v, %v; want the one simulated port", cs, err)
	}
	dev, err := drv.Open(context.Background(), cs[0])
	if err != nil {
		t.Fatalf("Open(%+v): %v", cs[0], err)
	}
	t.Cleanup(func() { _ = dev.Close() })
	return dev
}

// runEdges runs dev until the test ends and returns its edges.
func runEdges(t testing.TB, dev device.Device) <-chan device.Edge {
	edges := make(chan device.Edge, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, func(e device.Edge) { edges <- e }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return edges
}

// wantEdges waits a second at most for each of the edges of button, down
// or up as downs say.
func wantEdges(t testing.TB, edges <-chan device.Edge, button int, downs ...bool) {
	t.Helper()
	for _, down := range downs {
		select {
		case e := <-edges:
			if e.Button != button || e.Down != down {
				t.Errorf("edge %+v; want button %d down=%v", e, button, down)
			}
		case <-time.After(time.Second):
			t.Fatalf("no edge (button %d down=%v) within 1s", button, down)
		}
	}
}

// board is a sim.Button as a devicetest.Board.
type board struct{ *sim.Button }

// NextLED returns the next LED line the simulator got, skipping the others.
func (b board) NextLED(ctx context.Context) (int, device.LED, error) {
	for {
		select {
		case line, ok := <-b.Commands():
			if !ok {
				return 0, device.LED{}, errors.New("simulator unplugged")
			}
			c, err := serial.ParseCommand([]byte(line))
			if err != nil {
				return 0, device.LED{}, err
			}
			if c.Kind == serial.CommandLED {
				return c.Button, c.LED, nil
			}
		case <-ctx.Done():
			return 0, device.LED{}, ctx.Err()
		}
	}
}

func TestConformance(t *testing.T) {
	devicetest.Run(t, devicetest.Harness{
		Open: func(t *testing.T) (device.Device, devicetest.Board) {
			dev, b := openSim(t, sim.Options{})
			return dev, board{b}
		},
	})
}

func TestOpenIdentifies(t *testing.T) {
	dev, b := openSim(t, sim.Options{Model: "desk", Firmware: "2.1", Serial: "D55", Buttons: 3,
		Colors: []device.Color{device.Green, device.Blue}})
	want := device.Info{ID: "serial:D55", Driver: "serial", Path: b.Path(), Model: "desk", Firmware: "2.1",
		Serial: "D55", Buttons: 3, Colors: []device.Color{device.Green, device.Blue}}
	got := dev.Info()
	if got.ID != want.ID || got.Path != want.Path || got.Model != want.Model || got.Firmware != want.Firmware ||
		got.Serial != want.Serial || got.Buttons != want.Buttons || strings.Join(colors(got), ",") != "green,blue" {
		t.Errorf("Info() = %+v; want %+v", got, want)
	}
	if line := <-b.Commands(); line != serial.HelloQuery {
		t.Errorf("the board's first line from the host = %q; want %q", line, serial.HelloQuery)
	}
}

func colors(info device.Info) []string {
	var s []string
	for _, c := range info.Colors {
		s = append(s, string(c))
	}
	return s
}

// TestReopen opens, closes and opens the same board again, as the Manager
// does when a device comes back.
func TestReopen(t *testing.T) {
	b := newSim(t, sim.Options{})
	d := serial.NewDriver(testLogger(t))
	for i := range 3 {
		dev, err := d.OpenPath(t.Context(), b.Path())
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if got, want := dev.Info().ID, "serial:"+b.Hello().Serial; got != want {
			t.Errorf("open #%d: ID %q; want %q", i+1, got, want)
		}
		if err := dev.Close(); err != nil {
			t.Errorf("close #%d: %v", i+1, err)
		}
	}
}

func TestOpenNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyACM9")
	_, err := serial.NewDriver(nil).OpenPath(t.Context(), path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenPath(missing) = %v; want an error wrapping fs.ErrNotExist", err)
	}
	if err != nil && !strings.Contains(err.Error(), path+" not found") {
		t.Errorf("OpenPath(missing) = %q; want it to say %q", err, path+" not found")
	}
}

func TestOpenNotASerialPort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notatty")
	if err := os.WriteFile(path, []byte("HELLO BH1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := serial.NewDriver(nil).OpenPath(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenPath(regular file) = %v; want an error naming %s", err, path)
	}
}

// silentPTY is a pseudo-terminal with nothing answering at the far end.
// It returns the slave's path and the master.
func silentPTY(t *testing.T) (string, *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("pty.Open: %v", err)
	}
	t.Cleanup(func() {
		_ = slave.Close()
		_ = master.Close()
	})
	return slave.Name(), master
}

func TestOpenNoAnswer(t *testing.T) {
	t.Parallel()
	path, master := silentPTY(t)
	start := time.Now()
	_, err := serial.NewDriver(nil).OpenPath(t.Context(), path)
	waited := time.Since(start)
	if !errors.Is(err, device.ErrNoAnswer) {
		t.Fatalf("OpenPath(silent port) = %v; want an error wrapping device.ErrNoAnswer", err)
	}
	if waited < serial.HelloTimeout || waited > serial.HelloTimeout+time.Second {
		t.Errorf("OpenPath gave up after %v; want about %v", waited, serial.HelloTimeout)
	}
	// The query is waiting in the master: the driver asked.
	buf := make([]byte, 64)
	n, err := master.Read(buf)
	if err != nil || string(buf[:n]) != serial.HelloQuery+"\n" {
		t.Errorf("the port got %q, %v; want %q", buf[:n], err, serial.HelloQuery+"\n")
	}
}

func TestOpenCancelled(t *testing.T) {
	t.Parallel()
	path, _ := silentPTY(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := serial.NewDriver(nil).OpenPath(ctx, path)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("OpenPath with a 200ms context = %v; want context.DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 500*time.Millisecond {
		t.Errorf("OpenPath with a 200ms context took %v", waited)
	}
}

// TestMalformedOverPTY sends bytes that break the protocol down a real
// pseudo-terminal: they are counted, and the next line still gets through.
func TestMalformedOverPTY(t *testing.T) {
	dev, b := openSim(t, sim.Options{Buttons: 2})
	edges := runEdges(t, dev)

	junk := strings.Repeat("L", 1000) + "\n" + "\xff\xfe\n" + "D 99\n" + "ERR cannot\n" + "D 2\r\n"
	if err := b.SendRaw([]byte(junk)); err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	wantEdges(t, edges, 2, true)
	// The lines before D 2 were handled before it.
	if got, want := dev.Stats(), (serial.Stats{Lines: 1 + 5, Malformed: 3, Errors: 1}); got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}
}

// TestUnplugWhileWriting unplugs a board while the host sends LED commands:
// SetLED returns an ErrGone error and does not hang.
func TestUnplugWhileWriting(t *testing.T) {
	dev, b := openSim(t, sim.Options{})
	errc := make(chan error, 1)
	go func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := dev.SetLED(ctx, 1, device.LEDBusy)
			cancel()
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	// Let some commands through, then pull the plug.
	for range 10 {
		if _, ok := <-b.Commands(); !ok {
			t.Fatal("simulator stopped early")
		}
	}
	if err := b.Unplug(); err != nil {
		t.Fatalf("Unplug: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, device.ErrGone) {
			t.Errorf("SetLED after unplug = %v; want an error wrapping device.ErrGone", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("SetLED kept succeeding for 2s after unplug")
	}
}

// TestCancelKeepsPortOpen cancels Run on a real port, as the Manager does
// at shutdown: Run returns at once, without the port being closed, so that
// the LEDs can still be turned off.
func TestCancelKeepsPortOpen(t *testing.T) {
	dev, b := openSim(t, sim.Options{})
	<-b.Commands() // HELLO?
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, func(device.Edge) {}) }()
	time.Sleep(10 * time.Millisecond) // Run is waiting for input
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v; want nil", err)
	}
	if took := time.Since(start); took > 20*time.Millisecond {
		t.Errorf("Run returned %v after cancel; want at once", took)
	}
	if err := dev.SetLED(t.Context(), 1, device.LEDIdle); err != nil {
		t.Fatalf("SetLED after a cancelled Run = %v; want nil", err)
	}
	select {
	case line := <-b.Commands():
		if line != "LED 1 OFF" {
			t.Errorf("the board got %q; want %q", line, "LED 1 OFF")
		}
	case <-time.After(time.Second):
		t.Error("the board got no LED command within 1s of SetLED")
	}
}
