package storage

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashWriters is how many goroutines of the crash child log attempts.
const crashWriters = 4

// childDurable logs attempts to dir forever from crashWriters goroutines:
// each attempt first as Waiting with PutAttempt, then with its result (OK or
// Failed) and its writer's press counter with PutAttemptsDurable; once that
// has returned it prints "id ID STATUS WRITER COUNT". The parent kills it.
func childDurable(dir string) int {
	db, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fail := make(chan error, crashWriters)
	for w := range crashWriters {
		go func() {
			c, err := db.Counts("crash", w)
			if err != nil {
				fail <- err
				return
			}
			for i := 0; ; i++ {
				now := time.Now().UTC()
				a := Attempt{ID: NewAttemptID(now), Time: now, TargetID: fmt.Sprint("t", w), Status: StatusWaiting,
					URL: strings.Repeat("u", i%300), Button: w}
				if err := db.PutAttempt(a); err != nil {
					fail <- err
					return
				}
				a.Status, a.Code, a.Finished = StatusOK, 200, time.Now().UTC()
				if i%3 == 0 {
					a.Status, a.Code, a.ErrorClass, a.Error = StatusFailed, 500, ErrorHTTP, "500 Internal Server Error"
				}
				c.All++
				if err := db.PutAttemptsDurable([]Attempt{a}, ButtonCounts{Device: "crash", Button: w, Counts: c}); err != nil {
					fail <- err
					return
				}
				fmt.Printf("id %s %s %d %d\n", a.ID, a.Status, w, c.All) // os.Stdout is unbuffered
			}
		}()
	}
	fmt.Fprintln(os.Stderr, <-fail)
	return 1
}

// TestDurableAfterKill kills a writer with SIGKILL at random moments, 20
// times, and after each kill checks that the database opens, that every
// attempt the writer reported as durably written is there with its result,
// that the press counters written with them are there, and (every few
// rounds) that the indexes and counters agree with the attempts.
//
// A killed process loses nothing that reached the kernel, so this proves the
// write path and crash recovery, not the fdatasync itself: a power cut cannot
// be simulated here.
func TestDurableAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts child processes")
	}
	const rounds = 20
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	var total int
	start := time.Now()
	for round := range rounds {
		cmd, _, stdout := startChild(t, "durable", dir)
		type report struct {
			id     string
			status Status
			writer int
			count  int64
		}
		reports := make(chan report, 1<<16)
		go func() {
			defer close(reports)
			for stdout.Scan() {
				f := strings.Fields(stdout.Text())
				if len(f) != 5 || f[0] != "id" {
					continue
				}
				w, _ := strconv.Atoi(f[3])
				n, _ := strconv.ParseInt(f[4], 10, 64)
				reports <- report{f[1], Status(f[2]), w, n}
			}
		}()
		// Let it get going (Open takes a moment), then kill it mid-write.
		first, ok := <-reports
		if !ok {
			t.Fatalf("round %d: child wrote nothing", round)
		}
		time.Sleep(time.Duration(5+rng.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		reported := []report{first}
		for r := range reports {
			reported = append(reported, r)
		}
		cmd.Wait()

		db, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		var lastCount [crashWriters]int64
		for _, r := range reported {
			a, found, err := db.Attempt(r.id)
			if err != nil || !found || a.Status != r.status {
				t.Errorf("round %d: attempt %s = %v, found %v, %v; want status %s", round, r.id, a.Status, found, err, r.status)
			}
			lastCount[r.writer] = max(lastCount[r.writer], r.count)
		}
		for w, want := range lastCount {
			if c, err := db.Counts("crash", w); err != nil || c.All < want {
				t.Errorf("round %d: counter of writer %d = %d, %v; want at least %d", round, w, c.All, err, want)
			}
		}
		if round%5 == 4 {
			checkIndexes(t, db, true)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		total += len(reported)
	}
	n := func() int64 {
		db := openTest(t, dir)
		n, err := db.AttemptCount()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}()
	t.Logf("%d rounds in %v: %d attempts reported durable before the kills, all found with their status; %d attempts in the log",
		rounds, time.Since(start).Round(time.Millisecond), total, n)
	if total < 20*rounds {
		t.Errorf("only %d attempts written in %d rounds, the test proves little", total, rounds)
	}
}
