package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

func TestParseRange(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	day := func(d, h, m int) time.Time { return time.Date(2025, 11, d, h, m, 0, 0, loc) }
	tests := []struct {
		from, to         string
		wantFrom, wantTo time.Time
		err              string
	}{
		{"2025-11-12", "2025-11-20", day(12, 0, 0), day(21, 0, 0), ""},
		{" 2025-11-12 09:30 ", "2025-11-20 18:00", day(12, 9, 30), day(20, 18, 0), ""},
		{"2025-11-20", "2025-11-20", day(20, 0, 0), day(21, 0, 0), ""}, // one whole day
		{"2025-11-12", "", day(12, 0, 0), time.Time{}, ""},
		{"", "2025-11-20", time.Time{}, day(21, 0, 0), ""},
		{"2025-11-20 10:00", "2025-11-20", day(20, 10, 0), day(21, 0, 0), ""},
		{"", "", time.Time{}, time.Time{}, "enter a From or a To date"},
		{"2025-11-20", "2025-11-12", time.Time{}, time.Time{}, "the To date (2025-11-12) must be after the From date (2025-11-20)"},
		{"2025-11-20 18:00", "2025-11-20 18:00", time.Time{}, time.Time{}, "must be after the From date"},
		{"12/11/2025", "", time.Time{}, time.Time{}, `the From date: "12/11/2025" is not a date: write YYYY-MM-DD`},
		{"2025-11-12", "2025-02-30", time.Time{}, time.Time{}, `the To date: "2025-02-30" is not a date`},
		{"2025-11-12T10:00", "", time.Time{}, time.Time{}, "or YYYY-MM-DD HH:MM for a time of day"},
	}
	for _, tt := range tests {
		r, err := parseRange(tt.from, tt.to, loc)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("parseRange(%q, %q) error = %v, want one with %q", tt.from, tt.to, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("parseRange(%q, %q): %v", tt.from, tt.to, err)
		case tt.err == "" && (!r.from.Equal(tt.wantFrom) || !r.to.Equal(tt.wantTo)):
			t.Errorf("parseRange(%q, %q) = %v – %v, want %v – %v", tt.from, tt.to, r.from, r.to, tt.wantFrom, tt.wantTo)
		}
	}
}

