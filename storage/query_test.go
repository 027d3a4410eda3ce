package storage

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var queryNow = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// queryFixture stores n varied attempts over the 60 days before queryNow and
// returns them. Some are written Waiting first, so that their index entries
// have moved.
func queryFixture(t *testing.T, db *DB, n int) []Attempt {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"alpha", "Beta", "gamma", "ALPHA2", "delta"}
	codes := []int{0, 200, 201, 404, 500, 503}
	statuses := []Status{StatusOK, StatusFailed, StatusWaiting}
	as := make([]Attempt, n)
	for i := range as {
		at := queryNow.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
		ti := rng.IntN(len(names))
		a := Attempt{
			ID: NewAttemptID(at), Time: at, TargetID: fmt.Sprintf("t%d", ti), TargetName: names[ti],
			URL:      fmt.Sprintf("https://example.com/%d", i),
			Status:   statuses[rng.IntN(3)],
			Code:     codes[rng.IntN(len(codes))],
			Duration: time.Duration(rng.IntN(5)) * time.Millisecond, // many ties
		}
		switch i % 7 {
		case 0:
			a.URL += "?q=NeedLe"
		case 3:
			a.Error = "connection refused by needle.example"
		case 5:
			a.Message = "the needle moved"
		case 6:
			a.Error = `server said "hi" & <bye>`
		}
		if a.Status != StatusWaiting && i%2 == 0 {
			w := a
			w.Status, w.Code, w.Duration = StatusWaiting, 0, 0
			if err := db.PutAttempt(w); err != nil {
				t.Fatal(err)
			}
		}
		as[i] = a
	}
	for chunk := range slices.Chunk(as, 50) {
		if err := db.PutAttempts(chunk); err != nil {
			t.Fatal(err)
		}
	}
	return as
}

