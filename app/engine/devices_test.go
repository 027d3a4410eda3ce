package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
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
	if !got.usbEnabled() {
		t.Error("USB is off, but no file turned it off")
	}
	must(Config{Devices: &Devices{USB: &USBSettings{Enabled: ptr(false)}}})
	must(Config{Devices: &Devices{USB: &USBSettings{}}})
	if e.DeviceConfig().usbEnabled() {
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
	// it. The line device leaves the config: it is closed and says why.
	if err := e.SetDeviceConfig(Devices{BH1: []string{bh1.Path()}, Firmata: []serial.FirmataOptions{firmataBoard(fb.Path(), 3)}}); err != nil {
		t.Fatal(err)
	}
	gone := waitState(t, e, lid, func(d DeviceState) bool { return !d.Connected })
	if !strings.Contains(gone.Error, "not configured any more") {
		t.Errorf("removed line device: error %q, want it to say it is not configured any more", gone.Error)
	}
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
// as the button does. A debounce setting of 0 for the button makes a
// bouncing press two presses, where the default window makes it one; USB
// turned off closes the light and says why.
func TestPairedLightAndDebounce(t *testing.T) {
	status := make(chan int, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(<-status) }))
	t.Cleanup(srv.Close)
	ld := &lightDriver{leds: make(chan device.LED, 16)}
	r := newRig(t, Options{})
	r.e, _ = newStoreEngine(t, Options{Drivers: []device.Driver{serial.NewDriver(nil), ld}, ScanInterval: 20 * time.Millisecond})
	err := r.e.Import(Config{
		Targets:  []actions.Target{{Name: "Door", Enabled: true, Method: "GET", URL: srv.URL}},
		Bindings: []Binding{{Button: 1, Target: "Door"}},
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

	for _, c := range []struct {
		code int
		want device.LED
	}{{200, device.LEDSuccess}, {500, device.LEDFailure}} {
		status <- c.code
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

	// A bouncing press: down, up, down, up within a millisecond or two.
	bounce := func() int {
		t.Helper()
		// The button has rested since its last edge for longer than the
		// window: the first edge below is a real one.
		time.Sleep(100 * time.Millisecond)
		for _, down := range []bool{true, false, true, false} {
			var err error
			if down {
				err = r.btn.Down(1)
			} else {
				err = r.btn.Up(1)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		// Count the finished attempts until none has come for 400 ms.
		n := 0
		quiet := time.NewTimer(time.Second)
		defer quiet.Stop()
		for {
			select {
			case ev := <-events:
				if ev.Kind == AttemptChanged && ev.Attempt.Status != storage.StatusWaiting {
					n++
					quiet.Reset(400 * time.Millisecond)
				}
			case <-quiet.C:
				return n
			}
		}
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
	for range 4 {
		status <- 200
	}
	if n := bounce(); n != 1 {
		t.Errorf("with the default debounce window, a bouncing press gave %d attempts, want 1", n)
	}
	if err := r.e.Import(Config{Devices: &Devices{Debounce: []Debounce{{Device: "serial:SIM-TEST", Button: 1, MS: ptr(0)}}}}); err != nil {
		t.Fatal(err)
	}
	drain()
	if n := bounce(); n != 2 {
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
