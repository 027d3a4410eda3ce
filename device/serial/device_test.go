package serial

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

const testHello = "HELLO BH1 model=uno fw=1.2 sn=UNO1 buttons=2 leds=red,green\n"

// identified opens a Device on a fake port whose device answers HELLO? with
// hello. Call it inside a synctest bubble.
func identified(t *testing.T, hello string) (*Device, *fakePort) {
	t.Helper()
	p := newFakePort()
	d := newDevice(p, "/dev/ttyFAKE0", nil)
	t.Cleanup(func() { _ = d.Close() })
	go func() {
		if l := string(<-p.out); l == HelloQuery+"\n" {
			p.send(hello)
		}
	}()
	if err := d.identify(t.Context(), HelloTimeout); err != nil {
		t.Fatalf("identify: %v", err)
	}
	return d, p
}

// runDevice calls d.Run in a goroutine, collecting edges; the returned
// channel gets Run's result.
func runDevice(ctx context.Context, d *Device) (edges *[]device.Edge, mu *sync.Mutex, done chan error) {
	edges, mu, done = new([]device.Edge), new(sync.Mutex), make(chan error, 1)
	go func() {
		done <- d.Run(ctx, func(e device.Edge) {
			mu.Lock()
			defer mu.Unlock()
			*edges = append(*edges, e)
		})
	}()
	return edges, mu, done
}

func TestIdentify(t *testing.T) {
	rg := []device.Color{device.Red, device.Green}
	tests := []struct {
		name   string
		stale  string // bytes waiting before the port was opened
		answer string // the device's answer to HELLO?
		want   device.Info
	}{
		{
			name:   "serial number",
			answer: testHello,
			want: device.Info{ID: "serial:UNO1", Driver: "serial", Path: "/dev/ttyFAKE0", Model: "uno",
				Firmware: "1.2", Serial: "UNO1", Buttons: 2, Colors: rg},
		},
		{
			name:   "no serial number",
			answer: "HELLO BH1 model=pico fw=3 buttons=1 leds=none\r\n",
			want: device.Info{ID: "serial:/dev/ttyFAKE0", Driver: "serial", Path: "/dev/ttyFAKE0", Model: "pico",
				Firmware: "3", Buttons: 1, Colors: []device.Color{}},
		},
		{
			name:   "other lines first",
			answer: "bootloader v2\n\xff\xfe\nD 1\nPONG\n" + strings.Repeat("z", 300) + "\nhello bh1 sn=X buttons=4\n",
			want: device.Info{ID: "serial:X", Driver: "serial", Path: "/dev/ttyFAKE0", Serial: "X",
				Buttons: 4, Colors: []device.Color{}},
		},
		{
			name:   "stale HELLO flushed",
			stale:  "HELLO BH1 sn=OLD buttons=1\n",
			answer: "HELLO BH1 sn=NEW buttons=1\n",
			want: device.Info{ID: "serial:NEW", Driver: "serial", Path: "/dev/ttyFAKE0", Serial: "NEW",
				Buttons: 1, Colors: []device.Color{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newFakePort()
				if tt.stale != "" {
					p.stale <- []byte(tt.stale)
				}
				d := newDevice(p, "/dev/ttyFAKE0", nil)
				defer d.Close()
				go func() {
					if l := string(<-p.out); l == HelloQuery+"\n" {
						p.send(tt.answer)
					}
				}()
				if err := d.identify(t.Context(), HelloTimeout); err != nil {
					t.Fatalf("identify: %v", err)
				}
				if got := d.Info(); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Info() = %+v; want %+v", got, tt.want)
				}
			})
		})
	}
}

func TestIdentifyNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePort()
		d := newDevice(p, "/dev/ttyFAKE0", nil)
		defer d.Close()
		go func() {
			<-p.out
			p.send("D 1\nnoise\n") // not an answer
		}()
		start := time.Now()
		err := d.identify(t.Context(), HelloTimeout)
		if !errors.Is(err, device.ErrNoAnswer) {
			t.Fatalf("identify = %v; want an error wrapping device.ErrNoAnswer", err)
		}
		if waited := time.Since(start); waited != HelloTimeout {
			t.Errorf("identify gave up after %v; want %v", waited, HelloTimeout)
		}
		for _, want := range []string{"/dev/ttyFAKE0", "no Buttonhook device answered", "BH1", "115200"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
}

func TestIdentifyContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePort()
		d := newDevice(p, "/dev/ttyFAKE0", nil)
		defer d.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := d.identify(ctx, HelloTimeout)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("identify = %v; want context.DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != 300*time.Millisecond {
			t.Errorf("identify returned %v after its context ended; want at once", waited-300*time.Millisecond)
		}
	})
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		edges, mu, done := runDevice(t.Context(), d)

		t0 := time.Now()
		p.send("D 1\n")
		time.Sleep(time.Second) // the fake clock: the edges get distinct times
		p.send("U 1\r\nbogus\nERR busy\n" + strings.Repeat("x", 200) + "\n")
		p.send("HELLO BH1 model=uno fw=2.0 sn=OTHER buttons=3 leds=red\n")
		p.send("PONG 7\nD 2\nU 2\n")
		synctest.Wait()

		mu.Lock()
		got := copyEdges(*edges)
		mu.Unlock()
		want := []device.Edge{
			{Button: 1, Down: true, Time: t0},
			{Button: 1, Down: false, Time: t0.Add(time.Second)},
			{Button: 2, Down: true, Time: t0.Add(time.Second)},
			{Button: 2, Down: false, Time: t0.Add(time.Second)},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("edges = %+v; want %+v", got, want)
		}
		// The first HELLO and 9 lines since; "bogus" and the long one are malformed.
		if got, want := d.Stats(), (Stats{Lines: 10, Malformed: 2, Errors: 1}); got != want {
			t.Errorf("Stats() = %+v; want %+v", got, want)
		}
		wantInfo := device.Info{ID: "serial:UNO1", Driver: "serial", Path: "/dev/ttyFAKE0", Model: "uno",
			Firmware: "2.0", Serial: "OTHER", Buttons: 3, Colors: []device.Color{device.Red}}
		if got := d.Info(); !reflect.DeepEqual(got, wantInfo) {
			t.Errorf("Info() after a new HELLO = %+v; want %+v (the ID stays)", got, wantInfo)
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned %v while the device was there", err)
		default:
		}
	})
}

// copyEdges copies edges.
func copyEdges(e []device.Edge) []device.Edge { return append([]device.Edge(nil), e...) }

func TestRunEnds(t *testing.T) {
	tests := []struct {
		name    string
		end     func(cancel context.CancelFunc, d *Device, p *fakePort)
		wantErr error // nil: want nil
	}{
		{"cancel", func(cancel context.CancelFunc, _ *Device, _ *fakePort) { cancel() }, nil},
		{"close", func(_ context.CancelFunc, d *Device, _ *fakePort) { _ = d.Close() }, nil},
		{"unplug", func(_ context.CancelFunc, _ *Device, p *fakePort) { p.unplug() }, device.ErrGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d, p := identified(t, testHello)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				_, _, done := runDevice(ctx, d)
				time.Sleep(time.Second)
				start := time.Now()
				tt.end(cancel, d, p)
				err := <-done
				if took := time.Since(start); took != 0 {
					t.Errorf("Run returned %v after the %s; want at once", took, tt.name)
				}
				switch {
				case tt.wantErr == nil && err != nil:
					t.Errorf("Run after %s = %v; want nil", tt.name, err)
				case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
					t.Errorf("Run after %s = %v; want an error wrapping %v", tt.name, err, tt.wantErr)
				}
			})
		})
	}
}

// TestRunCancelKeepsPort cancels Run and checks that the port stays open:
// the Manager turns the LEDs off after Run returns and before Close, and a
// new Run gets the lines that came in between.
func TestRunCancelKeepsPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		ctx, cancel := context.WithCancel(t.Context())
		_, _, done := runDevice(ctx, d)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run after cancel = %v; want nil", err)
		}
		if err := d.SetLED(t.Context(), 1, device.LEDIdle); err != nil {
			t.Errorf("SetLED after a cancelled Run = %v; want nil", err)
		}
		if got, want := p.nextLine(t), "LED 1 OFF"; got != want {
			t.Errorf("wrote %q; want %q", got, want)
		}
		p.send("D 2\n")
		synctest.Wait()
		edges, mu, done := runDevice(t.Context(), d)
		synctest.Wait()
		mu.Lock()
		got := copyEdges(*edges)
		mu.Unlock()
		if len(got) != 1 || got[0].Button != 2 || !got[0].Down {
			t.Errorf("edges of the second Run = %+v; want button 2 down, sent between the Runs", got)
		}
		_ = d.Close()
		if err := <-done; err != nil {
			t.Errorf("second Run after Close = %v; want nil", err)
		}
	})
}

