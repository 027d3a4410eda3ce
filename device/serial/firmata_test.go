package serial

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial/firmata"
)

// testFirmata has a red/green button on pin 2 (green wired active low) and
// a plain button on pin 9.
var testFirmata = FirmataOptions{Port: "/dev/ttyFAKE0", Buttons: []FirmataButton{
	{Pin: 2, LEDs: []FirmataLED{{Pin: 12, Color: device.Red}, {Pin: 13, Color: device.Green, ActiveLow: true}}},
	{Pin: 9},
}}

func announce(major, minor byte) []byte {
	return firmata.AppendFirmware(firmata.AppendVersion(nil, major, minor), 2, 5, "StandardFirmata.ino")
}

func capabilities(pins int) []byte {
	ps := make([][]firmata.PinMode, pins)
	for i := range ps {
		ps[i] = []firmata.PinMode{firmata.Input, firmata.Output, firmata.InputPullup}
	}
	return firmata.AppendCapabilities(nil, ps)
}

var capsQuery = firmata.AppendCapabilityQuery(nil)

// openedFirmata identifies and sets up a FirmataDevice on a byte port whose
// board answers the queries with protocol major.minor, and returns it with
// the set-up bytes. Call it inside a synctest bubble.
func openedFirmata(t *testing.T, opts FirmataOptions, major, minor byte) (*FirmataDevice, *fakePort, []byte) {
	t.Helper()
	p := newFakePort()
	d := newFirmataDevice(p, opts, "", nil)
	t.Cleanup(func() { _ = d.Close() })
	go func() {
		<-p.out // version and firmware queries
		p.sendBytes(announce(major, minor))
		<-p.out // capability query
		p.sendBytes(capabilities(20))
	}()
	if err := d.identify(t.Context(), FirmataOpenTimeout); err != nil {
		t.Fatalf("identify: %v", err)
	}
	if err := d.setup(t.Context()); err != nil {
		t.Fatalf("setup: %v", err)
	}
	return d, p, p.next(t)
}

func TestFirmataSetup(t *testing.T) {
	tests := []struct {
		name         string
		major, minor byte
		want         []byte
	}{
		{"protocol 2.5: INPUT_PULLUP and pin values", 2, 5, []byte{
			0xF4, 2, 0x0B, 0xF4, 12, 1, 0xF4, 13, 1, 0xF4, 9, 0x0B, // modes
			0xF5, 12, 0, 0xF5, 13, 1, // LEDs off (13 is active low)
			0xD0, 1, 0xD1, 1}}, // report ports 0 and 1
		{"protocol 2.3: INPUT with pull-up writes, port messages", 2, 3, []byte{
			0xF4, 2, 0, 0xF4, 12, 1, 0xF4, 13, 1, 0xF4, 9, 0,
			0x90, 0x04, 0, // pin 2 pulled up
			0x91, 0x22, 0, // pin 9 pulled up, pin 12 low, pin 13 high
			0xD0, 1, 0xD1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, _, got := openedFirmata(t, testFirmata, tt.major, tt.minor)
				if !bytes.Equal(got, tt.want) {
					t.Errorf("set-up bytes\n% x\nwant\n% x", got, tt.want)
				}
			})
		})
	}
}

func TestFirmataIdentify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, _, _ := openedFirmata(t, testFirmata, 2, 5)
		want := device.Info{ID: "firmata:/dev/ttyFAKE0", Driver: "firmata", Path: "/dev/ttyFAKE0",
			Model: "StandardFirmata", Firmware: "StandardFirmata v2.5", Buttons: 2,
			Colors: []device.Color{device.Red, device.Green, device.Yellow, device.White}}
		if got := d.Info(); !equalInfo(got, want) {
			t.Errorf("Info() = %+v; want %+v", got, want)
		}
		if major, minor := d.Protocol(); major != 2 || minor != 5 {
			t.Errorf("Protocol() = %d.%d; want 2.5", major, minor)
		}
	})
}

func equalInfo(a, b device.Info) bool {
	return a.ID == b.ID && a.Driver == b.Driver && a.Path == b.Path && a.Model == b.Model &&
		a.Firmware == b.Firmware && a.Serial == b.Serial && a.Buttons == b.Buttons &&
		strings.Join(colorNames(a.Colors), ",") == strings.Join(colorNames(b.Colors), ",")
}

