package storage

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// childDurable writes attempts to dir forever, each first as Waiting with
// PutAttempt then as OK with PutAttemptDurable, and prints "id ID" once the
// durable write has returned. The parent kills it.
func childDurable(dir string) int {
	db, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		now := time.Now().UTC()
		a := Attempt{ID: NewAttemptID(now), Time: now, TargetID: "t", Status: StatusWaiting, URL: strings.Repeat("u", i%300)}
		if err := db.PutAttempt(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		a.Status, a.Code, a.Finished = StatusOK, 200, time.Now().UTC()
		if err := db.PutAttemptDurable(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("id %s\n", a.ID) // os.Stdout is unbuffered
	}
}

// TestDurableAfterKill kills a writer with SIGKILL at arbitrary points and
// checks that every attempt it reported as durably written is there, as OK.
//
// A killed process loses nothing that reached the kernel, so this proves the
// write path and crash recovery, not the fdatasync itself: a power cut cannot
// be simulated here.
func TestDurableAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: starts child processes")
	}
	dir := t.TempDir()
	var total int
	for round, runFor := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 700 * time.Millisecond} {
		cmd, _, stdout := startChild(t, "durable", dir)
		ids := make(chan string, 1<<16)
		go func() {
			defer close(ids)
			for stdout.Scan() {
				if id, ok := strings.CutPrefix(stdout.Text(), "id "); ok {
					ids <- id
				}
			}
		}()
		// Let it get going (Open takes a moment), then kill it mid-write.
		first, ok := <-ids
		if !ok {
			t.Fatalf("round %d: child wrote nothing", round)
		}
		time.Sleep(runFor)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		reported := []string{first}
		for id := range ids {
			reported = append(reported, id)
		}
		cmd.Wait()

		db, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		for _, id := range reported {
			a, found, err := db.Attempt(id)
			if err != nil || !found || a.Status != StatusOK {
				t.Errorf("round %d: attempt %s = %v, found %v, %v; want status OK", round, id, a.Status, found, err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		total += len(reported)
		t.Logf("round %d: %d attempts reported before the kill, all present", round, len(reported))
	}
	if total < 10 {
		t.Errorf("only %d attempts written in all rounds, the test proves little", total)
	}
}