func TestRangeLabel(t *testing.T) {
	now := time.Date(2025, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ from, to, want string }{
		{"2025-11-12", "2025-11-20", "12 Nov – 20 Nov"},
		{"2025-11-20", "2025-11-20", "20 Nov"},
		{"2025-11-12 09:30", "2025-11-20 18:00", "12 Nov 09:30 – 20 Nov 18:00"},
		{"2024-12-30", "2025-01-02", "30 Dec 2024 – 2 Jan"},
		{"2025-11-12", "", "Since 12 Nov"},
		{"", "2025-11-20", "Until 20 Nov"},
		{"", "2025-11-20 07:05", "Until 20 Nov 07:05"},
	}
	for _, tt := range tests {
		r, err := parseRange(tt.from, tt.to, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.label(now); got != tt.want {
			t.Errorf("label of %q – %q = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
}

// rangeFixture is a log of Door attempts on days of November last year,
// at local times.
func rangeFixture(t *testing.T) (*logFixture, int) {
	t.Helper()
	f := newLogFixture(t)
	year := time.Now().Year() - 1
	var as []storage.Attempt
	for _, at := range []struct{ day, h, m, code int }{
		{10, 12, 0, 200}, {12, 9, 0, 201}, {15, 14, 30, 202}, {20, 23, 30, 203}, {21, 0, 0, 204}, {25, 8, 0, 205},
	} {
		as = append(as, attemptAt(f, time.Date(year, 11, at.day, at.h, at.m, 0, 0, time.Local), at.code))
	}
	as = append(as, f.attempt(f.gate, time.Minute, storage.StatusOK, 200))
	f.put(t, as...)
	return f, year
}

func attemptAt(f *logFixture, at time.Time, code int) storage.Attempt {
	a := f.attempt(f.door, 0, storage.StatusOK, code)
	a.ID, a.Time, a.Finished = storage.NewAttemptID(at), at, at.Add(a.Duration)
	return a
}

// codes are the HTTP codes of the rows, which tell the attempts of
// rangeFixture apart.
func codes(rows []storage.Attempt) string {
	var out []string
	for _, a := range rows {
		out = append(out, fmt.Sprint(a.Code))
	}
	return strings.Join(out, " ")
}

// applyRange chooses the custom range and types from and to in its dialog.
func applyRange(t *testing.T, v *logView, from, to string) {
	t.Helper()
	v.period.SetSelected(customRange)
	d := v.rangeEdit
	if d == nil || v.win.Canvas().Overlays().Top() == nil {
		t.Fatal("choosing Custom range shows no dialog")
	}
	d.from.SetText("")
	d.to.SetText("")
	test.Type(d.from, from)
	test.Type(d.to, to)
	test.Tap(d.apply)
}

func TestLogCustomRange(t *testing.T) {
	f, year := rangeFixture(t)
	v := f.w.logs
	if v.rangeButton.Visible() || v.rangeClear.Visible() {
		t.Fatal("a custom range shows before one is applied")
	}

	applyRange(t, v, fmt.Sprintf("%d-11-12", year), fmt.Sprintf("%d-11-20", year))
	if got, want := codes(v.rows), "203 202 201"; got != want {
		t.Errorf("12 Nov – 20 Nov: rows %q, want %q (To includes its whole day)", got, want)
	}
	if v.win.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stays open after a valid range")
	}
	if got, want := v.rangeButton.Text, fmt.Sprintf("12 Nov %d – 20 Nov %d", year, year); got != want || !v.rangeButton.Visible() || !v.rangeClear.Visible() {
		t.Errorf("filter bar shows %q (visible %v, clear %v), want %q", got, v.rangeButton.Visible(), v.rangeClear.Visible(), want)
	}
	if v.period.Selected != customRange || v.period.Visible() {
		t.Errorf("period = %q (shown %v), want %q in place of the choice", v.period.Selected, v.period.Visible(), customRange)
	}

	// A time of day bounds it to the minute; editing starts from the range.
	test.Tap(v.rangeButton)
	if got := v.rangeEdit.from.Text; got != fmt.Sprintf("%d-11-12", year) {
		t.Errorf("editing the range starts with From %q", got)
	}
	v.rangeEdit.from.SetText(fmt.Sprintf("%d-11-12 09:01", year))
	v.rangeEdit.to.SetText(fmt.Sprintf("%d-11-21 00:01", year))
	test.Tap(v.rangeEdit.apply)
	if got, want := codes(v.rows), "204 203 202"; got != want {
		t.Errorf("12 Nov 09:01 – 21 Nov 00:01: rows %q, want %q", got, want)
	}

	// A wrong range says why and changes nothing.
	applyRange(t, v, fmt.Sprintf("%d-11-20", year), fmt.Sprintf("%d-11-12", year))
	if got := v.rangeEdit.problem.Text; !v.rangeEdit.problem.Visible() || !strings.HasPrefix(got, "The To date") || !strings.Contains(got, "must be after the From date") {
		t.Errorf("problem shown %v: %q", v.rangeEdit.problem.Visible(), got)
	}
	if v.win.Canvas().Overlays().Top() == nil {
		t.Error("the dialog closed on a wrong range")
	}
	test.Tap(v.rangeEdit.cancel)
	if got, want := codes(v.rows), "204 203 202"; got != want || v.period.Selected != customRange {
		t.Errorf("after cancelling: rows %q, period %q; want the range applied before", got, v.period.Selected)
	}

	// Clearing goes back to all time.
	test.Tap(v.rangeClear)
	if len(v.rows) != 7 || v.period.Selected != allTime || !v.period.Visible() || v.rangeButton.Visible() || v.rangeClear.Visible() {
		t.Errorf("after clearing: %d rows, period %q (shown %v), range shown %v", len(v.rows), v.period.Selected, v.period.Visible(), v.rangeButton.Visible())
	}

	// Cancelling the first range keeps the period chosen before.
	v.period.SetSelected(last7Days)
	v.period.SetSelected(customRange)
	test.Tap(v.rangeEdit.cancel)
	if v.period.Selected != last7Days || v.custom != nil || len(v.rows) != 1 {
		t.Errorf("after cancelling a new range: period %q, range %v, %d rows", v.period.Selected, v.custom, len(v.rows))
	}
}

func TestLogCustomRangeExportAndLive(t *testing.T) {
	f, year := rangeFixture(t)
	v := f.w.logs
	applyRange(t, v, fmt.Sprintf("%d-11-12", year), fmt.Sprintf("%d-11-20", year))

	path := filepath.Join(t.TempDir(), "out.csv")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	v.exportCSV(file, "out.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(storage.CSVHeader, "code")
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[col])
	}
	if strings.Join(got, " ") != "203 202 201" {
		t.Errorf("export of 12 Nov – 20 Nov has codes %q, want 203 202 201", got)
	}

	// A live attempt comes in only if it is in the range.
	event := func(a storage.Attempt) {
		t.Helper()
		if err := f.db.PutAttempt(a); err != nil {
			t.Fatal(err)
		}
		f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	}
	event(f.attempt(f.door, 0, storage.StatusOK, 299))
	event(attemptAt(f, time.Date(year, 11, 16, 10, 0, 0, 0, time.Local), 298))
	if got, want := codes(v.rows), "203 298 202 201"; got != want {
		t.Errorf("after a live attempt now and one on 16 Nov: rows %q, want %q", got, want)
	}
}

func TestRangeCalendarKeepsTime(t *testing.T) {
	f := newLogFixture(t)
	v := f.w.logs
	v.period.SetSelected(customRange)
	e := v.rangeEdit.from
	e.SetText("2025-11-12 09:30")
	test.Tap(e.ActionItem.(*widget.Button))
	pop, ok := v.win.Canvas().Overlays().Top().(*widget.PopUp)
	if !ok {
		t.Fatalf("the calendar button shows %T, want a pop-up", v.win.Canvas().Overlays().Top())
	}
	cal, ok := pop.Content.(*widget.Calendar)
	if !ok {
		t.Fatalf("the pop-up holds %T, want a calendar", pop.Content)
	}
	cal.OnChanged(time.Date(2025, 10, 3, 0, 0, 0, 0, time.Local))
	if got := e.Text; got != "2025-10-03 09:30" {
		t.Errorf("after picking 3 Oct: %q, want 2025-10-03 09:30", got)
	}
	if pop.Visible() {
		t.Error("the calendar stays open after a pick")
	}
}