func colorNames(cs []device.Color) []string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c))
	}
	return s
}

func TestFirmataIDFromSerialNumber(t *testing.T) {
	d := newFirmataDevice(newFakePort(), testFirmata, "85734323430351F0A1C2", nil)
	if got, want := d.Info().ID, "firmata:85734323430351F0A1C2"; got != want {
		t.Errorf("ID = %q; want %q", got, want)
	}
}

// TestFirmataIdentifySlowBoot plays an Uno that resets when the port opens:
// deaf for 2.5 s, then announcing itself.
func TestFirmataIdentifySlowBoot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePort()
		d := newFirmataDevice(p, testFirmata, "", nil)
		defer d.Close()
		queries := make(chan int, 1)
		go func() {
			n := 0
			boot := time.After(2500 * time.Millisecond)
			for {
				select {
				case w := <-p.out:
					if bytes.Equal(w, capsQuery) {
						queries <- n
						p.sendBytes(capabilities(20))
						return
					}
					n += bytes.Count(w, []byte{firmata.ReportVersion})
				case <-boot:
					p.sendBytes(announce(2, 5))
				}
			}
		}()
		start := time.Now()
		if err := d.identify(t.Context(), FirmataOpenTimeout); err != nil {
			t.Fatalf("identify: %v", err)
		}
		if took := time.Since(start); took != 2500*time.Millisecond {
			t.Errorf("identify took %v; want 2.5s, when the board announced itself", took)
		}
		if got := <-queries; got != 3 {
			t.Errorf("%d version queries before the board booted; want 3 (at 0, 1 and 2 s)", got)
		}
	})
}

func TestFirmataIdentifyNoAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePort()
		d := newFirmataDevice(p, testFirmata, "", nil)
		defer d.Close()
		go func() {
			for {
				select {
				case <-p.out:
					p.sendBytes([]byte{0x01, 0xF0, 0x10, 0xF7}) // noise, not an answer
				case <-p.closed:
					return
				}
			}
		}()
		start := time.Now()
		err := d.identify(t.Context(), FirmataOpenTimeout)
		if !errors.Is(err, device.ErrNoAnswer) {
			t.Fatalf("identify = %v; want an error wrapping device.ErrNoAnswer", err)
		}
		if waited := time.Since(start); waited != FirmataOpenTimeout {
			t.Errorf("identify gave up after %v; want %v", waited, FirmataOpenTimeout)
		}
		if st := d.Stats(); st.Malformed == 0 || st.Ignored == 0 {
			t.Errorf("Stats() = %+v; want the noise counted", st)
		}
	})
}

// TestFirmataIdentifyVersionOnly opens a board that only answers the
// version query: it is used, named by its protocol.
func TestFirmataIdentifyVersionOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakePort()
		d := newFirmataDevice(p, testFirmata, "", nil)
		defer d.Close()
		go func() {
			<-p.out
			p.sendBytes(firmata.AppendVersion(nil, 2, 6))
		}()
		start := time.Now()
		if err := d.identify(t.Context(), FirmataOpenTimeout); err != nil {
			t.Fatalf("identify: %v", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("identify took %v; want about %v after the version", took, firmataAnswerWait)
		}
		if info := d.Info(); info.Model != "Firmata" || info.Firmware != "Firmata protocol v2.6" {
			t.Errorf("Model, Firmware = %q, %q; want \"Firmata\", \"Firmata protocol v2.6\"", info.Model, info.Firmware)
		}
	})
}

func TestFirmataIdentifyContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newFirmataDevice(newFakePort(), testFirmata, "", nil)
		defer d.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if err := d.identify(ctx, FirmataOpenTimeout); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("identify with a 300ms context = %v; want context.DeadlineExceeded", err)
		}
	})
}

// edgeLog collects the edges of a running device.
type edgeLog struct {
	mu    sync.Mutex
	edges []device.Edge
}

func (l *edgeLog) add(e device.Edge) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.edges = append(l.edges, e)
}

func (l *edgeLog) take() []device.Edge {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.edges
	l.edges = nil
	return e
}

