package cli

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/app/server"
)

const apikeyUsage = "usage: buttonhook apikey create --name NAME (--target TARGET... | --all-targets) [--json] | " +
	"buttonhook apikey list [--json] | buttonhook apikey revoke ID|NAME"

// keyAPI is what the apikey command needs, from a running instance (over
// its control socket) or from the data directory directly.
type keyAPI interface {
	CreateAPIKey(name string, targets []string, all bool) (string, engine.APIKey, error)
	APIKeys() ([]engine.APIKey, error)
	RevokeAPIKey(idOrName string) error
}

// exporter reads the config, for the names and settings a command shows.
type exporter interface {
	Export() (engine.Config, error)
}

func (l local) CreateAPIKey(name string, targets []string, all bool) (string, engine.APIKey, error) {
	return l.e.CreateAPIKey(name, targets, all)
}
func (l local) APIKeys() ([]engine.APIKey, error)  { return l.e.APIKeys(), nil }
func (l local) RevokeAPIKey(idOrName string) error { return l.e.RevokeAPIKey(idOrName) }

// cmdAPIKey creates, lists and revokes the API keys of the REST API
// (dynamic URLs), in the running instance if there is one.
func cmdAPIKey(g Globals, logger *slog.Logger, args []string, env Env) error {
	if len(args) == 0 {
		return usagef("apikey needs a command: %s", apikeyUsage)
	}
	sub, args := args[0], args[1:]
	fs := subFlags("apikey "+sub, env)
	asJSON := fs.Bool("json", false, "print JSON")
	var name string
	var targets stringList
	var all bool
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "who or what uses the key, like \"home server\" (required)")
		fs.Var(&targets, "target", "a `TARGET` (name or id) the key may change (repeatable)")
		fs.BoolVar(&all, "all-targets", false, "the key may change every target, also those added later")
	case "list":
	case "revoke":
		if len(args) != 1 || strings.HasPrefix(args[0], "-") {
			return usagef("usage: buttonhook apikey revoke ID|NAME")
		}
		name, args = args[0], nil
	default:
		return usagef("unknown apikey command %q: %s", sub, apikeyUsage)
	}
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if sub == "create" && (name == "" || all == (len(targets) > 0)) {
		return usagef("apikey create needs --name, and --target (one or more) or --all-targets: %s", apikeyUsage)
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	switch sub {
	case "create":
		return createKey(env.Stdout, a, a, name, targets, all, *asJSON)
	case "list":
		ks, err := a.APIKeys()
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, nonNil(ks))
		}
		cfg, err := a.Export()
		if err != nil {
			return err
		}
		return listKeys(env.Stdout, ks, cfg)
	default: // revoke
		if err := a.RevokeAPIKey(name); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "revoked API key %s: it authorizes nothing from now on\n", name)
		return nil
	}
}

// createKey creates an API key and prints it. The key is shown this once,
// so it is printed whatever fails after it was created.
func createKey(w io.Writer, a exporter, keys keyAPI, name string, targets []string, all, asJSON bool) error {
	key, k, err := keys.CreateAPIKey(name, targets, all)
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	if asJSON {
		return printJSON(w, server.NewAPIKey{Key: key, APIKey: k})
	}
	cfg, err := a.Export()
	fmt.Fprintf(w, "created API key %q (id %s) for %s.\n", k.Name, k.ID, keyScope(k, cfg))
	fmt.Fprintf(w, "This is the only time the key is shown: keep it where your server reads it.\n\n  %s\n\n", key)
	if err != nil {
		return fmt.Errorf("the API key above was created, but its curl commands cannot be shown: %w", err)
	}
	printKeyUse(w, key, k, cfg)
	return nil
}

// printKeyUse shows a curl command for each target a new key covers (for
// an all-targets key, each dynamic target).
func printKeyUse(w io.Writer, key string, k engine.APIKey, cfg engine.Config) {
	s := settingsOf(cfg)
	base := s.Server.PublicURL
	if base == "" {
		base = "http://127.0.0.1:" + strconv.Itoa(s.Server.Port)
		if s.Server.HTTPS {
			base = "https://127.0.0.1:" + strconv.Itoa(s.Server.Port)
		}
	}
	var covered []actions.Target
	for _, t := range cfg.Targets {
		if k.AllTargets && t.Dynamic.Enabled || slices.Contains(k.Targets, t.ID) {
			covered = append(covered, t)
		}
	}
	fmt.Fprintln(w, "Set a target's URL with it:")
	if len(covered) == 0 {
		covered = []actions.Target{{ID: "TARGET_ID", Name: "(no dynamic target yet: use a target's id)", Dynamic: actions.Dynamic{Enabled: true}}}
	}
	for _, t := range covered {
		note := t.Name
		if !t.Dynamic.Enabled {
			note += ", not dynamic yet: turn on its dynamic URL in Buttonhook"
		}
		fmt.Fprintf(w, "  # %s\n  curl -X PUT -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"url\":\"https://example.com/hook\"}' %s/api/v1/targets/%s/url\n",
			note, key, base, t.ID)
	}
	if s.Server.HTTPS && s.Server.PublicURL == "" {
		fmt.Fprintln(w, "(the server's certificate is self-signed: give curl its fingerprint or certificate, as `buttonhook server` shows)")
	}
}

// keyScope says which targets a key may change, by name.
func keyScope(k engine.APIKey, cfg engine.Config) string {
	if k.AllTargets {
		return "all targets"
	}
	names := make([]string, 0, len(k.Targets))
	for _, id := range k.Targets {
		name := id
		for _, t := range cfg.Targets {
			if t.ID == id {
				name = t.Name
			}
		}
		names = append(names, name)
	}
	return strings.Join(names, ", ")
}

func listKeys(w io.Writer, ks []engine.APIKey, cfg engine.Config) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tTARGETS\tCREATED\tLAST USED")
	for _, k := range ks {
		used := "never"
		if !k.LastUsed.IsZero() {
			used = k.LastUsed.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.ID, keyScope(k, cfg), k.Created.Local().Format("2006-01-02 15:04"), used)
	}
	return tw.Flush()
}
