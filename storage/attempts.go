package storage

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

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

// final reports whether s is a result (OK or Failed) rather than Waiting.
func (s Status) final() bool { return s == StatusOK || s == StatusFailed }

// The usual values of Attempt.ErrorClass. Any short lowercase word is
// accepted, so that new kinds of failure need no change here.
const (
	ErrorNetwork  = "network"  // DNS, connect, reset: no response arrived
	ErrorTimeout  = "timeout"  // the attempt's deadline passed
	ErrorTLS      = "tls"      // handshake, certificate or pin mismatch
	ErrorHTTP     = "http"     // a response that failed the success rule
	ErrorSecret   = "secret"   // a secret the target needs is missing
	ErrorCallback = "callback" // an async callback reported failure or never came
	ErrorStorage  = "storage"  // the attempt could not be logged
	ErrorRefused  = "refused"  // not sent: queue full, disabled, shutting down
)

// Timing splits an attempt's time; in JSON, each part is in nanoseconds.
type Timing struct {
	// Connect is name lookup plus TCP connect; 0 on a reused connection.
	Connect time.Duration `json:"connect_ns,omitempty"`
	// TLS is the TLS handshake; 0 on a reused connection or plain HTTP.
	TLS time.Duration `json:"tls_ns,omitempty"`
	// FirstByte is from the start of the attempt to the response's first byte.
	FirstByte time.Duration `json:"first_byte_ns,omitempty"`
	// Total is from the start of the attempt to the end of the response.
	Total time.Duration `json:"total_ns,omitempty"`
}

// MaxResponseExcerpt is the most bytes of a response body an attempt keeps.
// Storage cuts a longer Response at a UTF-8 boundary and sets
// ResponseTruncated.
const MaxResponseExcerpt = 4 << 10

// Attempt is one execution of a target: a line of the attempt log.
//
// Nothing in an attempt may hold a secret: the caller redacts the URL and the
// response excerpt, and RequestHeaders holds header names only.
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
	URL string `json:"url"`
	// RequestHeaders names the request's headers, never their values, as
	// HeaderNames makes them ("Authorization, Content-Type"). Storage refuses
	// an entry that is not a header name (a "Name: value" pair, for one).
	RequestHeaders string `json:"request_headers,omitempty"`
	Status         Status `json:"status"`
	// Code is the HTTP status code, 0 if there was no response.
	Code int `json:"code"`
	// ErrorClass says what kind of failure Error describes, as one short
	// lowercase word (ErrorNetwork, ErrorTimeout, ...); empty on success.
	ErrorClass string `json:"error_class,omitempty"`
	Error      string `json:"error,omitempty"`
	// Message is what the server said of an async attempt on its callback,
	// or, while Waiting, what the attempt waits for.
	Message string `json:"message,omitempty"`
	// Duration is how long the attempt took; in JSON, in nanoseconds.
	Duration time.Duration `json:"duration_ns"`
	// Timing splits Duration (of the last try).
	Timing Timing `json:"timing,omitzero"`
	// Response is the start of the response body, already redacted by the
	// caller; storage keeps at most MaxResponseExcerpt bytes of it.
	Response string `json:"response,omitempty"`
	// ResponseTruncated is set when Response is only the start of the body.
	ResponseTruncated bool `json:"response_truncated,omitempty"`
	// Finished is when the attempt ended; zero while Waiting.
	Finished time.Time `json:"finished,omitzero"`
	// Tries is how many times the request was sent (retries are off by
	// default: 1); every try has this attempt's trigger ID.
	Tries int `json:"tries,omitempty"`
}

// HeaderNames returns the names of a request's headers in the form that
// Attempt.RequestHeaders holds: canonical, sorted, without repeats, joined
// by ", ". Pass names only, never values (for an http.Header, its keys).
func HeaderNames(names []string) string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, textproto.CanonicalMIMEHeaderKey(n))
		}
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ", ")
}

// Limits on the fields that storage indexes, in bytes.
const (
	maxTargetIDLen = 256
	maxErrorClass  = 32
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
	return idAt(t, idSeq.Add(1))
}