// runFirmata runs d until the test ends.
func runFirmata(t *testing.T, d *FirmataDevice) *edgeLog {
	l := &edgeLog{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, l.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l
}

// TestFirmataEdges checks that every change of a button pin is an edge,
// bounce included (the gesture detector debounces), with the time it was
// read, and that a report repeating a pin's level is none.
func TestFirmataEdges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 5)
		edges := runFirmata(t, d)
		port0 := func(pin2Low bool) {
			v := uint8(0xFF)
			if pin2Low {
				v &^= 1 << 2
			}
			p.sendBytes(firmata.AppendDigital(nil, 0, v))
			synctest.Wait()
		}
		start := time.Now()
		port0(true) // pressed
		time.Sleep(2 * time.Millisecond)
		port0(false) // bounce
		port0(false) // the same level again: no edge
		time.Sleep(2 * time.Millisecond)
		port0(true) // bounce, settling down
		time.Sleep(60 * time.Millisecond)
		port0(false) // released
		got := edges.take()
		want := []device.Edge{
			{Button: 1, Down: true, Time: start},
			{Button: 1, Down: false, Time: start.Add(2 * time.Millisecond)},
			{Button: 1, Down: true, Time: start.Add(4 * time.Millisecond)},
			{Button: 1, Down: false, Time: start.Add(64 * time.Millisecond)},
		}
		if !equalEdges(got, want) {
			t.Errorf("edges of a bouncy press = %v; want %v", got, want)
		}
	})
}

func equalEdges(a, b []device.Edge) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Button != b[i].Button || a[i].Down != b[i].Down || !a[i].Time.Equal(b[i].Time) {
			return false
		}
	}
	return true
}

// TestFirmataPortReport checks which bits of a port report are which
// buttons, and that other ports and the LED pins' bits are ignored.
func TestFirmataPortReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 5)
		edges := runFirmata(t, d)
		p.sendBytes(firmata.AppendDigital(nil, 1, 0xFD)) // pin 9 low: button 2 down
		p.sendBytes(firmata.AppendDigital(nil, 2, 0x00)) // a port without buttons
		p.sendBytes(firmata.AppendDigital(nil, 1, 0x00)) // LED pins 12, 13 read low: nothing
		synctest.Wait()
		got := edges.take()
		if len(got) != 1 || got[0].Button != 2 || !got[0].Down {
			t.Errorf("edges = %v; want button 2 down only", got)
		}
	})
}

// TestFirmataLEDTiming checks the LED states the host times: a flash goes
// off after its duration, a pulse toggles every half period until the next
// state, and nothing is written after Close.
func TestFirmataLEDTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 5)
		const (
			redOn, redOff     = "f5 0c 01", "f5 0c 00"
			greenOn, greenOff = "f5 0d 00", "f5 0d 01" // active low
		)
		expect := func(what string, want ...string) {
			t.Helper()
			synctest.Wait()
			select {
			case b := <-p.out:
				if got := strings.TrimSpace(hexBytes(b)); got != strings.Join(want, " ") {
					t.Errorf("%s: wrote %q; want %q", what, got, strings.Join(want, " "))
				}
			default:
				t.Errorf("%s: nothing written; want %q", what, strings.Join(want, " "))
			}
			p.none(t)
		}
		if err := d.SetLED(t.Context(), 1, device.LEDSuccess); err != nil {
			t.Fatal(err)
		}
		expect("success", redOff, greenOn)
		time.Sleep(1499 * time.Millisecond)
		synctest.Wait()
		p.none(t)
		time.Sleep(time.Millisecond)
		expect("success after 1.5s", redOff, greenOff)

		if err := d.SetLED(t.Context(), 1, device.LEDBusy); err != nil {
			t.Fatal(err)
		}
		expect("busy", redOn, greenOn)
		if got := d.LED(1); got != device.LEDBusy {
			t.Errorf("LED(1) = %+v; want %+v", got, device.LEDBusy)
		}
		for i := range 3 {
			time.Sleep(500 * time.Millisecond)
			if i%2 == 0 {
				expect("busy, dark half", redOff, greenOff)
			} else {
				expect("busy, lit half", redOn, greenOn)
			}
		}
		if err := d.SetLED(t.Context(), 1, device.LEDFailure); err != nil {
			t.Fatal(err)
		}
		expect("failure replaces busy", redOn, greenOff)
		if err := d.SetLED(t.Context(), 1, device.LEDBusy); err != nil {
			t.Fatal(err)
		}
		expect("busy again", redOn, greenOn)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		p.none(t)
		if err := d.SetLED(t.Context(), 1, device.LEDIdle); !errors.Is(err, device.ErrGone) {
			t.Errorf("SetLED after Close = %v; want an error wrapping device.ErrGone", err)
		}
	})
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteString(" " + string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15]))
	}
	return sb.String()
}

