// Package cli is Buttonhook's command line: the global flags, the runtime
// that the GUI and `buttonhook run` share, and the subcommands for headless
// use and scripting (sim, targets, log, devices, test, fire, settings).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/buttonhook/buttonhook/device"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// GUI shows the window for a running engine and returns when the user quits.
// main supplies it (only main and app/ui import Fyne).
type GUI func(ctx context.Context, rt *Runtime) error

// Env is what the command line runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	GUI            GUI // nil: no window available
	Version        string
	// Drivers returns the device drivers to run (main builds them: BH1,
	// Firmata, lines, and USB unless built with -tags nousb). Their
	// constructors start nothing; drivers that are io.Closers are closed
	// after the engine stops. nil: the BH1 driver alone.
	Drivers func(logger *slog.Logger) []device.Driver
}

// Globals are the flags that come before the subcommand.
type Globals struct {
	DataDir  string
	Serial   []string
	LogLevel slog.Level
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// errUsage marks an error that is the user's wording, not a failure (exit 2).
var errUsage = errors.New("usage")

// errShownUsage is a usage error already printed (by the flag package).
var errShownUsage = usageError{""}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
func (e usageError) Is(t error) bool {
	return t == errUsage
}

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usageText = `Buttonhook turns a hardware button into a reliable webhook.

Usage:
  buttonhook [global flags]                     open the window
  buttonhook [global flags] run                 run with no window until interrupted
  buttonhook sim [--serial-number SN] [--buttons N]
                                                simulate a BH1 button board on a pseudo-terminal
  buttonhook sim --firmata [--buttons N]        simulate a StandardFirmata board instead
  buttonhook sim --lines                        simulate a device that prints text lines
  buttonhook [global flags] targets import FILE|-
  buttonhook [global flags] targets export
  buttonhook [global flags] targets list        the targets with their IDs (what the REST API takes)
  buttonhook [global flags] targets delete NAME
  buttonhook [global flags] log [--json|--csv] [--target NAME] [--status S] [--since WHEN]
                             [--until WHEN] [--grep TEXT] [--sort FIELD] [--asc] [--limit N]
  buttonhook [global flags] devices [--json]
  buttonhook [global flags] test [--json] NAME  send the target once with sample values (not logged)
  buttonhook [global flags] fire [--json] NAME  run a logged attempt of the target now
  buttonhook [global flags] settings [--json]   show the settings (the log's retention, the local server)
  buttonhook [global flags] settings set NAME=VALUE...
                                                change them: log.keep_days=N (0: any age),
                                                log.max_attempts=N (0: no limit), server.port=N,
                                                server.lan=BOOL, server.public_url=URL,
                                                server.https=BOOL, server.inspector=BOOL,
                                                server.inspector_keep=N
  buttonhook [global flags] server [--json]     the local server's state, address and HTTPS fingerprint
  buttonhook [global flags] inspect [--json] [--no-follow] BIN
                                                print the requests sent to /inspect/BIN as they arrive
  buttonhook [global flags] apikey create --name NAME (--target T... | --all-targets)
                                                make a key for the dynamic URL API (shown once)
  buttonhook [global flags] apikey list [--json]
  buttonhook [global flags] apikey revoke ID|NAME
  buttonhook --version

Global flags:
`

// Main runs the command line and returns the process exit code.
func Main(args []string, env Env) int {
	fs := flag.NewFlagSet("buttonhook", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var g Globals
	var serial stringList
	var level string
	var version bool
	fs.StringVar(&g.DataDir, "data-dir", DefaultDataDir(), "`DIR` where config and the attempt log are kept")
	fs.Var(&serial, "serial", "a serial port to open (repeatable): a `PATH` like /dev/ttyACM0 or COM3, or the one 'buttonhook sim' prints")
	fs.StringVar(&level, "log-level", "info", "message `LEVEL`: debug, info, warn or error")
	fs.BoolVar(&version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if version {
		fmt.Fprintln(env.Stdout, "buttonhook", env.Version)
		return ExitOK
	}
	g.Serial = serial
	if err := g.LogLevel.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintf(env.Stderr, "buttonhook: --log-level: %v\n", err)
		return ExitUsage
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: g.LogLevel}))
	rest := fs.Args()
	cmd := ""
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	var err error
	switch cmd {
	case "":
		if env.GUI == nil {
			err = usagef("this build has no window (built with -tags nogui): use `buttonhook run`")
			break
		}
		err = runGUI(g, logger, env)
	case "run":
		err = cmdRun(g, logger, rest, env)
	case "sim":
		err = cmdSim(rest, env)
	case "targets":
		err = cmdTargets(g, logger, rest, env)
	case "log":
		err = cmdLog(g, logger, rest, env)
	case "devices":
		err = cmdDevices(g, logger, rest, env)
	case "test":
		err = cmdTest(g, logger, rest, env)
	case "fire":
		err = cmdFire(g, logger, rest, env)
	case "settings":
		err = cmdSettings(g, logger, rest, env)
	case "apikey":
		err = cmdAPIKey(g, logger, rest, env)
	case "server":
		err = cmdServer(g, logger, rest, env)
	case "inspect":
		err = cmdInspect(g, logger, rest, env)
	case "version":
		fmt.Fprintln(env.Stdout, "buttonhook", env.Version)
	case "help":
		fs.Usage()
	default:
		err = usagef("unknown command %q (see buttonhook -h)", cmd)
	}
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errUsage):
		if err != errShownUsage {
			fmt.Fprintf(env.Stderr, "buttonhook: %v\n", err)
		}
		return ExitUsage
	default:
		fmt.Fprintf(env.Stderr, "buttonhook: %v\n", err)
		return ExitFailure
	}
}

// subFlags returns a flag set for a subcommand that reports usage errors.
func subFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("buttonhook "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseSub parses a subcommand's flags; it takes no arguments beyond them.
func parseSub(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errShownUsage // the flag package has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// DefaultDataDir is the OS's per-user data directory for Buttonhook:
// $XDG_DATA_HOME/buttonhook (~/.local/share/buttonhook) on Linux,
// ~/Library/Application Support/Buttonhook on macOS and
// %LocalAppData%\Buttonhook on Windows.
func DefaultDataDir() string {
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "Buttonhook")
		}
		return filepath.Join(home, "AppData", "Local", "Buttonhook")
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "Buttonhook")
	default:
		if d := os.Getenv("XDG_DATA_HOME"); d != "" {
			return filepath.Join(d, "buttonhook")
		}
		return filepath.Join(home, ".local", "share", "buttonhook")
	}
}
