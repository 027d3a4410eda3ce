package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// makeAttempts returns n finished attempts, oldest first, one second apart
// from start.
func makeAttempts(t testing.TB, n int, start time.Time) []Attempt {
	t.Helper()
	as := make([]Attempt, n)
	for i := range as {
		at := start.Add(time.Duration(i) * time.Second)
		as[i] = Attempt{
			ID:            NewAttemptID(at),
			Time:          at,
			TargetID:      "t1",
			TargetName:    "Lights on",
			TargetVersion: 3,
			DeviceID:      "usb:1234:5678:A1",
			DeviceName:    "Big red button",
			Button:        i % 4,
			Gesture:       "press",
			Method:        "POST",
			URL:           fmt.Sprintf("https://example.com/hook/%d?token=REDACTED", i),
			Status:        StatusOK,
			Code:          200,
			Duration:      42 * time.Millisecond,
			Finished:      at.Add(42 * time.Millisecond),
		}
	}
	return as
}

func reversed(as []Attempt) []Attempt {
	r := slices.Clone(as)
	slices.Reverse(r)
	return r
}

func checkAttempts(t *testing.T, got, want []Attempt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d attempts, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("attempt %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

var idPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestNewAttemptID(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		t          time.Time
		wantPrefix string
	}{
		{"epoch", time.Unix(0, 0), "0000000000000000"},
		{"zero time clamps to epoch", time.Time{}, "0000000000000000"},
		{"before 1970 clamps", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "0000000000000000"},
		{"one ns", time.Unix(0, 1), "0000000000000001"},
		{"2025", base, fmt.Sprintf("%016x", base.UnixNano())},
		{"after 2262 clamps", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "7fffffffffffffff"},
	}
	for _, tt := range tests {
		id := NewAttemptID(tt.t)
		if !idPattern.MatchString(id) || !validAttemptID(id) {
			t.Errorf("%s: NewAttemptID = %q, want 24 lowercase hex digits", tt.name, id)
		}
		if !strings.HasPrefix(id, tt.wantPrefix) {
			t.Errorf("%s: NewAttemptID = %q, want prefix %q", tt.name, id, tt.wantPrefix)
		}
	}

	// Lexicographic order is time order.
	times := []time.Time{time.Unix(0, 0), time.Unix(0, 255), time.Unix(0, 256), base, base.Add(time.Nanosecond), base.Add(time.Hour)}
	var prev string
	for _, tm := range times {
		id := NewAttemptID(tm)
		if id <= prev {
			t.Errorf("NewAttemptID(%v) = %q, not after %q", tm, id, prev)
		}
		prev = id
	}

	// Unique under concurrency, even for the same instant: 160,000 IDs, where
	// 32 random bits would collide about three times.
	var (
		mu   sync.Mutex
		seen = make(map[string]bool)
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 20000 {
				id := NewAttemptID(base)
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate ID %s", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestValidAttemptID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0123456789abcdef01234567", true},
		{"", false},
		{"0123456789abcdef0123456", false},
		{"0123456789abcdef012345678", false},
		{"0123456789ABCDEF01234567", false},
		{"0123456789abcdef0123456g", false},
		{"0123456789abcdef/1234567", false},
	}
	for _, tt := range tests {
		if got := validAttemptID(tt.id); got != tt.want {
			t.Errorf("validAttemptID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestAttemptJSON(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	a := Attempt{ID: "0123456789abcdef01234567", Time: at, Status: StatusWaiting, Duration: time.Second}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"0123456789abcdef01234567","time":"2025-01-02T03:04:05.000000006Z","target_id":"","target_name":"","target_version":0,"device_id":"","device_name":"","button":0,"gesture":"","method":"","url":"","status":"Waiting","code":0,"duration_ns":1000000000}`
	if string(data) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", data, want)
	}
}

func TestPutAttemptWaitingThenOK(t *testing.T) {
	db := openTest(t, t.TempDir())
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	waiting := Attempt{
		ID: NewAttemptID(at), Time: at, TargetID: "t1", TargetName: "Door", TargetVersion: 2,
		DeviceID: "serial:/dev/ttyACM0", DeviceName: "Board", Button: 1, Gesture: "long",
		Method: "GET", URL: "https://example.com/?k=REDACTED", Status: StatusWaiting,
	}
	if err := db.PutAttempt(waiting); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.Attempt(waiting.ID)
	if err != nil || !ok || got != waiting {
		t.Fatalf("Attempt after PutAttempt = %+v, %v, %v; want %+v, true, nil", got, ok, err, waiting)
	}

	done := waiting
	done.Status, done.Code, done.Duration, done.Finished = StatusOK, 204, 35*time.Millisecond, at.Add(35*time.Millisecond)
	if err := db.PutAttemptDurable(done); err != nil {
		t.Fatal(err)
	}
	got, ok, err = db.Attempt(waiting.ID)
	if err != nil || !ok || got != done {
		t.Fatalf("Attempt after PutAttemptDurable = %+v, %v, %v; want %+v, true, nil", got, ok, err, done)
	}
	list, err := db.Attempts(Query{})
	if err != nil {
		t.Fatal(err)
	}
	checkAttempts(t, list, []Attempt{done})

	_, ok, err = db.Attempt(NewAttemptID(at))
	if err != nil || ok {
		t.Errorf("Attempt(unknown) = _, %v, %v; want false, nil", ok, err)
	}
}

func TestPutAttemptInvalid(t *testing.T) {
	db := openTest(t, t.TempDir())
	good := Attempt{ID: NewAttemptID(time.Now()), Status: StatusFailed}
	tests := []struct {
		name    string
		change  func(a *Attempt)
		wantMsg string
	}{
		{"empty ID", func(a *Attempt) { a.ID = "" }, "was not made by NewAttemptID"},
		{"foreign ID", func(a *Attempt) { a.ID = "trigger-1" }, "was not made by NewAttemptID"},
		{"empty status", func(a *Attempt) { a.Status = "" }, `attempt status ""`},
		{"unknown status", func(a *Attempt) { a.Status = "ok" }, `attempt status "ok"`},
		{"too big", func(a *Attempt) { a.Error = strings.Repeat("e", MaxValueSize) }, "more than 262144"},
		{"header value", func(a *Attempt) { a.RequestHeaders = "Authorization: Bearer s3cret" }, "header names only"},
		{"header list with a value", func(a *Attempt) { a.RequestHeaders = "Accept, X-Api-Key=s3cret" }, "header names only"},
		{"empty header name", func(a *Attempt) { a.RequestHeaders = "Accept, " }, "header names only"},
		{"error class sentence", func(a *Attempt) { a.ErrorClass = "Network error" }, "short lowercase word"},
		{"long error class", func(a *Attempt) { a.ErrorClass = strings.Repeat("e", 33) }, "short lowercase word"},
		{"NUL in target", func(a *Attempt) { a.TargetID = "t\x001" }, "holds NUL"},
		{"long target", func(a *Attempt) { a.TargetID = strings.Repeat("t", 257) }, "longer than 256"},
	}
	for _, tt := range tests {
		for _, durable := range []bool{false, true} {
			a := good
			tt.change(&a)
			put := db.PutAttempt
			if durable {
				put = db.PutAttemptDurable
			}
			err := put(a)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s (durable %v): error = %v, want ErrInvalid with %q", tt.name, durable, err, tt.wantMsg)
			}
		}
	}
	if list, err := db.Attempts(Query{}); err != nil || len(list) != 0 {
		t.Errorf("Attempts after invalid puts = %d attempts, %v; want none", len(list), err)
	}
	if _, _, err := db.Attempt("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Attempt(\"nope\") error = %v, want ErrInvalid", err)
	}
}

func TestAttemptsPaging(t *testing.T) {
	db := openTest(t, t.TempDir())
	all := makeAttempts(t, 250, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	// Insert in a scrambled order: the listing must follow IDs, not insertion.
	for _, i := range rotate(len(all), 97) {
		if err := db.PutAttempt(all[i]); err != nil {
			t.Fatal(err)
		}
	}
	newest := reversed(all)

	tests := []struct {
		limit     int
		wantPages []int // sizes of the pages until an empty one
	}{
		{0, []int{50, 50, 50, 50, 50}},
		{100, []int{100, 100, 50}},
		{250, []int{250}},
		{1, nil}, // checked below: 250 pages of one
		{5000, []int{250}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			var (
				got   []Attempt
				sizes []int
				q     = Query{Limit: tt.limit}
			)
			for {
				page, err := db.Attempts(q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				if len(sizes) > 300 {
					t.Fatal("paging does not end")
				}
				sizes = append(sizes, len(page))
				got = append(got, page...)
				q.Before = page[len(page)-1].ID
			}
			checkAttempts(t, got, newest)
			if tt.wantPages != nil && !slices.Equal(sizes, tt.wantPages) {
				t.Errorf("page sizes = %v, want %v", sizes, tt.wantPages)
			}
		})
	}

	// A cursor that is not a stored ID still splits the list by time.
	mid := all[100].Time.Add(time.Millisecond)
	page, err := db.Attempts(Query{Limit: 3, Before: NewAttemptID(mid)})
	if err != nil {
		t.Fatal(err)
	}
	checkAttempts(t, page, []Attempt{all[100], all[99], all[98]})

	// Limit is capped at MaxLimit.
	more := makeAttempts(t, MaxLimit, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, a := range more {
		if err := db.PutAttempt(a); err != nil {
			t.Fatal(err)
		}
	}
	page, err = db.Attempts(Query{Limit: MaxLimit + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != MaxLimit {
		t.Errorf("Attempts(Limit %d) returned %d, want %d", MaxLimit+1, len(page), MaxLimit)
	}

	for _, q := range []Query{{Limit: -1}, {Before: "x"}, {Before: strings.ToUpper(all[0].ID)}} {
		if _, err := db.Attempts(q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Attempts(%+v) error = %v, want ErrInvalid", q, err)
		}
	}
}

// rotate returns 0..n-1 visited with the given step (coprime with n).
func rotate(n, step int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i * step % n
	}
	return idx
}

func TestPutAttemptConcurrent(t *testing.T) {
	db := openTest(t, t.TempDir())
	const workers, each = 8, 100
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids []string
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				a := Attempt{ID: NewAttemptID(time.Now()), Status: StatusWaiting, Button: w, TargetID: fmt.Sprint(i)}
				put := db.PutAttempt
				if i%10 == 0 {
					put = db.PutAttemptDurable
				}
				if err := put(a); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, a.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	got, err := db.Attempts(Query{Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	gotIDs := make([]string, len(got))
	for i, a := range got {
		gotIDs[i] = a.ID
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	if !slices.Equal(gotIDs, ids) {
		t.Errorf("stored %d attempts, want the %d written, newest first", len(gotIDs), len(ids))
	}
	if len(ids) != workers*each {
		t.Errorf("wrote %d attempts, want %d", len(ids), workers*each)
	}
}
