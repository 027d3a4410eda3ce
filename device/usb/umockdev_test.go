//go:build umockdev

package usb_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/devicetest"
	"github.com/buttonhook/buttonhook/device/usb"
	"github.com/buttonhook/buttonhook/device/usb/internal/usbtestbed"
)

// TestDriverScanAndOpen plugs in one device of each model and checks that
// Scan lists exactly them, and that Open identifies each, detaching the
// kernel's HID driver first.
func TestDriverScanAndOpen(t *testing.T) {
	r := newRig(t, delcomSpec, cheekySpec, blink1Spec, luxSpec)
	tests := []struct {
		spec usbtestbed.Spec
		want device.Info
	}{{
		spec: delcomSpec,
		want: device.Info{
			ID: "usb:0fc5:b080:123456", Driver: "usb", Path: "1-1",
			Model: "Delcom USB HID Visual Indicator", Firmware: "58 (2013-07-15)", Serial: "123456",
			Buttons: 1, Colors: []device.Color{device.Green, device.Red, device.Yellow},
		},
	}, {
		spec: cheekySpec,
		want: device.Info{
			ID: "usb:1d34:000d@1-2", Driver: "usb", Path: "1-2",
			Model: "Dream Cheeky Big Red Button", Firmware: "1.00", Buttons: 1,
		},
	}, {
		spec: blink1Spec,
		want: device.Info{
			ID: "usb:27b8:01ed:2000AB12", Driver: "usb", Path: "2-1",
			Model: "blink(1)", Firmware: "1.00", Serial: "2000AB12", Colors: rgb,
		},
	}, {
		spec: luxSpec,
		want: device.Info{
			ID: "usb:04d8:f372:LX0042", Driver: "usb", Path: "3-3",
			Model: "Luxafor Flag", Firmware: "1.00", Serial: "LX0042", Colors: rgb,
		},
	}}
	var keys []string
	for _, tt := range tests {
		dev := r.open(t, tt.spec)
		if got := dev.Info(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Info() =\n%+v\nwant\n%+v", got, tt.want)
		}
		detaches, claims := r.devs[key(tt.spec)].Detaches()
		if detaches != 1 || claims != 1 {
			t.Errorf("%s: kernel driver detached %d times, interface claimed %d times; want 1 and 1 (SetAutoDetach)", tt.want.Model, detaches, claims)
		}
		keys = append(keys, key(tt.spec))
	}
	cs, err := r.drv.Scan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Key)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("Scan keys = %v, want %v", got, keys)
	}
}

// TestPressGivesEdges presses the button of each model with one.
func TestPressGivesEdges(t *testing.T) {
	for _, s := range []usbtestbed.Spec{delcomSpec, cheekySpec} {
		t.Run(kindName(s.Kind), func(t *testing.T) {
			r := newRig(t, s)
			dev := r.open(t, s)
			run := run(t, dev)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			before := time.Now()
			if err := r.devs[key(s)].Press(ctx); err != nil {
				t.Fatal(err)
			}
			down, up := run.edge(t), run.edge(t)
			if !down.Down || up.Down || down.Button != 1 || up.Button != 1 {
				t.Errorf("edges %+v, %+v; want button 1 down, then up", down, up)
			}
			if down.Time.Before(before) || up.Time.Before(down.Time) {
				t.Errorf("edge times %v, %v: want after %v, in order", down.Time, up.Time, before)
			}
		})
	}
}

func kindName(k usbtestbed.Kind) string {
	switch k {
	case usbtestbed.Delcom:
		return "Delcom"
	case usbtestbed.DreamCheeky:
		return "DreamCheeky"
	case usbtestbed.Blink1:
		return "blink1"
	case usbtestbed.Luxafor:
		return "Luxafor"
	}
	return "unknown"
}

// TestConformance runs the shared driver suite against the two models with
// a button; the board is the emulated device.
func TestConformance(t *testing.T) {
	for _, s := range []usbtestbed.Spec{delcomSpec, cheekySpec} {
		t.Run(kindName(s.Kind), func(t *testing.T) {
			devicetest.Run(t, devicetest.Harness{Open: func(t *testing.T) (device.Device, devicetest.Board) {
				r := newRig(t, s)
				dev := r.open(t, s)
				return dev, &board{dev: r.devs[key(s)]}
			}})
		})
	}
}

// control is the HID SET_REPORT the host sends for a feature (0x03) or
// output (0x02) report.
func setReport(value uint16, data ...byte) usbtestbed.Write {
	return usbtestbed.Write{RequestType: 0x21, Request: 0x09, Value: value, Data: data}
}

func interruptOut(data ...byte) usbtestbed.Write {
	return usbtestbed.Write{Interrupt: true, Data: data}
}