// TestFirmataLEDPortMessages checks LED writes on a 2.3 board, which has no
// SET_DIGITAL_PIN_VALUE: one port message keeps the pull-up of button 2.
func TestFirmataLEDPortMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 3)
		if err := d.SetLED(t.Context(), 1, device.LED{Mode: device.LEDOn, Color: device.Yellow}); err != nil {
			t.Fatal(err)
		}
		// Port 1: pin 9 pulled up (bit 1), pin 12 high (bit 4), pin 13 low (bit 5, active low).
		if got, want := p.next(t), firmata.AppendDigital(nil, 1, 0x12); !bytes.Equal(got, want) {
			t.Errorf("yellow on: wrote % x; want % x", got, want)
		}
	})
}

func TestFirmataSetLEDButtons(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 5)
		for _, n := range []int{0, 3} {
			if err := d.SetLED(t.Context(), n, device.LEDBusy); err == nil || !strings.Contains(err.Error(), "out of range 1..2") {
				t.Errorf("SetLED(%d) = %v; want an out-of-range error", n, err)
			}
		}
		if err := d.SetLED(t.Context(), 2, device.LEDBusy); err != nil {
			t.Errorf("SetLED on a button without LED = %v; want nil", err)
		}
		synctest.Wait()
		p.none(t)
	})
}

func TestFirmataUnplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d, p, _ := openedFirmata(t, testFirmata, 2, 5)
		done := make(chan error, 1)
		go func() { done <- d.Run(t.Context(), func(device.Edge) {}) }()
		p.unplug()
		if err := <-done; !errors.Is(err, device.ErrGone) {
			t.Errorf("Run after unplug = %v; want an error wrapping device.ErrGone", err)
		}
		if err := d.SetLED(t.Context(), 1, device.LEDBusy); !errors.Is(err, device.ErrGone) {
			t.Errorf("SetLED after unplug = %v; want an error wrapping device.ErrGone", err)
		}
	})
}

func TestFirmataOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts FirmataOptions
		want []string // each must be in the error; none: valid
	}{
		{"valid", testFirmata, nil},
		{"empty", FirmataOptions{}, []string{"port: is empty", "buttons: none configured"}},
		{"pins", FirmataOptions{Port: "p", Buttons: []FirmataButton{
			{Pin: 128}, {Pin: 3, LEDs: []FirmataLED{{Pin: 3}, {Pin: -1}, {Pin: 4, Color: "purple"}}}}},
			[]string{"buttons[0].pin: 128 is out of range 0..127", "buttons[1].leds[0].pin: pin 3 is already used by buttons[1].pin",
				"buttons[1].leds[1].pin: -1 is out of range", `buttons[1].leds[2].color: unknown colour "purple"`}},
		{"numbers", FirmataOptions{Port: "p", Baud: -1, DebounceMS: 5000, Buttons: []FirmataButton{{Pin: 2}}},
			[]string{"baud: -1 is negative", "debounce_ms: 5000 is out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.opts.Validate(), tt.want) })
	}
}

func TestFirmataSetPorts(t *testing.T) {
	d := NewFirmataDriver(nil)
	if got := d.Name(); got != "firmata" {
		t.Errorf("Name() = %q; want firmata", got)
	}
	good := []FirmataOptions{testFirmata}
	if err := d.SetPorts(good); err != nil {
		t.Fatalf("SetPorts(valid) = %v", err)
	}
	good[0].Buttons[0].Pin = 99 // the driver keeps its own copy
	if got := d.Ports()[0].Buttons[0].Pin; got != 2 {
		t.Errorf("pin after the caller changed its slice = %d; want 2", got)
	}
	good[0].Buttons[0].Pin = 2
	err := d.SetPorts([]FirmataOptions{testFirmata, testFirmata, {Port: "/dev/ttyACM1"}})
	for _, w := range []string{"[1].port: /dev/ttyFAKE0 is already configured at [0]", "[2].buttons: none configured"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("SetPorts(bad) = %v; want it to say %q", err, w)
		}
	}
	if got := d.Ports(); len(got) != 1 {
		t.Errorf("Ports() after a rejected SetPorts = %d configs; want the 1 from before", len(got))
	}
}
