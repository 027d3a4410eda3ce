package storage

import (
	"testing"
	"time"
)

func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkPutAttempt measures the unsynced write of a Waiting record.
func BenchmarkPutAttempt(b *testing.B) {
	db := benchDB(b)
	a := makeAttempts(b, 1, time.Now())[0]
	a.Status, a.Finished = StatusWaiting, time.Time{}
	for b.Loop() {
		a.ID = NewAttemptID(time.Now())
		if err := db.PutAttempt(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutAttemptDurable measures the synced write of a final record.
func BenchmarkPutAttemptDurable(b *testing.B) {
	db := benchDB(b)
	a := makeAttempts(b, 1, time.Now())[0]
	for b.Loop() {
		a.ID = NewAttemptID(time.Now())
		if err := db.PutAttemptDurable(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAttemptsNewest50 measures the first page of the log over 100,000
// attempts.
func BenchmarkAttemptsNewest50(b *testing.B) {
	db := benchDB(b)
	for _, a := range makeAttempts(b, 100_000, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		if err := db.PutAttempt(a); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		page, err := db.Attempts(Query{Limit: 50})
		if err != nil {
			b.Fatal(err)
		}
		if len(page) != 50 {
			b.Fatalf("got %d attempts, want 50", len(page))
		}
	}
}
