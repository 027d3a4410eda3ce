package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/storage"
)

// mainIn runs the command line in this process on the data directory data.
func mainIn(t *testing.T, data, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(append([]string{"--data-dir", data}, args...), Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb})
	return out.String(), errb.String(), code
}

// serveInstance holds data as a running instance does: the store open (so
// that commands find it locked) and the control socket served over its
// engine, until the test ends.
func serveInstance(t *testing.T, data string) *engine.Engine {
	t.Helper()
	e, db := openEngine(t, data)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeControl(ctx, server.SocketPath(data), server.ControlHandler(e)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control socket: %v", err)
		}
		db.Close()
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(server.SocketPath(data)); err == nil {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatal("the control socket never appeared")
		}
	}
}

// openEngine opens the data directory data with an engine over it; the
// caller closes the store.
func openEngine(t *testing.T, data string) (*engine.Engine, *storage.DB) {
	t.Helper()
	db, err := storage.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Store: db})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return e, db
}

const dynamicTargets = `{"targets": [
	{"name": "Gate", "enabled": true, "method": "POST", "dynamic": {"enabled": true}},
	{"name": "Door", "enabled": true, "method": "GET", "url": "https://door.example/x"}]}`

var keyLine = regexp.MustCompile(`(?m)^  (bhk_[0-9a-f]+_[A-Za-z0-9_-]+)$`)