// reference answers q over as the slow, obvious way.
func reference(as []Attempt, q Query) []Attempt {
	var out []Attempt
	text := strings.ToLower(q.Text)
	for _, a := range as {
		if q.TargetID != "" && a.TargetID != q.TargetID || q.Status != "" && a.Status != q.Status ||
			!q.From.IsZero() && a.ID < idAt(q.From, 0) || !q.To.IsZero() && a.ID >= idAt(q.To, 0) {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(a.URL+"\n"+a.Error+"\n"+a.Message), text) {
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Attempt) int {
		var c int
		switch q.Sort {
		case SortStatus:
			c = cmp.Compare(a.Status, b.Status)
		case SortCode:
			c = cmp.Compare(a.Code, b.Code)
		case SortTarget:
			c = cmp.Compare(strings.ToLower(a.TargetName), strings.ToLower(b.TargetName))
		case SortDuration:
			c = cmp.Compare(a.Duration, b.Duration)
		}
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
	if !q.Ascending {
		slices.Reverse(out)
	}
	return out
}

// searchAll pages through q with Search and returns every attempt, and how
// many pages were Partial.
func searchAll(t *testing.T, db *DB, q Query) ([]Attempt, int) {
	t.Helper()
	var (
		all     []Attempt
		partial int
	)
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("%+v: paging does not end", q)
		}
		p, err := db.Search(q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		if limit := cmp.Or(q.Limit, DefaultLimit); len(p.Attempts) > limit {
			t.Fatalf("Search(%+v) returned %d attempts, more than the limit", q, len(p.Attempts))
		}
		if p.Partial {
			partial++
		}
		all = append(all, p.Attempts...)
		if p.Next == "" {
			return all, partial
		}
		q.Cursor = p.Next
	}
}

func TestSearchMatchesReference(t *testing.T) {
	db := openTest(t, t.TempDir())
	as := queryFixture(t, db, 400)
	checkIndexes(t, db, true)

	from7, to7 := LastDays(queryNow, 7)
	filters := []struct {
		name string
		q    Query
	}{
		{"all", Query{}},
		{"target", Query{TargetID: "t2"}},
		{"status", Query{Status: StatusFailed}},
		{"target and status", Query{TargetID: "t0", Status: StatusWaiting}},
		{"last 7 days", Query{From: from7, To: to7}},
		{"custom range", Query{From: queryNow.AddDate(0, 0, -40), To: queryNow.AddDate(0, 0, -20)}},
		{"text", Query{Text: "NEEDLE"}},
		{"target, text and range", Query{TargetID: "t1", Text: "needle", From: queryNow.AddDate(0, 0, -30)}},
		{"no match", Query{TargetID: "nobody"}},
		{"text JSON escapes", Query{Text: `"HI" & <`}},
		{"text only in other fields", Query{Text: "alpha"}},
	}
	sorts := []Sort{"", SortStatus, SortCode, SortTarget, SortDuration}
	for _, f := range filters {
		for _, s := range sorts {
			for _, asc := range []bool{false, true} {
				q := f.q
				q.Sort, q.Ascending, q.Limit = s, asc, 17
				t.Run(fmt.Sprintf("%s/%s/asc=%v", f.name, s, asc), func(t *testing.T) {
					want := reference(as, q)
					got, partial := searchAll(t, db, q)
					if partial != 0 {
						t.Errorf("%d partial pages under the default scan limit", partial)
					}
					checkAttempts(t, got, want)
				})
			}
		}
	}
	if got := len(reference(as, Query{From: from7})); got == 0 || got == len(as) {
		t.Fatalf("the fixture has %d attempts in the last 7 days: the range test proves little", got)
	}
}

func TestSearchScanLimit(t *testing.T) {
	db := openTest(t, t.TempDir())
	as := queryFixture(t, db, 300)
	db.scanLimit = 13
	for _, q := range []Query{
		{Text: "needle moved", Limit: 5},
		{TargetID: "t3", Sort: SortCode, Limit: 4},
		{Status: StatusOK, Sort: SortTarget, Ascending: true, Limit: 50},
		{From: queryNow.AddDate(0, 0, -3), Sort: SortDuration, Limit: 10},
	} {
		want := reference(as, q)
		got, partial := searchAll(t, db, q)
		checkAttempts(t, got, want)
		if partial == 0 {
			t.Errorf("%+v: no page was partial with a scan limit of 13 over %d attempts", q, len(as))
		}
		// Attempts goes on through partial pages until the page is full.
		page, err := db.Attempts(q)
		if err != nil {
			t.Fatal(err)
		}
		checkAttempts(t, page, want[:min(q.Limit, len(want))])
	}
}

func TestSearchInvalid(t *testing.T) {
	db := openTest(t, t.TempDir())
	id := NewAttemptID(queryNow)
	codeCursor := func() string {
		if err := db.PutAttempt(Attempt{ID: id, Status: StatusOK, Code: 200}); err != nil {
			t.Fatal(err)
		}
		p, err := db.Search(Query{Sort: SortCode, Limit: 1})
		if err != nil || p.Next == "" {
			t.Fatalf("Search = %+v, %v; want a Next cursor", p, err)
		}
		return p.Next
	}()
	for _, q := range []Query{
		{Limit: -1},
		{Sort: "colour"},
		{Status: "ok"},
		{Before: "x"},
		{Cursor: "x"},
		{Sort: SortCode, Before: id},         // Before is for the time order
		{Ascending: true, Before: id},        // and newest first
		{Sort: SortCode, Cursor: id},         // a time cursor in another order
		{Cursor: codeCursor},                 // and the other way round
		{Sort: SortDuration, Cursor: "!!!!"}, // not base64
	} {
		if _, err := db.Search(q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(%+v) = %v, want ErrInvalid", q, err)
		}
	}
}

func TestTimeRanges(t *testing.T) {
	loc := time.FixedZone("X", 2*3600)
	now := time.Date(2025, 3, 10, 15, 4, 5, 0, loc)
	from, to := Today(now)
	if want := time.Date(2025, 3, 10, 0, 0, 0, 0, loc); !from.Equal(want) || !to.Equal(want.AddDate(0, 0, 1)) {
		t.Errorf("Today = %v, %v; want %v and a day later", from, to, want)
	}
	from, to = LastDays(now, 30)
	if want := time.Date(2025, 2, 8, 15, 4, 5, 0, loc); !from.Equal(want) || !to.IsZero() {
		t.Errorf("LastDays(30) = %v, %v; want %v, zero", from, to, want)
	}
}
