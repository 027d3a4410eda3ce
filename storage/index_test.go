package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// checkIndexes fails t unless db's indexes and counters agree with its
// attempts: every attempt has exactly its index entries, no entry is left
// over, m/attempts is the number of attempts and, if wantStats, every
// target's Stats are what its attempts add up to (true until expiry).
func checkIndexes(t *testing.T, db *DB, wantStats bool) {
	t.Helper()
	want := make(map[string]string) // index key -> value
	stats := make(map[string]Stats)
	var n int64
	got := make(map[string]string)
	var gotCount int64
	gotStats := make(map[string]Stats)
	err := db.badger.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			switch {
			case strings.HasPrefix(k, attemptPrefix):
				var a Attempt
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				x := indexedOf(&a)
				for _, ik := range x.indexKeys() {
					want[ik] = string(x.indexValue())
				}
				s := stats[a.TargetID]
				s.record(x)
				stats[a.TargetID] = s
				n++
			case strings.HasPrefix(k, indexPrefix):
				got[k] = string(v)
			case strings.HasPrefix(k, statsPrefix):
				var s Stats
				if err := json.Unmarshal(v, &s); err != nil {
					return err
				}
				gotStats[k[len(statsPrefix):]] = s
			case k == string(countKey):
				gotCount, _ = strconv.ParseInt(string(v), 10, 64)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			t.Errorf("index entry %q = %q, %v; want %q", k, gv, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("stale index entry %q", k)
		}
	}
	if gotCount != n {
		t.Errorf("m/attempts = %d, want %d attempts", gotCount, n)
	}
	if wantStats {
		for id, s := range stats {
			if g := gotStats[id]; !g.LastTriggered.Equal(s.LastTriggered) || g.Attempts != s.Attempts || g.OK != s.OK || g.Failed != s.Failed {
				t.Errorf("stats of target %q = %+v, want %+v", id, g, s)
			}
		}
	}
}

func TestIndexesFollowStatus(t *testing.T) {
	db := openTest(t, t.TempDir())
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	a := Attempt{ID: NewAttemptID(at), Time: at, TargetID: "t1", TargetName: "Door", Status: StatusWaiting}
	if err := db.PutAttempt(a); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, db, true)
	ids := func(q Query) []string {
		t.Helper()
		as, err := db.Attempts(q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	if got := ids(Query{Status: StatusWaiting}); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("Waiting = %v, want [%s]", got, a.ID)
	}
	a.Status, a.Code, a.Duration = StatusOK, 200, 30*time.Millisecond
	if err := db.PutAttemptDurable(a); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, db, true)
	if got := ids(Query{Status: StatusWaiting}); len(got) != 0 {
		t.Errorf("Waiting after OK = %v, want none (the old entry must go)", got)
	}
	if got := ids(Query{Status: StatusOK, TargetID: "t1"}); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("OK of t1 = %v, want [%s]", got, a.ID)
	}
	// A record moved to another target and renamed leaves nothing behind.
	a.TargetID, a.TargetName, a.Status = "t2", "Gate", StatusFailed
	if err := db.PutAttempt(a); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, db, true)
	if got := ids(Query{TargetID: "t1"}); len(got) != 0 {
		t.Errorf("t1 after the move = %v, want none", got)
	}
}

func TestTargetStats(t *testing.T) {
	db := openTest(t, t.TempDir())
	base := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	put := func(a Attempt, durable bool) {
		t.Helper()
		f := db.PutAttempt
		if durable {
			f = db.PutAttemptDurable
		}
		if err := f(a); err != nil {
			t.Fatal(err)
		}
	}
	a1 := Attempt{ID: NewAttemptID(base), Time: base, TargetID: "t1", Status: StatusWaiting}
	put(a1, false)
	if s, _ := db.TargetStats("t1"); s.Attempts != 0 || !s.LastTriggered.Equal(base) {
		t.Errorf("after Waiting: %+v, want no attempts counted and LastTriggered %v", s, base)
	}
	a1.Status = StatusOK
	put(a1, true)
	put(a1, true) // the same final record again counts once
	a2 := Attempt{ID: NewAttemptID(base.Add(time.Minute)), Time: base.Add(time.Minute), TargetID: "t1", Status: StatusFailed}
	put(a2, true)
	a3 := Attempt{ID: NewAttemptID(base.Add(-time.Hour)), Time: base.Add(-time.Hour), TargetID: "t2", Status: StatusOK}
	put(a3, false)

	want := map[string]Stats{
		"t1": {Attempts: 2, OK: 1, Failed: 1, LastTriggered: base.Add(time.Minute)},
		"t2": {Attempts: 1, OK: 1, LastTriggered: base.Add(-time.Hour)},
	}
	for id, w := range want {
		s, err := db.TargetStats(id)
		if err != nil || s != w {
			t.Errorf("TargetStats(%s) = %+v, %v; want %+v", id, s, err, w)
		}
	}
	// An OK record corrected to Failed moves its count.
	a1.Status = StatusFailed
	put(a1, true)
	w := want["t1"]
	w.OK, w.Failed = 0, 2
	want["t1"] = w
	all, err := db.AllTargetStats()
	if err != nil || !maps.Equal(all, want) {
		t.Errorf("AllTargetStats = %+v, %v; want %+v", all, err, want)
	}
	if s, err := db.TargetStats("never"); err != nil || s != (Stats{}) {
		t.Errorf("TargetStats(never) = %+v, %v; want zero", s, err)
	}
	if n, err := db.AttemptCount(); err != nil || n != 3 {
		t.Errorf("AttemptCount = %d, %v; want 3", n, err)
	}
	checkIndexes(t, db, true)
}

func TestPutAttemptsWithCounts(t *testing.T) {
	db := openTest(t, t.TempDir())
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	as := []Attempt{
		{ID: NewAttemptID(at), Time: at, TargetID: "t1", Status: StatusOK},
		{ID: NewAttemptID(at), Time: at, TargetID: "t2", Status: StatusFailed},
	}
	c := ButtonCounts{Device: "serial:A", Button: 2, Counts: Counts{All: 7, Press: 7}}
	if err := db.PutAttemptsDurable(as, c); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Counts("serial:A", 2); err != nil || got != c.Counts {
		t.Errorf("Counts = %+v, %v; want %+v", got, err, c.Counts)
	}
	for _, a := range as {
		if got, ok, err := db.Attempt(a.ID); err != nil || !ok || got != a {
			t.Errorf("Attempt(%s) = %+v, %v, %v; want %+v", a.ID, got, ok, err, a)
		}
	}

	// One bad attempt: nothing of the call is written, counters included.
	bad := []Attempt{{ID: NewAttemptID(at), Status: StatusOK}, {ID: "nope", Status: StatusOK}}
	c2 := ButtonCounts{Device: "serial:A", Button: 2, Counts: Counts{All: 8}}
	for _, put := range []func([]Attempt, ...ButtonCounts) error{db.PutAttempts, db.PutAttemptsDurable} {
		if err := put(bad, c2); !errors.Is(err, ErrInvalid) {
			t.Errorf("put with a bad attempt = %v, want ErrInvalid", err)
		}
	}
	if got, _ := db.Counts("serial:A", 2); got != c.Counts {
		t.Errorf("Counts after a refused put = %+v, want %+v", got, c.Counts)
	}
	if _, ok, _ := db.Attempt(bad[0].ID); ok {
		t.Errorf("the good attempt of a refused put was written")
	}
	if err := db.PutAttempts(nil); err != nil {
		t.Errorf("PutAttempts(nil) = %v, want nil", err)
	}
	checkIndexes(t, db, true)
}
