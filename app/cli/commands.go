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
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/sim"
	"github.com/buttonhook/buttonhook/device/usb"
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
	if err := parseSub(fs, args); err != nil {
		return err
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
			quit, err := b.Do(l)
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
}

// local serves the scripting commands from the data directory when no
// instance is running.
type local struct {
	e     *engine.Engine
	ports []string
	log   *slog.Logger
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

// Devices opens each configured port once to see what answers.
func (l local) Devices() ([]engine.DeviceState, error) {
	d := serial.NewDriver(l.log)
	paths := slices.Clone(l.e.Config().SerialPorts)
	for _, p := range l.ports {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	var out []engine.DeviceState
	for _, p := range paths {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		dev, err := d.OpenPath(ctx, p)
		cancel()
		if err != nil {
			out = append(out, engine.DeviceState{Info: infoForPath(p), Error: err.Error()})
			continue
		}
		out = append(out, engine.DeviceState{Info: dev.Info(), Connected: true})
		dev.Close()
	}
	return out, nil
}

// connect returns the running instance's API if one holds the data
// directory, or opens the directory itself.
func connect(g Globals, logger *slog.Logger) (api, func(), error) {
	db, err := storage.Open(g.DataDir, logger)
	if errors.Is(err, storage.ErrLocked) {
		return server.NewClient(g.DataDir), func() {}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	e, err := engine.New(engine.Options{Logger: logger, Store: db, Secrets: secrets.NewSources(), SecretStore: secrets.Keyring{}})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return local{e: e, ports: g.Serial, log: logger}, func() { db.Close() }, nil
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
		if err := a.Import(cfg); err != nil {
			return fmt.Errorf("import %s: %w", args[0], err)
		}
		fmt.Fprintf(env.Stdout, "imported %d target(s), %d binding(s), %d serial port(s)\n", len(cfg.Targets), len(cfg.Bindings), len(cfg.SerialPorts))
		return nil
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
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(cfg)
		}
		return listTargets(env.Stdout, cfg)
	default:
		return usagef("unknown targets command %q: use import, export, list or delete", sub)
	}
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

func listTargets(w io.Writer, cfg engine.Config) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tMETHOD\tURL\tBOUND TO")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, status, t.Method, actions.RedactURL(t.URL), strings.Join(bound, "; "))
	}
	return tw.Flush()
}

func cmdDevices(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("devices", env)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	ds, err := a.Devices()
	if err != nil {
		return err
	}
	ports, perr := serial.ListPorts()
	found, uerr := usb.List(context.Background())
	if uerr != nil && !errors.Is(uerr, usb.ErrUnsupported) {
		fmt.Fprintf(env.Stderr, "cannot list USB devices: %v\n", uerr)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Devices []engine.DeviceState `json:"devices"`
			Ports   []serial.PortInfo    `json:"serial_ports"`
			USB     []usb.Found          `json:"usb"`
		}{nonNil(ds), nonNil(ports), nonNil(found)})
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSTATE\tPATH\tMODEL\tFIRMWARE\tBUTTONS\tLEDS")
	for _, d := range ds {
		state := "connected"
		if !d.Connected {
			state = "not connected: " + d.Error
		}
		var leds []string
		for _, c := range d.Colors {
			leds = append(leds, string(c))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", orDash(d.ID), state, d.Path, orDash(d.Model), orDash(d.Firmware), d.Buttons, orDash(strings.Join(leds, ",")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ds) == 0 {
		fmt.Fprintln(env.Stdout, "(no devices configured: pass --serial PATH, or add a port in the window)")
	}
	if perr != nil {
		fmt.Fprintf(env.Stderr, "cannot list serial ports: %v\n", perr)
	} else if len(ports) > 0 {
		fmt.Fprintln(env.Stdout, "\nSerial ports on this computer:")
		for _, p := range ports {
			extra := ""
			if p.USB {
				extra = fmt.Sprintf(" USB %s:%s %s %s", p.VID, p.PID, p.SerialNumber, p.Product)
			}
			fmt.Fprintf(env.Stdout, "  %s%s\n", p.Path, extra)
		}
	}
	if len(found) > 0 {
		fmt.Fprintln(env.Stdout, "\nSupported USB devices found (detected only: their drivers are not in this version yet):")
		for _, f := range found {
			fmt.Fprintf(env.Stdout, "  %s  %s:%s  bus %d address %d\n", f.Model, f.VID, f.PID, f.Bus, f.Address)
		}
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
