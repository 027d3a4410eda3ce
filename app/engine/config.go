package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

// ConfigVersion is the version of the import/export file format
// (docs/config.md). Version 2 added the "log" section; version 3 the
// "devices" section, which holds the BH1 ports that "serial_ports" held.
// Files of earlier versions import as before.
const ConfigVersion = 3

// Storage kinds of config documents.
const (
	kindTarget   = "target"
	kindBinding  = "binding"
	kindSettings = "settings"
	idPorts      = "serial_ports"
)

// Binding connects a button and gesture to a target.
type Binding struct {
	ID string `json:"id,omitempty"`
	// Device is the ID of the device ("serial:SIM-3F2A"); empty means any device.
	Device  string         `json:"device,omitempty"`
	Button  int            `json:"button"`
	Gesture device.Gesture `json:"gesture"`
	// Target is the target's ID inside Buttonhook; in an import or export file it
	// is the target's name, so that files can be written by hand.
	Target string `json:"target"`
}

// Config is everything a user configures, as held in the engine and written
// to an export file.
type Config struct {
	// Schema lets a file name its JSON Schema for editors; it is ignored.
	Schema   string           `json:"$schema,omitempty"`
	Version  int              `json:"version"`
	Targets  []actions.Target `json:"targets"`
	Bindings []Binding        `json:"bindings"`
	// SerialPorts are BH1 ports, as files before version 3 list them:
	// import adds them to Devices.BH1; export writes Devices instead.
	SerialPorts []string `json:"serial_ports,omitempty"`
	// Devices is the devices section of a file: export writes it, import
	// merges it (see Config.merge). The engine's current section is
	// Engine.DeviceConfig; Engine.Config leaves this nil.
	Devices *Devices `json:"devices,omitempty"`
	// Log is the log settings' section of a file: export writes it, import
	// changes the settings it names. The engine's current settings are
	// Engine.Settings; Engine.Config leaves this nil.
	Log *LogSection `json:"log,omitempty"`
	// Server is the server settings' section of a file, like Log: the
	// section is optional, so files of every version import unchanged.
	Server *ServerSection `json:"server,omitempty"`

	settings Settings // the current settings, as held in the engine
	devices  Devices  // the current devices section, as held in the engine
	// The runtime state stored with the config and never exported: the
	// dynamic targets' URLs (by target ID) and the API keys (by key ID).
	// Both maps are replaced on a change, never changed in place, so that
	// copies of a Config can share them.
	dynamic map[string]DynamicURL
	keys    map[string]*apiKey
}

// ImportError lists every problem found in an import, each with its path.
type ImportError []string

