package storage

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
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

// benchFinal returns a final attempt as the engine writes it.
func benchFinal() Attempt {
	return benchAttempt(1, 2, time.Now().UTC())
}

// BenchmarkPutAttempt measures the unsynced write of a Waiting record.
func BenchmarkPutAttempt(b *testing.B) {
	db := benchDB(b)
	a := benchFinal()
	a.Status, a.Finished = StatusWaiting, time.Time{}
	for b.Loop() {
		a.ID = NewAttemptID(time.Now())
		if err := db.PutAttempt(a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDurableAppend measures a press's two writes, Waiting then the
// durable final record, one writer at a time, against the floor: appending
// a record of the same size to a plain file in the same directory and
// fdatasyncing it, interleaved with ours. Target: p99 <= 2x the floor's p99.
func BenchmarkDurableAppend(b *testing.B) {
	db := benchDB(b)
	raw := newRawAppender(b, db.Dir())
	a := benchFinal()
	rec, _ := json.Marshal(a)
	rec = append(rec, '\n')
	var ours, floor latencies
	for b.Loop() {
		a.ID = NewAttemptID(time.Now())
		w := a
		w.Status = StatusWaiting
		if err := db.PutAttempt(w); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := db.PutAttemptDurable(a); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(start))
		floor = append(floor, raw.append(b, rec))
	}
	ours.report(b, "")
	floor.report(b, "raw_")
	b.ReportMetric(float64(ours.pct(0.99))/float64(floor.pct(0.99)), "p99_ratio")
}

// BenchmarkDurableConcurrent8 measures durable final records written by 8
// goroutines at once (group commit). Target: >= 5,000 attempts/s.
func BenchmarkDurableConcurrent8(b *testing.B) {
	db := benchDB(b)
	var syncs atomic.Int64
	realSync := db.sync
	db.sync = func() error { syncs.Add(1); return realSync() }
	const writers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lat  latencies
		work = make(chan struct{})
	)
	for range writers {
		wg.Go(func() {
			a := benchFinal()
			var mine latencies
			for range work {
				a.ID = NewAttemptID(time.Now())
				start := time.Now()
				if err := db.PutAttemptDurable(a); err != nil {
					b.Error(err)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	start := time.Now()
	for b.Loop() {
		work <- struct{}{} // to whichever writer is free
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	lat.report(b, "")
	b.ReportMetric(float64(len(lat))/took.Seconds(), "attempts/s")
	b.ReportMetric(float64(len(lat))/float64(syncs.Load()), "attempts/sync")
}

// BenchmarkDurableDuringExpiry measures durable final records written one
// at a time while Expire deletes 100,000 old attempts, against the raw
// append+fdatasync floor in the same run. Run it with -benchtime 1x.
func BenchmarkDurableDuringExpiry(b *testing.B) {
	const old = 100_000
	db := benchDB(b)
	raw := newRawAppender(b, db.Dir())
	a := benchFinal()
	rec, _ := json.Marshal(a)
	var ours, floor latencies
	var expired int
	var expiry time.Duration
	for b.Loop() {
		b.StopTimer()
		end := time.Now().AddDate(0, 0, -100)
		if err := bulkLoad(db, old, func(i int) Attempt { return benchAttempt(i, old, end) }); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			n, err := db.Expire(context.Background(), time.Now(), DefaultRetention)
			if err != nil {
				b.Error(err)
			}
			expired, expiry = n, time.Since(start)
		}()
	loop:
		for {
			select {
			case <-done:
				break loop
			default:
			}
			a.ID = NewAttemptID(time.Now())
			t0 := time.Now()
			if err := db.PutAttemptDurable(a); err != nil {
				b.Fatal(err)
			}
			ours = append(ours, time.Since(t0))
			floor = append(floor, raw.append(b, rec))
		}
	}
	if expired != old {
		b.Fatalf("expired %d attempts, want %d", expired, old)
	}
	ours.report(b, "")
	floor.report(b, "raw_")
	b.ReportMetric(float64(ours.pct(0.99))/float64(floor.pct(0.99)), "p99_ratio")
	b.ReportMetric(float64(expired)/expiry.Seconds(), "expired/s")
}

// BenchmarkAttemptsNewest50 measures the first page of the log over 100,000
// attempts.
func BenchmarkAttemptsNewest50(b *testing.B) {
	db := benchDB(b)
	const n = 100_000
	end := time.Now()
	if err := bulkLoad(db, n, func(i int) Attempt { return benchAttempt(i, n, end) }); err != nil {
		b.Fatal(err)
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