// TestLEDBytes checks the exact bytes each model receives for each LED
// mode, and the timing of the writes the driver sends later (the end of a
// flash, the halves of an emulated pulse).
func TestLEDBytes(t *testing.T) {
	const delcom, blink1 = 0x0365, 0x0301
	type step struct {
		led  device.LED
		want []usbtestbed.Write
		// later are groups of writes the driver sends on its own, the
		// first `after` the LED command, each next one `after` later.
		later [][]usbtestbed.Write
		after time.Duration
	}
	tests := []struct {
		spec  usbtestbed.Spec
		steps []step
	}{{
		spec: delcomSpec,
		steps: []step{{
			led: device.LED{Mode: device.LEDOn, Color: device.Green},
			want: []usbtestbed.Write{
				setReport(delcom, 101, 20, 0x07, 0x00, 0, 0, 0, 0), // flash clocks off
				setReport(delcom, 101, 12, 0x01, 0x06, 0, 0, 0, 0), // P1.0 low (green on), others high
			},
		}, {
			led: device.LED{Mode: device.LEDOff},
			want: []usbtestbed.Write{
				setReport(delcom, 101, 20, 0x07, 0x00, 0, 0, 0, 0),
				setReport(delcom, 101, 12, 0x00, 0x07, 0, 0, 0, 0),
			},
		}, {
			led: device.LED{Mode: device.LEDPulse, Color: device.Yellow, Duration: time.Second},
			want: []usbtestbed.Write{
				setReport(delcom, 101, 23, 50, 50, 0, 0, 0, 0),     // P1.2 high and low 500 ms
				setReport(delcom, 101, 20, 0x03, 0x04, 0, 0, 0, 0), // clock on P1.2 only
				setReport(delcom, 101, 25, 0x04, 0x00, 0, 0, 0, 0), // restart it now, low (on)
				setReport(delcom, 101, 12, 0x04, 0x03, 0, 0, 0, 0), // yellow on
			},
		}, {
			led: device.LED{Mode: device.LEDFlash, Color: device.Red, Duration: 60 * time.Millisecond},
			want: []usbtestbed.Write{
				setReport(delcom, 101, 22, 255, 6, 0, 0, 0, 0), // P1.1 on 60 ms, then off 2.55 s
				setReport(delcom, 101, 20, 0x05, 0x02, 0, 0, 0, 0),
				setReport(delcom, 101, 25, 0x02, 0x00, 0, 0, 0, 0),
				setReport(delcom, 101, 12, 0x02, 0x05, 0, 0, 0, 0),
			},
			later: [][]usbtestbed.Write{{
				setReport(delcom, 101, 20, 0x07, 0x00, 0, 0, 0, 0),
				setReport(delcom, 101, 12, 0x00, 0x07, 0, 0, 0, 0),
			}},
			after: 60 * time.Millisecond,
		}},
	}, {
		spec: blink1Spec,
		steps: []step{{
			led:  device.LED{Mode: device.LEDOn, Color: device.Red},
			want: []usbtestbed.Write{setReport(blink1, 1, 'n', 0xff, 0, 0, 0, 0, 0)},
		}, {
			led:  device.LED{Mode: device.LEDOff},
			want: []usbtestbed.Write{setReport(blink1, 1, 'n', 0, 0, 0, 0, 0, 0)},
		}, {
			led:   device.LED{Mode: device.LEDFlash, Color: device.Green, Duration: 60 * time.Millisecond},
			want:  []usbtestbed.Write{setReport(blink1, 1, 'n', 0, 0xff, 0, 0, 0, 0)},
			later: [][]usbtestbed.Write{{setReport(blink1, 1, 'n', 0, 0, 0, 0, 0, 0)}},
			after: 60 * time.Millisecond,
		}, {
			led:  device.LED{Mode: device.LEDPulse, Color: device.Blue, Duration: 200 * time.Millisecond},
			want: []usbtestbed.Write{setReport(blink1, 1, 'c', 0, 0, 0xff, 0, 10, 0)}, // fade in 100 ms
			later: [][]usbtestbed.Write{
				{setReport(blink1, 1, 'c', 0, 0, 0, 0, 10, 0)},
				{setReport(blink1, 1, 'c', 0, 0, 0xff, 0, 10, 0)},
			},
			after: 100 * time.Millisecond,
		}},
	}, {
		spec: luxSpec,
		steps: []step{{
			led:  device.LED{Mode: device.LEDOn, Color: device.Yellow},
			want: []usbtestbed.Write{interruptOut(1, 0xff, 0xff, 0xff, 0, 0, 0, 0)},
		}, {
			led:  device.LED{Mode: device.LEDOff},
			want: []usbtestbed.Write{interruptOut(1, 0xff, 0, 0, 0, 0, 0, 0)},
		}, {
			led:   device.LED{Mode: device.LEDFlash, Color: device.Red, Duration: 60 * time.Millisecond},
			want:  []usbtestbed.Write{interruptOut(1, 0xff, 0xff, 0, 0, 0, 0, 0)},
			later: [][]usbtestbed.Write{{interruptOut(1, 0xff, 0, 0, 0, 0, 0, 0)}},
			after: 60 * time.Millisecond,
		}, {
			led:  device.LED{Mode: device.LEDPulse, Color: device.White, Duration: 200 * time.Millisecond},
			want: []usbtestbed.Write{interruptOut(1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0)},
			later: [][]usbtestbed.Write{
				{interruptOut(1, 0xff, 0, 0, 0, 0, 0, 0)},
				{interruptOut(1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0)},
			},
			after: 100 * time.Millisecond,
		}},
	}}
	for _, tt := range tests {
		t.Run(kindName(tt.spec.Kind), func(t *testing.T) {
			r := newRig(t, tt.spec)
			dev := r.open(t, tt.spec)
			emu := r.devs[key(tt.spec)]
			for _, st := range tt.steps {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				if err := lights(t, dev).SetLED(ctx, 1, st.led); err != nil {
					t.Fatalf("SetLED(%+v): %v", st.led, err)
				}
				want := slices.Clone(st.want)
				starts := []int{} // index of each later group's first write
				for _, g := range st.later {
					starts = append(starts, len(want))
					want = append(want, g...)
				}
				var got []usbtestbed.Write
				for range want {
					w, err := emu.NextWrite(ctx)
					if err != nil {
						t.Fatalf("after SetLED(%+v): got %v, then %v", st.led, got, err)
					}
					got = append(got, w)
				}
				cancel()
				for i, w := range got {
					if w.Interrupt != want[i].Interrupt || w.RequestType != want[i].RequestType || w.Request != want[i].Request ||
						w.Value != want[i].Value || w.Index != want[i].Index || !slices.Equal(w.Data, want[i].Data) {
						t.Errorf("SetLED(%+v): write %d = %v, want %v", st.led, i, w, want[i])
					}
				}
				// Each later group comes `after` the one before (plus scheduling).
				prev := got[0].Time
				for _, i := range starts {
					if gap := got[i].Time.Sub(prev); gap < st.after || gap > st.after+80*time.Millisecond {
						t.Errorf("SetLED(%+v): %v came %v after the previous group, want %v", st.led, got[i], gap, st.after)
					}
					prev = got[i].Time
				}
			}
		})
	}
}

