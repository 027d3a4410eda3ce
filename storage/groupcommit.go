package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	badger "github.com/dgraph-io/badger/v4"
)

// Group commit. A durable write must not return before an fdatasync that
// covers it, and Badger's Sync covers only the current memtable's
// write-ahead log: if any write rotated the memtable between a commit and
// its Sync, the Sync would miss it. So a commit and its Sync happen under
// writeMu held exclusively, as one "round". Durable writers that arrive
// while a round runs queue up; when it ends, the first of them leads the
// next round, which commits all queued writes in one transaction and syncs
// once for all of them. One writer alone pays one commit and one sync; eight
// pay about the same, together.

// Limits on one round, so that its transaction stays well inside Badger's
// batch limits (15% of MemTableSize, about 600 KB here).
const (
	maxRoundWrites = 64
	maxRoundBytes  = 256 << 10
)

// writeReq is one call's attempts and counters, validated and encoded.
type writeReq struct {
	attempts []indexed
	data     [][]byte
	counts   []ButtonCounts
	cdata    [][]byte
	size     int
	done     chan roundResult // buffered: a result, or the lead of a round
}

type roundResult struct {
	err  error
	lead bool // the receiver leads the next round (its own write is in it)
}

func newWriteReq(as []Attempt, counts []ButtonCounts) (*writeReq, error) {
	r := &writeReq{attempts: make([]indexed, len(as)), data: make([][]byte, len(as))}
	for i := range as {
		a := as[i]
		if err := checkAttempt(&a); err != nil {
			return nil, err
		}
		data, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		if len(data) > MaxValueSize {
			return nil, fmt.Errorf("%w: attempt is %d bytes, more than %d", ErrInvalid, len(data), MaxValueSize)
		}
		r.attempts[i], r.data[i] = indexedOf(&a), data
		r.size += len(data) + 6*(len(a.ID)+len(a.TargetID)+len(a.TargetName)+16)
	}
	for _, c := range counts {
		data, err := json.Marshal(c.Counts)
		if err != nil {
			return nil, err
		}
		r.counts, r.cdata = append(r.counts, c), append(r.cdata, data)
		r.size += len(data) + len(c.Device) + 16
	}
	return r, nil
}

// apply writes r in txn.
func (r *writeReq) apply(txn *badger.Txn, st *txnState) error {
	for i, a := range r.attempts {
		if err := putIndexed(txn, st, a, r.data[i]); err != nil {
			return err
		}
	}
	for i, c := range r.counts {
		if err := txn.Set(counterKey(c.Device, c.Button), r.cdata[i]); err != nil {
			return err
		}
	}
	return nil
}

// commitQueue holds the durable writes waiting for a round.
type commitQueue struct {
	mu      sync.Mutex
	waiting []*writeReq
	busy    bool // a round is being led
}

// commitNow writes r in its own transaction without syncing.
func (db *DB) commitNow(r *writeReq) error {
	db.attemptMu.Lock()
	defer db.attemptMu.Unlock()
	return db.update(false, func(txn *badger.Txn) error { return applyAll(txn, []*writeReq{r}) })
}

func applyAll(txn *badger.Txn, reqs []*writeReq) error {
	var st txnState
	for _, r := range reqs {
		if err := r.apply(txn, &st); err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) {
				return fmt.Errorf("%w: too many attempts for one transaction: split them", ErrInvalid)
			}
			return err
		}
	}
	return st.flush(txn)
}

// commitDurable writes r and returns once it is on disk. The caller holds
// db.mu shared.
func (db *DB) commitDurable(r *writeReq) error {
	r.done = make(chan roundResult, 1)
	q := &db.queue
	q.mu.Lock()
	q.waiting = append(q.waiting, r)
	if q.busy {
		q.mu.Unlock()
		if res := <-r.done; !res.lead {
			return res.err
		}
	} else {
		q.busy = true
		q.mu.Unlock()
	}

	// This writer leads a round. It is first in the queue (a new leader
	// finds the queue empty; a handed-over lead goes to the first waiter),
	// so its own write is in the round.
	q.mu.Lock()
	n, size := 0, 0
	for n < len(q.waiting) && n < maxRoundWrites && (n == 0 || size+q.waiting[n].size <= maxRoundBytes) {
		size += q.waiting[n].size
		n++
	}
	round := q.waiting[:n:n]
	q.waiting = q.waiting[n:]
	q.mu.Unlock()

	db.commitRound(round)

	q.mu.Lock()
	if len(q.waiting) > 0 {
		q.waiting[0].done <- roundResult{lead: true}
	} else {
		q.busy = false
	}
	q.mu.Unlock()
	return (<-r.done).err
}

// commitRound commits the writes of a round in one transaction, syncs, and
// gives each its result. If the transaction fails, each write is tried
// alone, so that one bad write does not fail the others.
func (db *DB) commitRound(round []*writeReq) {
	synced, err := db.commitSynced(round)
	if err != nil && !synced && len(round) > 1 {
		for _, r := range round {
			_, err := db.commitSynced([]*writeReq{r})
			r.done <- roundResult{err: err}
		}
		return
	}
	for _, r := range round {
		r.done <- roundResult{err: err}
	}
}

// commitSynced commits round and syncs; committed reports whether the
// commit succeeded (so that an error is the sync's).
func (db *DB) commitSynced(round []*writeReq) (committed bool, err error) {
	db.attemptMu.Lock()
	defer db.attemptMu.Unlock()
	return db.commit(true, func(txn *badger.Txn) error { return applyAll(txn, round) })
}
