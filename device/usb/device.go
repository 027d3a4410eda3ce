package usb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

var (
	_ device.Device    = (*Device)(nil)
	_ device.Device    = (*LEDDevice)(nil)
	_ device.LEDSetter = (*LEDDevice)(nil)
)

// transport is what a Device needs of the bus: gousb in production, a fake
// in the protocol tests. Errors wrap device.ErrGone once the device is
// unplugged.
type transport interface {
	// control sends r and, for an IN request, fills r.data. It is bounded
	// by the transport's own timeout as well as ctx.
	control(ctx context.Context, r request) (int, error)
	// readInterrupt reads one report from the interrupt IN endpoint.
	readInterrupt(ctx context.Context, buf []byte) (int, error)
	// writeInterrupt sends one report on the interrupt OUT endpoint.
	writeInterrupt(ctx context.Context, buf []byte) (int, error)
	// close releases the device; it waits for calls in progress, which
	// are bounded by the transport's timeout.
	close() error
}

// Poll intervals. A HID button reports every 10 ms at best (the usual
// bInterval), so polling faster would only load the bus.
const (
	buttonPoll = 10 * time.Millisecond
	// lightPoll is how often an LED-only device is asked for its status,
	// only to notice that it was unplugged.
	lightPoll = 250 * time.Millisecond
	// statusTimeout bounds the wait for the Dream Cheeky's status report.
	statusTimeout = 200 * time.Millisecond
	// writeTimeout bounds an LED write sent by the driver's own timers.
	writeTimeout = time.Second
	// maxFailures is how many polls in a row may fail (not with ErrGone)
	// before Run gives up on the device.
	maxFailures = 10
)

// errClosed is returned by Run and SetLED after Close.
var errClosed = fmt.Errorf("device closed: %w", device.ErrGone)

// Device is an open USB button or light. Its methods are safe for
// concurrent use; Run is meant for one goroutine at a time. A device with
// LEDs is opened as an LEDDevice, which adds SetLED.
type Device struct {
	info   device.Info
	kind   kind
	t      transport
	logger *slog.Logger

	running atomic.Bool
	gone    atomic.Bool
	done    chan struct{} // closed by Close
	once    sync.Once

	mu      sync.Mutex    // serialises LED writes
	stopLED chan struct{} // under mu: closed to end the current LED animation
	anim    sync.WaitGroup
}

func newDevice(info device.Info, k kind, t transport, logger *slog.Logger) *Device {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Device{
		info:   info,
		kind:   k,
		t:      t,
		logger: logger.With("driver", DriverName, "id", info.ID),
		done:   make(chan struct{}),
	}
}

// Info returns what the device is. It does not change while it is open.
func (d *Device) Info() device.Info {
	info := d.info
	info.Colors = slices.Clone(info.Colors)
	return info
}

// Run polls the device until ctx is done or Close is called (returning nil)
// or the device is unplugged (returning an error wrapping device.ErrGone),
// calling edge from this goroutine for every button edge:
//
//   - Delcom: reads its ports (feature report 100) every 10 ms; the switch
//     is pin P0.0, low while pressed.
//   - Dream Cheeky: sends its status query every 10 ms and reads the
//     answer from the interrupt endpoint; lid changes are logged.
//   - blink(1), Luxafor: asks for the device status every 250 ms, only to
//     notice an unplug.
//
// A button held down when Run starts gives a down edge at once.
func (d *Device) Run(ctx context.Context, edge func(device.Edge)) error {
	if d.isClosed() {
		return fmt.Errorf("run %s: %w", d.info.Name(), errClosed)
	}
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run %s: already running", d.info.Name())
	}
	defer d.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // exits when Run returns or Close is called
		select {
		case <-d.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	switch d.kind {
	case kindDelcom:
		down := false
		return d.poll(ctx, buttonPoll, func(ctx context.Context) error {
			r := getFeature(delcomReadPorts, 8)
			if _, err := d.t.control(ctx, r); err != nil {
				return fmt.Errorf("read ports: %w", err)
			}
			pressed, err := delcomPressed(r.data)
			if err == nil && pressed != down {
				down = pressed
				edge(device.Edge{Button: 1, Down: down, Time: time.Now()})
			}
			return err
		})
	case kindDreamCheeky:
		var last dreamCheekyStatus // up at first
		first := true
		return d.poll(ctx, buttonPoll, func(ctx context.Context) error {
			s, err := d.dreamCheekyStatus(ctx)
			if err != nil {
				return err
			}
			if s.Pressed != last.Pressed {
				edge(device.Edge{Button: 1, Down: s.Pressed, Time: time.Now()})
			}
			if first || s.LidOpen != last.LidOpen {
				d.logger.Info("big red button lid", "open", s.LidOpen)
			}
			last, first = s, false
			return nil
		})
	}
	return d.poll(ctx, lightPoll, func(ctx context.Context) error {
		_, err := d.t.control(ctx, getStatus())
		return err
	})
}

