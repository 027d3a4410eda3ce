package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/actions"
)

func TestServerSettingsMergeOnImport(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	start := ServerSettings{Port: 9000, PublicURL: "https://x.example", InspectorKeep: 10}
	s := e.Settings()
	s.Server = start
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       ServerSettings
	}{
		{"a version 1 file leaves them", `{"version": 1, "targets": []}`, start},
		{"a version 3 file without the section leaves them", `{"version": 3, "targets": [], "log": {"keep_days": 9}}`, start},
		{"an empty section leaves them", `{"server": {}}`, start},
		{"one field changes only itself", `{"server": {"lan": true}}`, ServerSettings{Port: 9000, LAN: true, PublicURL: "https://x.example", InspectorKeep: 10}},
		{"a trailing slash is dropped", `{"server": {"public_url": "http://10.0.0.2:8080/hooks/"}}`, ServerSettings{Port: 9000, LAN: true, PublicURL: "http://10.0.0.2:8080/hooks", InspectorKeep: 10}},
		{"an empty public URL is none", `{"server": {"public_url": ""}}`, ServerSettings{Port: 9000, LAN: true, InspectorKeep: 10}},
		{"the limits", `{"server": {"port": 65535, "inspector_keep": 1000, "lan": false}}`, ServerSettings{Port: 65535, InspectorKeep: 1000}},
		{"the other limits", `{"server": {"port": 1, "inspector_keep": 1, "https": true, "inspector": true}}`, ServerSettings{Port: 1, InspectorKeep: 1, HTTPS: true, Inspector: true}},
	}
	for _, tt := range tests {
		if err := importFile(t, e, tt.file); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := e.Settings().Server; got != tt.want {
			t.Errorf("%s: settings %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestSetSettingsWithoutServerKeepsThem(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	s := e.Settings()
	s.Server.Port, s.Server.Inspector = 9001, true
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	// A caller that knows only the log settings (the window's Settings).
	if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 5}}); err != nil {
		t.Fatal(err)
	}
	if got := e.Settings(); got.Log.KeepDays != 5 || got.Server != s.Server {
		t.Errorf("settings = %+v, want 5 days and the server settings kept, %+v", got, s.Server)
	}
}

func TestServerSettingsRefused(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	before := e.Settings()
	tests := []struct {
		name string
		sec  string
		want string
	}{
		{"port too high", `{"port": 70000}`, "server.port: 70000 is not a port: give 1-65535"},
		{"port 0", `{"port": 0}`, "server.port: 0 is not a port: give 1-65535"},
		{"negative port", `{"port": -1}`, "server.port: -1 is not a port"},
		{"keep 0", `{"inspector_keep": 0}`, "server.inspector_keep: 0 is out of range: give how many requests to keep per bin, 1-1000"},
		{"keep too many", `{"inspector_keep": 1001}`, "server.inspector_keep: 1001 is out of range"},
		{"relative URL", `{"public_url": "buttons.example.com"}`, `server.public_url: "buttons.example.com" is not an absolute http(s) URL: give one like https://buttons.example.com`},
		{"ftp URL", `{"public_url": "ftp://x.example"}`, "is not an absolute http(s) URL"},
		{"query", `{"public_url": "https://x.example/?a=1"}`, "has a query or fragment: give the base URL alone"},
		{"empty query", `{"public_url": "https://x.example/?"}`, "has a query or fragment"},
		{"fragment", `{"public_url": "https://x.example/#top"}`, "has a query or fragment"},
		{"user info", `{"public_url": "https://me:pw@x.example"}`, "carries a user name or password"},
		{"unparseable", `{"public_url": "http://[::1"}`, "is not a URL"},
		{"two at once", `{"port": 0, "inspector_keep": 0}`, "2 problem(s)"},
	}
	for _, tt := range tests {
		err := importFile(t, e, `{"server": `+tt.sec+`}`)
		var ie ImportError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want an ImportError saying %q", tt.name, err, tt.want)
		}
	}
	if got := e.Settings(); got != before {
		t.Errorf("refused imports changed the settings: %+v, want %+v", got, before)
	}
}

func TestServerNeeded(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	if got := e.ServerNeeded(); got != "" {
		t.Errorf("with nothing configured: %q, want \"\"", got)
	}
	plain := actions.Target{Name: "Plain", Enabled: true, Method: "GET", URL: "http://127.0.0.1/x"}
	asyncOff := actions.Target{Name: "Deploy", Method: "POST", URL: "http://127.0.0.1/d", Async: actions.Async{Enabled: true}}
	if err := e.Import(Config{Targets: []actions.Target{plain, asyncOff}}); err != nil {
		t.Fatal(err)
	}
	if got := e.ServerNeeded(); got != "" {
		t.Errorf("with a plain target and a disabled async one: %q, want \"\"", got)
	}
	asyncOff.Enabled = true
	if err := e.SaveTarget(asyncOff); err != nil {
		t.Fatal(err)
	}
	if got, want := e.ServerNeeded(), `target "Deploy" is async`; got != want {
		t.Errorf("with an enabled async target: %q, want %q", got, want)
	}
	if err := e.DeleteTarget("Deploy"); err != nil {
		t.Fatal(err)
	}
	gate := actions.Target{Name: "Gate", Method: "GET", Dynamic: actions.Dynamic{Enabled: true}}
	if err := e.SaveTarget(gate); err != nil {
		t.Fatal(err)
	}
	if got, want := e.ServerNeeded(), `target "Gate" has a dynamic URL`; got != want {
		t.Errorf("with a dynamic target (disabled: its URL can be set ahead): %q, want %q", got, want)
	}
	if err := e.DeleteTarget("Gate"); err != nil {
		t.Fatal(err)
	}
	s := e.Settings()
	s.Server.Inspector = true
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if got, want := e.ServerNeeded(), "the inspector is on"; got != want {
		t.Errorf("with the inspector on: %q, want %q", got, want)
	}
}

func TestServerSectionString(t *testing.T) {
	port, lan, u := 9000, true, "https://x.example"
	if got, want := (&ServerSection{Port: &port, LAN: &lan, PublicURL: &u}).String(), `{port:9000 lan:true public_url:"https://x.example" https:- inspector:- inspector_keep:-}`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
	if got := (*ServerSection)(nil).String(); got != "<nil>" {
		t.Errorf("nil String = %s", got)
	}
}
