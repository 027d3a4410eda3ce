package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// cmdTest runs `buttonhook test NAME`: one request with sample tag values,
// its answer printed and never logged. It fails (exit 1) when the target's
// success rule does not hold.
func cmdTest(g Globals, logger *slog.Logger, args []string, env Env) error {
	return targetCommand("test", g, logger, args, env, func(ctx context.Context, a api, name string) (any, func(io.Writer), error) {
		rep, err := a.Test(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		if !rep.OK {
			err = fmt.Errorf("test of %s failed: %s", name, rep.Error)
		}
		return rep, func(w io.Writer) { printReport(w, rep) }, err
	})
}

// cmdFire runs `buttonhook fire NAME`: a real attempt, logged like a press
// (event type "manual"), waiting for its end (an async target's callback
// included). It fails (exit 1) when the attempt failed.
func cmdFire(g Globals, logger *slog.Logger, args []string, env Env) error {
	return targetCommand("fire", g, logger, args, env, func(ctx context.Context, a api, name string) (any, func(io.Writer), error) {
		at, err := a.Fire(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		if at.Status != storage.StatusOK {
			err = fmt.Errorf("%s failed: %s", name, at.Error)
		}
		return at, func(w io.Writer) { printAttempt(w, at) }, err
	})
}

// targetCommand runs `buttonhook CMD [--json] NAME`: it reaches the data
// directory or its running instance and calls do under a context that
// SIGINT and SIGTERM cancel, then prints do's result, as JSON with --json,
// before returning do's error.
func targetCommand(cmd string, g Globals, logger *slog.Logger, args []string, env Env,
	do func(ctx context.Context, a api, name string) (result any, show func(io.Writer), err error)) error {
	fs := subFlags(cmd, env)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	name, err := parseName(fs, args, cmd)
	if err != nil {
		return err
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	result, show, err := do(ctx, a, name)
	if result == nil {
		return err
	}
	if *asJSON {
		if jerr := json.NewEncoder(env.Stdout).Encode(result); jerr != nil {
			return jerr
		}
	} else {
		show(env.Stdout)
	}
	return err
}

// printAttempt prints a fired attempt's one-line summary and its message.
func printAttempt(w io.Writer, at storage.Attempt) {
	code := "no response"
	if at.Code != 0 {
		code = fmt.Sprintf("HTTP %d", at.Code)
	}
	fmt.Fprintf(w, "%s  %s  in %s  trigger %s  %s %s\n", at.Status, code, engine.FormatDuration(at.Duration), at.ID, at.Method, at.URL)
	if at.Message != "" {
		fmt.Fprintf(w, "message: %s\n", at.Message)
	}
}

// parseName parses a subcommand's flags and its one argument, a target's
// name (flags may come before or after it).
func parseName(fs *flag.FlagSet, args []string, cmd string) (string, error) {
	var name string
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			name = a
			args = append(args[:i:i], args[i+1:]...)
			break
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", errShownUsage
	}
	if name == "" || fs.NArg() > 0 {
		return "", usagef("usage: buttonhook %s [--json] NAME (the target's name; see buttonhook targets list)", cmd)
	}
	return name, nil
}

// printReport prints a test result: the status line, timing, the body.
func printReport(w io.Writer, r engine.TestReport) {
	status := "OK"
	if !r.OK {
		status = "FAILED"
	}
	code := "no response"
	if r.Code != 0 {
		code = fmt.Sprintf("HTTP %d", r.Code)
	}
	fmt.Fprintf(w, "%s  %s  in %s\n", status, code, engine.FormatTiming(r.Duration, r.Timing.Connect, r.Timing.TLS, r.Timing.FirstByte))
	if r.Error != "" {
		fmt.Fprintf(w, "reason: %s\n", r.Error)
	}
	if r.ContentType != "" {
		fmt.Fprintf(w, "Content-Type: %s\n", r.ContentType)
	}
	if r.Body != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(r.Body, "\n"))
	}
}
