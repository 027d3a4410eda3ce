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

const settingsUsage = "usage: buttonhook settings [--json] | buttonhook settings set NAME=VALUE... (log.keep_days, log.max_attempts, " +
	"server.port, server.lan, server.public_url, server.https, server.inspector, server.inspector_keep)"

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
	in, err := parseSettings(args)
	if err != nil {
		return err
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	if err := a.Import(in); err != nil {
		return fmt.Errorf("set settings: %w", err)
	}
	cfg, err := a.Export()
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "saved; they apply now:")
	return printSettings(env.Stdout, settingsOf(cfg), false)
}

// parseSettings reads NAME=VALUE pairs into a config file's sections. The
// values' ranges are the engine's to check.
func parseSettings(args []string) (engine.Config, error) {
	var log engine.LogSection
	var srv engine.ServerSection
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			return engine.Config{}, usagef("settings set: %q is not NAME=VALUE (for example log.keep_days=30)", arg)
		}
		var err error
		switch name {
		case "log.keep_days":
			log.KeepDays, err = parseSetting(name, value, strconv.Atoi)
		case "log.max_attempts":
			log.MaxAttempts, err = parseSetting(name, value, func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
		case "server.port":
			srv.Port, err = parseSetting(name, value, strconv.Atoi)
		case "server.inspector_keep":
			srv.InspectorKeep, err = parseSetting(name, value, strconv.Atoi)
		case "server.lan":
			srv.LAN, err = parseSetting(name, value, strconv.ParseBool)
		case "server.https":
			srv.HTTPS, err = parseSetting(name, value, strconv.ParseBool)
		case "server.inspector":
			srv.Inspector, err = parseSetting(name, value, strconv.ParseBool)
		case "server.public_url":
			v := strings.TrimSpace(value)
			srv.PublicURL = &v
		default:
			return engine.Config{}, usagef("settings set: unknown setting %q: %s", name, settingsUsage)
		}
		if err != nil {
			return engine.Config{}, err
		}
	}
	cfg := engine.Config{Version: engine.ConfigVersion}
	if log != (engine.LogSection{}) {
		cfg.Log = &log
	}
	if srv != (engine.ServerSection{}) {
		cfg.Server = &srv
	}
	return cfg, nil
}

// parseSetting reads one setting's value with parse.
func parseSetting[T int | int64 | bool](name, value string, parse func(string) (T, error)) (*T, error) {
	v, err := parse(strings.TrimSpace(value))
	if err != nil {
		var zero T
		what := "a whole number"
		if _, isBool := any(zero).(bool); isBool {
			what = "true or false"
		}
		return nil, usagef("settings set: %s: %q is not %s", name, value, what)
	}
	return &v, nil
}

// settingsOf reads the settings from an export; a setting it leaves out
// (an older instance's export) has its default.
func settingsOf(cfg engine.Config) engine.Settings {
	s := engine.DefaultSettings()
	if l := cfg.Log; l != nil {
		setFrom(&s.Log.KeepDays, l.KeepDays)
		setFrom(&s.Log.MaxAttempts, l.MaxAttempts)
	}
	if v := cfg.Server; v != nil {
		setFrom(&s.Server.Port, v.Port)
		setFrom(&s.Server.LAN, v.LAN)
		setFrom(&s.Server.PublicURL, v.PublicURL)
		setFrom(&s.Server.HTTPS, v.HTTPS)
		setFrom(&s.Server.Inspector, v.Inspector)
		setFrom(&s.Server.InspectorKeep, v.InspectorKeep)
	}
	return s
}

// setFrom sets *dst to *p when p is set.
func setFrom[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
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
	v := s.Server
	fmt.Fprintf(tw, "server.port\t%d\tthe local server listens on port %d (when something needs it)\n", v.Port, v.Port)
	fmt.Fprintf(tw, "server.lan\t%t\t%s\n", v.LAN, pick(v.LAN, "listen on every network interface: other machines can reach it", "listen on 127.0.0.1 only: this machine alone can reach it"))
	fmt.Fprintf(tw, "server.public_url\t%s\t%s\n", orDash(v.PublicURL), pick(v.PublicURL != "", "callbacks are addressed to this URL (a reverse proxy or tunnel)", "callbacks are addressed to the server itself"))
	fmt.Fprintf(tw, "server.https\t%t\t%s\n", v.HTTPS, pick(v.HTTPS, "serve HTTPS with a generated self-signed certificate", "serve plain HTTP"))
	fmt.Fprintf(tw, "server.inspector\t%t\t%s\n", v.Inspector, pick(v.Inspector, "the request inspector records what is sent to /inspect/BIN", "the request inspector is off"))
	fmt.Fprintf(tw, "server.inspector_keep\t%d\tthe inspector keeps the last %d requests per bin\n", v.InspectorKeep, v.InspectorKeep)
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Log.KeepDays == 0 && s.Log.MaxAttempts == 0 {
		fmt.Fprintln(w, "(the log is never trimmed: it grows until you set a limit)")
	}
	if v.LAN {
		fmt.Fprintln(w, "(server.lan: the local server is reachable from your network; API keys and callback tokens guard it, but turn it off unless another machine must call in)")
	}
	return nil
}

// settingValues lists the settings by the names `settings set` takes,
// each with its value as `settings` shows it.
func settingValues(s engine.Settings) [][2]string {
	v := s.Server
	return [][2]string{
		{"log.keep_days", strconv.Itoa(s.Log.KeepDays)},
		{"log.max_attempts", strconv.FormatInt(s.Log.MaxAttempts, 10)},
		{"server.port", strconv.Itoa(v.Port)},
		{"server.lan", strconv.FormatBool(v.LAN)},
		{"server.public_url", orDash(v.PublicURL)},
		{"server.https", strconv.FormatBool(v.HTTPS)},
		{"server.inspector", strconv.FormatBool(v.Inspector)},
		{"server.inspector_keep", strconv.Itoa(v.InspectorKeep)},
	}
}

// printSettingChanges says which settings an import changed, each with
// its old and new value, and warns when the server is now open to the
// network.
func printSettingChanges(w io.Writer, before, after engine.Settings) {
	old := settingValues(before)
	var changed []string
	for i, s := range settingValues(after) {
		if s[1] != old[i][1] {
			changed = append(changed, fmt.Sprintf("  %s: %s -> %s", s[0], old[i][1], s[1]))
		}
	}
	if len(changed) == 0 {
		return
	}
	fmt.Fprintf(w, "it changed %d setting(s) (undo with `buttonhook settings set NAME=VALUE`):\n%s\n", len(changed), strings.Join(changed, "\n"))
	if after.Server.LAN && !before.Server.LAN {
		fmt.Fprintf(w, "warning: server.lan is now on: anyone on your network can then reach the local server on port %d while it runs "+
			"(API keys and callback tokens guard it, but the inspector records whatever anyone sends); "+
			"turn it off with `buttonhook settings set server.lan=false` unless another machine must call in\n", after.Server.Port)
	}
}

// pick returns yes when cond holds, else no.
func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
