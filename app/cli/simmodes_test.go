package cli

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/app/engine"
)

// TestBinarySimFirmataAndLines runs `buttonhook sim --firmata` and `sim
// --lines`, imports the devices section each prints, runs Buttonhook on
// it, and presses: the webhook is called, the simulated device shows the
// LED states, and `buttonhook devices --json` (through the running
// instance) shows the device connected with its protocol.
func TestBinarySimFirmataAndLines(t *testing.T) {
	bin := binary(t)
	for _, c := range []struct {
		mode, proto string
		busy, ok    string // what the device shows for the busy and OK LED states
	}{
		{"firmata", "Firmata", "pin 8 high", "pin 8 low"},
		{"lines", "lines", "LED 1 yellow pulse 1000", "LED 1 green flash 1500"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			cmd := exec.Command(bin, "sim", "--"+c.mode, "--buttons", "2")
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
			out, help := collect(stdout), collect(stderr)
			path, _ := out.waitFor(t, 0, "/")
			snippet, _ := help.waitFor(t, 0, `{"devices":`)
			if id, _ := help.waitFor(t, 0, "Its ID is"); !strings.Contains(id, c.mode+":"+path) {
				t.Errorf("the simulator says %q, want the ID %s:%s", id, c.mode, path)
			}
			file := filepath.Join(t.TempDir(), "devices.json")
			if err := os.WriteFile(file, []byte(snippet), 0o600); err != nil {
				t.Fatal(err)
			}
			data := t.TempDir()
			if o, errs, code := run(t, bin, "", "--data-dir", data, "targets", "import", file); code != 0 || !strings.Contains(o, "1 device port(s)") {
				t.Fatalf("import the printed devices section: exit %d\n%s%s", code, o, errs)
			}
			srv, got, _ := hookServer(t)
			if o, errs, code := run(t, bin, configFor(srv.URL), "--data-dir", data, "targets", "import", "-"); code != 0 {
				t.Fatalf("targets import: exit %d\n%s%s", code, o, errs)
			}
			inst := exec.Command(bin, "--data-dir", data, "run")
			instErr, _ := inst.StderrPipe()
			if err := inst.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { inst.Process.Kill(); inst.Wait() })
			logs := collect(instErr)
			logs.waitFor(t, 0, "device attached")

			out.mu.Lock()
			from := len(out.all)
			out.mu.Unlock()
			if _, err := io.WriteString(stdin, "press 1\n"); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-got:
				if !strings.HasPrefix(r, `/hook {"event":"pressed"`) {
					t.Errorf("server got %q", r)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the webhook server got no request")
			}
			_, i := out.waitFor(t, from, c.busy)
			out.waitFor(t, i+1, c.ok)

			o, errs, code := run(t, bin, "", "--data-dir", data, "devices", "--json")
			if code != 0 {
				t.Fatalf("devices --json: exit %d: %s", code, errs)
			}
			var rep struct {
				Devices []engine.DeviceState `json:"devices"`
			}
			if err := json.Unmarshal([]byte(o), &rep); err != nil {
				t.Fatalf("devices --json: %v\n%s", err, o)
			}
			if len(rep.Devices) != 1 || !rep.Devices[0].Connected || rep.Devices[0].ID != c.mode+":"+path ||
				rep.Devices[0].Protocol != c.proto || rep.Devices[0].Buttons != 2 || rep.Devices[0].Since.IsZero() {
				t.Errorf("devices = %+v, want %s:%s connected, %s, 2 buttons, with a time", rep.Devices, c.mode, path, c.proto)
			}
			o, _, _ = run(t, bin, "", "--data-dir", data, "devices")
			if !strings.Contains(o, c.mode+":"+path) || !strings.Contains(o, "connected") || !strings.Contains(o, c.proto) {
				t.Errorf("devices:\n%s", o)
			}
		})
	}
}

// TestBinaryDevicesWithoutInstance lists the devices of a data directory
// no Buttonhook runs on: the configured Firmata board of a simulator is
// opened once and shown, a configured port with nothing on it is shown
// with why.
func TestBinaryDevicesWithoutInstance(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "sim", "--firmata")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	path, _ := collect(stdout).waitFor(t, 0, "/")
	data := t.TempDir()
	cfg := `{"devices": {"bh1": ["/dev/buttonhook-nothing"], "firmata": [{"port": "` + path + `", "buttons": [{"pin": 2}]}],
	  "pairs": [{"button_device": "firmata:` + path + `", "button": 1, "light_device": "usb:27b8:01ed:X"}]}}`
	if o, errs, code := run(t, bin, cfg, "--data-dir", data, "targets", "import", "-"); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, o, errs)
	}
	o, errs, code := run(t, bin, "", "--data-dir", data, "devices")
	if code != 0 {
		t.Fatalf("devices: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"firmata:" + path, "connected", "Firmata", "StandardFirmata",
		"/dev/buttonhook-nothing", "not connected: serial port /dev/buttonhook-nothing not found",
		"Paired lights:", "firmata:" + path + " button 1 -> usb:27b8:01ed:X LED 1",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("devices output lacks %q:\n%s", want, o)
		}
	}
	// A refused devices section changes nothing and names the field.
	bad := `{"devices": {"bh1": ["` + path + `"]}, "serial_ports": [], "version": 3}`
	if _, errs, code := run(t, bin, strings.Replace(bad, `"bh1": ["`+path+`"]`, `"bh1": ["`+path+`"], "lines": [{"port": "`+path+`", "led": {"on": "X"}}]`, 1),
		"--data-dir", data, "targets", "import", "-"); code != 1 || !strings.Contains(errs, "devices.lines[0].port: "+path+" is also configured as a BH1 device at devices.bh1[0]") {
		t.Errorf("import of one port under two protocols: exit %d\n%s", code, errs)
	}
}
