package cli

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// TestDurationsReadAsInTheWindow prints sub-millisecond times from `test`,
// `fire` and `log` as the window shows them (engine.FormatDuration), not
// rounded to 1ms or written in µs.
func TestDurationsReadAsInTheWindow(t *testing.T) {
	const us = time.Microsecond
	var b bytes.Buffer
	printReport(&b, engine.TestReport{OK: true, Code: 200, Duration: 700 * us,
		Timing: actions.Timing{Connect: 200 * us, FirstByte: 650 * us, Total: 700 * us}})
	if got, want := firstLine(b.String()), "OK  HTTP 200  in 0.7ms (connect 0.2ms, first byte 0.7ms)"; got != want {
		t.Errorf("test prints %q, want %q", got, want)
	}

	at := storage.Attempt{ID: storage.NewAttemptID(time.Now()), Time: time.Now(), TargetID: "t1", TargetName: "Door",
		DeviceName: "Sim", Button: 1, Gesture: "press", Method: "POST", URL: "http://127.0.0.1/door",
		Status: storage.StatusOK, Code: 200, Duration: 437 * us, Tries: 1}
	at.Finished = at.Time.Add(at.Duration)
	b.Reset()
	printAttempt(&b, at)
	if got, want := firstLine(b.String()), "OK  HTTP 200  in 0.4ms  trigger "+at.ID; !strings.HasPrefix(got, want) {
		t.Errorf("fire prints %q, want it to start %q", got, want)
	}

	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	waiting := at
	waiting.ID, waiting.Time, waiting.Status, waiting.Code, waiting.Duration, waiting.Finished =
		storage.NewAttemptID(at.Time.Add(time.Second)), at.Time.Add(time.Second), storage.StatusWaiting, 0, 0, time.Time{}
	for _, a := range []storage.Attempt{at, waiting} {
		if err := db.PutAttempt(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if err := cmdLog(Globals{DataDir: dir}, logger, nil, Env{Stdout: &out, Stderr: &errs}); err != nil {
		t.Fatalf("log: %v\n%s", err, errs.String())
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 7 {
			rows[f[4]] = f[4:] // STATUS CODE DURATION ... after the date's four fields
		}
	}
	for status, want := range map[string]string{"OK": "0.4ms", "Waiting": "-"} {
		if r := rows[status]; len(r) < 3 || r[2] != want {
			t.Errorf("log: the %s attempt's DURATION is %q, want %q:\n%s", status, r, want, out.String())
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
