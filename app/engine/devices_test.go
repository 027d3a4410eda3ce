package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

func ptr[T any](v T) *T { return &v }

func newStoreEngine(t *testing.T, o Options) (*Engine, *storage.DB) {
	t.Helper()
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o.Store = db
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return e, db
}

func firmataBoard(port string, pins ...int) serial.FirmataOptions {
	o := serial.FirmataOptions{Port: port}
	for _, p := range pins {
		o.Buttons = append(o.Buttons, serial.FirmataButton{Pin: p})
	}
	return o
}

func linesDevice(port string) serial.LinesOptions {
	return serial.LinesOptions{Port: port, Patterns: []serial.LinePattern{{Regexp: "^PRESSED$", Button: 1, Edge: "press"}}}
}

func TestDevicesImportExportRoundTrip(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	in := Devices{
		BH1:     []string{"/dev/ttyACM0"},
		Firmata: []serial.FirmataOptions{firmataBoard("/dev/ttyACM1", 2, 3)},
		Lines:   []serial.LinesOptions{linesDevice("/dev/ttyUSB0")},
		USB:     &USBSettings{Enabled: ptr(false)},
		Debounce: []Debounce{
			{Device: "firmata:/dev/ttyACM1", MS: ptr(40)},
			{Device: "firmata:/dev/ttyACM1", Button: 2, MS: ptr(0)},
		},
		Pairs: []Pair{{ButtonDevice: "usb:1d34:000d:", Button: 1, LightDevice: "usb:27b8:01ed:X"}},
	}
	if err := e.Import(Config{Devices: &in, SerialPorts: []string{"/dev/ttyS9"}}); err != nil {
		t.Fatal(err)
	}
	got := e.DeviceConfig()
	want := in.clone()
	want.BH1 = []string{"/dev/ttyS9", "/dev/ttyACM0"} // serial_ports first, as the file lists them
	want.Pairs[0].LightButton = 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("device config = %v\nwant %v", &got, &want)
	}

	// The export's file round-trips into another data directory.
	data, err := json.Marshal(e.Export())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "serial_ports") {
		t.Errorf("the export writes serial_ports: %s", data)
	}
	var file Config
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	e2, _ := newStoreEngine(t, Options{})
	if err := e2.Import(file); err != nil {
		t.Fatalf("import the export: %v", err)
	}
	if got2 := e2.DeviceConfig(); !reflect.DeepEqual(got2.section(), got.section()) {
		t.Errorf("after the round trip: %v\nwant %v", got2.section(), got.section())
	}

	// The section survives a reopen.
	e3, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got3 := e3.DeviceConfig(); !reflect.DeepEqual(got3, got) {
		t.Errorf("after reopening: %v\nwant %v", &got3, &got)
	}
}

func TestDevicesLegacySerialPortsDocument(t *testing.T) {
	db, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// A data directory written before the devices section.
	if err := db.PutConfig(kindSettings, idPorts, []byte(`["/dev/ttyACM0","/dev/ttyACM1"]`)); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.DeviceConfig().BH1; !reflect.DeepEqual(got, []string{"/dev/ttyACM0", "/dev/ttyACM1"}) {
		t.Fatalf("BH1 ports = %q, want the old serial_ports", got)
	}
	if err := e.AddSerialPort("/dev/ttyACM2"); err != nil {
		t.Fatal(err)
	}
	docs, err := db.Config(kindSettings)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := docs[idPorts]; ok {
		t.Error("the old serial_ports document is still there after the devices section was saved")
	}
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.DeviceConfig().BH1; !reflect.DeepEqual(got, []string{"/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyACM2"}) {
		t.Errorf("BH1 ports after reopening = %q", got)
	}
}