// TestUnplug pulls each model out while Run is going: Run must return an
// error wrapping device.ErrGone within devicetest.Timeout, LED commands must
// fail fast with ErrGone, and Scan must stop listing it.
func TestUnplug(t *testing.T) {
	for _, s := range []usbtestbed.Spec{delcomSpec, cheekySpec, blink1Spec, luxSpec} {
		t.Run(kindName(s.Kind), func(t *testing.T) {
			r := newRig(t, s)
			dev := r.open(t, s)
			run := run(t, dev)
			time.Sleep(20 * time.Millisecond) // let Run poll a few times
			start := time.Now()
			r.devs[key(s)].Unplug()
			select {
			case err := <-run.done:
				run.done <- err
				if !errors.Is(err, device.ErrGone) {
					t.Errorf("Run after unplug = %v; want an error wrapping device.ErrGone", err)
				}
				t.Logf("unplug noticed after %v: %v", time.Since(start), err)
			case <-time.After(devicetest.Timeout):
				t.Fatalf("Run did not return within %v of the unplug", devicetest.Timeout)
			}
			if len(dev.Info().Colors) > 0 {
				start := time.Now()
				err := lights(t, dev).SetLED(t.Context(), 1, device.LEDBusy)
				if !errors.Is(err, device.ErrGone) || time.Since(start) > 50*time.Millisecond {
					t.Errorf("SetLED after unplug = %v after %v; want device.ErrGone within 50ms", err, time.Since(start))
				}
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				cs, err := r.drv.Scan(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(cs, func(c device.Candidate) bool { return c.Key == key(s) }) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Scan still lists %s 2s after the unplug", key(s))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestUnplugWhileIdle unplugs a device that nobody runs: its next LED
// command fails with ErrGone, and Open of the stale candidate too.
func TestUnplugWhileIdle(t *testing.T) {
	r := newRig(t, blink1Spec)
	dev := r.open(t, blink1Spec)
	r.devs[key(blink1Spec)].Unplug()
	if err := lights(t, dev).SetLED(t.Context(), 1, device.LEDSuccess); !errors.Is(err, device.ErrGone) {
		t.Errorf("SetLED after unplug = %v; want device.ErrGone", err)
	}
	_, err := r.drv.Open(t.Context(), device.Candidate{Key: key(blink1Spec), Driver: usb.DriverName})
	if !errors.Is(err, device.ErrGone) {
		t.Errorf("Open after unplug = %v; want device.ErrGone", err)
	}
}

// TestCloseTwiceAndAfter closes each model twice, then uses it.
func TestCloseTwiceAndAfter(t *testing.T) {
	for _, s := range []usbtestbed.Spec{delcomSpec, luxSpec} {
		t.Run(kindName(s.Kind), func(t *testing.T) {
			r := newRig(t, s)
			dev := r.open(t, s)
			// A pulse keeps the driver's own goroutine writing; Close stops it.
			if err := lights(t, dev).SetLED(t.Context(), 1, device.LED{Mode: device.LEDPulse, Color: device.Red, Duration: 100 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if err := dev.Close(); err != nil {
					t.Errorf("Close #%d: %v", i+1, err)
				}
			}
			n := len(r.devs[key(s)].Writes())
			time.Sleep(120 * time.Millisecond)
			if m := len(r.devs[key(s)].Writes()); m != n {
				t.Errorf("%d writes after Close; want none", m-n)
			}
			if err := lights(t, dev).SetLED(t.Context(), 1, device.LEDIdle); err == nil {
				t.Error("SetLED after Close = nil; want an error")
			}
			if err := dev.Run(t.Context(), func(device.Edge) {}); !errors.Is(err, device.ErrGone) {
				t.Errorf("Run after Close = %v; want an error wrapping device.ErrGone", err)
			}
			// The driver still works for others.
			if _, err := r.drv.Scan(t.Context()); err != nil {
				t.Errorf("Scan after a device's Close: %v", err)
			}
		})
	}
}

// TestDriverClose closes the driver with a device still open: the device is
// closed too, and Scan and Open then fail.
func TestDriverClose(t *testing.T) {
	r := newRig(t, delcomSpec)
	dev := r.open(t, delcomSpec)
	if err := r.drv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.drv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := lights(t, dev).SetLED(t.Context(), 1, device.LEDIdle); err == nil {
		t.Error("SetLED after the driver's Close = nil; want an error")
	}
	if _, err := r.drv.Scan(t.Context()); err == nil {
		t.Error("Scan after Close = nil error; want one")
	}
}

// BenchmarkPressToEdge measures, for each model with a button, the time
// from the emulated button going down (at a random moment) to the driver's
// edge callback (p50-ms, p99-ms: mostly the 10 ms poll), and the driver's
// own part: from the device answering the read that reports it down to
// the callback, through libusb and umockdev (own-p50-us, own-p99-us).
func BenchmarkPressToEdge(b *testing.B) {
	for _, s := range []usbtestbed.Spec{delcomSpec, cheekySpec} {
		b.Run(kindName(s.Kind), func(b *testing.B) {
			r := newRig(b, s)
			dev := r.open(b, s)
			run := run(b, dev)
			emu := r.devs[key(s)]
			var lat, own []time.Duration
			for b.Loop() {
				time.Sleep(rand.N(10 * time.Millisecond)) // any phase of the poll
				start := time.Now()
				emu.SetPressed(true)
				down := run.edge(b)
				lat = append(lat, down.Time.Sub(start))
				own = append(own, down.Time.Sub(emu.DownReported()))
				emu.SetPressed(false)
				run.edge(b)
			}
			slices.Sort(lat)
			slices.Sort(own)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(own[len(own)/2].Nanoseconds())/1000, "own-p50-us")
			b.ReportMetric(float64(own[len(own)*99/100].Nanoseconds())/1000, "own-p99-us")
		})
	}
}

// BenchmarkUnplugToGone measures the time from an unplug to Run returning
// device.ErrGone, for a button (polled every 10 ms) and a light (asked for
// its status every 250 ms).
func BenchmarkUnplugToGone(b *testing.B) {
	for _, s := range []usbtestbed.Spec{delcomSpec, blink1Spec} {
		b.Run(kindName(s.Kind), func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				b.StopTimer()
				r := newRig(b, s)
				dev := r.open(b, s)
				run := run(b, dev)
				time.Sleep(5 * time.Millisecond)
				b.StartTimer()
				start := time.Now()
				r.devs[key(s)].Unplug()
				err := <-run.done
				lat = append(lat, time.Since(start))
				run.done <- err
				if !errors.Is(err, device.ErrGone) {
					b.Fatalf("Run after unplug = %v; want device.ErrGone", err)
				}
				b.StopTimer()
				_ = dev.Close()
				_ = r.drv.Close()
				r.tb.Close()
				b.StartTimer()
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
