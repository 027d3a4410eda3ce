package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
)

// thousand is a config of n targets and n bindings: target i is "Target
// NNNN" on base/t/i, and binding i puts it on a device, button and gesture
// of its own (192 per device: 64 buttons, 3 gestures). The first device is
// the simulated button's, serial:SIM-TEST.
func thousand(base string, n int) Config {
	gestures := []device.Gesture{device.Press, device.LongPress, device.DoublePress}
	var c Config
	for i := range n {
		t := actions.Target{Name: fmt.Sprintf("Target %04d", i), Enabled: true, Method: "POST",
			URL:  fmt.Sprintf("%s/t/%d", base, i),
			Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"target":"<TARGET>","eid":"<EID>","type":"<ETYPE>"}`}}
		if i%4 == 1 {
			t.Method, t.Body = "GET", actions.Body{}
			t.Query = []actions.KV{{Key: "target", Value: "<TARGET>"}}
		}
		c.Targets = append(c.Targets, t)
		dev := "serial:SIM-TEST"
		if d := i / 192; d > 0 {
			dev = fmt.Sprintf("serial:SIM-%d", d)
		}
		c.Bindings = append(c.Bindings, Binding{Device: dev, Button: i%192/3 + 1, Gesture: gestures[i%3], Target: t.Name})
	}
	return c
}

// withoutIdentity is c with what an import assigns (IDs, times, versions)
// cleared, for comparing configs across stores.
func withoutIdentity(c Config) Config {
	c.Targets = append([]actions.Target(nil), c.Targets...)
	for i := range c.Targets {
		c.Targets[i].ID, c.Targets[i].Created, c.Targets[i].Updated, c.Targets[i].Version = "", time.Time{}, time.Time{}, 0
	}
	c.Bindings = append([]Binding(nil), c.Bindings...)
	for i := range c.Bindings {
		c.Bindings[i].ID = ""
	}
	c.SerialPorts = nil
	c.Devices = nil
	c.Log = nil
	c.Server = nil
	return c
}

// TestThousandTargets imports 1,000 targets and 1,000 bindings into an
// engine over a real Badger directory: the export holds them all and
// round-trips through its file format into another store, an engine over
// the reopened directory sees them all, and a press on a bound button of a
// simulated board reaches its target and no other.
func TestThousandTargets(t *testing.T) {
	const n = 1000
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.RequestURI() + " " + string(b)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	db, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	in := thousand(srv.URL, n)
	start := time.Now()
	if err := e.Import(in); err != nil {
		t.Fatal(err)
	}
	t.Logf("import of %d targets and %d bindings: %v", n, n, time.Since(start))

	exp := e.Export()
	if len(exp.Targets) != n || len(exp.Bindings) != n {
		t.Fatalf("export has %d targets and %d bindings, want %d of each", len(exp.Targets), len(exp.Bindings), n)
	}
	want := withoutIdentity(in)
	want.Version = ConfigVersion
	want.sort()
	if got := withoutIdentity(exp); !reflect.DeepEqual(got, want) {
		t.Fatalf("the export is not what was imported (first target %+v, want %+v)", got.Targets[0], want.Targets[0])
	}

	// The export file imports into another store as the same config.
	file, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(file, &back); err != nil {
		t.Fatal(err)
	}
	other, err := storage.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	e2, err := New(Options{Store: other})
	if err != nil {
		t.Fatal(err)
	}
	if err := e2.Import(back); err != nil {
		t.Fatal(err)
	}
	if got := withoutIdentity(e2.Export()); !reflect.DeepEqual(got, want) {
		t.Errorf("the export file, imported again, gives another config")
	}

	// Reopened, the directory holds all of it, IDs and versions included.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	btn, err := sim.New(sim.Options{Serial: "SIM-TEST", Buttons: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	sd := serial.NewDriver(nil)
	e, err = New(Options{Store: db, Ports: sd, Drivers: []device.Driver{sd}, ScanInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Export(); !reflect.DeepEqual(got, exp) {
		t.Fatalf("after reopening: %d targets and %d bindings, not the ones exported", len(got.Targets), len(got.Bindings))
	}

	// Button 5's press is binding 12: Target 0012.
	if err := e.AddSerialPort(btn.Path()); err != nil {
		t.Fatal(err)
	}
	r := &rig{e: e, db: db, btn: btn}
	r.start(t)
	if err := btn.Press(5); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if !strings.HasPrefix(req, `POST /t/12 {"target":"Target 0012","eid":"`) || !strings.HasSuffix(req, `","type":"pressed"}`) {
			t.Errorf("the server got %q, want Target 0012's request", req)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the press reached no target")
	}
	if led := r.nextLED(t); led != "LED 5 PULSE yellow 1000" {
		t.Errorf("first LED = %q", led)
	}
	if led := r.nextLED(t); led != "LED 5 FLASH green 1500" {
		t.Errorf("result LED = %q, want green", led)
	}
	as, err := db.Attempts(storage.Query{})
	if err != nil || len(as) != 1 || as[0].TargetName != "Target 0012" || as[0].Status != storage.StatusOK || as[0].Button != 5 {
		t.Errorf("log = %+v (%v), want one OK attempt of Target 0012 from button 5", as, err)
	}
	select {
	case req := <-got:
		t.Errorf("another request arrived: %q", req)
	default:
	}
}
