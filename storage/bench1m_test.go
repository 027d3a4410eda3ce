package storage

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks over a log of a million attempts share one, built once per
// test process by a child process (so that the build's memory is neither in
// this process nor in the figures of the others) and removed by TestMain.

const (
	bigN = 1_000_000
	// Env of the "write" child: how many attempts, and how to write them:
	// "bulk" (bulkLoad, a WriteBatch) or "txn" (PutAttempts, 100 a call, the
	// write path of the app without the syncs).
	childNEnv      = "BUTTONHOOK_STORAGE_TEST_N"
	childWriterEnv = "BUTTONHOOK_STORAGE_TEST_WRITER"
)

// bigEnd is when the shared log ends: now, so that DefaultRetention would
// keep it all.
var bigEnd = time.Now().UTC().Truncate(time.Second)

var big struct {
	once sync.Once
	dir  string
	res  writeResult
	err  error
}

// writeResult is what the write child reports.
type writeResult struct {
	took       time.Duration
	peakRSS    int64 // VmHWM, bytes; 0 where unknown
	anon, file int64 // the highest RssAnon and RssFile seen, bytes
	size       int64 // of the directory, bytes
}

// childWrite writes n attempts into a new log in dir and prints
// "done SECONDS PEAKRSS MAXANON MAXFILE" once it is closed.
func childWrite(dir string) int {
	n, err := strconv.Atoi(os.Getenv(childNEnv))
	end, err2 := strconv.ParseInt(os.Getenv("BUTTONHOOK_STORAGE_TEST_END"), 10, 64)
	if err != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "bad child env", err, err2)
		return 2
	}
	var (
		maxAnon, maxFile atomic.Int64
		stop             = make(chan struct{})
	)
	go func() { // sample the split of resident memory
		for {
			if _, anon, file, err := memStatus(); err == nil {
				maxAnon.Store(max(maxAnon.Load(), anon))
				maxFile.Store(max(maxFile.Load(), file))
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	db, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	gen := func(i int) Attempt { return benchAttempt(i, n, time.Unix(end, 0).UTC()) }
	if os.Getenv(childWriterEnv) == "txn" {
		batch := make([]Attempt, 0, 100)
		for i := range n {
			batch = append(batch, gen(i))
			if len(batch) == cap(batch) || i == n-1 {
				if err = db.PutAttempts(batch); err != nil {
					break
				}
				batch = batch[:0]
			}
		}
	} else {
		err = bulkLoad(db, n, gen)
	}
	if err == nil {
		err = db.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	close(stop)
	rss, _, _, _ := memStatus()
	fmt.Printf("done %f %d %d %d\n", time.Since(start).Seconds(), rss, maxAnon.Load(), maxFile.Load())
	return 0
}

// runWriteChild runs the write child on dir and returns its report.
func runWriteChild(tb testing.TB, dir string, n int, writer string, env ...string) (writeResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return writeResult{}, err
	}
	cmd := newChildCmd(exe, "write", dir)
	cmd.Env = append(cmd.Env, childNEnv+"="+strconv.Itoa(n), childWriterEnv+"="+writer,
		"BUTTONHOOK_STORAGE_TEST_END="+strconv.FormatInt(bigEnd.Unix(), 10))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		return writeResult{}, fmt.Errorf("write child: %w", err)
	}
	var (
		secs float64
		res  writeResult
	)
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "done %f %d %d %d", &secs, &res.peakRSS, &res.anon, &res.file); err != nil {
		return writeResult{}, fmt.Errorf("write child said %q: %w", out, err)
	}
	res.took, res.size = time.Duration(secs*float64(time.Second)), dirSize(tb, dir)
	return res, nil
}

