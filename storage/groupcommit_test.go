package storage

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// committedIDs returns the IDs of the attempts committed in db, read past
// the public API (so that it can run inside a sync).
func committedIDs(t *testing.T, db *DB) map[string]bool {
	ids := make(map[string]bool)
	err := db.badger.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(attemptPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ids[string(it.Item().Key()[len(attemptPrefix):])] = true
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	return ids
}

// TestGroupCommit checks that concurrent durable writers share syncs, and
// that each returns only after a sync that started after its commit: the
// sync hook notes what was committed when each sync started, and a writer
// checks, once it has returned, that a finished sync covered its attempt.
func TestGroupCommit(t *testing.T) {
	db := openTest(t, t.TempDir())
	var (
		mu      sync.Mutex
		durable = make(map[string]bool)
		syncs   int
	)
	realSync := db.sync
	db.sync = func() error {
		covered := committedIDs(t, db)
		time.Sleep(time.Millisecond) // a slow disk, so that writers pile up
		err := realSync()
		mu.Lock()
		syncs++
		for id := range covered {
			durable[id] = true
		}
		mu.Unlock()
		return err
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				a := Attempt{ID: NewAttemptID(time.Now()), TargetID: fmt.Sprint("t", w%3), Status: StatusOK, Button: i}
				if err := db.PutAttemptDurable(a); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ok := durable[a.ID]
				mu.Unlock()
				if !ok {
					t.Errorf("PutAttemptDurable(%s) returned before a sync covered it", a.ID)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d durable writes, %d syncs", writers*each, syncs)
	if syncs*2 > writers*each {
		t.Errorf("%d syncs for %d durable writes by %d writers, want them shared (at most half)", syncs, writers*each, writers)
	}
	if n, err := db.AttemptCount(); err != nil || n != writers*each {
		t.Errorf("AttemptCount = %d, %v; want %d", n, err, writers*each)
	}
	checkIndexes(t, db, true)
}

// TestGroupCommitIsolatesFailure puts a write that cannot commit into a
// round with good ones: only the bad one fails.
func TestGroupCommitIsolatesFailure(t *testing.T) {
	db := openTest(t, t.TempDir())
	// An attempt whose stored record is garbage: rewriting it fails, since
	// its old index entries cannot be known.
	badID := NewAttemptID(time.Now())
	if err := db.badger.Update(func(txn *badger.Txn) error { return txn.Set(attemptKey(badID), []byte("{garbage")) }); err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	realSync := db.sync
	var once sync.Once
	db.sync = func() error {
		once.Do(func() { <-release }) // the first round waits for the others to queue
		return realSync()
	}
	results := make(chan error, 5)
	put := func(id string) {
		results <- db.PutAttemptDurable(Attempt{ID: id, TargetID: "t", Status: StatusOK})
	}
	go put(NewAttemptID(time.Now())) // leads the first round, blocked in its sync
	waitQueue := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			db.queue.mu.Lock()
			got, busy := len(db.queue.waiting), db.queue.busy
			db.queue.mu.Unlock()
			if got == n && busy {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d writes queued, want %d", got, n)
			}
		}
	}
	waitQueue(0)
	goodIDs := []string{NewAttemptID(time.Now()), NewAttemptID(time.Now()), NewAttemptID(time.Now())}
	go put(goodIDs[0])
	go put(badID)
	go put(goodIDs[1])
	go put(goodIDs[2])
	waitQueue(4) // the next round holds all four
	close(release)

	var failed int
	for range 5 {
		if err := <-results; err != nil {
			failed++
			t.Logf("failed write: %v", err)
		}
	}
	if failed != 1 {
		t.Errorf("%d writes failed, want only the bad one", failed)
	}
	for _, id := range goodIDs {
		if a, ok, err := db.Attempt(id); err != nil || !ok || a.Status != StatusOK {
			t.Errorf("good attempt %s = %+v, %v, %v; want it stored", id, a, ok, err)
		}
	}
}

func TestDurableSyncFailure(t *testing.T) {
	db := openTest(t, t.TempDir())
	errDisk := errors.New("input/output error")
	db.sync = func() error { return errDisk }
	err := db.PutAttemptDurable(Attempt{ID: NewAttemptID(time.Now()), Status: StatusOK})
	if !errors.Is(err, errDisk) {
		t.Errorf("PutAttemptDurable with a failing sync = %v, want it to wrap %v", err, errDisk)
	}
}