func TestDevicesMergeByPort(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	must := func(c Config) {
		t.Helper()
		if err := e.Import(c); err != nil {
			t.Fatal(err)
		}
	}
	must(Config{Devices: &Devices{
		BH1:      []string{"/dev/a", "/dev/b"},
		Firmata:  []serial.FirmataOptions{firmataBoard("/dev/c", 2)},
		Debounce: []Debounce{{Device: "serial:X", MS: ptr(10)}},
		Pairs:    []Pair{{ButtonDevice: "serial:X", Button: 1, LightDevice: "usb:L1"}},
	}})
	// /dev/a becomes a Firmata board, /dev/c a line device; the Firmata
	// board at /dev/c is replaced, the debounce and pair of serial:X
	// button 1 too; USB is left alone.
	must(Config{Devices: &Devices{
		Firmata:  []serial.FirmataOptions{firmataBoard("/dev/a", 5)},
		Lines:    []serial.LinesOptions{linesDevice("/dev/c")},
		Debounce: []Debounce{{Device: "serial:X", MS: ptr(30)}, {Device: "serial:X", Button: 1, MS: ptr(5)}},
		Pairs:    []Pair{{ButtonDevice: "serial:X", Button: 1, LightDevice: "usb:L2", LightButton: 2}},
	}})
	got := e.DeviceConfig()
	want := Devices{
		BH1:      []string{"/dev/b"},
		Firmata:  []serial.FirmataOptions{firmataBoard("/dev/a", 5)},
		Lines:    []serial.LinesOptions{linesDevice("/dev/c")},
		Debounce: []Debounce{{Device: "serial:X", MS: ptr(30)}, {Device: "serial:X", Button: 1, MS: ptr(5)}},
		Pairs:    []Pair{{ButtonDevice: "serial:X", Button: 1, LightDevice: "usb:L2", LightButton: 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after the merge: %v\nwant %v", &got, &want)
	}
	if !got.USBEnabled() {
		t.Error("USB is off, but no file turned it off")
	}
	must(Config{Devices: &Devices{USB: &USBSettings{Enabled: ptr(false)}}})
	must(Config{Devices: &Devices{USB: &USBSettings{}}})
	if e.DeviceConfig().USBEnabled() {
		t.Error("an import without usb.enabled turned USB back on")
	}

	// SetDeviceConfig replaces the section, keeping USB.
	if err := e.SetDeviceConfig(Devices{BH1: []string{"/dev/z"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.DeviceConfig(), (Devices{BH1: []string{"/dev/z"}, USB: &USBSettings{Enabled: ptr(false)}}); !reflect.DeepEqual(got, want) {
		t.Errorf("after SetDeviceConfig: %v, want %v", &got, &want)
	}
}

func TestDevicesImportProblems(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Config
		want []string
	}{
		{"same port as BH1 and Firmata", Config{Devices: &Devices{BH1: []string{"/dev/a"}, Firmata: []serial.FirmataOptions{firmataBoard("/dev/a", 2)}}},
			[]string{"devices.firmata[0].port: /dev/a is also configured as a BH1 device at devices.bh1[0]: a port speaks one protocol"}},
		{"same port in serial_ports and lines", Config{SerialPorts: []string{"/dev/a"}, Devices: &Devices{Lines: []serial.LinesOptions{linesDevice("/dev/a")}}},
			[]string{"devices.lines[0].port: /dev/a is also configured as a BH1 device at serial_ports[0]"}},
		{"same port as Firmata and lines", Config{Devices: &Devices{Firmata: []serial.FirmataOptions{firmataBoard("/dev/a", 2)}, Lines: []serial.LinesOptions{linesDevice("/dev/a")}}},
			[]string{"devices.lines[0].port: /dev/a is also configured as a Firmata device at devices.firmata[0].port"}},
		{"one Firmata port twice", Config{Devices: &Devices{Firmata: []serial.FirmataOptions{firmataBoard("/dev/a", 2), firmataBoard("/dev/a", 3)}}},
			[]string{"devices.firmata[1].port: /dev/a is also configured at devices.firmata[0].port"}},
		{"driver problems with their paths", Config{Devices: &Devices{
			Firmata: []serial.FirmataOptions{{Port: "/dev/a", Buttons: []serial.FirmataButton{{Pin: 2}, {Pin: 2}}}},
			Lines:   []serial.LinesOptions{{Port: "/dev/b", Patterns: []serial.LinePattern{{Regexp: "(", Button: 1, Edge: "down"}}}},
		}}, []string{"devices.firmata[0].buttons[1].pin: pin 2 is already used by buttons[0].pin", "devices.lines[0].patterns[0].regexp: error parsing regexp"}},
		{"debounce and pairs", Config{Devices: &Devices{
			Debounce: []Debounce{{Device: "serial:X", MS: ptr(10)}, {Device: "serial:X", MS: ptr(20)}},
			Pairs:    []Pair{{ButtonDevice: "serial:X", Button: 1, LightDevice: "serial:X"}},
		}}, []string{"devices.debounce[1]: serial:X button 0 is also set at devices.debounce[0]", "devices.pairs[0].light_device: serial:X is the button's own device"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newStoreEngine(t, Options{})
			if err := e.Import(Config{Devices: &Devices{BH1: []string{"/dev/keep"}}}); err != nil {
				t.Fatal(err)
			}
			err := e.Import(c.in)
			var ie ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("Import = %v, want an ImportError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if got := e.DeviceConfig(); !reflect.DeepEqual(got, Devices{BH1: []string{"/dev/keep"}}) {
				t.Errorf("a refused import changed the devices: %v", &got)
			}
		})
	}
}

// hookCounter is a webhook server that counts its requests.
func hookCounter(t *testing.T) (url string, hits <-chan string) {
	t.Helper()
	ch := make(chan string, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ch <- r.URL.Path }))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// runEngine runs e until the test ends.
func runEngine(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitState waits until the device with the given ID (or, when it has
// none, at path) has a state for which ok holds, and returns it.
func waitState(t *testing.T, e *Engine, id string, ok func(DeviceState) bool) DeviceState {
	t.Helper()
	ev, unsub := e.Subscribe(64)
	defer unsub()
	deadline := time.After(10 * time.Second)
	for {
		for _, d := range e.Devices() {
			if (d.ID == id || d.ID == "" && d.Path == id) && ok(d) {
				return d
			}
		}
		select {
		case <-ev:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("device %s never reached the state: %+v", id, e.Devices())
		}
	}
}

func connected(d DeviceState) bool { return d.Connected }

// waitGone waits until no device with the given ID (or at the given path)
// is listed.
func waitGone(t *testing.T, e *Engine, id string) {
	t.Helper()
	ev, unsub := e.Subscribe(64)
	defer unsub()
	deadline := time.After(10 * time.Second)
	for slices.ContainsFunc(e.Devices(), func(d DeviceState) bool { return d.ID == id || d.Path == id }) {
		select {
		case <-ev:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("device %s is still listed: %+v", id, e.Devices())
		}
	}
}

func expectHit(t *testing.T, hits <-chan string, want string) {
	t.Helper()
	select {
	case got := <-hits:
		if got != want {
			t.Errorf("request to %s, want %s", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no request to %s", want)
	}
}

// TestEveryDriverFromConfig runs the engine over the real serial drivers
// with a simulated BH1 board, Firmata board and line device on
// pseudo-terminals, all configured through the devices section: each
// press reaches its target, the state says which protocol, and config
// changes apply to the running engine (a changed board reopens, a removed
// device closes).
func TestEveryDriverFromConfig(t *testing.T) {
	bh1, err := sim.New(sim.Options{Serial: "SIM-ALL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bh1.Close() })
	fb, err := sim.NewFirmata(sim.FirmataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fb.Close() })
	lb, err := sim.NewLineBoard()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })

	sd, fd, ld := serial.NewDriver(nil), serial.NewFirmataDriver(nil), serial.NewLinesDriver(nil)
	e, _ := newStoreEngine(t, Options{Drivers: []device.Driver{sd, fd, ld}, ScanInterval: 20 * time.Millisecond})
	url, hits := hookCounter(t)
	fid, lid := "firmata:"+fb.Path(), "lines:"+lb.Path()
	err = e.Import(Config{
		Targets: []actions.Target{
			{Name: "bh1", Enabled: true, Method: "GET", URL: url + "/bh1"},
			{Name: "firmata", Enabled: true, Method: "GET", URL: url + "/firmata"},
			{Name: "lines", Enabled: true, Method: "GET", URL: url + "/lines"},
		},
		Bindings: []Binding{
			{Device: "serial:SIM-ALL", Button: 1, Target: "bh1"},
			{Device: fid, Button: 1, Target: "firmata"},
			{Device: lid, Button: 1, Target: "lines"},
		},
		Devices: &Devices{
			BH1:     []string{bh1.Path()},
			Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 2)},
			Lines:   []serial.LinesOptions{linesDevice(lb.Path())},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.Ports(); len(got) != 1 || got[0] != bh1.Path() {
		t.Errorf("BH1 driver ports = %q", got)
	}
	runEngine(t, e)
	for id, proto := range map[string]string{"serial:SIM-ALL": "BH1", fid: "Firmata", lid: "lines"} {
		if d := waitState(t, e, id, connected); d.Protocol != proto || d.Since.IsZero() || d.Reconnects != 0 {
			t.Errorf("%s: protocol %q since %v reconnects %d, want %s, a time, 0", id, d.Protocol, d.Since, d.Reconnects, proto)
		}
	}
	if err := bh1.Press(1); err != nil {
		t.Fatal(err)
	}
	expectHit(t, hits, "/bh1")
	if err := fb.Press(2); err != nil {
		t.Fatal(err)
	}
	expectHit(t, hits, "/firmata")
	if err := lb.Print("PRESSED"); err != nil {
		t.Fatal(err)
	}
	expectHit(t, hits, "/lines")

	// The Firmata button moves to pin 3: the board is opened again with
	// it. The line device leaves the config: it is closed and no longer
	// listed.
	if err := e.SetDeviceConfig(Devices{BH1: []string{bh1.Path()}, Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 3)}}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e, lid)
	waitState(t, e, fid, func(d DeviceState) bool { return d.Connected && d.Reconnects == 1 })
	if err := fb.Press(3); err != nil {
		t.Fatal(err)
	}
	expectHit(t, hits, "/firmata")
	if err := lb.Print("PRESSED"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-hits:
		t.Errorf("a request to %s after the line device was removed", got)
	case <-time.After(200 * time.Millisecond):
	}
}

// light is a fake LED-only device (like a blink(1)): no buttons, one LED,
// reached through a fake driver named "usb".
type light struct {
	info   device.Info
	leds   chan device.LED
	closed chan struct{}
	once   sync.Once
}

func (l *light) Info() device.Info { return l.info }
func (l *light) Run(ctx context.Context, _ func(device.Edge)) error {
	select {
	case <-ctx.Done():
		return nil
	case <-l.closed:
		return fmt.Errorf("closed: %w", device.ErrGone)
	}
}
func (l *light) Close() error { l.once.Do(func() { close(l.closed) }); return nil }
func (l *light) SetLED(_ context.Context, button int, led device.LED) error {
	if button != 1 {
		return fmt.Errorf("no LED %d", button)
	}
	l.leds <- led
	return nil
}

type lightDriver struct {
	leds  chan device.LED
	mu    sync.Mutex
	opens int
}

func (d *lightDriver) Name() string { return "usb" }
func (d *lightDriver) Scan(context.Context) ([]device.Candidate, error) {
	return []device.Candidate{{Key: "usb:1-1@2", Driver: "usb"}}, nil
}
func (d *lightDriver) Open(context.Context, device.Candidate) (device.Device, error) {
	d.mu.Lock()
	d.opens++
	d.mu.Unlock()
	return &light{
		info:   device.Info{ID: "usb:27b8:01ed:FAKE", Driver: "usb", Path: "1-1", Model: "blink(1)", Colors: []device.Color{device.Red, device.Green, device.Yellow}},
		leds:   d.leds,
		closed: make(chan struct{}),
	}, nil
}

func nextLight(t *testing.T, leds <-chan device.LED) device.LED {
	t.Helper()
	select {
	case l := <-leds:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("the paired light got no LED state within 5 s")
	}
	return device.LED{}
}

// TestPairedLightAndDebounce pairs a simulated BH1 button with a fake
// LED-only device: the light shows the button's yellow, then green or red,
// as the button does. A bouncing press is one press with the default
// debounce window, and two on a button whose debounce setting is 0; USB
// turned off closes the light and says why.
//
// Edges count from when the host received them, so each press or bounce
// starts once the button's previous edges are known to have been handled
// (their attempt finished), and a rest longer than the window after.
func TestPairedLightAndDebounce(t *testing.T) {
	status := make(chan int, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(<-status) }))
	t.Cleanup(srv.Close)
	markURL, _ := hookCounter(t)
	ld := &lightDriver{leds: make(chan device.LED, 16)}
	btn, err := sim.New(sim.Options{Serial: "SIM-TEST", Buttons: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	e, db := newStoreEngine(t, Options{Drivers: []device.Driver{serial.NewDriver(nil), ld}, ScanInterval: 20 * time.Millisecond})
	r := &rig{e: e, db: db, btn: btn}
	err = r.e.Import(Config{
		Targets: []actions.Target{
			{Name: "Door", Enabled: true, Method: "GET", URL: srv.URL},
			{Name: "Mark", Enabled: true, Method: "GET", URL: markURL},
		},
		Bindings: []Binding{
			{Button: 1, Target: "Door"}, {Button: 1, Gesture: device.LongPress, Target: "Mark"},
			{Button: 2, Target: "Door"}, {Button: 2, Gesture: device.LongPress, Target: "Mark"},
		},
		Devices: &Devices{
			BH1:   []string{r.btn.Path()},
			Pairs: []Pair{{ButtonDevice: "serial:SIM-TEST", Button: 1, LightDevice: "usb:27b8:01ed:FAKE"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	events, unsub := r.e.Subscribe(256)
	defer unsub()
	r.start(t)
	waitState(t, r.e, "usb:27b8:01ed:FAKE", connected)
	// rest waits longer than the debounce window, so that the next edge
	// is a real one.
	rest := func() { time.Sleep(100 * time.Millisecond) }

	for _, c := range []struct {
		code int
		want device.LED
	}{{200, device.LEDSuccess}, {500, device.LEDFailure}} {
		status <- c.code
		rest()
		if err := r.btn.Press(1); err != nil {
			t.Fatal(err)
		}
		if got := nextLight(t, ld.leds); got != device.LEDBusy {
			t.Errorf("light first shows %+v, want the busy pulse", got)
		}
		if got := nextLight(t, ld.leds); got != c.want {
			t.Errorf("light shows %+v after HTTP %d, want %+v", got, c.code, c.want)
		}
		if got, want := r.nextLED(t), "LED 1 PULSE yellow 1000"; got != want {
			t.Errorf("the button itself got %q, want %q", got, want)
		}
		r.nextLED(t)
	}

	// A bouncing press: down, up, down, up in one burst, as a bouncing
	// contact's edges reach the host. It returns how many presses (Door
	// attempts) it gave: once want have finished, a long press of the
	// button (Mark), which queues behind them, shows that no more follow.
	bounce := func(button, want int) int {
		t.Helper()
		rest()
		if err := r.btn.Bounce(button, true, false, true, false); err != nil {
			t.Fatal(err)
		}
		n, marked := 0, false
		deadline := time.After(10 * time.Second)
		for !marked {
			select {
			case ev := <-events:
				if ev.Kind != AttemptChanged || ev.Attempt.Status == storage.StatusWaiting {
					continue
				}
				if ev.Attempt.TargetName == "Mark" {
					marked = true
					continue
				}
				if n++; n == want {
					// Its press fired when the debounce window closed:
					// this down is a real one.
					if err := r.btn.Down(button); err != nil {
						t.Fatal(err)
					}
				}
			case <-deadline:
				t.Fatalf("a bouncing press of button %d gave %d attempts in 10 s, want %d", button, n, want)
			}
		}
		if err := r.btn.Up(button); err != nil {
			t.Fatal(err)
		}
		return n
	}
	drain := func() {
		for {
			select {
			case <-ld.leds:
			case <-r.btn.Commands():
			case <-events:
			default:
				return
			}
		}
	}
	drain()
	for range 3 {
		status <- 200
	}
	if n := bounce(1, 1); n != 1 {
		t.Errorf("with the default debounce window, a bouncing press gave %d attempts, want 1", n)
	}
	// Debouncing off for button 2, while running (its first edges come
	// next: no earlier window).
	if err := r.e.Import(Config{Devices: &Devices{Debounce: []Debounce{{Device: "serial:SIM-TEST", Button: 2, MS: ptr(0)}}}}); err != nil {
		t.Fatal(err)
	}
	if n := bounce(2, 2); n != 2 {
		t.Errorf("with debouncing off for the button, a bouncing press gave %d attempts, want 2", n)
	}

	// USB off: the light closes and says why.
	if err := r.e.Import(Config{Devices: &Devices{USB: &USBSettings{Enabled: ptr(false)}}}); err != nil {
		t.Fatal(err)
	}
	off := waitState(t, r.e, "usb:27b8:01ed:FAKE", func(d DeviceState) bool { return !d.Connected })
	if !strings.Contains(off.Error, "devices.usb.enabled is false") {
		t.Errorf("light turned off: error %q, want it to name devices.usb.enabled", off.Error)
	}
	if err := r.e.Import(Config{Devices: &Devices{USB: &USBSettings{Enabled: ptr(true)}}}); err != nil {
		t.Fatal(err)
	}
	if d := waitState(t, r.e, "usb:27b8:01ed:FAKE", connected); d.Reconnects != 1 {
		t.Errorf("light back on: %d reconnects, want 1", d.Reconnects)
	}
}

// TestDevicesListsConfiguredPortsAndProbes shows a configured port where
// nothing is, and Probe opening what is there when no engine runs.
func TestDevicesListsConfiguredPortsAndProbes(t *testing.T) {
	fb, err := sim.NewFirmata(sim.FirmataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fb.Close() })
	e, _ := newStoreEngine(t, Options{Drivers: []device.Driver{serial.NewDriver(nil), serial.NewFirmataDriver(nil)}, ExtraPorts: []string{"/dev/nothing-extra"}})
	if err := e.Import(Config{Devices: &Devices{BH1: []string{"/dev/nothing-here"}, Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 2)}}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ds := e.Probe(ctx)
	if len(ds) != 3 {
		t.Fatalf("Probe = %+v, want the board and the two missing ports", ds)
	}
	if d := ds[0]; !d.Connected || d.ID != "firmata:"+fb.Path() || d.Protocol != "Firmata" || d.Buttons != 1 {
		t.Errorf("first = %+v, want the connected Firmata board with 1 button", d)
	}
	for i, p := range []string{"/dev/nothing-extra", "/dev/nothing-here"} {
		d := ds[1+i]
		if d.Path != p || d.Connected || d.Protocol != "BH1" || !strings.Contains(d.Error, "not found") {
			t.Errorf("missing port %d = %+v, want %s, BH1, not found", i, d, p)
		}
	}
}

// TestFirmataDebounceApplies checks that an attached Firmata board's
// debounce_ms becomes its device's debounce window, and that a
// devices.debounce setting for the device wins over it. The contact
// bounces for 45 ms on release: the 25 ms default window takes the bounce
// for a second press, a 60 ms window does not.
func TestFirmataDebounceApplies(t *testing.T) {
	const port, id = "/dev/firmata-test", "firmata:/dev/firmata-test"
	tests := []struct {
		name       string
		debounceMS int
		override   []Debounce
		want       int // presses
	}{
		{"no debounce_ms: the default window", 0, nil, 2},
		{"debounce_ms 60", 60, nil, 1},
		{"devices.debounce wins", 60, []Debounce{{Device: id, MS: ptr(10)}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newStoreEngine(t, Options{})
			board := firmataBoard(port, 2)
			board.DebounceMS = tt.debounceMS
			if err := e.SetDeviceConfig(Devices{Firmata: []serial.FirmataOptions{board}, Debounce: tt.override}); err != nil {
				t.Fatal(err)
			}
			synctest.Test(t, func(t *testing.T) {
				presses := 0
				g := device.NewGestureDetector(device.DefaultGestureTiming,
					func(_ string, _ int, g device.Gesture) bool { return g == device.Press },
					func(string, int, device.Gesture, time.Time) { presses++ })
				defer g.Stop()
				e.setGestures(g)
				defer e.setGestures(nil)
				e.attached(device.Info{ID: id, Driver: serial.FirmataDriverName, Path: port, Buttons: 1})
				start := time.Now()
				for _, s := range []struct {
					ms   int
					down bool
				}{{0, true}, {100, false}, {145, true}, {150, false}} {
					time.Sleep(time.Until(start.Add(time.Duration(s.ms) * time.Millisecond)))
					g.Edge(id, device.Edge{Button: 1, Down: s.down, Time: time.Now()})
				}
				time.Sleep(time.Second)
				synctest.Wait()
				if presses != tt.want {
					t.Errorf("presses = %d, want %d", presses, tt.want)
				}
			})
		})
	}
}

// TestFixedPortRetriesAtOnce configures a simulated Firmata board with a
// button pin it does not have: opening it fails, and the Manager backs
// off (here a whole 10 s scan interval). Fixing the pin retries the port
// at once, without waiting out the back-off.
func TestFixedPortRetriesAtOnce(t *testing.T) {
	fb, err := sim.NewFirmata(sim.FirmataOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fb.Close() })
	const backoff = 10 * time.Second // the first back-off is one scan interval
	e, _ := newStoreEngine(t, Options{Drivers: []device.Driver{serial.NewDriver(nil), serial.NewFirmataDriver(nil)}, ScanInterval: backoff})
	if err := e.SetDeviceConfig(Devices{Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 40)}}); err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	failed := waitState(t, e, fb.Path(), func(d DeviceState) bool { return strings.Contains(d.Error, "pin 40") })
	if !strings.Contains(failed.Error, "cannot be an input") || failed.Protocol != "Firmata" {
		t.Errorf("failed board = %+v, want the Firmata port saying pin 40 cannot be an input", failed)
	}

	fixed := time.Now()
	if err := e.SetDeviceConfig(Devices{Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 2)}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, e, "firmata:"+fb.Path(), connected)
	if took := time.Since(fixed); took >= backoff/2 {
		t.Errorf("the fixed board attached %v after the fix, want at once (its back-off is %v)", took, backoff)
	}
}

// TestRemovedDevicesAreNotListed removes every port from the devices
// settings: the BH1 board that was attached and the port where nothing was
// are listed no more, while a USB light, which is found by scanning, stays
// listed (also when USB is turned off, with why). A port configured again
// is listed again.
func TestRemovedDevicesAreNotListed(t *testing.T) {
	btn, err := sim.New(sim.Options{Serial: "SIM-GONE"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	ld := &lightDriver{leds: make(chan device.LED, 16)}
	e, _ := newStoreEngine(t, Options{Drivers: []device.Driver{serial.NewDriver(nil), ld}, ScanInterval: 20 * time.Millisecond})
	both := Devices{BH1: []string{btn.Path(), "/dev/buttonhook-nothing"}}
	if err := e.SetDeviceConfig(both); err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	waitState(t, e, "serial:SIM-GONE", connected)
	waitState(t, e, "usb:27b8:01ed:FAKE", connected)
	waitState(t, e, "/dev/buttonhook-nothing", func(d DeviceState) bool { return strings.Contains(d.Error, "not found") })

	if err := e.SetDeviceConfig(Devices{USB: &USBSettings{Enabled: ptr(false)}}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, e, "serial:SIM-GONE")
	waitState(t, e, "usb:27b8:01ed:FAKE", func(d DeviceState) bool { return !d.Connected && strings.Contains(d.Error, "usb.enabled is false") })
	if ds := e.Devices(); len(ds) != 1 {
		t.Errorf("devices after removing the ports = %+v, want only the USB light", ds)
	}

	if err := e.SetDeviceConfig(both); err != nil {
		t.Fatal(err)
	}
	if d := waitState(t, e, "serial:SIM-GONE", connected); d.Reconnects != 1 || d.Protocol != "BH1" {
		t.Errorf("the board configured again = %+v, want it connected, BH1, reconnected once", d)
	}
	waitState(t, e, "/dev/buttonhook-nothing", func(d DeviceState) bool { return !d.Connected })
}
