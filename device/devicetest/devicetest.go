// Package devicetest is a conformance suite for device drivers, in the
// manner of testing/fstest: a driver's tests hand Run a Harness that opens
// a device over the driver's real transport, with a real or simulated board
// at the other end, and Run checks that the device behaves as the Manager
// expects.
package devicetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// Timeout bounds every wait in the suite: an edge, an LED command, Run
// returning after an unplug, a cancel or a Close.
const Timeout = time.Second

// Harness connects the suite to one driver.
type Harness struct {
	// Open returns a freshly opened device and its board, with at least
	// one button. It is called once per check; the suite closes the
	// device, and Open registers any other clean-up with t.Cleanup.
	Open func(t *testing.T) (device.Device, Board)
}

// Board is the far end of an open device: the hardware, or its simulation.
type Board interface {
	// Press presses button n and releases it, returning when it is up.
	Press(n int) error
	// NextLED waits until ctx is done for the next LED command the board
	// receives, and returns its button and state. Commands sent before the
	// call and not yet returned by it are returned first.
	NextLED(ctx context.Context) (button int, led device.LED, err error)
	// Unplug makes the board vanish, as pulling its cable does.
	Unplug() error
}

// checks are the conformance checks, each run as a subtest.
var checks = []struct {
	name string
	fn   func(c *checker, h Harness)
}{
	{"Identify", testIdentify},
	{"PressGivesDownThenUp", testPress},
	{"SetLED", testSetLED},
	{"UnplugEndsRun", testUnplug},
	{"CancelEndsRun", testCancel},
	{"CloseEndsRun", testCloseEndsRun},
	{"CloseTwice", testCloseTwice},
}

// Run runs the conformance checks as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			c := runCheck(t, h, ch.fn)
			for _, msg := range c.errs {
				t.Error(msg)
			}
			if c.skipped != "" {
				t.Skip(c.skipped)
			}
		})
	}
}

// checker collects a check's failures instead of reporting them at once, so
// that the suite's own tests can see that a faulty device fails it. The
// testing.T is used for clean-ups only.
type checker struct {
	t       *testing.T
	errs    []string
	skipped string
}

// stop ends a check early (fatalf, skip).
type stop struct{}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *checker) fatalf(format string, args ...any) {
	c.errorf(format, args...)
	panic(stop{})
}

func (c *checker) skip(why string) {
	c.skipped = why
	panic(stop{})
}

// runCheck runs one check and returns what it found.
func runCheck(t *testing.T, h Harness, fn func(c *checker, h Harness)) (c *checker) {
	t.Helper()
	c = &checker{t: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	fn(c, h)
	return c
}

// open opens a device through the harness and closes it at clean-up.
func open(c *checker, h Harness) (device.Device, Board) {
	c.t.Helper()
	dev, board := h.Open(c.t)
	if dev == nil || board == nil {
		c.fatalf("Harness.Open returned device %v, board %v; want both", dev, board)
	}
	c.t.Cleanup(func() { _ = dev.Close() })
	return dev, board
}

// running is a device whose Run is going in its own goroutine.
type running struct {
	edges  chan device.Edge
	done   chan error // Run's result
	cancel context.CancelFunc
}

// start calls Run in a goroutine and makes sure it has returned at clean-up.
func start(c *checker, dev device.Device) *running {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{edges: make(chan device.Edge, 64), done: make(chan error, 1), cancel: cancel}
	go func() {
		r.done <- dev.Run(ctx, func(e device.Edge) {
			select {
			case r.edges <- e:
			default: // the check fails on a missing edge instead of hanging here
			}
		})
	}()
	c.t.Cleanup(func() {
		cancel()
		_ = dev.Close()
		select {
		case <-r.done:
		case <-time.After(Timeout):
			c.t.Errorf("Run did not return within %v of cancel and Close", Timeout)
		}
	})
	return r
}

// wait waits for Run to return.
func (r *running) wait(c *checker, what string) error {
	c.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the clean-up
		return err
	case <-time.After(Timeout):
		c.fatalf("Run did not return within %v of %s", Timeout, what)
		return nil
	}
}

func (r *running) edge(c *checker) device.Edge {
	c.t.Helper()
	select {
	case e := <-r.edges:
		return e
	case err := <-r.done:
		r.done <- err
		c.fatalf("Run returned %v while an edge was awaited", err)
	case <-time.After(Timeout):
		c.fatalf("no edge within %v", Timeout)
	}
	return device.Edge{}
}

