package engine

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/buttonhook/buttonhook/storage"
)

// Limits of the log settings: more is surely a typo.
const (
	// MaxKeepDays is the most days the log can be set to keep (100 years).
	MaxKeepDays = 36500
	// MaxLogAttempts is the most attempts the log can be set to keep (100
	// million attempts take about 13 GB on disk).
	MaxLogAttempts = 100_000_000
)

// idLog is the ID of the log settings' document (kind "settings").
const idLog = "log"

// Settings are what a user sets beyond targets, bindings and serial ports.
// They are stored with the config, so the window, `buttonhook run` and the
// scripting commands all see the same.
type Settings struct {
	Log    LogSettings    `json:"log"`
	Server ServerSettings `json:"server"`
}

// LogSettings say which attempts the log keeps. An attempt is deleted when
// either limit says so.
type LogSettings struct {
	// KeepDays keeps the attempts pressed in the last KeepDays days; 0 keeps
	// attempts of any age.
	KeepDays int `json:"keep_days"`
	// MaxAttempts keeps at most this many attempts, the newest; 0 keeps any
	// number.
	MaxAttempts int64 `json:"max_attempts"`
}

// DefaultSettings are the settings of a new data directory: the log keeps 90
// days of attempts (storage.DefaultRetention), of any number; the local
// server listens on 127.0.0.1, port DefaultServerPort, over http, with the
// inspector off.
func DefaultSettings() Settings {
	r := storage.DefaultRetention
	return Settings{Log: LogSettings{KeepDays: r.Days, MaxAttempts: r.MaxAttempts}, Server: defaultServerSettings()}
}

// Retention is what the log settings ask of the store.
func (l LogSettings) Retention() storage.Retention {
	return storage.Retention{Days: l.KeepDays, MaxAttempts: l.MaxAttempts}
}

// LogSection is the "log" section of a config file. Import changes only the
// settings it names: a field left out keeps its setting.
type LogSection struct {
	KeepDays    *int   `json:"keep_days,omitempty"`
	MaxAttempts *int64 `json:"max_attempts,omitempty"`
}

// section returns l as a config file's section, with both fields set.
func (l LogSettings) section() *LogSection {
	return &LogSection{KeepDays: &l.KeepDays, MaxAttempts: &l.MaxAttempts}
}

// merge returns l changed as sec says, and sec's problems, each with its
// path ("log.keep_days: ...").
func (l LogSettings) merge(sec *LogSection) (LogSettings, []string) {
	if sec == nil {
		return l, nil
	}
	var problems []string
	if d := sec.KeepDays; d != nil {
		switch {
		case *d < 0:
			problems = append(problems, fmt.Sprintf("log.keep_days: %d is negative: give the number of days to keep attempts (1-%d), or 0 to keep attempts of any age", *d, MaxKeepDays))
		case *d > MaxKeepDays:
			problems = append(problems, fmt.Sprintf("log.keep_days: %d is more than %d days (100 years): give fewer days, or 0 to keep attempts of any age", *d, MaxKeepDays))
		default:
			l.KeepDays = *d
		}
	}
	if n := sec.MaxAttempts; n != nil {
		switch {
		case *n < 0:
			problems = append(problems, fmt.Sprintf("log.max_attempts: %d is negative: give the most attempts to keep (1-%d), or 0 for no limit", *n, MaxLogAttempts))
		case *n > MaxLogAttempts:
			problems = append(problems, fmt.Sprintf("log.max_attempts: %d is more than %d: give fewer, or 0 for no limit", *n, MaxLogAttempts))
		default:
			l.MaxAttempts = *n
		}
	}
	return l, problems
}

// loadSettings reads the settings documents; what is not stored has its
// default.
func loadSettings(docs map[string][]byte) (Settings, error) {
	s := DefaultSettings()
	if d, ok := docs[idLog]; ok {
		if err := json.Unmarshal(d, &s.Log); err != nil {
			return s, fmt.Errorf("read log settings: %w", err)
		}
	}
	if d, ok := docs[idServer]; ok {
		if err := json.Unmarshal(d, &s.Server); err != nil {
			return s, fmt.Errorf("read server settings: %w", err)
		}
	}
	return s, nil
}

// Settings returns the current settings.
func (e *Engine) Settings() Settings { return e.Config().settings }

// SetSettings validates s and saves it (every setting). A change to the log
// settings takes effect at once, also while Run runs; any change publishes
// ConfigChanged, on which the local server reads the server settings again.
// Problems are reported as an ImportError, with the paths of the config
// file ("log.keep_days", "server.port"). A zero s.Server, which is never
// valid, leaves the server settings as they are (for a caller that sets the
// log alone).
func (e *Engine) SetSettings(s Settings) error {
	c := Config{Version: ConfigVersion, Log: s.Log.section()}
	if s.Server != (ServerSettings{}) {
		c.Server = s.Server.section()
	}
	return e.Import(c)
}

// String shows the section as a file writes it, with "-" for a setting left
// out (so that %v shows values, not pointers).
func (l *LogSection) String() string {
	if l == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{keep_days:%s max_attempts:%s}", showSetting(l.KeepDays), showSetting(l.MaxAttempts))
}

// showSetting shows a section's field: its value, or "-" when it is left
// out (a nil pointer).
func showSetting(p any) string {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return "-"
	}
	if s, ok := p.(*string); ok {
		return strconv.Quote(*s)
	}
	return fmt.Sprint(v.Elem().Interface())
}
