package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/buttonhook/buttonhook/app/engine"
)

const settingsUsage = "usage: buttonhook settings [--json] | buttonhook settings set NAME=VALUE... (log.keep_days, log.max_attempts)"

// cmdSettings shows the settings, or changes them (`settings set
// log.keep_days=30`), in the running instance if there is one.
func cmdSettings(g Globals, logger *slog.Logger, args []string, env Env) error {
	if len(args) > 0 && args[0] == "set" {
		return setSettings(g, logger, args[1:], env)
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return usagef("unknown settings command %q: %s", args[0], settingsUsage)
	}
	fs := subFlags("settings", env)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseSub(fs, args); err != nil {
		return err
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
	return printSettings(env.Stdout, settingsOf(cfg), *asJSON)
}

// setSettings applies NAME=VALUE pairs; settings not named keep their value.
func setSettings(g Globals, logger *slog.Logger, args []string, env Env) error {
	if len(args) == 0 {
		return usagef("settings set needs at least one NAME=VALUE: %s", settingsUsage)
	}
	sec, err := parseSettings(args)
	if err != nil {
		return err
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	if err := a.Import(engine.Config{Version: engine.ConfigVersion, Log: sec}); err != nil {
		return fmt.Errorf("set settings: %w", err)
	}
	cfg, err := a.Export()
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "saved; the log applies them now:")
	return printSettings(env.Stdout, settingsOf(cfg), false)
}

// parseSettings reads NAME=VALUE pairs into a config file's sections. The
// values' ranges are the engine's to check.
func parseSettings(args []string) (*engine.LogSection, error) {
	var sec engine.LogSection
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, usagef("settings set: %q is not NAME=VALUE (for example log.keep_days=30)", arg)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil && (name == "log.keep_days" || name == "log.max_attempts") {
			return nil, usagef("settings set: %s: %q is not a whole number", name, value)
		}
		switch name {
		case "log.keep_days":
			if n != int64(int(n)) {
				return nil, usagef("settings set: %s: %d is too large", name, n)
			}
			d := int(n)
			sec.KeepDays = &d
		case "log.max_attempts":
			sec.MaxAttempts = &n
		default:
			return nil, usagef("settings set: unknown setting %q: the settings are log.keep_days and log.max_attempts", name)
		}
	}
	return &sec, nil
}

// settingsOf reads the settings from an export; a setting it leaves out
// (an older instance's export) has its default.
func settingsOf(cfg engine.Config) engine.Settings {
	s := engine.DefaultSettings()
	if cfg.Log != nil {
		if cfg.Log.KeepDays != nil {
			s.Log.KeepDays = *cfg.Log.KeepDays
		}
		if cfg.Log.MaxAttempts != nil {
			s.Log.MaxAttempts = *cfg.Log.MaxAttempts
		}
	}
	return s
}

func printSettings(w io.Writer, s engine.Settings, asJSON bool) error {
	if asJSON {
		return printJSON(w, s)
	}
	days := fmt.Sprintf("keep the attempts of the last %d days", s.Log.KeepDays)
	if s.Log.KeepDays == 0 {
		days = "keep attempts of any age (0: no age limit)"
	}
	most := fmt.Sprintf("keep at most %d attempts, the newest", s.Log.MaxAttempts)
	if s.Log.MaxAttempts == 0 {
		most = "keep any number of attempts (0: no limit)"
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tMEANING")
	fmt.Fprintf(tw, "log.keep_days\t%d\t%s\n", s.Log.KeepDays, days)
	fmt.Fprintf(tw, "log.max_attempts\t%d\t%s\n", s.Log.MaxAttempts, most)
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Log.KeepDays == 0 && s.Log.MaxAttempts == 0 {
		fmt.Fprintln(w, "(the log is never trimmed: it grows until you set a limit)")
	}
	return nil
}
