package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// cmdLog runs `buttonhook log`: a page of the attempt log, filtered and
// sorted, as a table or JSON lines; or, with --csv or --all, every matching
// attempt streamed.
func cmdLog(g Globals, logger *slog.Logger, args []string, env Env) error {
	fs := subFlags("log", env)
	asJSON := fs.Bool("json", false, "print JSON lines, one attempt per line")
	asCSV := fs.Bool("csv", false, "print every matching attempt as CSV (not one page)")
	all := fs.Bool("all", false, "with --json: every matching attempt, not one page")
	limit := fs.Int("limit", 50, "how many attempts in a page (at most 1000)")
	target := fs.String("target", "", "only the attempts of the target with this `NAME`")
	status := fs.String("status", "", "only attempts with this status: ok, failed or waiting")
	since := fs.String("since", "", "only attempts since `WHEN`: today, 7d, 30d, a duration like 2h, or a date/time (2026-01-02 or RFC 3339)")
	until := fs.String("until", "", "only attempts before `WHEN` (as --since)")
	grep := fs.String("grep", "", "only attempts whose URL, error or message contain `TEXT` (any case)")
	sortBy := fs.String("sort", "time", "order: time, status, code, target or duration (newest, highest, longest first)")
	asc := fs.Bool("asc", false, "reverse the order: oldest, lowest, shortest first")
	cursor := fs.String("cursor", "", "continue after a page: the `CURSOR` a previous page printed")
	if err := parseSub(fs, args); err != nil {
		return err
	}
	if *limit < 1 {
		return usagef("--limit must be at least 1")
	}
	if *asCSV && *asJSON {
		return usagef("--csv and --json: choose one")
	}
	now := time.Now()
	q := storage.Query{Limit: *limit, Cursor: *cursor, Text: *grep, Sort: storage.Sort(*sortBy), Ascending: *asc}
	switch strings.ToLower(*status) {
	case "":
	case "ok":
		q.Status = storage.StatusOK
	case "failed":
		q.Status = storage.StatusFailed
	case "waiting":
		q.Status = storage.StatusWaiting
	default:
		return usagef("--status %q: use ok, failed or waiting", *status)
	}
	var err error
	if q.From, err = parseWhen(*since, now); err != nil {
		return usagef("--since: %v", err)
	}
	if q.To, err = parseWhen(*until, now); err != nil {
		return usagef("--until: %v", err)
	}
	a, done, err := connect(g, logger)
	if err != nil {
		return err
	}
	defer done()
	if *target != "" {
		cfg, err := a.Export()
		if err != nil {
			return err
		}
		// The export names targets; the log keeps their IDs.
		found := false
		for _, t := range cfg.Targets {
			if strings.EqualFold(t.Name, *target) {
				q.TargetID, found = t.ID, true
			}
		}
		if !found {
			return fmt.Errorf("no target named %q (see buttonhook targets list)", *target)
		}
	}
	if *asCSV || *asJSON && *all {
		format := "jsonl"
		if *asCSV {
			format = "csv"
		}
		return a.ExportLog(env.Stdout, q, format)
	}
	page, err := a.Search(q)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, page.Attempts)
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTATUS\tCODE\tDURATION\tTARGET\tDEVICE\tBUTTON\tTRIGGER ID\tURL\tERROR")
	for _, at := range page.Attempts {
		code, took := "-", "-"
		if at.Code != 0 {
			code = fmt.Sprint(at.Code)
		}
		if at.Status != storage.StatusWaiting || at.Duration > 0 {
			took = engine.FormatDuration(at.Duration)
		}
		device, press := at.DeviceName, fmt.Sprintf("%d %s", at.Button, at.Gesture)
		if at.Gesture == string(engine.Manual) {
			device, press = "-", "fired by hand"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s %s\t%s\n", at.Time.Local().Format("15:04:05 Jan 2, 2006"), at.Status, code,
			took, at.TargetName, device, press, at.ID, at.Method, at.URL, at.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case page.Partial:
		fmt.Fprintf(env.Stderr, "searched part of the log: more may match; next page: --cursor %s\n", page.Next)
	case page.Next != "" && len(page.Attempts) == q.Limit:
		fmt.Fprintf(env.Stderr, "next page: --cursor %s\n", page.Next)
	}
	return nil
}

// parseWhen reads a --since/--until value: today, Nd, a duration ago, a
// date, or an RFC 3339 time. "" is the zero time (no bound).
func parseWhen(s string, now time.Time) (time.Time, error) {
	switch s = strings.TrimSpace(strings.ToLower(s)); {
	case s == "":
		return time.Time{}, nil
	case s == "today":
		from, _ := storage.Today(now)
		return from, nil
	case strings.HasSuffix(s, "d"):
		var n int
		if _, err := fmt.Sscanf(s, "%dd", &n); err == nil && n > 0 {
			from, _ := storage.LastDays(now, n)
			return from, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, strings.ToUpper(s)); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not today, 7d, a duration like 2h, a date (2026-01-02) or an RFC 3339 time", s)
}

func writeJSONLines(w io.Writer, as []storage.Attempt) error {
	enc := json.NewEncoder(w)
	for _, a := range as {
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return nil
}
