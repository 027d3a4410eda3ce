package ui

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

func TestLogFilters(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	v := f.w.logs
	if len(v.rows) != 11 {
		t.Fatalf("unfiltered log has %d rows, want 11: %s", len(v.rows), summary(v.rows))
	}
	tests := []struct {
		target, status, period, text string
		want                         string
	}{
		{allTargets, "Failed", allTime, "", "Door/Failed/500 Door/Failed/502 Gate/Failed/0"},
		{"Gate", "Failed", allTime, "", "Gate/Failed/0"},
		{"Gate", allStatuses, allTime, "", "Gate/OK/202 Gate/OK/202 Gate/OK/202 Gate/Failed/0"},
		{"Door", "OK", allTime, "", "Door/OK/200 Door/OK/201 Door/OK/204 Door/OK/200 Door/OK/200"},
		{"Door", "OK", last30Days, "", "Door/OK/200 Door/OK/201 Door/OK/204 Door/OK/200"},
		{allTargets, allStatuses, today, "REFUSED", "Gate/Failed/0"},
		{allTargets, allStatuses, allTime, "from the server", "Door/Failed/500 Door/Failed/502"},
		{"Gate", "Waiting", allTime, "", ""},
	}
	for _, tt := range tests {
		v.target.SetSelected(tt.target)
		v.status.SetSelected(tt.status)
		v.period.SetSelected(tt.period)
		v.search.SetText("")
		if tt.text != "" {
			test.Type(v.search, tt.text)
		}
		if got := summary(v.rows); got != tt.want {
			t.Errorf("%s, %s, %s, %q: rows %q, want %q", tt.target, tt.status, tt.period, tt.text, got, tt.want)
		}
	}
	if got := v.note.Text; got != "No attempts match the filters" {
		t.Errorf("note for no match = %q", got)
	}
}

func TestLogSortByCodeToggles(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	v := f.w.logs
	v.status.SetSelected("Failed")
	if got := header(t, v, "Date").Text; got != "Date ↓" {
		t.Errorf("date header = %q, want the arrow of the default order", got)
	}
	test.Tap(header(t, v, "Code"))
	if got, want := summary(v.rows), "Door/Failed/502 Door/Failed/500 Gate/Failed/0"; got != want {
		t.Errorf("by code: %q, want %q", got, want)
	}
	if got := header(t, v, "Code").Text; got != "Code ↓" {
		t.Errorf("code header = %q, want Code ↓", got)
	}
	if got := header(t, v, "Date").Text; got != "Date" {
		t.Errorf("date header = %q, want no arrow", got)
	}
	test.Tap(header(t, v, "Code"))
	if got, want := summary(v.rows), "Gate/Failed/0 Door/Failed/500 Door/Failed/502"; got != want {
		t.Errorf("by code, ascending: %q, want %q", got, want)
	}
	if got := header(t, v, "Code").Text; got != "Code ↑" {
		t.Errorf("code header = %q, want Code ↑", got)
	}
	test.Tap(header(t, v, "Target"))
	// Equal names follow in time order, newest first.
	if got, want := summary(v.rows), "Gate/Failed/0 Door/Failed/500 Door/Failed/502"; got != want {
		t.Errorf("by target (descending): %q, want %q", got, want)
	}
	if header(t, v, "Error").OnTapped != nil {
		t.Error("the Error column sorts, but the log has no such order")
	}
}

func TestLogLoadMore(t *testing.T) {
	f := newLogFixture(t)
	var as []storage.Attempt
	for i := range 120 {
		as = append(as, f.attempt(f.door, time.Duration(i)*time.Second, storage.StatusOK, 200))
	}
	f.put(t, as...)
	v := f.w.logs
	for _, want := range []int{50, 100, 120} {
		if len(v.rows) != want {
			t.Fatalf("%d rows, want %d", len(v.rows), want)
		}
		if want < 120 && v.more.Disabled() {
			t.Fatalf("Load more is disabled at %d rows of 120", want)
		}
		test.Tap(v.more)
	}
	if !v.more.Disabled() {
		t.Error("Load more is enabled at the end of the log")
	}
	ids := make([]string, len(v.rows))
	for i, a := range v.rows {
		ids[i] = a.ID
	}
	if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) || len(slices.Compact(ids)) != 120 {
		t.Error("the loaded pages are not the log newest first, each attempt once")
	}
	if got := v.note.Text; got != "120 shown" {
		t.Errorf("note = %q", got)
	}
}