// TestRunIdle checks that an idle device costs nothing: over an hour
// without input, no read of the port returns (the one in progress since
// identify blocks), and nothing is written.
func TestRunIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		reads := p.reads.Load()
		_, _, done := runDevice(t.Context(), d)
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := p.reads.Load() - reads; got != 0 {
			t.Errorf("%d more reads of an idle port in an hour; want none (the one in progress blocks)", got)
		}
		p.none(t)
		_ = d.Close()
		<-done
	})
}

func TestRunAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, _ := identified(t, testHello)
		if err := d.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := d.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := d.Run(t.Context(), func(device.Edge) {}); !errors.Is(err, device.ErrGone) {
			t.Errorf("Run after Close = %v; want an error wrapping device.ErrGone", err)
		}
		if err := d.SetLED(t.Context(), 1, device.LEDBusy); !errors.Is(err, device.ErrGone) {
			t.Errorf("SetLED after Close = %v; want an error wrapping device.ErrGone", err)
		}
	})
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, _ := identified(t, testHello)
		_, _, done := runDevice(t.Context(), d)
		synctest.Wait()
		if err := d.Run(t.Context(), func(device.Edge) {}); err == nil || !strings.Contains(err.Error(), "already running") {
			t.Errorf("second concurrent Run = %v; want an \"already running\" error", err)
		}
		_ = d.Close()
		if err := <-done; err != nil {
			t.Errorf("first Run after Close = %v; want nil", err)
		}
	})
}

func TestSetLED(t *testing.T) {
	tests := []struct {
		button int
		led    device.LED
		want   string
	}{
		{1, device.LEDBusy, "LED 1 PULSE yellow 1000"},
		{1, device.LEDSuccess, "LED 1 FLASH green 1500"},
		{2, device.LEDFailure, "LED 2 FLASH red 1500"},
		{1, device.LEDIdle, "LED 1 OFF"},
		{64, device.LED{Mode: device.LEDOn, Color: device.Blue}, "LED 64 ON blue"},
	}
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		for _, tt := range tests {
			if err := d.SetLED(t.Context(), tt.button, tt.led); err != nil {
				t.Errorf("SetLED(%d, %+v): %v", tt.button, tt.led, err)
				continue
			}
			if got := p.nextLine(t); got != tt.want {
				t.Errorf("SetLED(%d, %+v) wrote %q; want %q", tt.button, tt.led, got, tt.want)
			}
		}
		for _, b := range []int{0, -1, 65} {
			if err := d.SetLED(t.Context(), b, device.LEDBusy); err == nil {
				t.Errorf("SetLED(%d) = nil; want an out-of-range error", b)
			}
		}
	})
}

func TestSetLEDBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		p.hold = make(chan struct{}) // the device stops reading

		start := time.Now()
		err := d.SetLED(t.Context(), 1, device.LEDBusy)
		if !errors.Is(err, errWriteTimeout) {
			t.Errorf("SetLED to a stuck device = %v; want errWriteTimeout", err)
		}
		if took := time.Since(start); took != writeTimeout {
			t.Errorf("SetLED to a stuck device took %v; want %v", took, writeTimeout)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		if err := d.SetLED(ctx, 1, device.LEDBusy); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SetLED with a 100ms context behind a stuck write = %v; want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took != 100*time.Millisecond {
			t.Errorf("SetLED with a 100ms context took %v", took)
		}

		close(p.hold) // the device reads again: the first write completes
		if got, want := p.nextLine(t), "LED 1 PULSE yellow 1000"; got != want {
			t.Errorf("the stuck write finally wrote %q; want %q", got, want)
		}
		synctest.Wait()
		if err := d.SetLED(t.Context(), 1, device.LEDIdle); err != nil {
			t.Errorf("SetLED once the device reads again: %v", err)
		}
		if got, want := p.nextLine(t), "LED 1 OFF"; got != want {
			t.Errorf("wrote %q; want %q", got, want)
		}
	})
}

func TestSetLEDGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		p.unplug()
		if err := d.SetLED(t.Context(), 1, device.LEDBusy); !errors.Is(err, device.ErrGone) {
			t.Errorf("SetLED on an unplugged device = %v; want an error wrapping device.ErrGone", err)
		}
		// Once a write failed, the device is known gone.
		if err := d.SetLED(t.Context(), 1, device.LEDBusy); !errors.Is(err, device.ErrGone) {
			t.Errorf("second SetLED = %v; want an error wrapping device.ErrGone", err)
		}
	})
}

// syncBuffer is a bytes.Buffer for a log handler.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(s.b.Bytes()))
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestMalformedLoggedThenCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		p := newFakePort()
		d := newDevice(p, "/dev/ttyFAKE0", slog.New(slog.NewJSONHandler(&buf, nil)))
		defer d.Close()
		go func() {
			<-p.out
			p.send(testHello)
		}()
		if err := d.identify(t.Context(), HelloTimeout); err != nil {
			t.Fatalf("identify: %v", err)
		}
		_, _, done := runDevice(t.Context(), d)
		for i := range 2 * logFirst {
			p.send("junk " + string(rune('a'+i)) + "\n")
		}
		for range logFirst + 1 {
			p.send("ERR no LED\n")
		}
		synctest.Wait()
		_ = d.Close()
		<-done

		if got, want := d.Stats(), (Stats{Lines: 1 + 3*logFirst + 1, Malformed: 2 * logFirst, Errors: logFirst + 1}); got != want {
			t.Errorf("Stats() = %+v; want %+v", got, want)
		}
		var malformed, errs int
		for _, r := range buf.records(t) {
			switch r["msg"] {
			case "malformed line from device":
				malformed++
				if r["path"] != "/dev/ttyFAKE0" || r["driver"] != "serial" || r["err"] == nil {
					t.Errorf("log record %v lacks path, driver or err", r)
				}
				if malformed == 1 && r["line"] != "junk a" {
					t.Errorf("first malformed record has line %v; want %q", r["line"], "junk a")
				}
			case "device reported an error":
				errs++
				if r["text"] != "no LED" {
					t.Errorf("ERR record has text %v; want %q", r["text"], "no LED")
				}
			}
		}
		if malformed != logFirst || errs != logFirst {
			t.Errorf("logged %d malformed and %d ERR lines; want %d of each, the rest only counted", malformed, errs, logFirst)
		}
	})
}

// TestEdgesOfOneReadShareTheirTime sends a bouncing press as a device
// does, four edges in one burst, and handles each edge slowly (a loaded
// host): the edges carry the time they were received, one time for the
// burst, so that the host's debounce sees them as close as they were. A
// line completed by a later read has that read's time.
func TestEdgesOfOneReadShareTheirTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p := identified(t, testHello)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var edges []device.Edge
		done := make(chan error, 1)
		go func() {
			done <- d.Run(ctx, func(e device.Edge) {
				edges = append(edges, e)
				time.Sleep(30 * time.Millisecond) // longer than a debounce window
			})
		}()
		sent := time.Now()
		p.send("D 1\nU 1\nD 1\nU 1\nD")
		synctest.Wait()
		time.Sleep(time.Second)
		completed := time.Now()
		p.send(" 2\n")
		synctest.Wait()
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(edges) != 5 {
			t.Fatalf("edges = %+v, want 5", edges)
		}
		for i, e := range edges[:4] {
			if !e.Time.Equal(sent) {
				t.Errorf("edge %d of the burst at %v after it was sent, want at once", i, e.Time.Sub(sent))
			}
		}
		if e := edges[4]; e.Button != 2 || !e.Time.Equal(completed) {
			t.Errorf("edge of the split line = %+v at %v, want button 2 at the time its end came", e, e.Time.Sub(sent))
		}
	})
}
