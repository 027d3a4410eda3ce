package usb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// fakeTransport records writes with their (synctest) time and answers reads
// like a device whose button is up.
type fakeTransport struct {
	mu      sync.Mutex
	writes  []string
	times   []time.Time
	gone    bool
	pressed bool
	closed  int
}

func (f *fakeTransport) log(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return fmt.Errorf("fake: %w", device.ErrGone)
	}
	f.writes = append(f.writes, s)
	f.times = append(f.times, time.Now())
	return nil
}

func (f *fakeTransport) control(ctx context.Context, r request) (int, error) {
	if r.reqType&0x80 == 0 {
		return len(r.data), f.log(fmt.Sprintf("% x", r.data))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return 0, fmt.Errorf("fake: %w", device.ErrGone)
	}
	if r.value == reportFeature|delcomReadPorts {
		r.data[0] = 0xff
		if f.pressed {
			r.data[0] = 0xfe
		}
	}
	return len(r.data), nil
}

func (f *fakeTransport) readInterrupt(ctx context.Context, buf []byte) (int, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

func (f *fakeTransport) writeInterrupt(ctx context.Context, buf []byte) (int, error) {
	return len(buf), f.log(fmt.Sprintf("% x", buf))
}

func (f *fakeTransport) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fakeTransport) since(i int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes[i:])
}

func newFakeDevice(k kind) (*LEDDevice, *fakeTransport) {
	f := &fakeTransport{}
	m, _ := lookup(0x27b8, 0x01ed)
	return &LEDDevice{newDevice(deviceInfo(m.Model, "1-1", "", ""), k, f, nil)}, f
}

// TestFlashEndsAfterDuration checks, on a fake clock, that the driver ends
// a flash exactly after its Duration and that a newer command cancels it.
func TestFlashEndsAfterDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev, f := newFakeDevice(kindBlink1)
		defer dev.Close()
		start := time.Now()
		if err := dev.SetLED(t.Context(), 1, device.LEDSuccess); err != nil {
			t.Fatal(err)
		}
		time.Sleep(device.LEDSuccess.Duration - time.Nanosecond)
		synctest.Wait()
		if got := f.since(0); len(got) != 1 {
			t.Fatalf("before the flash ends: writes %q, want only the colour", got)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		want := []string{"01 6e 00 ff 00 00 00 00", "01 6e 00 00 00 00 00 00"}
		if got := f.since(0); !slices.Equal(got, want) {
			t.Fatalf("writes %q, want %q", got, want)
		}
		if d := f.times[1].Sub(start); d != device.LEDSuccess.Duration {
			t.Errorf("flash ended after %v, want %v", d, device.LEDSuccess.Duration)
		}

		// A newer command within the flash cancels its end.
		if err := dev.SetLED(t.Context(), 1, device.LEDFailure); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := dev.SetLED(t.Context(), 1, device.LED{Mode: device.LEDOn, Color: device.Blue}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		want = []string{"01 6e ff 00 00 00 00 00", "01 6e 00 00 ff 00 00 00"}
		if got := f.since(2); !slices.Equal(got, want) {
			t.Errorf("after a flash cut short: writes %q, want %q", got, want)
		}
	})
}

// TestPulseAlternates checks the emulated pulse of the Luxafor: colour and
// black every half period until the next command, and nothing after Close.
func TestPulseAlternates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dev, f := newFakeDevice(kindLuxafor)
		if err := dev.SetLED(t.Context(), 1, device.LEDBusy); err != nil { // yellow, 1 s
			t.Fatal(err)
		}
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		yellow, black := "01 ff ff ff 00 00 00 00", "01 ff 00 00 00 00 00 00"
		want := []string{yellow, black, yellow, black, yellow}
		if got := f.since(0); !slices.Equal(got, want) {
			t.Fatalf("after 2 s of pulse: writes %q, want %q", got, want)
		}
		for i := 1; i < len(f.times); i++ {
			if d := f.times[i].Sub(f.times[i-1]); d != 500*time.Millisecond {
				t.Errorf("write %d came %v after the one before, want 500ms", i, d)
			}
		}
		if err := dev.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := f.since(len(want)); len(got) != 0 {
			t.Errorf("writes after Close: %q", got)
		}
		if err := dev.Close(); err != nil || f.closed != 1 {
			t.Errorf("second Close = %v, transport closed %d times; want nil, 1", err, f.closed)
		}
	})
}

// TestRunDelcomOnFakeClock presses the Delcom's switch between polls.
func TestRunDelcomOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeTransport{}
		m, _ := lookup(0x0fc5, 0xb080)
		dev := newDevice(deviceInfo(m.Model, "1-1", "1", ""), kindDelcom, f, nil)
		var edges []device.Edge
		done := make(chan error, 1)
		go func() { done <- dev.Run(t.Context(), func(e device.Edge) { edges = append(edges, e) }) }()
		time.Sleep(25 * time.Millisecond)
		f.mu.Lock()
		f.pressed = true
		f.mu.Unlock()
		pressedAt := time.Now()
		time.Sleep(50 * time.Millisecond)
		f.mu.Lock()
		f.pressed = false
		f.gone = true // then unplugged
		f.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		synctest.Wait()
		select {
		case err := <-done:
			if !errors.Is(err, device.ErrGone) {
				t.Errorf("Run = %v, want device.ErrGone", err)
			}
		default:
			t.Fatal("Run did not return within two polls of the unplug")
		}
		if len(edges) != 1 || !edges[0].Down || edges[0].Time.Sub(pressedAt) > buttonPoll {
			t.Errorf("edges %+v; want one down edge within a poll of %v", edges, pressedAt)
		}
		if err := dev.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSetLEDErrors(t *testing.T) {
	dev, f := newFakeDevice(kindDelcom)
	for _, c := range []struct {
		button int
		led    device.LED
		want   string
	}{
		{2, device.LEDBusy, "no button 2"},
		{1, device.LED{Mode: device.LEDOn, Color: device.Blue}, `no "blue" LED`},
		{1, device.LED{Mode: device.LEDFlash, Color: device.Red}, "positive duration"},
		{1, device.LED{Mode: 9, Color: device.Red}, "unknown LED mode"},
	} {
		err := dev.SetLED(context.Background(), c.button, c.led)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetLED(%d, %+v) = %v, want an error saying %q", c.button, c.led, err, c.want)
		}
	}
	if len(f.writes) != 0 {
		t.Errorf("refused commands wrote %q", f.writes)
	}
	f.gone = true
	start := time.Now()
	if err := dev.SetLED(context.Background(), 1, device.LEDIdle); !errors.Is(err, device.ErrGone) {
		t.Errorf("SetLED on a gone device = %v, want device.ErrGone", err)
	}
	if err := dev.SetLED(context.Background(), 1, device.LEDIdle); !errors.Is(err, device.ErrGone) || time.Since(start) > 10*time.Millisecond {
		t.Errorf("second SetLED on a gone device = %v after %v; want device.ErrGone at once", err, time.Since(start))
	}
}