func TestLogPartialPageSaysSo(t *testing.T) {
	f := newLogFixture(t)
	v := f.w.logs
	v.apply(storage.Page{Next: "0000000000000001000000000", Partial: true}, nil, false)
	if !strings.Contains(v.note.Text, "searched part of the log — Load more to keep looking") || v.more.Disabled() {
		t.Errorf("partial page: note %q, Load more disabled %v", v.note.Text, v.more.Disabled())
	}
}

func TestLogExportCSV(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	v := f.w.logs
	v.status.SetSelected("Failed")
	path := filepath.Join(t.TempDir(), "out.csv")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	v.exportCSV(file, "out.csv")
	if got := f.w.status.Text; got != "Exported the attempts to out.csv" {
		t.Errorf("status = %q", got)
	}
	file, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], storage.CSVHeader) {
		t.Fatalf("export = %d rows, header %q; want the header and 3 rows", len(rows), rows[0])
	}
	status := slices.Index(storage.CSVHeader, "status")
	for _, r := range rows[1:] {
		if r[status] != "Failed" {
			t.Errorf("exported a %s attempt with the Failed filter", r[status])
		}
	}
}

func TestLogDetails(t *testing.T) {
	f := newLogFixture(t)
	a := f.attempt(f.door, time.Minute, storage.StatusFailed, 503)
	a.RequestHeaders = "Authorization, Content-Type"
	a.Message = "queued"
	a.Timing = storage.Timing{Connect: 2 * time.Millisecond, TLS: 5 * time.Millisecond, FirstByte: 400 * time.Millisecond, Total: 503 * time.Millisecond}
	a.Response = `{"error":"busy"}`
	a.Tries = 3
	f.put(t, a)
	v := f.w.logs
	if v.detail.content.Visible() {
		t.Fatal("details shown before a row is selected")
	}
	v.table.Select(widget.TableCellID{Row: 0, Col: 3})
	if !v.detail.content.Visible() {
		t.Fatal("details hidden after selecting a row")
	}
	got := texts(v.detail.form)
	for _, want := range []string{
		a.ID, "POST http://127.0.0.1/door", "Authorization, Content-Type", "Failed · HTTP 503 Service Unavailable",
		"http: HTTP 503 from the server", "queued", "503ms (connect 2ms, TLS 5ms, first byte 400ms)",
		`{"error":"busy"}`, "Tries\n3", "Door (v1, " + f.door + ")",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("details lack %q:\n%s", want, got)
		}
	}
	// A later record of the attempt shows at once.
	a.Status, a.Message = storage.StatusOK, "done"
	f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	if got := texts(v.detail.form); !strings.Contains(got, "done") {
		t.Errorf("details after an update lack its message:\n%s", got)
	}
}

func TestLogLiveUpdates(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	v := f.w.logs
	event := func(a storage.Attempt) {
		t.Helper()
		if err := f.db.PutAttempt(a); err != nil {
			t.Fatal(err)
		}
		f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	}

	// Default view: a new attempt goes on top, and its result replaces it.
	w := f.attempt(f.gate, 0, storage.StatusWaiting, 0)
	event(w)
	if v.rows[0].ID != w.ID || len(v.rows) != 12 {
		t.Fatalf("after a new attempt: top %s/%s, %d rows", v.rows[0].TargetName, v.rows[0].Status, len(v.rows))
	}
	ok := w
	ok.Status, ok.Code = storage.StatusOK, 200
	event(ok)
	if v.rows[0].Status != storage.StatusOK || len(v.rows) != 12 {
		t.Fatalf("after its result: top %s, %d rows", v.rows[0].Status, len(v.rows))
	}

	// Filtered: only matches come in; an attempt that stops matching goes.
	v.status.SetSelected("Waiting")
	w2 := f.attempt(f.door, 0, storage.StatusWaiting, 0)
	event(w2)
	event(f.attempt(f.door, 0, storage.StatusOK, 200))
	if got := summary(v.rows); got != "Door/Waiting/0" {
		t.Errorf("Waiting filter after two attempts: %q", got)
	}
	w2.Status, w2.Code = storage.StatusFailed, 500
	event(w2)
	if len(v.rows) != 0 {
		t.Errorf("Waiting filter after the attempt failed: %q", summary(v.rows))
	}

	// Another order: the log is read again.
	v.status.SetSelected("Failed")
	test.Tap(header(t, v, "Code"))
	event(f.attempt(f.gate, 0, storage.StatusFailed, 501))
	if got, want := summary(v.rows), "Door/Failed/502 Gate/Failed/501 Door/Failed/500 Door/Failed/500 Gate/Failed/0"; got != want {
		t.Errorf("by code after a 501: %q, want %q", got, want)
	}
}

