package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Index keys. Each index entry ends with the attempt's ID and holds the
// attempt's status byte followed by its target ID, so that queries filter by
// status, target and time on the index alone and read only the attempts they
// return. Within one value of the sort field, entries are in ID (time) order.
const (
	indexPrefix    = "x/"
	byTargetPrefix = "x/t/" // x/t/TARGETID \0 ID
	byStatusPrefix = "x/s/" // x/s/STATUS / ID
	byCodePrefix   = "x/c/" // x/c/CODE(3 digits) / ID
	byDurPrefix    = "x/d/" // x/d/DURATION(16 hex digits of ns) / ID
	byNamePrefix   = "x/n/" // x/n/lowercase target name \0 ID

	statsPrefix = "s/" // s/TARGETID: Stats, as JSON
)

// countKey holds the number of attempts stored (not expired), in decimal.
var countKey = []byte("m/attempts")

// maxNameKey is the most bytes of a target name that its index key keeps.
const maxNameKey = 64

func targetIndexPrefix(target string) string { return byTargetPrefix + target + "\x00" }
func statusIndexPrefix(s Status) string      { return byStatusPrefix + string(s) + "/" }

func codeKeyPart(code int) string { return fmt.Sprintf("%03d/", min(max(code, 0), 999)) }
func durKeyPart(d time.Duration) string {
	return fmt.Sprintf("%016x/", max(d, 0))
}
func nameKeyPart(name string) string {
	return truncate(strings.ToValidUTF8(strings.ReplaceAll(strings.ToLower(name), "\x00", ""), ""), maxNameKey) + "\x00"
}

// statusByte encodes a status in index values.
func statusByte(s Status) byte {
	switch s {
	case StatusOK:
		return 'O'
	case StatusFailed:
		return 'F'
	}
	return 'W'
}

func statusOfByte(b byte) Status {
	switch b {
	case 'O':
		return StatusOK
	case 'F':
		return StatusFailed
	}
	return StatusWaiting
}

// indexed is what the indexes and counters know of an attempt.
type indexed struct {
	ID         string        `json:"id"`
	Time       time.Time     `json:"time"`
	TargetID   string        `json:"target_id"`
	TargetName string        `json:"target_name"`
	Status     Status        `json:"status"`
	Code       int           `json:"code"`
	Duration   time.Duration `json:"duration_ns"`
}

func indexedOf(a *Attempt) indexed {
	return indexed{a.ID, a.Time, a.TargetID, a.TargetName, a.Status, a.Code, a.Duration}
}

// indexKeys returns the keys of a's index entries.
func (a indexed) indexKeys() [5]string {
	return [5]string{
		targetIndexPrefix(a.TargetID) + a.ID,
		statusIndexPrefix(a.Status) + a.ID,
		byCodePrefix + codeKeyPart(a.Code) + a.ID,
		byDurPrefix + durKeyPart(a.Duration) + a.ID,
		byNamePrefix + nameKeyPart(a.TargetName) + a.ID,
	}
}

// indexValue is the value of every index entry of a.
func (a indexed) indexValue() []byte {
	return append([]byte{statusByte(a.Status)}, a.TargetID...)
}

// Stats are a target's counters: its attempts over its whole life, not only
// those still in the log (expiry does not lower them).
type Stats struct {
	// Attempts counts attempts that reached a result (OK or Failed); a
	// Waiting attempt counts once it has one.
	Attempts int64 `json:"attempts"`
	OK       int64 `json:"ok"`
	Failed   int64 `json:"failed"`
	// LastTriggered is the press time of the newest attempt, Waiting ones
	// included.
	LastTriggered time.Time `json:"last_triggered,omitzero"`
}

// add adds a's contribution to s, negated if sign is -1.
func (s *Stats) add(a indexed, sign int64) {
	if !a.Status.final() {
		return
	}
	s.Attempts += sign
	if a.Status == StatusOK {
		s.OK += sign
	} else {
		s.Failed += sign
	}
}

// record counts a new attempt a in s: add, and LastTriggered moves up to
// a's time.
func (s *Stats) record(a indexed) {
	s.add(a, 1)
	if a.Time.After(s.LastTriggered) {
		s.LastTriggered = a.Time
	}
}

// merge adds d's counts to s and keeps the later LastTriggered.
func (s *Stats) merge(d Stats) {
	s.Attempts, s.OK, s.Failed = s.Attempts+d.Attempts, s.OK+d.OK, s.Failed+d.Failed
	if d.LastTriggered.After(s.LastTriggered) {
		s.LastTriggered = d.LastTriggered
	}
}

