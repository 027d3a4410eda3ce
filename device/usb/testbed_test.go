//go:build umockdev

package usb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/usb"
	"github.com/buttonhook/buttonhook/device/usb/internal/usbtestbed"
)

// This file holds the helpers of the tests that run the driver, through
// unmodified gousb and libusb, against devices emulated in process by
// usbtestbed (run them with `go test -tags umockdev -exec umockdev-wrapper`).

// The emulated devices, one per model, each on its own root port.
var (
	delcomSpec = usbtestbed.Spec{Kind: usbtestbed.Delcom, Bus: 1, Address: 5, Port: 1, FirmwareSerial: 123456}
	cheekySpec = usbtestbed.Spec{Kind: usbtestbed.DreamCheeky, Bus: 1, Address: 7, Port: 2}
	blink1Spec = usbtestbed.Spec{Kind: usbtestbed.Blink1, Bus: 2, Address: 4, Port: 1, Serial: "2000AB12"}
	luxSpec    = usbtestbed.Spec{Kind: usbtestbed.Luxafor, Bus: 3, Address: 2, Port: 3, Serial: "LX0042"}
)

// key is the candidate key the driver gives a spec's device.
func key(s usbtestbed.Spec) string {
	return fmt.Sprintf("usb:%d-%d@%d", s.Bus, s.Port, s.Address)
}

// rig is a testbed with devices and a driver that has not started libusb
// yet (libusb must start after the testbed exists).
type rig struct {
	tb   *usbtestbed.Testbed
	drv  *usb.Driver
	devs map[string]*usbtestbed.Device // by candidate key
}

func newRig(t testing.TB, specs ...usbtestbed.Spec) *rig {
	t.Helper()
	tb, err := usbtestbed.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tb.Close) // after the driver's clean-up: clean-ups run last first
	r := &rig{tb: tb, devs: map[string]*usbtestbed.Device{}}
	for _, s := range specs {
		d, err := tb.Add(s)
		if err != nil {
			t.Fatal(err)
		}
		r.devs[key(s)] = d
	}
	r.drv = usb.NewDriver(nil)
	t.Cleanup(func() {
		if err := r.drv.Close(); err != nil {
			t.Errorf("Driver.Close: %v", err)
		}
	})
	return r
}

// open scans until the spec's device is listed and opens it.
func (r *rig) open(t testing.TB, s usbtestbed.Spec) device.Device {
	t.Helper()
	k := key(s)
	deadline := time.Now().Add(2 * time.Second)
	for {
		cs, err := r.drv.Scan(context.Background())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		if slices.Contains(cs, device.Candidate{Key: k, Driver: usb.DriverName}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Scan did not list %s within 2s: %v", k, cs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	dev, err := r.drv.Open(context.Background(), device.Candidate{Key: k, Driver: usb.DriverName})
	if err != nil {
		t.Fatalf("Open(%s): %v", k, err)
	}
	t.Cleanup(func() { _ = dev.Close() })
	return dev
}

// lights returns dev's LEDs.
func lights(t testing.TB, dev device.Device) device.LEDSetter {
	t.Helper()
	ls, ok := dev.(device.LEDSetter)
	if !ok {
		t.Fatalf("%s is not a device.LEDSetter", dev.Info().Model)
	}
	return ls
}

// running is a device whose Run goes on in its own goroutine.
type running struct {
	edges chan device.Edge
	done  chan error
	stop  context.CancelFunc
}

func run(t testing.TB, dev device.Device) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{edges: make(chan device.Edge, 64), done: make(chan error, 1), stop: cancel}
	go func() { r.done <- dev.Run(ctx, func(e device.Edge) { r.edges <- e }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(2 * time.Second):
			t.Error("Run did not return within 2s of cancel")
		}
	})
	return r
}

func (r *running) edge(t testing.TB) device.Edge {
	t.Helper()
	select {
	case e := <-r.edges:
		return e
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned %v while an edge was awaited", err)
	case <-time.After(2 * time.Second):
		t.Fatal("no edge within 2s")
	}
	return device.Edge{}
}

// board is the far end of a device for devicetest: the emulated device,
// whose LED state is read back from the bytes the host wrote.
type board struct {
	dev    *usbtestbed.Device
	delcom delcomLEDs
}

func (b *board) Press(n int) error {
	if n != 1 {
		return fmt.Errorf("no button %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return b.dev.Press(ctx)
}

func (b *board) Unplug() error {
	b.dev.Unplug()
	return nil
}

func (b *board) NextLED(ctx context.Context) (int, device.LED, error) {
	if b.dev.Spec.Kind != usbtestbed.Delcom {
		return 0, device.LED{}, errors.New("this board has no LEDs")
	}
	for {
		w, err := b.dev.NextWrite(ctx)
		if err != nil {
			return 0, device.LED{}, err
		}
		if led, ok := b.delcom.apply(w); ok {
			return 1, led, nil
		}
	}
}

// delcomLEDs reads what the Delcom indicator shows from the feature
// reports written to it (USB HID Visual Indicator datasheet): port 1 pins
// 0-2 drive green, red and yellow, lit while low; command 20 switches the
// flash clock of pins on and off, commands 21-23 set a pin's high and low
// times in 10 ms ticks. Its LED changes when port 1 is written.
type delcomLEDs struct {
	port1 byte
	clock byte
	duty  [3][2]byte // high, low
	init  bool
}

func (s *delcomLEDs) apply(w usbtestbed.Write) (device.LED, bool) {
	if !s.init {
		s.port1, s.init = 0xff, true
	}
	if w.Interrupt || w.RequestType != 0x21 || w.Request != 0x09 || w.Value != 0x0365 || len(w.Data) != 8 || w.Data[0] != 101 {
		return device.LED{}, false
	}
	lsb, msb := w.Data[2], w.Data[3]
	switch minor := w.Data[1]; {
	case minor == 20:
		s.clock = (s.clock | msb) &^ lsb
		return device.LED{}, false
	case minor >= 21 && minor <= 23:
		s.duty[minor-21] = [2]byte{lsb, msb}
		return device.LED{}, false
	case minor == 12:
		s.port1 = (s.port1 | msb) &^ lsb
	case minor == 2:
		s.port1 = lsb
	default:
		return device.LED{}, false
	}
	colors := []device.Color{device.Green, device.Red, device.Yellow}
	for pin := range 3 {
		bit := byte(1) << pin
		if s.port1&bit != 0 {
			continue
		}
		led := device.LED{Mode: device.LEDOn, Color: colors[pin]}
		if s.clock&bit != 0 {
			high, low := s.duty[pin][0], s.duty[pin][1]
			if high == low {
				led.Mode, led.Duration = device.LEDPulse, time.Duration(int(high)+int(low))*10*time.Millisecond
			} else {
				// on for the low time, then dark for long: one flash
				led.Mode, led.Duration = device.LEDFlash, time.Duration(low)*10*time.Millisecond
			}
		}
		return led, true
	}
	return device.LED{Mode: device.LEDOff}, true
}