func TestTargetRowShowsCounters(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	row := func(name string) string {
		i := slices.IndexFunc(f.w.config.Targets, func(tg actions.Target) bool { return tg.Name == name })
		o := f.w.targetList.CreateItem()
		f.w.updateTarget(i, o)
		return texts(o)
	}
	last := time.Now().Add(-10 * time.Minute).Format("15:04")
	if got, want := row("Door"), "7 attempts · 5 OK · 2 failed · last "+last; !strings.Contains(got, want) {
		t.Errorf("Door row:\n%s\nwant %q", got, want)
	}
	a := f.attempt(f.gate, 0, storage.StatusFailed, 500)
	if err := f.db.PutAttempt(a); err != nil {
		t.Fatal(err)
	}
	f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	if got, want := row("Gate"), "5 attempts · 3 OK · 2 failed · last "+time.Now().Format("15:04"); !strings.Contains(got, want) {
		t.Errorf("Gate row after a failure:\n%s\nwant %q", got, want)
	}
}

func TestStatsText(t *testing.T) {
	now := time.Date(2026, 5, 6, 15, 0, 0, 0, time.Local)
	tests := []struct {
		s    storage.Stats
		want string
	}{
		{storage.Stats{}, "No attempts yet"},
		{storage.Stats{Attempts: 1, OK: 1, LastTriggered: now.Add(-time.Hour)}, "1 attempt · 1 OK · 0 failed · last 14:00"},
		{storage.Stats{Attempts: 12, OK: 10, Failed: 2, LastTriggered: now.AddDate(0, 0, -2)}, "12 attempts · 10 OK · 2 failed · last May 4 15:00"},
		{storage.Stats{Attempts: 3, Failed: 3, LastTriggered: now.AddDate(-1, 0, 0)}, "3 attempts · 0 OK · 3 failed · last May 6, 2025"},
	}
	for _, tt := range tests {
		if got := statsText(tt.s, now); got != tt.want {
			t.Errorf("statsText(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestLogNoteOfAnEmptySortedLog(t *testing.T) {
	f := newLogFixture(t)
	v := f.w.logs
	test.Tap(header(t, v, "Code"))
	if got := v.note.Text; got != "No attempts yet" {
		t.Errorf("note of an empty log sorted by code = %q, want No attempts yet (an order filters nothing)", got)
	}
}

// TestLogSelectionFollowsTheAttempt selects an attempt, then lets newer
// attempts push it down, re-sorts the log and filters it out: the
// highlight stays on the attempt the details show, or goes, and never
// lands on another attempt.
func TestLogSelectionFollowsTheAttempt(t *testing.T) {
	f := newLogFixture(t)
	f.seed(t)
	v := f.w.logs
	var sel *widget.TableCellID // the table's selection, as its callbacks tell it
	selected, unselected := v.table.OnSelected, v.table.OnUnselected
	v.table.OnSelected = func(id widget.TableCellID) { sel = &id; selected(id) }
	v.table.OnUnselected = func(id widget.TableCellID) {
		sel = nil
		if unselected != nil {
			unselected(id)
		}
	}
	highlighted := func() string {
		if sel == nil || sel.Row >= len(v.rows) {
			return ""
		}
		return v.rows[sel.Row].ID
	}
	event := func(a storage.Attempt) {
		t.Helper()
		if err := f.db.PutAttempt(a); err != nil {
			t.Fatal(err)
		}
		f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	}
	v.table.Select(widget.TableCellID{Row: 3, Col: 2})
	chosen := v.rows[3]
	check := func(what string) {
		t.Helper()
		if v.detail.shown != chosen.ID {
			t.Fatalf("%s: the details show %q, want the chosen attempt %q", what, v.detail.shown, chosen.ID)
		}
		if got := highlighted(); got != chosen.ID {
			t.Errorf("%s: the highlight is on %q (row %v), want it on the chosen attempt %q", what, got, sel, chosen.ID)
		}
	}

	event(f.attempt(f.gate, 0, storage.StatusWaiting, 0))
	check("after a new attempt")
	event(f.attempt(f.door, 0, storage.StatusOK, 200))
	event(f.attempt(f.door, 0, storage.StatusFailed, 500))
	check("after two more")

	test.Tap(header(t, v, "Code"))
	check("sorted by code")
	event(f.attempt(f.gate, 0, storage.StatusOK, 299))
	check("sorted by code, after an attempt that comes first")

	// Filtered out: nothing is highlighted (the details stay open).
	v.status.SetSelected(string(storage.StatusFailed))
	if got := highlighted(); got != "" {
		t.Errorf("with the chosen attempt filtered out, the highlight is on %q", got)
	}
	v.status.SetSelected(allStatuses)
	check("with the filter cleared")
}

// TestSubMillisecondAttempt shows an attempt of 0.4 ms in the log's Time
// column, the status line and the details.
func TestSubMillisecondAttempt(t *testing.T) {
	f := newLogFixture(t)
	a := f.attempt(f.door, 0, storage.StatusOK, 200)
	a.Duration = 437 * time.Microsecond
	a.Timing = storage.Timing{Connect: 120 * time.Microsecond, FirstByte: 400 * time.Microsecond, Total: a.Duration}
	if err := f.db.PutAttempt(a); err != nil {
		t.Fatal(err)
	}
	f.w.handle(engine.Event{Kind: engine.AttemptChanged, Attempt: a})
	v := f.w.logs
	col := slices.IndexFunc(logColumns, func(c logColumn) bool { return c.title == "Time" })
	o := v.table.CreateCell()
	v.table.UpdateCell(widget.TableCellID{Row: 0, Col: col}, o)
	if got := o.(*widget.Label).Text; got != "0.4ms" {
		t.Errorf("Time cell = %q, want 0.4ms", got)
	}
	if got, want := f.w.status.Text, "Door: OK HTTP 200, in 0.4ms"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	v.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if got, want := texts(v.detail.form), "0.4ms (connect 0.1ms, first byte 0.4ms)"; !strings.Contains(got, want) {
		t.Errorf("details lack %q:\n%s", want, got)
	}
}

// TestDetailsShowWholeLines opens the details of attempts at the window's
// default size: the panel ends between two lines of text, also when values
// wrap, and a short attempt shows detailRows rows.
func TestDetailsShowWholeLines(t *testing.T) {
	f := newLogFixture(t)
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	long := f.attempt(f.door, time.Minute, storage.StatusFailed, 503)
	long.URL = "https://hooks.example.com/services/" + strings.Repeat("T0000000/B0000000/", 8) + "?who=button"
	long.Message = strings.Repeat("a long message that wraps over more than one line; ", 4)
	long.Response = "{\n  \"error\": \"busy\",\n  \"retry\": 30\n}"
	plain := f.attempt(f.gate, 2*time.Minute, storage.StatusOK, 200)
	f.put(t, long, plain)
	v := f.w.logs
	for _, tt := range []struct {
		name   string
		row    int
		values int // at least this many lines of values show
	}{{"wrapping values", 0, 4}, {"a short attempt", 1, detailRows}} {
		t.Run(tt.name, func(t *testing.T) {
			v.table.Select(widget.TableCellID{Row: tt.row, Col: 0})
			for _, h := range []float32{721, 720} { // a second layout has the wrapped heights
				f.w.Resize(fyne.NewSize(1180, h))
			}
			s := v.detail.scroll
			top, bottom := s.Offset.Y, s.Offset.Y+s.Size().Height
			values := 0
			for i, o := range v.detail.form.Objects {
				l := o.(*widget.Label)
				h := lineHeight(l.TextStyle)
				n := int((l.MinSize().Height-2*theme.InnerPadding())/h + 0.5)
				for j := range n {
					y := l.Position().Y + theme.InnerPadding() + float32(j)*h
					switch {
					case y >= top && y+h <= bottom+0.01:
						values += i % 2 // the form's second column
					case y < bottom && y+h > bottom:
						t.Errorf("%q: its line %d (%v to %v) is cut by the panel's end at %v", l.Text, j+1, y, y+h, bottom)
					}
				}
			}
			if values < tt.values {
				t.Errorf("%d whole lines of values show, want at least %d", values, tt.values)
			}
		})
	}
}

func TestResultText(t *testing.T) {
	tests := []struct {
		status storage.Status
		code   int
		want   string
	}{
		{storage.StatusOK, 200, "OK · HTTP 200"},
		{storage.StatusOK, 201, "OK · HTTP 201 Created"},
		{storage.StatusFailed, 200, "Failed · HTTP 200 OK"}, // the success rule did not hold
		{storage.StatusFailed, 503, "Failed · HTTP 503 Service Unavailable"},
		{storage.StatusFailed, 599, "Failed · HTTP 599"},
		{storage.StatusFailed, 0, "Failed · no response"},
		{storage.StatusWaiting, 202, "Waiting · HTTP 202 Accepted"},
		{storage.StatusWaiting, 0, "Waiting"},
	}
	for _, tt := range tests {
		if got := resultText(storage.Attempt{Status: tt.status, Code: tt.code}); got != tt.want {
			t.Errorf("resultText(%s, %d) = %q, want %q", tt.status, tt.code, got, tt.want)
		}
	}
}
