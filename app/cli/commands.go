package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/storage"
	"github.com/buttonhook/buttonhook/storage/secrets"
)

// lockedWriter serialises lines written from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

func cmdSim(args []string, env Env) error {
	fs := subFlags("sim", env)
	sn := fs.String("serial-number", "", "the serial number it announces (default: random SIM-xxxx)")
	model := fs.String("model", "sim", "the model name it announces")
	buttons := fs.Int("buttons", 1, "how many buttons it has")
	firmataMode := fs.Bool("firmata", false, "simulate a StandardFirmata board (the Firmata driver) instead of a BH1 board")
	linesMode := fs.Bool("lines", false, "simulate a device that prints text lines (the lines driver) instead of a BH1 board")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	switch {
	case *firmataMode && *linesMode:
		return usagef("sim: --firmata and --lines: choose one")
	case (*firmataMode || *linesMode) && (*sn != "" || *model != "sim"):
		return usagef("sim: --serial-number and --model are for BH1 boards only")
	case *firmataMode:
		return cmdSimDevice("firmata", *buttons, env)
	case *linesMode:
		return cmdSimDevice("lines", *buttons, env)
	}
	out := &lockedWriter{w: env.Stdout}
	b, err := sim.New(sim.Options{Model: *model, Serial: *sn, Buttons: *buttons, OnCommand: out.println})
	if err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer b.Close()
	out.println(b.Path())
	fmt.Fprintf(env.Stderr, "Simulated button %s on %s. Start Buttonhook with --serial %s, or add the port in its window.\n"+
		"Commands: press N, down N, up N, unplug, quit. Host commands are printed as they arrive.\n", b.Hello().Serial, b.Path(), b.Path())

	return runCommands(env, b.Do)
}

// runCommands runs each non-blank line of stdin with do, printing its
// errors, until EOF, do says quit, or SIGINT or SIGTERM.
func runCommands(env Env, do func(line string) (quit bool, err error)) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	lines := make(chan string)
	go func() { // ends at EOF on stdin; the process exits soon after
		defer close(lines)
		sc := bufio.NewScanner(env.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			if strings.TrimSpace(l) == "" {
				continue
			}
			quit, err := do(l)
			if err != nil {
				fmt.Fprintf(env.Stderr, "error: %v\n", err)
			}
			if quit {
				return nil
			}
		}
	}
}

// api is what the scripting commands need, from a running instance (over its
// control socket) or from the data directory directly.
type api interface {
	Export() (engine.Config, error)
	Import(engine.Config) error
	Search(storage.Query) (storage.Page, error)
	ExportLog(w io.Writer, q storage.Query, format string) error
	Devices() ([]engine.DeviceState, error)
	Test(ctx context.Context, name string) (engine.TestReport, error)
	Fire(ctx context.Context, name string) (storage.Attempt, error)
	DeleteTarget(name string) error
	keyAPI
}

// local serves the scripting commands from the data directory when no
// instance is running.
type local struct {
	e   *engine.Engine
	log *slog.Logger
}

func (l local) Export() (engine.Config, error)               { return l.e.Export(), nil }
func (l local) Import(c engine.Config) error                 { return l.e.Import(c) }
func (l local) Search(q storage.Query) (storage.Page, error) { return l.e.Search(q) }
func (l local) ExportLog(w io.Writer, q storage.Query, format string) error {
	if format == "csv" {
		return l.e.WriteCSV(w, q)
	}
	return l.e.WriteJSONLines(w, q)
}
func (l local) DeleteTarget(name string) error { return l.e.DeleteTarget(name) }
func (l local) Fire(ctx context.Context, name string) (storage.Attempt, error) {
	return l.e.Fire(ctx, name)
}
func (l local) Test(ctx context.Context, name string) (engine.TestReport, error) {
	r, err := l.e.Test(ctx, name)
	return engine.NewTestReport(r), err
}

// connect returns the running instance's API if one holds the data
// directory, or opens the directory itself.
func connect(g Globals, logger *slog.Logger) (api, func(), error) {
	return connectDrivers(g, logger, nil)
}

