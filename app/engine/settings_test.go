package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

func TestSettingsDefaultSaveReloadAndExport(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	if got, want := e.Settings(), DefaultSettings(); got != want || want.Log.KeepDays != 90 || want.Log.MaxAttempts != 0 ||
		want.Server != (ServerSettings{Port: 8735, InspectorKeep: 50}) {
		t.Fatalf("settings of a new directory = %+v, want %+v (90 days, any number; port 8735 on 127.0.0.1, keeping 50)", got, want)
	}
	events, unsub := e.Subscribe(8)
	defer unsub()
	want := Settings{Log: LogSettings{KeepDays: 30, MaxAttempts: 100_000},
		Server: ServerSettings{Port: 9000, LAN: true, PublicURL: "https://buttons.example.com/bh", HTTPS: true, Inspector: true, InspectorKeep: 7}}
	if err := e.SetSettings(want); err != nil {
		t.Fatal(err)
	}
	if got := e.Settings(); got != want {
		t.Errorf("after SetSettings: %+v, want %+v", got, want)
	}
	if ev := <-events; ev.Kind != ConfigChanged {
		t.Errorf("event = %+v, want ConfigChanged", ev)
	}
	e2, err := New(Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	if got := e2.Settings(); got != want {
		t.Errorf("after reopening: %+v, want %+v", got, want)
	}

	// The export carries the sections; they round-trip.
	data, err := json.Marshal(e.Export())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"log":{"keep_days":30,"max_attempts":100000}`) || !strings.Contains(string(data), fmt.Sprintf(`"version":%d`, ConfigVersion)) ||
		!strings.Contains(string(data), `"server":{"port":9000,"lan":true,"public_url":"https://buttons.example.com/bh","https":true,"inspector":true,"inspector_keep":7}`) {
		t.Errorf("export = %s, want version %d and the log and server sections", data, ConfigVersion)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	other, _ := newStoreEngine(t, Options{})
	if err := other.Import(back); err != nil {
		t.Fatal(err)
	}
	if got := other.Settings(); got != want {
		t.Errorf("after importing the export: %+v, want %+v", got, want)
	}
	if e.Config().Log != nil || e.Config().Server != nil {
		t.Errorf("Config().Log = %+v, Server = %+v, want nil (Settings holds them)", e.Config().Log, e.Config().Server)
	}
}

func TestSettingsMergeOnImport(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 30, MaxAttempts: 500}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       LogSettings
	}{
		{"a version 1 file leaves them", `{"version": 1, "targets": []}`, LogSettings{KeepDays: 30, MaxAttempts: 500}},
		{"an empty section leaves them", `{"log": {}}`, LogSettings{KeepDays: 30, MaxAttempts: 500}},
		{"one field changes only itself", `{"log": {"max_attempts": 0}}`, LogSettings{KeepDays: 30, MaxAttempts: 0}},
		{"0 days is any age, when written", `{"log": {"keep_days": 0}}`, LogSettings{KeepDays: 0, MaxAttempts: 0}},
		{"both", `{"log": {"keep_days": 7, "max_attempts": 1000}}`, LogSettings{KeepDays: 7, MaxAttempts: 1000}},
		{"the limits", `{"log": {"keep_days": 36500, "max_attempts": 100000000}}`, LogSettings{KeepDays: MaxKeepDays, MaxAttempts: MaxLogAttempts}},
	}
	for _, tt := range tests {
		if err := importFile(t, e, tt.file); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := e.Settings().Log; got != tt.want {
			t.Errorf("%s: settings %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// importFile imports a config file's text.
func importFile(t *testing.T, e *Engine, file string) error {
	t.Helper()
	var c Config
	if err := json.Unmarshal([]byte(file), &c); err != nil {
		t.Fatal(err)
	}
	return e.Import(c)
}

func TestSettingsRefused(t *testing.T) {
	e, _ := newStoreEngine(t, Options{})
	before := e.Settings()
	tests := []struct {
		name string
		s    Settings
		want []string
	}{
		{"negative days", Settings{Log: LogSettings{KeepDays: -1}}, []string{"log.keep_days: -1 is negative", "or 0 to keep attempts of any age"}},
		{"a century and a day", Settings{Log: LogSettings{KeepDays: MaxKeepDays + 1}}, []string{"log.keep_days: 36501 is more than 36500 days"}},
		{"negative attempts", Settings{Log: LogSettings{KeepDays: 9, MaxAttempts: -5}}, []string{"log.max_attempts: -5 is negative", "or 0 for no limit"}},
		{"absurd attempts", Settings{Log: LogSettings{KeepDays: 9, MaxAttempts: 1 << 40}}, []string{"log.max_attempts: 1099511627776 is more than 100000000"}},
		{"both wrong", Settings{Log: LogSettings{KeepDays: -3, MaxAttempts: -3}}, []string{"2 problem(s)", "log.keep_days", "log.max_attempts"}},
	}
	for _, tt := range tests {
		err := e.SetSettings(tt.s)
		var ie ImportError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an ImportError", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to say %q", tt.name, err, w)
			}
		}
		if got := e.Settings(); got != before {
			t.Errorf("%s: a refused change changed the settings to %+v", tt.name, got)
		}
	}
	// A bad setting refuses the whole file.
	days := -1
	err := e.Import(Config{Targets: []actions.Target{{Name: "Door", Method: "GET", URL: "http://127.0.0.1/"}}, Log: &LogSection{KeepDays: &days}})
	if err == nil || len(e.Config().Targets) != 0 {
		t.Errorf("import with a bad setting: %v, targets %+v; want it refused whole", err, e.Config().Targets)
	}
}

// putAged writes one attempt pressed age ago for each age, and returns their
// IDs in the same order.
func putAged(t *testing.T, db *storage.DB, ages ...time.Duration) []string {
	t.Helper()
	var as []storage.Attempt
	var ids []string
	for _, age := range ages {
		at := time.Now().Add(-age)
		a := storage.Attempt{ID: storage.NewAttemptID(at), Time: at, TargetID: "t1", TargetName: "Door", Status: storage.StatusOK, Code: 200}
		as = append(as, a)
		ids = append(ids, a.ID)
	}
	if err := db.PutAttempts(as); err != nil {
		t.Fatal(err)
	}
	return ids
}

// waitForLog waits until the log holds exactly the attempts want (IDs, newest
// first).
func waitForLog(t *testing.T, db *storage.DB, what string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := db.Attempts(storage.Query{Limit: storage.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.ID)
		}
		if strings.Join(got, " ") == strings.Join(want, " ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the log holds %q, want %q", what, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRetentionFollowsTheSettingsWhileRunning runs the engine over a real
// Badger directory: the stored setting applies at Run, and a lowered one
// applies at once, with no restart.
func TestRetentionFollowsTheSettingsWhileRunning(t *testing.T) {
	e, db := newStoreEngine(t, Options{})
	const day = 24 * time.Hour
	ids := putAged(t, db, 200*day, 100*day, 40*day, 10*day, time.Hour)
	if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 60}}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	waitForLog(t, db, "60 days at Run", ids[4], ids[3], ids[2])

	if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 30}}); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, db, "30 days, set while running", ids[4], ids[3])

	if err := e.SetSettings(Settings{Log: LogSettings{KeepDays: 0, MaxAttempts: 1}}); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, db, "any age, at most 1", ids[4])
}
