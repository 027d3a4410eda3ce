package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Retention says which attempts the log keeps. An attempt goes when either
// limit says so. The zero Retention keeps everything.
type Retention struct {
	// Days keeps attempts pressed in the last Days days; 0 keeps any age.
	Days int
	// MaxAttempts keeps at most this many attempts, the newest; 0 keeps any
	// number.
	MaxAttempts int64
}

// DefaultRetention keeps 90 days of attempts, of any number.
var DefaultRetention = Retention{Days: 90}

// expireBatch is how many attempts one expiry transaction deletes: small,
// so that a press waiting for the lock waits for little.
const expireBatch = 16

// Expire deletes the attempts that r does not keep, the oldest first, with
// their index entries, in small transactions between which writes go on; it
// rests after each as long as the transaction took.
// It returns how many it deleted. The per-target counters (Stats) are not
// lowered: they count a target's whole life.
func (db *DB) Expire(ctx context.Context, now time.Time, r Retention) (int, error) {
	db.expireMu.Lock()
	defer db.expireMu.Unlock()
	var (
		deleted int
		after   string // the last ID deleted: the scan resumes after it
	)
	expire := func(n int, cutoff string) (bool, error) {
		start := time.Now()
		k, last, err := db.deleteOldest(after, n, cutoff)
		deleted += k
		if err != nil || k == 0 {
			return false, err
		}
		after = last
		// Rest as long as the batch took: expiry never takes more than
		// half of the time (or of a core) from presses and their writes.
		return true, pause(ctx, time.Since(start))
	}
	if r.Days > 0 {
		cutoff := idAt(now.AddDate(0, 0, -r.Days), 0)
		for {
			if err := ctx.Err(); err != nil {
				return deleted, err
			}
			more, err := expire(expireBatch, cutoff)
			if err != nil {
				return deleted, fmt.Errorf("expire attempts: %w", err)
			}
			if !more {
				break
			}
		}
	}
	for r.MaxAttempts > 0 {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		n, err := db.AttemptCount()
		if err != nil {
			return deleted, fmt.Errorf("expire attempts: %w", err)
		}
		if n <= r.MaxAttempts {
			break
		}
		more, err := expire(int(min(n-r.MaxAttempts, expireBatch)), "")
		if err != nil {
			return deleted, fmt.Errorf("expire attempts: %w", err)
		}
		if !more {
			break
		}
	}
	return deleted, nil
}

// pause waits for d or until ctx is done.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deleteOldest deletes up to n attempts after the ID after (or from the
// start), oldest first, below cutoff (if set), with their index entries, in
// one transaction. It returns how many it deleted and the last ID deleted.
func (db *DB) deleteOldest(after string, n int, cutoff string) (int, string, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return 0, "", ErrClosed
	}
	db.attemptMu.Lock()
	defer db.attemptMu.Unlock()
	var (
		deleted int
		last    string
	)
	err := db.update(false, func(txn *badger.Txn) error {
		olds, err := scanIndexed(txn, after, n, cutoff)
		if err != nil {
			return err
		}
		var st txnState
		for _, a := range olds {
			if err := deleteIndexedOld(txn, &st, a); err != nil {
				return err
			}
		}
		if len(olds) > 0 {
			deleted, last = len(olds), olds[len(olds)-1].ID
		}
		return st.flush(txn)
	})
	if err != nil {
		return 0, "", err
	}
	return deleted, last, nil
}

// CollectGarbage runs Badger's value-log garbage collection until it finds
// nothing to rewrite. Attempts and config documents are smaller than the
// value threshold and never reach the value log, so this is normally quick.
func (db *DB) CollectGarbage() error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	for {
		err := db.gcOnce()
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("value log garbage collection: %w", err)
		}
	}
}

// gcOnce rewrites at most one value-log file. A rewrite is a write: it must
// not rotate the memtable inside a durable round, so it holds writeMu shared,
// for one file only, so that a durable write waits for one rewrite at most.
func (db *DB) gcOnce() error {
	db.writeMu.RLock()
	defer db.writeMu.RUnlock()
	return db.badger.RunValueLogGC(0.5)
}

// Maintenance configures RunMaintenance.
type Maintenance struct {
	Retention Retention
	// Interval is the time between runs; 0 means an hour.
	Interval time.Duration
}

// RunMaintenance expires attempts (Expire) and collects value-log garbage
// (CollectGarbage) at once and then every m.Interval, until ctx is done
// (it then returns nil) or db is closed (ErrClosed). Failures are logged and
// tried again at the next run. It takes the locks the press path needs only
// for one small transaction at a time.
func (db *DB) RunMaintenance(ctx context.Context, m Maintenance) error {
	interval := m.Interval
	if interval <= 0 {
		interval = time.Hour
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := db.Expire(ctx, time.Now(), m.Retention)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrClosed):
			return ErrClosed
		case err != nil:
			db.log.Warn("attempt log maintenance: expiry failed", slog.Any("err", err))
		case n > 0:
			db.log.Info("attempt log maintenance", slog.Int("expired", n))
		}
		if err := db.CollectGarbage(); errors.Is(err, ErrClosed) {
			return ErrClosed
		} else if err != nil {
			db.log.Warn("attempt log maintenance: garbage collection failed", slog.Any("err", err))
		}
		t.Reset(interval)
	}
}
