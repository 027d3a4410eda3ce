package storage

import (
	"slices"
	"testing"
	"time"
)

// TestMatchesAgreesWithSearch checks, over a real Badger directory, that
// Query.Matches keeps exactly the attempts Search returns, for every
// filter combination and in orders that walk different indexes.
func TestMatchesAgreesWithSearch(t *testing.T) {
	db := openTest(t, t.TempDir())
	as := queryFixture(t, db, 300)
	// Texts that differ only in case, outside ASCII, with characters that
	// JSON escapes, or only in fields the text filter does not look at.
	day := queryNow.Add(-36 * time.Hour)
	extra := []Attempt{
		{TargetID: "t1", TargetName: "needle target", URL: "https://example.com/plain", Status: StatusOK, Code: 200},
		{TargetID: "t2", TargetName: "x", URL: "https://example.com/ÜBER", Status: StatusFailed, Error: "Straße GESPERRT"},
		{TargetID: "t3", TargetName: "x", URL: "https://example.com/", Status: StatusFailed, Response: "needle in the response only"},
		{TargetID: "t1", TargetName: "x", URL: "https://example.com/<NeEdLe>", Status: StatusWaiting},
		{TargetID: "t4", TargetName: "x", URL: "https://example.com/edge", Status: StatusOK, Message: `say "needle"`},
	}
	for i := range extra {
		at := day.Add(time.Duration(i) * time.Hour)
		extra[i].ID, extra[i].Time = NewAttemptID(at), at
	}
	if err := db.PutAttempts(extra); err != nil {
		t.Fatal(err)
	}
	as = append(as, extra...)
	// One attempt exactly at a range's From, one just before its To.
	from, to := queryNow.AddDate(0, 0, -10), queryNow.AddDate(0, 0, -3)
	edges := []Attempt{
		{ID: idAt(from, 7), Time: from, TargetID: "t0", URL: "https://example.com/from", Status: StatusOK},
		{ID: idAt(to.Add(-time.Nanosecond), 7), Time: to.Add(-time.Nanosecond), TargetID: "t0", URL: "https://example.com/to", Status: StatusOK},
		{ID: idAt(to, 7), Time: to, TargetID: "t0", URL: "https://example.com/after", Status: StatusOK},
	}
	if err := db.PutAttempts(edges); err != nil {
		t.Fatal(err)
	}
	as = append(as, edges...)
	if len(as) > MaxLimit {
		t.Fatalf("%d attempts do not fit one page", len(as))
	}

	type span struct{ from, to time.Time }
	spans := []span{{}, {from, to}, {from: from}, {to: to}, {queryNow.Add(-48 * time.Hour), queryNow.Add(-24 * time.Hour)}}
	texts := []string{"", "needle", "NEEDLE", "über", "STRASSE", "straße", "<needle>", `"needle"`, "&", "example", "response"}
	checked, kept := 0, 0
	for _, target := range []string{"", "t0", "t1"} {
		for _, status := range []Status{"", StatusOK, StatusFailed, StatusWaiting} {
			for _, s := range spans {
				for _, text := range texts {
					for _, sort := range []Sort{SortTime, SortCode} {
						q := Query{TargetID: target, Status: status, From: s.from, To: s.to, Text: text, Sort: sort, Limit: MaxLimit}
						page, err := db.Search(q)
						if err != nil {
							t.Fatal(err)
						}
						if page.Partial || page.Next != "" {
							t.Fatalf("%+v: more than one page", q)
						}
						var got, want []string
						for _, a := range page.Attempts {
							got = append(got, a.ID)
						}
						for _, a := range as {
							if q.Matches(a) {
								want = append(want, a.ID)
							}
						}
						slices.Sort(got)
						slices.Sort(want)
						if !slices.Equal(got, want) {
							t.Errorf("%+v: Search returns %d attempts, Matches keeps %d", q, len(got), len(want))
						}
						checked++
						kept += len(want)
					}
				}
			}
		}
	}
	if kept == 0 || kept == checked*len(as) {
		t.Fatalf("the queries kept %d of %d attempts: they test nothing", kept, checked*len(as))
	}
}

func TestMatches(t *testing.T) {
	at := time.Date(2025, 11, 12, 9, 30, 0, 0, time.UTC)
	a := Attempt{ID: NewAttemptID(at), Time: at, TargetID: "door", Status: StatusFailed,
		URL: "https://example.com/Hook", Error: "HTTP 503 from the server", Message: "Übergabe"}
	tests := []struct {
		q    Query
		want bool
	}{
		{Query{}, true},
		{Query{TargetID: "door"}, true},
		{Query{TargetID: "gate"}, false},
		{Query{Status: StatusFailed}, true},
		{Query{Status: StatusOK}, false},
		{Query{From: at}, true},
		{Query{From: at.Add(time.Nanosecond)}, false},
		{Query{To: at}, false},
		{Query{To: at.Add(time.Nanosecond)}, true},
		{Query{Text: "hook"}, true},
		{Query{Text: "FROM THE"}, true},
		{Query{Text: "übergabe"}, true},
		{Query{Text: "door"}, false}, // the target is not searched
		{Query{Text: "hook", Status: StatusOK}, false},
		{Query{Text: "hook", Sort: SortCode, Ascending: true, Limit: 1, Cursor: "x"}, true}, // order and paging select nothing
	}
	for _, tt := range tests {
		if got := tt.q.Matches(a); got != tt.want {
			t.Errorf("%+v.Matches = %v, want %v", tt.q, got, tt.want)
		}
	}
	// The press time comes from the ID, as in Search.
	b := a
	b.Time = at.AddDate(1, 0, 0)
	if !(Query{To: at.Add(time.Minute)}).Matches(b) {
		t.Error("Matches took the time from Time, not from the ID")
	}
}