// bigLog returns the directory of the shared log of bigN attempts (closed).
func bigLog(b *testing.B) string {
	b.Helper()
	big.once.Do(func() {
		big.dir, big.err = os.MkdirTemp("", "buttonhook-bench-1m-")
		if big.err == nil {
			big.res, big.err = runWriteChild(b, big.dir, bigN, "bulk")
		}
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	return big.dir
}

// removeBigLog removes the shared log; TestMain calls it.
func removeBigLog() {
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
}

// openBig opens the shared log for one benchmark.
func openBig(b *testing.B) *DB {
	b.Helper()
	db, err := Open(bigLog(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkNewest100Of1M measures the log's first page (newest 100) over a
// million attempts. Target: p99 <= 2 ms.
func BenchmarkNewest100Of1M(b *testing.B) {
	db := openBig(b)
	var l latencies
	for b.Loop() {
		start := time.Now()
		page, err := db.Attempts(Query{Limit: 100})
		l = append(l, time.Since(start))
		if err != nil || len(page) != 100 {
			b.Fatalf("got %d attempts, %v; want 100", len(page), err)
		}
	}
	l.report(b, "")
}

// BenchmarkFirstPageByTargetOf1M measures the first page (50) of one
// target's attempts (2% of them) over a million, and of its failures (0.16%).
// Target: <= 20 ms.
func BenchmarkFirstPageByTargetOf1M(b *testing.B) {
	db := openBig(b)
	var l, lf latencies
	for b.Loop() {
		start := time.Now()
		page, err := db.Search(Query{TargetID: "t07"})
		l = append(l, time.Since(start))
		if err != nil || len(page.Attempts) != DefaultLimit {
			b.Fatalf("got %d attempts, %v; want %d", len(page.Attempts), err, DefaultLimit)
		}
		start = time.Now()
		page, err = db.Search(Query{TargetID: "t07", Status: StatusFailed})
		lf = append(lf, time.Since(start))
		if err != nil || len(page.Attempts) != DefaultLimit {
			b.Fatalf("failed: got %d attempts, %v; want %d", len(page.Attempts), err, DefaultLimit)
		}
	}
	l.report(b, "")
	lf.report(b, "failed_")
}

// BenchmarkSortedPagesOf1M measures first pages in the other orders over a
// million attempts (each walks its own index).
func BenchmarkSortedPagesOf1M(b *testing.B) {
	db := openBig(b)
	sorts := []Sort{SortStatus, SortCode, SortTarget, SortDuration}
	l := make([]latencies, len(sorts))
	for b.Loop() {
		for i, s := range sorts {
			start := time.Now()
			page, err := db.Search(Query{Sort: s, Limit: 100})
			l[i] = append(l[i], time.Since(start))
			if err != nil || len(page.Attempts) != 100 {
				b.Fatalf("%s: got %d attempts, %v", s, len(page.Attempts), err)
			}
		}
	}
	for i, s := range sorts {
		b.ReportMetric(us(l[i].pct(0.99)), string(s)+"_p99_us")
	}
}

// BenchmarkTextSearchOf1M measures a text filter that matches nothing over a
// million attempts: one Search, which stops at ScanLimit (a Partial page).
func BenchmarkTextSearchOf1M(b *testing.B) {
	db := openBig(b)
	var l latencies
	for b.Loop() {
		start := time.Now()
		page, err := db.Search(Query{Text: "no such text"})
		l = append(l, time.Since(start))
		if err != nil || !page.Partial || len(page.Attempts) != 0 {
			b.Fatalf("got %d attempts, partial %v, %v; want a partial empty page", len(page.Attempts), page.Partial, err)
		}
	}
	l.report(b, "")
}

// BenchmarkOpen1M measures Open of a closed log of a million attempts.
// Target: <= 100 ms.
func BenchmarkOpen1M(b *testing.B) {
	dir := bigLog(b)
	var l latencies
	for b.Loop() {
		start := time.Now()
		db, err := Open(dir, nil)
		l = append(l, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	l.report(b, "")
	b.ReportMetric(float64(big.res.size)/1e6, "dir_MB")
	b.ReportMetric(float64(bigN)/big.res.took.Seconds(), "build_attempts/s")
}

// BenchmarkWrite1MPeakRSS reports the peak RSS (VmHWM) of a process writing
// a million attempts into a new log through the write path (PutAttempts,
// 100 a call, unsynced), with the highest anonymous (Go heap, mostly
// Badger's table builders) and file-backed (the mapped table files) parts
// seen; then the same with GOMEMLIMIT=96MiB, as main sets it; and the
// figures of the WriteBatch loader that built the shared log. Target:
// <= 200 MB. Run it with -benchtime 1x (each run writes a million twice).
func BenchmarkWrite1MPeakRSS(b *testing.B) {
	bigLog(b)
	var res, lim writeResult
	for b.Loop() {
		var err error
		if res, err = runWriteChild(b, b.TempDir(), bigN, "txn"); err != nil {
			b.Fatal(err)
		}
		if lim, err = runWriteChild(b, b.TempDir(), bigN, "txn", "GOMEMLIMIT=96MiB"); err != nil {
			b.Fatal(err)
		}
	}
	mb := func(n int64) float64 { return float64(n) / (1 << 20) }
	b.ReportMetric(mb(res.peakRSS), "peak_MB")
	b.ReportMetric(mb(res.anon), "anon_MB")
	b.ReportMetric(mb(res.file), "file_MB")
	b.ReportMetric(float64(bigN)/res.took.Seconds(), "attempts/s")
	b.ReportMetric(mb(lim.peakRSS), "memlimit_peak_MB")
	b.ReportMetric(mb(lim.anon), "memlimit_anon_MB")
	b.ReportMetric(mb(big.res.peakRSS), "bulk_peak_MB")
	b.ReportMetric(float64(res.size)/1e6, "dir_MB")
}