// idAt returns the ID for time t with the given sequence number; idAt(t, 0)
// is the lowest ID of the instant t, a bound for time ranges.
func idAt(t time.Time, seq uint32) string {
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
	binary.BigEndian.PutUint32(b[8:], seq)
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

// ButtonCounts are a button's press counters, to be stored with attempts.
type ButtonCounts struct {
	Device string
	Button int
	Counts Counts
}

// PutAttempt stores a, replacing any attempt with the same ID, and updates
// the indexes and the target's counters in the same transaction. It does not
// wait for the disk: the attempt survives the death of the process but may
// be lost in a power cut. Use it for the Waiting record.
//
// Storage keeps at most MaxResponseExcerpt bytes of a.Response.
func (db *DB) PutAttempt(a Attempt) error {
	if err := db.putAttempts([]Attempt{a}, nil, false); err != nil {
		return fmt.Errorf("put attempt %s: %w", a.ID, err)
	}
	return nil
}

// PutAttemptDurable is PutAttempt that returns only once a is on disk, so it
// also survives a power cut. Use it for the final record of an attempt.
//
// Concurrent durable writes share one fdatasync (group commit, see
// BenchmarkDurableConcurrent8); a single one costs about one fdatasync (see
// BenchmarkDurableAppend). Other writes to db wait while a sync runs: Badger
// syncs only its current write-ahead log, so no write may start a new one
// between a commit and its sync.
func (db *DB) PutAttemptDurable(a Attempt) error {
	if err := db.putAttempts([]Attempt{a}, nil, true); err != nil {
		return fmt.Errorf("put attempt %s: %w", a.ID, err)
	}
	return nil
}

// PutAttempts stores attempts and button counters in one transaction: all of
// them or, if it returns an error, none. Like PutAttempt it does not wait for
// the disk.
func (db *DB) PutAttempts(as []Attempt, counts ...ButtonCounts) error {
	if err := db.putAttempts(as, counts, false); err != nil {
		return fmt.Errorf("put %d attempts: %w", len(as), err)
	}
	return nil
}

// PutAttemptsDurable is PutAttempts that returns only once everything is on
// disk: for the final records of a press with its button's counters.
func (db *DB) PutAttemptsDurable(as []Attempt, counts ...ButtonCounts) error {
	if err := db.putAttempts(as, counts, true); err != nil {
		return fmt.Errorf("put %d attempts: %w", len(as), err)
	}
	return nil
}

func (db *DB) putAttempts(as []Attempt, counts []ButtonCounts, durable bool) error {
	r, err := newWriteReq(as, counts)
	if err != nil {
		return err
	}
	if len(r.attempts) == 0 && len(r.counts) == 0 {
		return nil
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	if durable {
		return db.commitDurable(r)
	}
	return db.commitNow(r)
}

// checkAttempt validates a and trims what storage caps.
func checkAttempt(a *Attempt) error {
	if !validAttemptID(a.ID) {
		return fmt.Errorf("%w: attempt id %q was not made by NewAttemptID", ErrInvalid, a.ID)
	}
	if !a.Status.valid() {
		return fmt.Errorf("%w: attempt status %q", ErrInvalid, a.Status)
	}
	if len(a.TargetID) > maxTargetIDLen || strings.ContainsRune(a.TargetID, 0) {
		return fmt.Errorf("%w: attempt target id is longer than %d bytes or holds NUL", ErrInvalid, maxTargetIDLen)
	}
	if !validErrorClass(a.ErrorClass) {
		return fmt.Errorf("%w: error class %q is not a short lowercase word", ErrInvalid, a.ErrorClass)
	}
	if a.RequestHeaders != "" {
		for n := range strings.SplitSeq(a.RequestHeaders, ", ") {
			if !headerName(n) {
				return fmt.Errorf("%w: request_headers must hold header names only, not %q", ErrInvalid, truncate(n, 40))
			}
		}
	}
	if len(a.Response) > MaxResponseExcerpt {
		a.Response, a.ResponseTruncated = truncate(a.Response, MaxResponseExcerpt), true
	}
	return nil
}

func validErrorClass(c string) bool {
	if len(c) > maxErrorClass {
		return false
	}
	for _, r := range []byte(c) {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// headerName reports whether n is an HTTP field name (an RFC 9110 token).
func headerName(n string) bool {
	if n == "" {
		return false
	}
	for _, c := range []byte(n) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// truncate returns the longest prefix of s of at most n bytes that does not
// split a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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
		var err error
		found, err = getJSON(txn, attemptKey(id), &a)
		return err
	})
	if err != nil {
		return Attempt{}, false, fmt.Errorf("read attempt %s: %w", id, err)
	}
	return a, found, nil
}

func attemptKey(id string) []byte {
	return []byte(attemptPrefix + id)
}