func testIdentify(c *checker, h Harness) {
	dev, _ := open(c, h)
	info := dev.Info()
	if info.ID == "" {
		c.errorf("Info().ID is empty; want a stable identity like \"serial:SN\"")
	}
	if info.Driver == "" {
		c.errorf("Info().Driver is empty; want the driver's name")
	}
	if info.Buttons < 1 {
		c.errorf("Info().Buttons = %d; want >= 1", info.Buttons)
	}
	if again := dev.Info(); !reflect.DeepEqual(again, info) {
		c.errorf("Info() changed between calls: %+v, then %+v", info, again)
	}
}

func testPress(c *checker, h Harness) {
	dev, board := open(c, h)
	r := start(c, dev)
	before := time.Now()
	if err := board.Press(1); err != nil {
		c.fatalf("Press(1): %v", err)
	}
	down := r.edge(c)
	up := r.edge(c)
	after := time.Now()
	if got, want := down, (device.Edge{Button: 1, Down: true, Time: down.Time}); got != want {
		c.errorf("first edge = %+v; want %+v", got, want)
	}
	if got, want := up, (device.Edge{Button: 1, Down: false, Time: up.Time}); got != want {
		c.errorf("second edge = %+v; want %+v", got, want)
	}
	if down.Time.Before(before) || up.Time.After(after) || up.Time.Before(down.Time) {
		c.errorf("edge times down %v, up %v; want in order within [%v, %v]", down.Time, up.Time, before, after)
	}
	select {
	case e := <-r.edges:
		c.errorf("extra edge %+v after one press", e)
	default:
	}
}

func testSetLED(c *checker, h Harness) {
	dev, board := open(c, h)
	ls, ok := dev.(device.LEDSetter)
	if !ok {
		c.skip("device has no LEDs (not a device.LEDSetter)")
	}
	start(c, dev)
	for _, led := range []device.LED{device.LEDBusy, device.LEDSuccess, device.LEDFailure, device.LEDIdle} {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		if err := ls.SetLED(ctx, 1, led); err != nil {
			cancel()
			c.fatalf("SetLED(1, %+v): %v", led, err)
		}
		n, got, err := board.NextLED(ctx)
		cancel()
		if err != nil {
			c.fatalf("after SetLED(1, %+v): board got no LED command: %v", led, err)
		}
		if n != 1 || got != led {
			c.errorf("after SetLED(1, %+v): board got button %d, %+v", led, n, got)
		}
	}
}

func testUnplug(c *checker, h Harness) {
	dev, board := open(c, h)
	r := start(c, dev)
	if err := board.Unplug(); err != nil {
		c.fatalf("Unplug: %v", err)
	}
	if err := r.wait(c, "Unplug"); !errors.Is(err, device.ErrGone) {
		c.errorf("Run after Unplug = %v; want an error wrapping device.ErrGone", err)
	}
	if ls, ok := dev.(device.LEDSetter); ok {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := ls.SetLED(ctx, 1, device.LEDBusy); !errors.Is(err, device.ErrGone) {
			c.errorf("SetLED after Unplug = %v; want an error wrapping device.ErrGone", err)
		}
	}
}

// reading waits until Run is surely reading: a press has come through.
func (r *running) reading(c *checker, board Board) {
	c.t.Helper()
	if err := board.Press(1); err != nil {
		c.fatalf("Press(1): %v", err)
	}
	r.edge(c)
	r.edge(c)
}

func testCancel(c *checker, h Harness) {
	dev, board := open(c, h)
	r := start(c, dev)
	r.reading(c, board)
	r.cancel()
	if err := r.wait(c, "cancelling its context"); err != nil {
		c.errorf("Run after cancel = %v; want nil", err)
	}
}

func testCloseEndsRun(c *checker, h Harness) {
	dev, board := open(c, h)
	r := start(c, dev)
	r.reading(c, board)
	if err := dev.Close(); err != nil {
		c.errorf("Close: %v", err)
	}
	r.wait(c, "Close") // any result: the device was asked to stop
}

func testCloseTwice(c *checker, h Harness) {
	dev, _ := open(c, h)
	if err := dev.Close(); err != nil {
		c.errorf("first Close: %v", err)
	}
	if err := dev.Close(); err != nil {
		c.errorf("second Close: %v", err)
	}
	if ls, ok := dev.(device.LEDSetter); ok {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := ls.SetLED(ctx, 1, device.LEDBusy); err == nil {
			c.errorf("SetLED after Close = nil; want an error")
		}
	}
}
