package storage

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// latencies collects the durations of operations for percentiles.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[max(int(math.Ceil(p*float64(len(s))))-1, 0)]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// report reports p50 and p99 in microseconds, with prefix before the names.
func (l latencies) report(b *testing.B, prefix string) {
	b.ReportMetric(us(l.pct(0.50)), prefix+"p50_us")
	b.ReportMetric(us(l.pct(0.99)), prefix+"p99_us")
}

// rawAppender appends records to a plain file and fdatasyncs it: the floor
// that a durable append is measured against.
type rawAppender struct{ f *os.File }

func newRawAppender(tb testing.TB, dir string) *rawAppender {
	tb.Helper()
	f, err := os.OpenFile(dir+"/raw-append.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return &rawAppender{f}
}

func (r *rawAppender) append(tb testing.TB, rec []byte) time.Duration {
	start := time.Now()
	if _, err := r.f.Write(rec); err != nil {
		tb.Fatal(err)
	}
	if err := fdatasync(r.f); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// benchTargets is how many targets the big logs spread over.
const benchTargets = 50

// benchAttempt returns the i-th of n attempts of a log that ends at end, one
// every 90 days/n: realistic records over benchTargets targets, 90% OK, 8%
// Failed, 2% Waiting.
func benchAttempt(i, n int, end time.Time) Attempt {
	at := end.Add(-time.Duration(n-i) * (90 * 24 * time.Hour / time.Duration(n)))
	t := i * 7919 % benchTargets
	a := Attempt{
		ID: idAt(at, uint32(i)), Time: at,
		TargetID: fmt.Sprintf("t%02d", t), TargetName: fmt.Sprintf("Target %02d", t), TargetVersion: 3,
		DeviceID: "usb:1234:5678:A1", DeviceName: "Big red button", Button: i % 4, Gesture: "press",
		Method: "POST", URL: fmt.Sprintf("https://hooks.example.com/t%02d/run?token=REDACTED&n=%d", t, i),
		RequestHeaders: "Authorization, Content-Type",
		Status:         StatusOK, Code: 200, Duration: time.Duration(20+i%180) * time.Millisecond,
		Timing:   Timing{FirstByte: time.Duration(15+i%150) * time.Millisecond, Total: time.Duration(20+i%180) * time.Millisecond},
		Response: `{"ok":true}`, Tries: 1,
	}
	a.Finished = at.Add(a.Duration)
	switch {
	case i%50 == 7:
		a.Status, a.Code, a.Finished, a.Duration, a.Timing, a.Response = StatusWaiting, 0, time.Time{}, 0, Timing{}, ""
	case i%25 == 3 || i%25 == 4:
		a.Status, a.Code, a.ErrorClass, a.Error = StatusFailed, 503, ErrorHTTP, "503 Service Unavailable"
	}
	return a
}

// bulkLoad writes n attempts made by gen into db with a Badger WriteBatch
// (not synced, not one transaction): the records, their index entries, the
// per-target counters and the count, as the write path lays them out. Only
// for building big logs in tests and benchmarks, on a DB nothing else writes.
func bulkLoad(db *DB, n int, gen func(i int) Attempt) error {
	wb := db.badger.NewWriteBatch()
	defer wb.Cancel()
	stats := make(map[string]*Stats)
	for i := range n {
		a := gen(i)
		if err := checkAttempt(&a); err != nil {
			return err
		}
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		x := indexedOf(&a)
		if err := wb.Set(attemptKey(a.ID), data); err != nil {
			return err
		}
		for _, k := range x.indexKeys() {
			if err := wb.Set([]byte(k), x.indexValue()); err != nil {
				return err
			}
		}
		statsOf(stats, a.TargetID).record(x)
	}
	for id, s := range stats {
		old, err := db.TargetStats(id)
		if err != nil {
			return err
		}
		s.merge(old)
		data, _ := json.Marshal(s)
		if err := wb.Set([]byte(statsPrefix+id), data); err != nil {
			return err
		}
	}
	count, err := db.AttemptCount()
	if err != nil {
		return err
	}
	if err := wb.Set(countKey, []byte(strconv.FormatInt(count+int64(n), 10))); err != nil {
		return err
	}
	return wb.Flush()
}

// dirSize returns the bytes of the files in dir.
func dirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n
}
