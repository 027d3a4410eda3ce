package storage

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the first row that WriteCSV writes: one column per field of
// Attempt, durations in milliseconds.
var CSVHeader = []string{
	"id", "time", "target_id", "target_name", "target_version", "device_id", "device_name",
	"button", "gesture", "method", "url", "request_headers", "status", "code", "error_class",
	"error", "message", "duration_ms", "connect_ms", "tls_ms", "first_byte_ms", "finished",
	"tries", "response_truncated", "response",
}

// WriteCSV writes every attempt that q selects to w as CSV (RFC 4180): the
// row CSVHeader, then one row per attempt in q's order. q.Limit is ignored;
// q.Cursor, if set, is where it starts. Times are RFC 3339 with nanoseconds;
// a text cell that starts with =, +, -, @, tab or CR gets a leading ' so that
// a spreadsheet shows it rather than running it as a formula.
func (db *DB) WriteCSV(w io.Writer, q Query) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("export attempts: %w", err)
	}
	err := db.each(q, func(a *Attempt) error {
		return cw.Write(csvRow(a))
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		return fmt.Errorf("export attempts: %w", err)
	}
	return nil
}

// WriteJSONLines writes every attempt that q selects to w as JSON lines: one
// Attempt object (its JSON form, as stored) per line, in q's order. q.Limit
// is ignored; q.Cursor, if set, is where it starts.
func (db *DB) WriteJSONLines(w io.Writer, q Query) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := db.each(q, func(a *Attempt) error { return enc.Encode(a) })
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("export attempts: %w", err)
	}
	return nil
}

// each calls fn for every attempt q selects, a page at a time (one read
// transaction per page, so that an export to a slow writer holds nothing).
func (db *DB) each(q Query, fn func(a *Attempt) error) error {
	q.Limit, q.Before = MaxLimit, ""
	for {
		page, err := db.Search(q)
		if err != nil {
			return err
		}
		for i := range page.Attempts {
			if err := fn(&page.Attempts[i]); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.Cursor = page.Next
	}
}

func csvRow(a *Attempt) []string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', -1, 64) }
	tm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	return []string{
		a.ID, tm(a.Time), cell(a.TargetID), cell(a.TargetName), strconv.Itoa(a.TargetVersion),
		cell(a.DeviceID), cell(a.DeviceName), strconv.Itoa(a.Button), cell(a.Gesture), cell(a.Method),
		cell(a.URL), cell(a.RequestHeaders), string(a.Status), strconv.Itoa(a.Code), cell(a.ErrorClass),
		cell(a.Error), cell(a.Message), ms(a.Duration), ms(a.Timing.Connect), ms(a.Timing.TLS),
		ms(a.Timing.FirstByte), tm(a.Finished), strconv.Itoa(a.Tries),
		strconv.FormatBool(a.ResponseTruncated), cell(a.Response),
	}
}

// cell defuses a text cell that a spreadsheet would take for a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
