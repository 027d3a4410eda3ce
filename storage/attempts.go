package storage

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Status is the state of an attempt.
type Status string

// The states of an attempt.
const (
	// StatusWaiting: the request is in flight, or awaits an async callback.
	StatusWaiting Status = "Waiting"
	// StatusOK: the target succeeded.
	StatusOK Status = "OK"
	// StatusFailed: the target failed (non-2xx, timeout, network, missing secret...).
	StatusFailed Status = "Failed"
)

func (s Status) valid() bool {
	return s == StatusWaiting || s == StatusOK || s == StatusFailed
}

// Attempt is one execution of a target: a line of the attempt log.
type Attempt struct {
	// ID is the trigger ID, from NewAttemptID; attempts are listed in ID order.
	ID string `json:"id"`
	// Time is when the press happened.
	Time          time.Time `json:"time"`
	TargetID      string    `json:"target_id"`
	TargetName    string    `json:"target_name"`
	TargetVersion int       `json:"target_version"`
	DeviceID      string    `json:"device_id"`
	DeviceName    string    `json:"device_name"`
	Button        int       `json:"button"`
	Gesture       string    `json:"gesture"`
	Method        string    `json:"method"`
	// URL must already be redacted by the caller: it is stored as is.
	URL    string `json:"url"`
	Status Status `json:"status"`
	// Code is the HTTP status code, 0 if there was no response.
	Code  int    `json:"code"`
	Error string `json:"error,omitempty"`
	// Message is what the server said of an async attempt on its callback,
	// or, while Waiting, what the attempt waits for.
	Message string `json:"message,omitempty"`
	// Duration is how long the attempt took; in JSON, in nanoseconds.
	Duration time.Duration `json:"duration_ns"`
	// Finished is when the attempt ended; zero while Waiting.
	Finished time.Time `json:"finished,omitzero"`
	// Tries is how many times the request was sent (retries are off by
	// default: 1); every try has this attempt's trigger ID.
	Tries int `json:"tries,omitempty"`
}

// Query selects a page of attempts, newest first.
type Query struct {
	// Limit is the most attempts to return: 0 means DefaultLimit, and more
	// than MaxLimit means MaxLimit.
	Limit int
	// Before, if set, is a cursor: only attempts with an older ID are
	// returned. Pass the ID of the last attempt of a page to get the next.
	Before string
}

// Page sizes for Attempts.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

const (
	attemptPrefix = "a/"
	attemptIDLen  = 24 // 16 hex digits of time, 8 of sequence
)

var maxAttemptTime = time.Unix(0, math.MaxInt64)

// idSeq makes IDs for the same instant differ: a per-process sequence with a
// random start (so two processes' IDs are unlikely to meet either). It is
// the package's only state.
var idSeq = func() *atomic.Uint32 {
	var b [4]byte
	rand.Read(b[:])
	var s atomic.Uint32
	s.Store(binary.BigEndian.Uint32(b[:]))
	return &s
}()

// NewAttemptID returns a new attempt ID for a press at time t: 16 hex digits
// of t in nanoseconds since 1970 followed by 8 hex digits of a per-process
// sequence, so IDs sort in time order and IDs made by one process never
// repeat (for 2^32 IDs of one instant). Times before 1970 or after 2262 are
// clamped.
func NewAttemptID(t time.Time) string {
	var ns int64
	switch {
	case t.Before(time.Unix(0, 0)):
		ns = 0
	case t.After(maxAttemptTime):
		ns = math.MaxInt64
	default:
		ns = t.UnixNano()
	}
	var b [attemptIDLen / 2]byte
	binary.BigEndian.PutUint64(b[:8], uint64(ns))
	binary.BigEndian.PutUint32(b[8:], idSeq.Add(1))
	return hex.EncodeToString(b[:])
}

// validAttemptID reports whether id has the form made by NewAttemptID.
func validAttemptID(id string) bool {
	if len(id) != attemptIDLen {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PutAttempt stores a, replacing any attempt with the same ID. It does not
// wait for the disk: the attempt survives the death of the process but may
// be lost in a power cut. Use it for the Waiting record.
func (db *DB) PutAttempt(a Attempt) error {
	if err := db.putAttempt(a, false); err != nil {
		return fmt.Errorf("put attempt %s: %w", a.ID, err)
	}
	return nil
}

// PutAttemptDurable is PutAttempt that returns only once a is on disk, so it
// also survives a power cut. Use it for the final record of an attempt.
//
// It costs one fdatasync (about 0.2 ms here, see BenchmarkPutAttemptDurable),
// during which other writes to db wait: Badger syncs only its current
// write-ahead log, so no other write may start a new one in between.
func (db *DB) PutAttemptDurable(a Attempt) error {
	if err := db.putAttempt(a, true); err != nil {
		return fmt.Errorf("put attempt %s: %w", a.ID, err)
	}
	return nil
}

func (db *DB) putAttempt(a Attempt, durable bool) error {
	if !validAttemptID(a.ID) {
		return fmt.Errorf("%w: attempt id %q was not made by NewAttemptID", ErrInvalid, a.ID)
	}
	if !a.Status.valid() {
		return fmt.Errorf("%w: attempt status %q", ErrInvalid, a.Status)
	}
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if len(data) > MaxValueSize {
		return fmt.Errorf("%w: attempt is %d bytes, more than %d", ErrInvalid, len(data), MaxValueSize)
	}
	return db.write(durable, func(txn *badger.Txn) error {
		return txn.Set(attemptKey(a.ID), data)
	})
}

// Attempt returns the attempt with the given ID, and whether it exists.
func (db *DB) Attempt(id string) (Attempt, bool, error) {
	if !validAttemptID(id) {
		return Attempt{}, false, fmt.Errorf("read attempt %q: %w: malformed attempt id", id, ErrInvalid)
	}
	var (
		a     Attempt
		found bool
	)
	err := db.view(func(txn *badger.Txn) error {
		item, err := txn.Get(attemptKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &a) })
	})
	if err != nil {
		return Attempt{}, false, fmt.Errorf("read attempt %s: %w", id, err)
	}
	return a, found, nil
}

// Attempts returns a page of attempts, newest (highest ID) first. An empty
// result means there are no more.
func (db *DB) Attempts(q Query) ([]Attempt, error) {
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, fmt.Errorf("list attempts: %w: negative limit %d", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	// In reverse, Seek finds the last key <= its argument.
	seek := []byte(attemptPrefix + "\xff")
	if q.Before != "" {
		if !validAttemptID(q.Before) {
			return nil, fmt.Errorf("list attempts: %w: malformed cursor %q", ErrInvalid, q.Before)
		}
		seek = attemptKey(q.Before)
	}
	attempts := make([]Attempt, 0, min(limit, 64))
	err := db.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{
			Prefix:         []byte(attemptPrefix),
			Reverse:        true,
			PrefetchValues: true,
			PrefetchSize:   min(limit, 100),
		})
		defer it.Close()
		for it.Seek(seek); it.Valid() && len(attempts) < limit; it.Next() {
			item := it.Item()
			if q.Before != "" && string(item.Key()) == string(seek) {
				continue // the cursor itself is excluded
			}
			var a Attempt
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
				return fmt.Errorf("decode %s: %w", item.Key(), err)
			}
			attempts = append(attempts, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return attempts, nil
}

func attemptKey(id string) []byte {
	return []byte(attemptPrefix + id)
}