// connectDrivers is connect with the drivers a local engine probes devices
// with (see local.Devices); it closes them when done.
func connectDrivers(g Globals, logger *slog.Logger, drivers []device.Driver) (api, func(), error) {
	db, err := storage.Open(g.DataDir, logger)
	if errors.Is(err, storage.ErrLocked) {
		closeDrivers(logger, drivers)
		return server.NewClient(g.DataDir), func() {}, nil
	}
	if err != nil {
		closeDrivers(logger, drivers)
		return nil, nil, err
	}
	e, err := engine.New(engine.Options{Logger: logger, Store: db, Secrets: secrets.NewSources(), SecretStore: secrets.Keyring{},
		Drivers: drivers, ExtraPorts: g.Serial})
	if err != nil {
		closeDrivers(logger, drivers)
		db.Close()
		return nil, nil, err
	}
	return local{e: e, log: logger}, func() { closeDrivers(logger, drivers); db.Close() }, nil
}

func cmdTargets(g Globals, logger *slog.Logger, args []string, env Env) error {
	if len(args) == 0 {
		return usagef("targets needs a command: import FILE|-, export, list or delete NAME")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "import":
		if len(args) != 1 {
			return usagef("usage: buttonhook targets import FILE|-")
		}
		cfg, err := readConfig(args[0], env.Stdin)
		if err != nil {
			return err
		}
		a, done, err := connect(g, logger)
		if err != nil {
			return err
		}
		defer done()
		return importConfig(env.Stdout, a, cfg, args[0])
	case "delete":
		if len(args) != 1 {
			return usagef("usage: buttonhook targets delete NAME")
		}
		a, done, err := connect(g, logger)
		if err != nil {
			return err
		}
		defer done()
		if err := a.DeleteTarget(args[0]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted target %s, its bindings and its keyring secrets\n", args[0])
		return nil
	case "export", "list":
		if len(args) != 0 {
			return usagef("usage: buttonhook targets %s", sub)
		}
		a, done, err := connect(g, logger)
		if err != nil {
			return err
		}
		defer done()
		cfg, err := a.Export()
		if err != nil {
			return err
		}
		if sub == "export" {
			return printJSON(env.Stdout, cfg)
		}
		return listTargets(env.Stdout, cfg)
	default:
		return usagef("unknown targets command %q: use import, export, list or delete", sub)
	}
}

// importConfig imports cfg from the file name and says what it brought in,
// and which settings it changed: a file's settings sections apply too, and
// one may open the server to the network.
func importConfig(w io.Writer, a api, cfg engine.Config, name string) error {
	var before engine.Config
	if cfg.Log != nil || cfg.Server != nil {
		var err error
		if before, err = a.Export(); err != nil {
			return err
		}
	}
	if err := a.Import(cfg); err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	fmt.Fprintf(w, "imported %d target(s), %d binding(s), %d device port(s)\n", len(cfg.Targets), len(cfg.Bindings), importedPorts(cfg))
	if cfg.Log == nil && cfg.Server == nil {
		return nil
	}
	after, err := a.Export()
	if err != nil {
		return fmt.Errorf("%s was imported, but its settings cannot be read back to show what it changed (see `buttonhook settings`): %w", name, err)
	}
	printSettingChanges(w, settingsOf(before), settingsOf(after))
	return nil
}

func readConfig(name string, stdin io.Reader) (engine.Config, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return engine.Config{}, fmt.Errorf("read config: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 8<<20))
	if err != nil {
		return engine.Config{}, fmt.Errorf("read %s: %w", name, err)
	}
	var cfg engine.Config
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	err = dec.Decode(&cfg)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON document: put everything in one {\"targets\": ..., \"bindings\": ...} object")
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + strings.Count(string(data[:se.Offset]), "\n")
			return cfg, fmt.Errorf("%s: line %d: %v", name, line, err)
		}
		return cfg, fmt.Errorf("%s: %v", name, err)
	}
	if cfg.Version == 0 {
		cfg.Version = engine.ConfigVersion
	}
	return cfg, nil
}

// listTargets prints the targets as a table, with the IDs the REST API
// names them by.
func listTargets(w io.Writer, cfg engine.Config) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tSTATUS\tMETHOD\tURL\tBOUND TO")
	for _, t := range cfg.Targets {
		status := "enabled"
		if !t.Enabled {
			status = "disabled"
		}
		var bound []string
		for _, b := range cfg.Bindings {
			if b.Target == t.Name {
				dev := b.Device
				if dev == "" {
					dev = "any device"
				}
				bound = append(bound, fmt.Sprintf("%s button %d %s", dev, b.Button, b.Gesture))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.ID, status, t.Method, actions.RedactURL(t.URL), strings.Join(bound, "; "))
	}
	return tw.Flush()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
