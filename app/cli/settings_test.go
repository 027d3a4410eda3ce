package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/storage"
)

// settingsJSON runs `buttonhook settings --json` and decodes it.
func settingsJSON(t *testing.T, bin, data string) engine.Settings {
	t.Helper()
	out, errs, code := run(t, bin, "", "--data-dir", data, "settings", "--json")
	var s engine.Settings
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("settings --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	return s
}

// TestBinarySettings shows and sets the settings on a data directory, then
// through a running instance, whose log applies a lowered retention at once.
func TestBinarySettings(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()

	out, errs, code := run(t, bin, "", "--data-dir", data, "settings")
	if code != 0 || settingRow(out, "log.keep_days") != "90 keep the attempts of the last 90 days" ||
		settingRow(out, "log.max_attempts") != "0 keep any number of attempts (0: no limit)" {
		t.Fatalf("settings of a new directory: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = run(t, bin, "", "--data-dir", data, "settings", "set", "log.keep_days=30", "log.max_attempts=100000")
	if code != 0 || !strings.Contains(out, "saved") || !strings.Contains(out, "keep at most 100000 attempts") {
		t.Fatalf("settings set: exit %d\n%s%s", code, out, errs)
	}
	if s := settingsJSON(t, bin, data); s.Log != (engine.LogSettings{KeepDays: 30, MaxAttempts: 100_000}) {
		t.Errorf("after set: %+v", s)
	}
	// The export carries them; an import changes only what it names.
	out, _, _ = run(t, bin, "", "--data-dir", data, "targets", "export")
	if !strings.Contains(out, `"log": {`) || !strings.Contains(out, `"keep_days": 30`) {
		t.Errorf("export has no log section:\n%s", out)
	}
	if out, errs, code := run(t, bin, `{"log": {"max_attempts": 0}}`, "--data-dir", data, "targets", "import", "-"); code != 0 {
		t.Fatalf("import of a log section: exit %d\n%s%s", code, out, errs)
	}
	if s := settingsJSON(t, bin, data); s.Log != (engine.LogSettings{KeepDays: 30}) {
		t.Errorf("after importing max_attempts 0: %+v, want 30 days and no limit", s)
	}

	for _, tt := range []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{[]string{"settings", "set", "log.keep_days=-1"}, "", 1, "log.keep_days: -1 is negative"},
		{[]string{"settings", "set", "log.keep_days=36501"}, "", 1, "log.keep_days: 36501 is more than 36500 days"},
		{[]string{"settings", "set", "log.max_attempts=1000000000"}, "", 1, "log.max_attempts: 1000000000 is more than"},
		{[]string{"targets", "import", "-"}, `{"log": {"keep_days": -5}}`, 1, "log.keep_days: -5 is negative"},
		{[]string{"settings", "set", "log.keep_days=ten"}, "", 2, `log.keep_days: "ten" is not a whole number`},
		{[]string{"settings", "set", "keep_days"}, "", 2, "is not NAME=VALUE"},
		{[]string{"settings", "set", "log.colour=1"}, "", 2, `unknown setting "log.colour"`},
		{[]string{"settings", "set"}, "", 2, "NAME=VALUE"},
		{[]string{"settings", "frob"}, "", 2, `unknown settings command "frob"`},
		{[]string{"settings", "--bogus"}, "", 2, "flag provided but not defined"},
	} {
		_, errs, code := run(t, bin, tt.stdin, append([]string{"--data-dir", data}, tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
	if s := settingsJSON(t, bin, data); s.Log != (engine.LogSettings{KeepDays: 30}) {
		t.Errorf("refused changes changed the settings: %+v", s)
	}

	// Attempts 1 hour, 10 days and 40 days old.
	db, err := storage.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, age := range []time.Duration{time.Hour, 10 * 24 * time.Hour, 40 * 24 * time.Hour} {
		at := time.Now().Add(-age)
		a := storage.Attempt{ID: storage.NewAttemptID(at), Time: at, TargetID: "t1", TargetName: "Door", Status: storage.StatusOK, Code: 200}
		if err := db.PutAttemptDurable(a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--data-dir", data, "run")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitForSocket(t, data)
	// The stored 30 days apply at start.
	waitForAttempts(t, bin, data, "30 days at start", ids[0], ids[1])

	out, errs, code = run(t, bin, "", "--data-dir", data, "settings", "set", "log.keep_days=5")
	if code != 0 || !strings.Contains(out, "keep the attempts of the last 5 days") {
		t.Fatalf("settings set while running: exit %d\n%s%s", code, out, errs)
	}
	waitForAttempts(t, bin, data, "5 days, set while running", ids[0])
	if _, errs, code := run(t, bin, "", "--data-dir", data, "settings", "set", "log.max_attempts=-1"); code != 1 || !strings.Contains(errs, "log.max_attempts: -1 is negative") {
		t.Errorf("a refused set while running: exit %d, %s", code, errs)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}
	if s := settingsJSON(t, bin, data); s.Log != (engine.LogSettings{KeepDays: 5}) {
		t.Errorf("after the instance stopped: %+v, want 5 days kept", s)
	}
}

// settingRow returns the value and meaning `buttonhook settings` prints
// for a setting, with single spaces.
func settingRow(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

// waitForSocket waits until the instance holding data listens on its
// control socket.
func waitForSocket(t *testing.T, data string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(server.SocketPath(data)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the instance never opened its control socket")
		}
	}
}

// waitForAttempts waits until `buttonhook log` lists exactly the attempts
// want (IDs, newest first).
func waitForAttempts(t *testing.T, bin, data, what string, want ...string) {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, errs, code := run(t, bin, "", "--data-dir", data, "log", "--json")
		if code != 0 {
			t.Fatalf("log: exit %d: %s", code, errs)
		}
		got = got[:0]
		for _, a := range attemptsJSON(t, out) {
			got = append(got, a.ID)
		}
		if strings.Join(got, " ") == strings.Join(want, " ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the log lists %q, want %q", what, got, want)
		}
	}
}

// TestBinaryImportSaysWhatSettingsChanged imports a file whose server
// section opens the server up: the import says which settings changed,
// each from what to what, and warns that the network can now reach it; a
// file that changes nothing says nothing of settings. `targets list`
// shows each target's ID, the one the REST API takes.
func TestBinaryImportSaysWhatSettingsChanged(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	file := `{"targets": [{"name": "Gate", "enabled": true, "method": "POST", "dynamic": {"enabled": true}}],
		"server": {"port": 8735, "lan": true, "public_url": "https://hooks.example.com/bh", "https": true,
			"inspector": true, "inspector_keep": 50}}`
	out, errs, code := run(t, bin, file, "--data-dir", data, "targets", "import", "-")
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	want := "imported 1 target(s), 0 binding(s), 0 device port(s)\n" +
		"it changed 4 setting(s) (undo with `buttonhook settings set NAME=VALUE`):\n" +
		"  server.lan: false -> true\n" +
		"  server.public_url: - -> https://hooks.example.com/bh\n" +
		"  server.https: false -> true\n" +
		"  server.inspector: false -> true\n" +
		"warning: server.lan is now on: anyone on your network can then reach the local server on port 8735"
	if !strings.HasPrefix(out, want) {
		t.Errorf("import output:\n%s\nwant it to start with\n%s", out, want)
	}

	// The same file again changes nothing; turning LAN off warns of nothing.
	if out, _, code := run(t, bin, file, "--data-dir", data, "targets", "import", "-"); code != 0 || strings.Contains(out, "setting") {
		t.Errorf("importing the same file again: exit %d\n%s", code, out)
	}
	out, _, _ = run(t, bin, `{"server": {"lan": false}, "log": {"keep_days": 7}}`, "--data-dir", data, "targets", "import", "-")
	if !strings.Contains(out, "it changed 2 setting(s)") || !strings.Contains(out, "  log.keep_days: 90 -> 7\n") ||
		!strings.Contains(out, "  server.lan: true -> false\n") || strings.Contains(out, "warning") {
		t.Errorf("importing lan false and keep_days 7:\n%s", out)
	}

	// targets list has an ID column with the ID export holds.
	out, _, _ = run(t, bin, "", "--data-dir", data, "targets", "export")
	var cfg engine.Config
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || len(cfg.Targets) != 1 || cfg.Targets[0].ID == "" {
		t.Fatalf("export: %v\n%s", err, out)
	}
	out, errs, code = run(t, bin, "", "--data-dir", data, "targets", "list")
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(rows) != 2 {
		t.Fatalf("targets list: exit %d\n%s%s", code, out, errs)
	}
	if head, row := strings.Fields(rows[0]), strings.Fields(rows[1]); len(head) < 2 || head[1] != "ID" || len(row) < 2 || row[0] != "Gate" || row[1] != cfg.Targets[0].ID {
		t.Errorf("targets list:\n%s\nwant an ID column with Gate's ID %s", out, cfg.Targets[0].ID)
	}
}