// statsOf returns the Stats of target id in m, adding zero ones if missing.
func statsOf(m map[string]*Stats, id string) *Stats {
	s := m[id]
	if s == nil {
		s = &Stats{}
		m[id] = s
	}
	return s
}

// txnState gathers the counter changes of one transaction, written once at
// its end: per target, the changes to add (LastTriggered the newest press
// seen), and the change in the number of attempts.
type txnState struct {
	stats map[string]*Stats
	count int64
}

func (st *txnState) target(id string) *Stats {
	if st.stats == nil {
		st.stats = make(map[string]*Stats)
	}
	return statsOf(st.stats, id)
}

// putIndexed stores the encoded attempt data for a in txn, replacing an
// older version of it, with its index entries, and notes the counter
// changes in st. The caller holds attemptMu.
func putIndexed(txn *badger.Txn, st *txnState, a indexed, data []byte) error {
	old, found, err := getIndexed(txn, a.ID)
	if err != nil {
		return err
	}
	keys := a.indexKeys()
	if found {
		for _, k := range old.indexKeys() {
			if !slices.Contains(keys[:], k) {
				if err := txn.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
		st.target(old.TargetID).add(old, -1)
	} else {
		st.count++
	}
	v := a.indexValue()
	for _, k := range keys {
		if err := txn.Set([]byte(k), v); err != nil {
			return err
		}
	}
	st.target(a.TargetID).record(a)
	return txn.Set(attemptKey(a.ID), data)
}

// deleteIndexedOld deletes attempt old, as read in txn, with its index
// entries. The caller holds attemptMu.
func deleteIndexedOld(txn *badger.Txn, st *txnState, old indexed) error {
	for _, k := range old.indexKeys() {
		if err := txn.Delete([]byte(k)); err != nil {
			return err
		}
	}
	st.count--
	return txn.Delete(attemptKey(old.ID))
}

func getIndexed(txn *badger.Txn, id string) (a indexed, found bool, err error) {
	if found, err = getJSON(txn, attemptKey(id), &a); err != nil {
		return indexed{}, false, err
	}
	a.ID = id
	return a, found, nil
}

// getJSON decodes the value of key in txn into v, and reports whether key
// exists; v is left as is if it does not.
func getJSON(txn *badger.Txn, key []byte, v any) (found bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, v) }); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// flush writes the counters changed in the transaction.
func (st *txnState) flush(txn *badger.Txn) error {
	for id, d := range st.stats {
		if d.Attempts == 0 && d.OK == 0 && d.Failed == 0 && d.LastTriggered.IsZero() {
			continue
		}
		s, err := getStats(txn, id)
		if err != nil {
			return err
		}
		s.merge(*d)
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := txn.Set([]byte(statsPrefix+id), data); err != nil {
			return err
		}
	}
	if st.count == 0 {
		return nil
	}
	n, err := getCount(txn)
	if err != nil {
		return err
	}
	return txn.Set(countKey, []byte(strconv.FormatInt(max(n+st.count, 0), 10)))
}

func getStats(txn *badger.Txn, target string) (Stats, error) {
	var s Stats
	_, err := getJSON(txn, []byte(statsPrefix+target), &s)
	return s, err
}

func getCount(txn *badger.Txn) (int64, error) {
	item, err := txn.Get(countKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = item.Value(func(v []byte) error {
		n, err = strconv.ParseInt(string(v), 10, 64)
		return err
	})
	return n, err
}

// TargetStats returns a target's counters (zero for a target never run).
func (db *DB) TargetStats(targetID string) (Stats, error) {
	var s Stats
	err := db.view(func(txn *badger.Txn) error {
		var err error
		s, err = getStats(txn, targetID)
		return err
	})
	if err != nil {
		return Stats{}, fmt.Errorf("read counters of target %q: %w", targetID, err)
	}
	return s, nil
}

// AllTargetStats returns the counters of every target that has run, by
// target ID.
func (db *DB) AllTargetStats() (map[string]Stats, error) {
	all := make(map[string]Stats)
	err := db.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(statsPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var s Stats
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return fmt.Errorf("decode %s: %w", it.Item().Key(), err)
			}
			all[string(it.Item().Key()[len(statsPrefix):])] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read target counters: %w", err)
	}
	return all, nil
}

// AttemptCount returns how many attempts the log holds.
func (db *DB) AttemptCount() (int64, error) {
	var n int64
	err := db.view(func(txn *badger.Txn) error {
		var err error
		n, err = getCount(txn)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("count attempts: %w", err)
	}
	return n, nil
}