// TestAPIKeyCommand creates, lists and revokes keys on a closed data
// directory, then through a running instance.
func TestAPIKeyCommand(t *testing.T) {
	data := t.TempDir()
	if out, errs, code := mainIn(t, data, dynamicTargets, "targets", "import", "-"); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code := mainIn(t, data, "", "settings", "set", "server.port=9123")
	if code != 0 {
		t.Fatalf("settings set: exit %d\n%s%s", code, out, errs)
	}

	out, errs, code = mainIn(t, data, "", "apikey", "create", "--name", "home server", "--target", "Gate", "--target", "door")
	if code != 0 {
		t.Fatalf("apikey create: exit %d\n%s%s", code, out, errs)
	}
	m := keyLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("apikey create printed no key:\n%s", out)
	}
	key := m[1]
	if strings.Count(out, key) != 3 || !strings.Contains(out, "only time the key is shown") || !strings.Contains(out, `for Gate, Door`) {
		t.Errorf("apikey create output: want the key, once alone and once in each target's curl command, and the targets by name:\n%s", out)
	}
	var gateID, doorID string
	{
		e, db := openEngine(t, data)
		for _, tg := range e.Config().Targets {
			switch tg.Name {
			case "Gate":
				gateID = tg.ID
			case "Door":
				doorID = tg.ID
			}
		}
		if _, err := e.Authorize(key, gateID); err != nil {
			t.Errorf("the key printed does not authorize Gate: %v", err)
		}
		db.Close()
	}
	curl := `curl -X PUT -H 'Authorization: Bearer ` + key + `' -H 'Content-Type: application/json' -d '{"url":"https://example.com/hook"}' http://127.0.0.1:9123/api/v1/targets/` + gateID + `/url`
	if !strings.Contains(out, curl) {
		t.Errorf("apikey create: want the curl command\n  %s\nin\n%s", curl, out)
	}
	if !strings.Contains(out, "Door, not dynamic yet") {
		t.Errorf("apikey create: want a note that Door is not dynamic:\n%s", out)
	}

	out, errs, code = mainIn(t, data, "", "apikey", "list")
	if code != 0 || !strings.Contains(out, "home server") || !strings.Contains(out, "Gate, Door") || strings.Contains(out, key) {
		t.Errorf("apikey list: exit %d, want the key's name and targets, never the key\n%s%s", code, out, errs)
	}

	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"apikey"}, 2, "apikey needs a command"},
		{[]string{"apikey", "rotate"}, 2, `unknown apikey command "rotate"`},
		{[]string{"apikey", "create", "--target", "Gate"}, 2, "needs --name"},
		{[]string{"apikey", "create", "--name", "x"}, 2, "--all-targets"},
		{[]string{"apikey", "create", "--name", "x", "--target", "Gate", "--all-targets"}, 2, "--all-targets"},
		{[]string{"apikey", "create", "--name", "x", "--target", "Nope"}, 1, `no target named "Nope"`},
		{[]string{"apikey", "create", "--name", "HOME SERVER", "--all-targets"}, 1, `already an API key named`},
		{[]string{"apikey", "revoke"}, 2, "usage: buttonhook apikey revoke ID|NAME"},
		{[]string{"apikey", "revoke", "nobody"}, 1, `no API key named "nobody"`},
		{[]string{"apikey", "list", "extra"}, 2, "unexpected argument"},
	} {
		_, errs, code := mainIn(t, data, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}

	// Through a running instance.
	e := serveInstance(t, data)
	out, errs, code = mainIn(t, data, "", "apikey", "create", "--name", "ci", "--all-targets", "--json")
	if code != 0 {
		t.Fatalf("apikey create through the instance: exit %d\n%s%s", code, out, errs)
	}
	var created struct {
		Key    string        `json:"key"`
		APIKey engine.APIKey `json:"api_key"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || !created.APIKey.AllTargets {
		t.Fatalf("apikey create --json: %v\n%s", err, out)
	}
	if _, err := e.Authorize(created.Key, doorID); err != nil {
		t.Errorf("the instance does not know the key it created: %v", err)
	}
	out, errs, code = mainIn(t, data, "", "apikey", "list", "--json")
	var ks []engine.APIKey
	if err := json.Unmarshal([]byte(out), &ks); code != 0 || err != nil || len(ks) != 2 || ks[0].Name != "ci" || ks[1].Name != "home server" {
		t.Fatalf("apikey list --json through the instance: exit %d, %v, %+v\n%s", code, err, ks, errs)
	}
	if out, errs, code := mainIn(t, data, "", "apikey", "revoke", "home server"); code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("apikey revoke through the instance: exit %d\n%s%s", code, out, errs)
	}
	if _, err := e.Authorize(key, gateID); !errors.Is(err, engine.ErrBadAPIKey) {
		t.Errorf("a key revoked through the instance: %v, want ErrBadAPIKey", err)
	}
	if _, errs, code := mainIn(t, data, "", "apikey", "revoke", "home server"); code != 1 || !strings.Contains(errs, "no API key named") {
		t.Errorf("revoking twice through the instance: exit %d, %s", code, errs)
	}
	if _, errs, code := mainIn(t, data, "", "apikey", "create", "--name", "x", "--target", "Nope"); code != 1 || !strings.Contains(errs, `no target named "Nope"`) {
		t.Errorf("a refused create through the instance: exit %d, %s", code, errs)
	}
}

// TestServerSettingsCommand shows and sets the server settings on a closed
// data directory, then through a running instance.
func TestServerSettingsCommand(t *testing.T) {
	data := t.TempDir()
	out, errs, code := mainIn(t, data, "", "settings")
	if code != 0 || settingRow(out, "server.port") != "8735 the local server listens on port 8735 (when something needs it)" ||
		settingRow(out, "server.lan") != "false listen on 127.0.0.1 only: this machine alone can reach it" ||
		settingRow(out, "server.public_url") != "- callbacks are addressed to the server itself" ||
		settingRow(out, "server.inspector_keep") != "50 the inspector keeps the last 50 requests per bin" {
		t.Fatalf("settings of a new directory: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = mainIn(t, data, "", "settings", "set", "server.port=9000", "server.lan=true", "server.public_url=https://bh.example.com/",
		"server.https=true", "server.inspector=1", "server.inspector_keep=200")
	if code != 0 || !strings.Contains(out, "saved") || !strings.Contains(out, "reachable from your network") {
		t.Fatalf("settings set: exit %d\n%s%s", code, out, errs)
	}
	want := engine.ServerSettings{Port: 9000, LAN: true, PublicURL: "https://bh.example.com", HTTPS: true, Inspector: true, InspectorKeep: 200}
	if s := mainSettings(t, data); s.Server != want || s.Log.KeepDays != 90 {
		t.Errorf("after set: %+v, want %+v and the log as it was", s, want)
	}
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"settings", "set", "server.port=70000"}, 1, "server.port: 70000 is not a port: give 1-65535"},
		{[]string{"settings", "set", "server.port=http"}, 2, `server.port: "http" is not a whole number`},
		{[]string{"settings", "set", "server.lan=maybe"}, 2, `server.lan: "maybe" is not true or false`},
		{[]string{"settings", "set", "server.inspector_keep=0"}, 1, "server.inspector_keep: 0 is out of range"},
		{[]string{"settings", "set", "server.public_url=bh.example.com"}, 1, "server.public_url"},
		{[]string{"settings", "set", "server.host=x"}, 2, `unknown setting "server.host"`},
	} {
		_, errs, code := mainIn(t, data, "", tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
	if s := mainSettings(t, data); s.Server != want {
		t.Errorf("refused changes changed the settings: %+v", s.Server)
	}

	e := serveInstance(t, data)
	events, unsub := e.Subscribe(8)
	defer unsub()
	out, errs, code = mainIn(t, data, "", "settings", "set", "server.lan=false", "server.public_url=", "log.keep_days=7")
	if code != 0 {
		t.Fatalf("settings set through the instance: exit %d\n%s%s", code, out, errs)
	}
	want.LAN, want.PublicURL = false, ""
	if got := e.Settings(); got.Server != want || got.Log.KeepDays != 7 {
		t.Errorf("the instance's settings: %+v, want %+v and 7 days", got, want)
	}
	if ev := <-events; ev.Kind != engine.ConfigChanged {
		t.Errorf("event %+v, want ConfigChanged", ev)
	}
	if s := mainSettings(t, data); s.Server != want {
		t.Errorf("settings --json through the instance: %+v, want %+v", s.Server, want)
	}
}

// mainSettings runs `settings --json` in this process.
func mainSettings(t *testing.T, data string) engine.Settings {
	t.Helper()
	out, errs, code := mainIn(t, data, "", "settings", "--json")
	var s engine.Settings
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil {
		t.Fatalf("settings --json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	return s
}

// failingExport is a data directory whose config cannot be read.
type failingExport struct{}

func (failingExport) Export() (engine.Config, error) {
	return engine.Config{}, errors.New("the running Buttonhook did not answer")
}

// TestAPIKeyCreatePrintsKeyWhateverFails: a key is shown only once, so it
// is printed even when reading the config for its curl commands fails.
func TestAPIKeyCreatePrintsKeyWhateverFails(t *testing.T) {
	e, db := openEngine(t, t.TempDir())
	defer db.Close()
	if err := e.Import(engine.Config{Version: engine.ConfigVersion, Targets: []actions.Target{
		{Name: "Gate", Enabled: true, Method: "POST", Dynamic: actions.Dynamic{Enabled: true}}}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := createKey(&out, failingExport{}, local{e: e}, "ci", []string{"Gate"}, false, false)
	if err == nil || !strings.Contains(err.Error(), "was created") || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("createKey = %v, want an error that says the key was created, and why the rest failed", err)
	}
	m := keyLine.FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "only time the key is shown") {
		t.Fatalf("the key was not printed:\n%s", out.String())
	}
	if _, err := e.Authorize(m[1], e.Config().Targets[0].ID); err != nil {
		t.Errorf("the key printed does not authorize Gate: %v", err)
	}
}
