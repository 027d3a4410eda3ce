package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/buttonhook/buttonhook/app/server"
	"github.com/buttonhook/buttonhook/storage"
)

// `buttonhook server` and `buttonhook inspect`: the local server lives in
// the running instance, so both talk to it through its control socket.

// errNotRunning is returned when a command needs a running instance.
func errNotRunning(dataDir, what string) error {
	return fmt.Errorf("no Buttonhook is running with data directory %s: %s lives in the running app: start it (the window, or `buttonhook run`), then try again", dataDir, what)
}

// runningClient returns the control client of the instance holding the
// data directory, or errNotRunning.
func runningClient(g Globals, logger *slog.Logger, what string) (*server.Client, error) {
	db, err := storage.Open(g.DataDir, logger)
	if errors.Is(err, storage.ErrLocked) {
		return server.NewClient(g.DataDir), nil
	}
	if err != nil {
		return nil, err
	}
	db.Close()
	return nil, errNotRunning(g.DataDir, what)
}

func cmdServer(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("server", env)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	c, err := runningClient(g, logger, "the local server")
	if err != nil {
		return err
	}
	st, err := c.ServerStatus()
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, st)
	}
	return printStatus(env.Stdout, st)
}

func printStatus(w io.Writer, st server.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	state := st.State
	if st.Reason != "" {
		state += " (" + st.Reason + ")"
	}
	fmt.Fprintf(tw, "State:\t%s\n", state)
	if st.State != server.StateOff {
		fmt.Fprintf(tw, "Since:\t%s\n", st.Since.Local().Format(time.DateTime))
	}
	if st.Error != "" {
		fmt.Fprintf(tw, "Problem:\t%s\n", st.Error)
	}
	if st.Addr != "" {
		where := "this machine only"
		if st.LAN {
			where = "the local network too"
		}
		listening := "Listening on"
		if st.State == server.StateFailed {
			listening = "Cannot listen on"
		}
		fmt.Fprintf(tw, "%s:\t%s (%s)\n", listening, st.Addr, where)
	}
	if st.URL != "" {
		fmt.Fprintf(tw, "Callbacks and API at:\t%s\n", st.URL)
	}
	if st.Fingerprint != "" {
		fmt.Fprintf(tw, "HTTPS certificate SHA-256:\t%s\n", st.Fingerprint)
	}
	insp := "off (buttonhook settings set server.inspector=true)"
	if st.Inspector {
		insp = "on"
		if st.URL != "" {
			insp += ": send requests to " + st.URL + "/inspect/BIN, see them with `buttonhook inspect BIN`"
		}
	}
	fmt.Fprintf(tw, "Inspector:\t%s\n", insp)
	return tw.Flush()
}

func cmdInspect(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("inspect", env)
	asJSON := fs.Bool("json", false, "print each request as a JSON line")
	noFollow := fs.Bool("no-follow", false, "print the requests held and exit, instead of waiting for more")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errShownUsage
	}
	if fs.NArg() != 1 {
		return usagef("inspect: give one bin name, e.g. `buttonhook inspect demo`")
	}
	bin := fs.Arg(0)
	c, err := runningClient(g, logger, "the request inspector")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if !*noFollow && !*asJSON {
		if st, err := c.ServerStatus(); err == nil && st.Inspector {
			switch st.State {
			case server.StateRunning:
				fmt.Fprintf(env.Stderr, "Waiting for requests to %s/inspect/%s (Ctrl-C to stop)\n", st.URL, bin)
			default:
				fmt.Fprintf(env.Stderr, "The local server is %s: %s\n", st.State, orDash(st.Error))
			}
		}
	}
	return c.Inspect(ctx, bin, !*noFollow, func(q server.Inspected) error {
		if *asJSON {
			return printJSON(env.Stdout, q)
		}
		printInspected(env.Stdout, q)
		return nil
	})
}

// printInspected prints a request as an HTTP client would send it. What
// the sender chose passes through escapeControls: a request cannot put
// escape sequences on the user's terminal.
func printInspected(w io.Writer, q server.Inspected) {
	target := q.Path
	if q.Query != "" {
		target += "?" + q.Query
	}
	line := func(s string) string { return escapeControls(s, false) }
	fmt.Fprintf(w, "#%d  %s  from %s\n", q.Seq, q.Time.Local().Format("2006-01-02 15:04:05.000"), line(q.Client))
	fmt.Fprintf(w, "%s %s\n", line(q.Method), line(target))
	names := make([]string, 0, len(q.Headers))
	for k := range q.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range q.Headers[k] {
			fmt.Fprintf(w, "%s: %s\n", line(k), line(v))
		}
	}
	switch {
	case q.Size == 0:
	case q.BodyBase64:
		fmt.Fprintf(w, "\n(%d bytes of binary data, base64)\n%s\n", q.Size, line(q.Body))
	default:
		fmt.Fprintf(w, "\n%s\n", escapeControls(strings.TrimRight(q.Body, "\n"), true))
	}
	if q.Truncated {
		fmt.Fprintf(w, "(the body was larger than %d KiB: only its first %[1]d KiB were kept)\n", server.MaxInspectBody>>10)
	}
	fmt.Fprintln(w)
}

// escapeControls shows the control characters of s as escapes (\x1b,
// \u009b), and so do bytes that are not UTF-8 and the bidirectional
// formatting characters (which reorder what is shown after them). Printed
// raw, they would let whoever sent s move the cursor, clear the screen,
// set the window title or hide text. A multiline s keeps its newlines and
// tabs.
func escapeControls(s string, multiline bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"): // a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