func (e ImportError) Error() string {
	return fmt.Sprintf("%d problem(s), nothing was changed:\n  %s", len(e), strings.Join(e, "\n  "))
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadConfig reads the config documents from the store.
func loadConfig(st Store) (Config, error) {
	cfg := Config{Version: ConfigVersion}
	docs, err := st.Config(kindTarget)
	if err != nil {
		return cfg, fmt.Errorf("read targets: %w", err)
	}
	for id, d := range docs {
		var t actions.Target
		if err := json.Unmarshal(d, &t); err != nil {
			return cfg, fmt.Errorf("read target %s: %w", id, err)
		}
		cfg.Targets = append(cfg.Targets, t)
	}
	docs, err = st.Config(kindBinding)
	if err != nil {
		return cfg, fmt.Errorf("read bindings: %w", err)
	}
	for id, d := range docs {
		var b Binding
		if err := json.Unmarshal(d, &b); err != nil {
			return cfg, fmt.Errorf("read binding %s: %w", id, err)
		}
		cfg.Bindings = append(cfg.Bindings, b)
	}
	docs, err = st.Config(kindSettings)
	if err != nil {
		return cfg, fmt.Errorf("read settings: %w", err)
	}
	if cfg.devices, err = loadDevices(docs); err != nil {
		return cfg, err
	}
	if cfg.settings, err = loadSettings(docs); err != nil {
		return cfg, err
	}
	if cfg.dynamic, err = loadDynamicURLs(st); err != nil {
		return cfg, err
	}
	if cfg.keys, err = loadAPIKeys(st); err != nil {
		return cfg, err
	}
	cfg.sort()
	return cfg, nil
}

func (c *Config) sort() {
	sort.Slice(c.Targets, func(i, j int) bool { return strings.ToLower(c.Targets[i].Name) < strings.ToLower(c.Targets[j].Name) })
	sort.Slice(c.Bindings, func(i, j int) bool {
		a, b := c.Bindings[i], c.Bindings[j]
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		if a.Button != b.Button {
			return a.Button < b.Button
		}
		return a.Gesture < b.Gesture
	})
}

// target returns the target with the given ID.
func (c *Config) target(id string) (actions.Target, bool) {
	for _, t := range c.Targets {
		if t.ID == id {
			return t, true
		}
	}
	return actions.Target{}, false
}

func (c *Config) targetByName(name string) (actions.Target, bool) {
	for _, t := range c.Targets {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return actions.Target{}, false
}

// merge returns a copy of c with in merged into it, and the store changes
// that make it so. Targets merge by name (case-insensitive): an imported
// target replaces the one with its name, keeping its ID and creation time and
// raising its version. Bindings merge by device, button and gesture: the
// imported one replaces the old one. Devices merge as mergeDevices says
// (a port replaces what its port had). Settings named in in.Log and
// in.Server replace the current ones; those they leave out stay.
// in.Bindings name their targets by name (or by ID). The dynamic URLs and
// API keys are kept as they are. Every problem is reported, with its path.
func (c Config) merge(in Config, now time.Time) (Config, []storage.ConfigChange, error) {
	var errs ImportError
	if in.Version > ConfigVersion {
		return c, nil, ImportError{fmt.Sprintf("version: %d is newer than this Buttonhook understands (%d): update Buttonhook", in.Version, ConfigVersion)}
	}
	out := Config{Version: ConfigVersion, Targets: slices.Clone(c.Targets), Bindings: slices.Clone(c.Bindings), settings: c.settings, devices: c.devices.clone(),
		dynamic: c.dynamic, keys: c.keys}
	var changes []storage.ConfigChange
	seen := map[string]int{}
	for i, t := range in.Targets {
		path := fmt.Sprintf("targets[%d]", i)
		if ps := targetProblems(path, t); len(ps) > 0 {
			errs = append(errs, ps...)
			continue
		}
		key := strings.ToLower(t.Name)
		if j, dup := seen[key]; dup {
			errs = append(errs, fmt.Sprintf("%s.name: %q is also the name of targets[%d]", path, t.Name, j))
			continue
		}
		seen[key] = i
		if old, ok := out.targetByName(t.Name); ok {
			t.ID, t.Created, t.Version = old.ID, old.Created, old.Version+1
		} else {
			t.ID, t.Created, t.Version = newID(), now, 1
		}
		t.Updated = now
		idx := slices.IndexFunc(out.Targets, func(o actions.Target) bool { return o.ID == t.ID })
		if idx >= 0 {
			out.Targets[idx] = t
		} else {
			out.Targets = append(out.Targets, t)
		}
		changes = append(changes, docChange(kindTarget, t.ID, t))
	}
	for i, b := range in.Bindings {
		path := fmt.Sprintf("bindings[%d]", i)
		if b.Button < 1 || b.Button > MaxButton {
			errs = append(errs, fmt.Sprintf("%s.button: %d is not a button number (1-%d)", path, b.Button, MaxButton))
		}
		if b.Gesture == "" {
			b.Gesture = device.Press
		}
		if !b.Gesture.Valid() {
			errs = append(errs, fmt.Sprintf("%s.gesture: %q is not one of press, long, double", path, b.Gesture))
		}
		t, ok := out.targetByName(b.Target)
		if !ok {
			t, ok = out.target(b.Target)
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s.target: no target named %q", path, b.Target))
			continue
		}
		b.Target = t.ID
		idx := slices.IndexFunc(out.Bindings, func(o Binding) bool {
			return o.Device == b.Device && o.Button == b.Button && o.Gesture == b.Gesture
		})
		if idx >= 0 {
			b.ID = out.Bindings[idx].ID
			out.Bindings[idx] = b
		} else {
			b.ID = newID()
			out.Bindings = append(out.Bindings, b)
		}
		changes = append(changes, docChange(kindBinding, b.ID, b))
	}
	devs, problems := mergeDevices(out.devices, in.Devices, in.SerialPorts, false)
	errs = append(errs, problems...)
	if !reflect.DeepEqual(devs, out.devices) {
		out.devices = devs
		changes = append(changes, devs.changes()...)
	}
	log, logProblems := out.settings.Log.merge(in.Log)
	errs = append(errs, logProblems...)
	if log != out.settings.Log {
		out.settings.Log = log
		changes = append(changes, docChange(kindSettings, idLog, log))
	}
	srv, srvProblems := out.settings.Server.merge(in.Server)
	errs = append(errs, srvProblems...)
	if srv != out.settings.Server {
		out.settings.Server = srv
		changes = append(changes, docChange(kindSettings, idServer, srv))
	}
	if len(errs) > 0 {
		return c, nil, errs
	}
	out.sort()
	return out, changes, nil
}

// targetProblems lists t's validation problems, each with its path.
func targetProblems(path string, t actions.Target) []string {
	err := t.Validate()
	if err == nil {
		return nil
	}
	var ve actions.ValidationError
	if !errors.As(err, &ve) {
		return []string{path + ": " + err.Error()}
	}
	ps := make([]string, len(ve))
	for i, fe := range ve {
		ps[i] = path + "." + fe.Error()
	}
	return ps
}

func docChange(kind, id string, v any) storage.ConfigChange {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %s %s: %v", kind, id, err)) // only our own plain types get here
	}
	return storage.ConfigChange{Kind: kind, ID: id, Data: data}
}

// export returns the config with bindings naming their targets by name, and
// the devices and settings in their sections.
func (c Config) export() Config {
	out := Config{Version: ConfigVersion, Targets: slices.Clone(c.Targets), Devices: c.devices.section(), Log: c.settings.Log.section(),
		Server: c.settings.Server.section()}
	if out.Targets == nil {
		out.Targets = []actions.Target{}
	}
	out.Bindings = []Binding{}
	for _, b := range c.Bindings {
		if t, ok := c.target(b.Target); ok {
			b.Target = t.Name
		}
		out.Bindings = append(out.Bindings, b)
	}
	return out
}