// dreamCheekyStatus asks the Big Red Button for its status and reads it.
func (d *Device) dreamCheekyStatus(ctx context.Context) (dreamCheekyStatus, error) {
	if _, err := d.t.control(ctx, dreamCheekyQuery()); err != nil {
		return dreamCheekyStatus{}, fmt.Errorf("status query: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	buf := make([]byte, 8)
	n, err := d.t.readInterrupt(rctx, buf)
	if err != nil {
		return dreamCheekyStatus{}, fmt.Errorf("read status: %w", err)
	}
	return parseDreamCheeky(buf[:n])
}

// poll calls step every interval until ctx is done, the device is gone,
// or maxFailures steps in a row failed.
func (d *Device) poll(ctx context.Context, every time.Duration, step func(context.Context) error) error {
	t := time.NewTicker(every)
	defer t.Stop()
	failures := 0
	for {
		err := step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err == nil:
			failures = 0
		case errors.Is(err, device.ErrGone):
			d.gone.Store(true)
			return fmt.Errorf("%s: %w", d.info.Name(), err)
		default:
			failures++
			if failures == 1 {
				d.logger.Warn("device did not answer", "err", err)
			}
			if failures >= maxFailures {
				return fmt.Errorf("%s: %d requests in a row failed, last: %w", d.info.Name(), failures, err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// LEDDevice is an open device with LEDs: the Delcom indicator, the
// blink(1) and the Luxafor Flag.
type LEDDevice struct {
	*Device
}

// SetLED shows led on the device's LED, which belongs to button 1 (LED-only
// devices also call it button 1). See planLED for how each model shows each
// mode. A flash ends, and a pulse goes on, in the driver's own goroutine,
// which the next SetLED or Close stops. On an unplugged device it returns
// an error wrapping device.ErrGone without waiting.
func (l *LEDDevice) SetLED(ctx context.Context, button int, led device.LED) error {
	return l.setLED(ctx, button, led)
}

func (d *Device) setLED(ctx context.Context, button int, led device.LED) error {
	if button != 1 {
		return fmt.Errorf("set LED of %s: no button %d: its LED is button 1", d.info.Name(), button)
	}
	p, err := planLED(d.kind, led)
	if err != nil {
		return fmt.Errorf("set LED of %s: %w", d.info.Name(), err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.isClosed() {
		return fmt.Errorf("set LED of %s: %w", d.info.Name(), errClosed)
	}
	if d.gone.Load() {
		return fmt.Errorf("set LED of %s: %w", d.info.Name(), device.ErrGone)
	}
	d.stopAnimation()
	if err := d.send(ctx, p.now); err != nil {
		return fmt.Errorf("set LED of %s: %w", d.info.Name(), err)
	}
	if len(p.then) > 0 || p.half > 0 {
		stop := make(chan struct{})
		d.stopLED = stop
		d.anim.Add(1)
		go func() { // exits at the end of a flash, on stop, or when a write fails
			defer d.anim.Done()
			d.animate(p, stop)
		}()
	}
	return nil
}

// stopAnimation ends the current flash or pulse; d.mu is held.
func (d *Device) stopAnimation() {
	if d.stopLED != nil {
		close(d.stopLED)
		d.stopLED = nil
	}
}

// animate sends p's later writes until stop is closed.
func (d *Device) animate(p ledPlan, stop <-chan struct{}) {
	next := func(after time.Duration, ws []write) bool {
		t := time.NewTimer(after)
		defer t.Stop()
		select {
		case <-stop:
			return false
		case <-t.C:
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		select {
		case <-stop: // a newer command won the lock first
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		if err := d.send(ctx, ws); err != nil { // send marks a gone device
			d.logger.Debug("LED animation stopped", "err", err)
			return false
		}
		return true
	}
	if len(p.then) > 0 {
		next(p.after, p.then)
		return
	}
	for i := 0; next(p.half, p.every[i%2]); i++ {
	}
}

// send writes ws in order; d.mu is held.
func (d *Device) send(ctx context.Context, ws []write) error {
	for _, w := range ws {
		var err error
		if w.intr != nil {
			_, err = d.t.writeInterrupt(ctx, w.intr)
		} else {
			_, err = d.t.control(ctx, w.req)
		}
		if err != nil {
			if errors.Is(err, device.ErrGone) {
				d.gone.Store(true)
			}
			return fmt.Errorf("%s: %w", w, err)
		}
	}
	return nil
}

func (d *Device) isClosed() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Close stops any LED animation, releases a blocked Run and releases the
// device. It is safe to call twice; the second call does nothing.
func (d *Device) Close() error {
	var err error
	d.once.Do(func() {
		close(d.done)
		d.mu.Lock()
		d.stopAnimation()
		d.mu.Unlock()
		d.anim.Wait()
		if cerr := d.t.close(); cerr != nil {
			err = fmt.Errorf("close %s: %w", d.info.Name(), cerr)
		}
	})
	return err
}
