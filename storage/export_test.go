package storage

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestExportEveryMatch(t *testing.T) {
	db := openTest(t, t.TempDir())
	// More than MaxLimit, so that the export spans pages.
	as := makeAttempts(t, MaxLimit+234, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range as {
		if i%3 == 0 {
			as[i].Status, as[i].Code, as[i].ErrorClass, as[i].Error = StatusFailed, 500, ErrorHTTP, "=HYPERLINK(\"http://evil\")"
		}
	}
	as[1].Response, as[1].RequestHeaders = "line one\nline \"two\", with a comma", "Accept, Content-Type"
	as[1].Timing = Timing{Connect: 1500 * time.Microsecond, TLS: 2 * time.Millisecond, FirstByte: 40 * time.Millisecond, Total: 42 * time.Millisecond}
	for chunk := range slices.Chunk(as, 100) {
		if err := db.PutAttempts(chunk); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := db.WriteCSV(&buf, Query{Limit: 5}); err != nil { // Limit is ignored
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], CSVHeader) {
			t.Errorf("header = %q, want %q", rows[0], CSVHeader)
		}
		rows = rows[1:]
		if len(rows) != len(as) {
			t.Fatalf("%d rows, want %d", len(rows), len(as))
		}
		col := func(name string) int { return slices.Index(CSVHeader, name) }
		for i, row := range rows {
			a := as[len(as)-1-i] // newest first
			if row[col("id")] != a.ID || row[col("status")] != string(a.Status) || row[col("code")] != strconv.Itoa(a.Code) {
				t.Fatalf("row %d = %q, want attempt %+v", i, row, a)
			}
			if a.Error != "" && row[col("error")] != "'"+a.Error {
				t.Errorf("row %d error = %q, want the formula defused", i, row[col("error")])
			}
		}
		r := rows[len(rows)-2] // as[1]
		for name, want := range map[string]string{
			"response": as[1].Response, "request_headers": "Accept, Content-Type", "connect_ms": "1.5",
			"first_byte_ms": "40", "duration_ms": "42", "time": as[1].Time.Format(time.RFC3339Nano), "url": as[1].URL,
		} {
			if got := r[col(name)]; got != want {
				t.Errorf("column %s = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("json lines filtered", func(t *testing.T) {
		var buf bytes.Buffer
		if err := db.WriteJSONLines(&buf, Query{Status: StatusFailed, Sort: SortTime, Ascending: true}); err != nil {
			t.Fatal(err)
		}
		var got []Attempt
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var a Attempt
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			got = append(got, a)
		}
		want := reference(as, Query{Status: StatusFailed, Ascending: true})
		checkAttempts(t, got, want)
	})

	t.Run("writer error", func(t *testing.T) {
		err := db.WriteJSONLines(failingWriter{}, Query{})
		if !errors.Is(err, errWrite) {
			t.Errorf("WriteJSONLines to a failing writer = %v, want its error", err)
		}
		if err := db.WriteCSV(failingWriter{}, Query{}); !errors.Is(err, errWrite) {
			t.Errorf("WriteCSV to a failing writer = %v, want its error", err)
		}
	})
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }
