package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Sort is an order of the attempt log. Every order is total: attempts equal
// in the sort field follow in ID (time) order, in the same direction.
type Sort string

// The orders of the attempt log.
const (
	SortTime     Sort = "time"     // the default
	SortStatus   Sort = "status"   // Failed < OK < Waiting
	SortCode     Sort = "code"     // HTTP status code, 0 (no response) lowest
	SortTarget   Sort = "target"   // target name at the time, case-insensitively
	SortDuration Sort = "duration" // Duration
)

// Query selects a page of attempts: by default the newest first.
type Query struct {
	// Limit is the most attempts to return: 0 means DefaultLimit, and more
	// than MaxLimit means MaxLimit.
	Limit int
	// Before, if set, is a cursor for the time order: only attempts with an
	// older ID are returned. Pass the ID of the last attempt of a page to get
	// the next. Cursor does the same for every order.
	Before string
	// Cursor, if set, is the Next of the previous page of the same query.
	Cursor string

	// TargetID, if set, keeps the attempts of that target only.
	TargetID string
	// Status, if set, keeps the attempts with that status only.
	Status Status
	// From and To, if set, keep the attempts pressed at From or later and
	// before To (by their ID's time). See Today and LastDays.
	From, To time.Time
	// Text, if set, keeps the attempts whose URL, error or message contain
	// it, ignoring case. Text is checked on each attempt, not on an index:
	// a rare text can make a page Partial.
	Text string

	// Sort is the order; empty means SortTime.
	Sort Sort
	// Ascending reverses the order: oldest, lowest or shortest first.
	Ascending bool
}

// Page is the result of Search.
type Page struct {
	Attempts []Attempt
	// Next is the Cursor of the following page; empty when the log has no
	// more attempts for the query. In the time order it is an attempt ID,
	// also valid as Before.
	Next string
	// Partial means that Search examined ScanLimit index entries without
	// filling the page: there may be more matches, and Next continues.
	Partial bool
}

// Page sizes for Attempts.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// ScanLimit is the most index entries or attempts that one Search examines.
// It bounds the time of a query whose filters match few attempts: a text
// that matches nothing costs about 60 ms here (BenchmarkTextSearchOf1M).
const ScanLimit = 25_000

// Today returns the time range of now's calendar day, in now's location.
func Today(now time.Time) (from, to time.Time) {
	y, m, d := now.Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	return from, from.AddDate(0, 0, 1)
}

// LastDays returns the time range of the last n calendar days up to now (7
// for "last 7 days"): from is n days before now, and to is zero, so that
// attempts made after now are included too.
func LastDays(now time.Time, n int) (from, to time.Time) {
	return now.AddDate(0, 0, -n), time.Time{}
}

// Matches reports whether q's filters (TargetID, Status, From, To and
// Text) keep a: whether Search, given enough pages, returns a as it is
// stored. The order, Limit and cursors select nothing and are ignored. Like
// Search, Matches takes the press time from a's ID, not from a.Time. It is
// for attempts that change while a query's results are shown.
func (q Query) Matches(a Attempt) bool {
	return q.filter().keeps(a)
}

// filter is what a query keeps: the part of a plan that Matches uses too.
type filter struct {
	lo, hi string // ID bounds: lo <= ID < hi; empty for none
	target string
	status Status
	text   string // lowercased
}

func (q Query) filter() filter {
	f := filter{target: q.TargetID, status: q.Status, text: strings.ToLower(q.Text)}
	if !q.From.IsZero() {
		f.lo = idAt(q.From, 0)
	}
	if !q.To.IsZero() {
		f.hi = idAt(q.To, 0)
	}
	return f
}

// inRange reports whether an attempt ID is within the time bounds.
func (f filter) inRange(id string) bool {
	return (f.lo == "" || id >= f.lo) && (f.hi == "" || id < f.hi)
}

// keeps reports whether a passes every filter.
func (f filter) keeps(a Attempt) bool {
	return f.inRange(a.ID) && (f.status == "" || a.Status == f.status) &&
		(f.target == "" || a.TargetID == f.target) && (f.text == "" || containsFold(a, f.text))
}

// plan is how a query walks one index.
type plan struct {
	filter
	prefix  string // of the index keys walked
	byTime  bool   // the key suffix after prefix is just the ID
	records bool   // walking the attempts themselves ("a/")
	reverse bool
	rawText []byte // text, if it can be looked for in raw JSON
	cursor  string // key suffix to continue after
	limit   int
}

func (q Query) plan() (plan, error) {
	p := plan{filter: q.filter(), reverse: !q.Ascending, limit: q.Limit}
	if p.text != "" && rawSearchable(p.text) {
		p.rawText = []byte(p.text)
	}
	switch {
	case p.limit < 0:
		return p, fmt.Errorf("%w: negative limit %d", ErrInvalid, p.limit)
	case p.limit == 0:
		p.limit = DefaultLimit
	case p.limit > MaxLimit:
		p.limit = MaxLimit
	}
	if q.Status != "" && !q.Status.valid() {
		return p, fmt.Errorf("%w: status %q", ErrInvalid, q.Status)
	}
	switch q.Sort {
	case "", SortTime:
		p.byTime = true
		switch {
		case q.Text != "":
			// Every attempt is read for its text: in order, a block at a
			// time, rather than one point read per index entry.
			p.prefix, p.records = attemptPrefix, true
		case q.TargetID != "":
			p.prefix = targetIndexPrefix(q.TargetID)
		case q.Status != "":
			p.prefix = statusIndexPrefix(q.Status)
		default:
			p.prefix, p.records = attemptPrefix, true
		}
	case SortStatus:
		p.prefix = byStatusPrefix
		if q.Status != "" {
			p.prefix, p.byTime = statusIndexPrefix(q.Status), true
		}
	case SortCode:
		p.prefix = byCodePrefix
	case SortTarget:
		p.prefix = byNamePrefix
	case SortDuration:
		p.prefix = byDurPrefix
	default:
		return p, fmt.Errorf("%w: unknown sort %q", ErrInvalid, q.Sort)
	}

	cursor := q.Cursor
	if cursor == "" && q.Before != "" {
		if !p.byTime || q.Ascending {
			return p, fmt.Errorf("%w: Before is for the newest-first time order: use Cursor", ErrInvalid)
		}
		cursor = q.Before
	}
	if cursor != "" {
		var err error
		if p.cursor, err = p.decodeCursor(cursor); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p plan) encodeCursor(suffix []byte) string {
	if p.byTime {
		return string(suffix)
	}
	return base64.RawURLEncoding.EncodeToString(suffix)
}

func (p plan) decodeCursor(c string) (string, error) {
	if p.byTime {
		if !validAttemptID(c) {
			return "", fmt.Errorf("%w: malformed cursor %q", ErrInvalid, c)
		}
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) <= attemptIDLen || !validAttemptID(string(b[len(b)-attemptIDLen:])) {
		return "", fmt.Errorf("%w: malformed cursor %q (a cursor belongs to one sort order)", ErrInvalid, c)
	}
	return string(b), nil
}

// Search returns a page of the attempts that q selects, in q's order.
func (db *DB) Search(q Query) (Page, error) {
	p, err := q.plan()
	if err != nil {
		return Page{}, fmt.Errorf("list attempts: %w", err)
	}
	var page Page
	err = db.view(func(txn *badger.Txn) error {
		page, err = p.run(txn, db.scanLimit)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("list attempts: %w", err)
	}
	return page, nil
}

// Attempts returns a page of attempts: the attempts of Search, without its
// scan limit (it goes on until the page is full or the log ends). An empty
// result means there are no more.
func (db *DB) Attempts(q Query) ([]Attempt, error) {
	p, err := q.plan()
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	var out []Attempt
	for {
		page, err := db.Search(q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Attempts...)
		if !page.Partial || len(out) >= p.limit {
			if out == nil {
				out = []Attempt{}
			}
			return out, nil
		}
		q.Cursor, q.Before, q.Limit = page.Next, "", p.limit-len(out)
	}
}

func (p plan) run(txn *badger.Txn, scanLimit int) (Page, error) {
	it := txn.NewIterator(badger.IteratorOptions{
		Prefix:         []byte(p.prefix),
		Reverse:        p.reverse,
		PrefetchValues: true,
		PrefetchSize:   min(p.limit, 100),
	})
	defer it.Close()

	var seek string
	switch {
	case p.cursor != "":
		seek = p.prefix + p.cursor
	case p.reverse && p.byTime && p.hi != "":
		seek = p.prefix + p.hi
	case p.reverse:
		seek = p.prefix + "\xff"
	case p.byTime && p.lo != "":
		seek = p.prefix + p.lo
	default:
		seek = p.prefix
	}
	page := Page{Attempts: make([]Attempt, 0, min(p.limit, 64))}
	var (
		last    []byte // suffix of the last entry examined
		scanned int
	)
	for it.Seek([]byte(seek)); it.Valid(); it.Next() {
		item := it.Item()
		suffix := item.Key()[len(p.prefix):]
		if p.cursor != "" && string(suffix) == p.cursor {
			continue
		}
		if len(suffix) < attemptIDLen {
			return Page{}, fmt.Errorf("malformed index key %q", item.Key())
		}
		id := string(suffix[len(suffix)-attemptIDLen:])
		if p.byTime && ((p.reverse && p.lo != "" && id < p.lo) || (!p.reverse && p.hi != "" && id >= p.hi)) {
			break
		}
		scanned++
		if scanned > scanLimit {
			page.Partial, page.Next = true, p.encodeCursor(last)
			return page, nil
		}
		last = append(last[:0], suffix...)
		if !p.inRange(id) {
			continue
		}
		a, ok, err := p.match(txn, item, id)
		if err != nil {
			return Page{}, err
		}
		if !ok {
			continue
		}
		page.Attempts = append(page.Attempts, a)
		if len(page.Attempts) == p.limit {
			page.Next = p.encodeCursor(last)
			return page, nil
		}
	}
	return page, nil
}

// match reads the attempt of an index entry if it passes the filters.
func (p plan) match(txn *badger.Txn, item *badger.Item, id string) (a Attempt, ok bool, err error) {
	if !p.records {
		err := item.Value(func(v []byte) error {
			if len(v) == 0 {
				return fmt.Errorf("empty index entry %q", item.Key())
			}
			ok = (p.status == "" || statusOfByte(v[0]) == p.status) && (p.target == "" || string(v[1:]) == p.target)
			return nil
		})
		if err != nil || !ok {
			return a, false, err
		}
		if item, err = txn.Get(attemptKey(id)); errors.Is(err, badger.ErrKeyNotFound) {
			return a, false, nil // an entry without its attempt is skipped
		} else if err != nil {
			return a, false, err
		}
	}
	err = item.Value(func(v []byte) error {
		// Most attempts fail a text filter: look for the text in the raw
		// JSON before decoding it.
		if ok = p.rawText == nil || bytes.Contains(bytes.ToLower(v), p.rawText); !ok {
			return nil
		}
		return json.Unmarshal(v, &a)
	})
	if err != nil {
		return a, false, fmt.Errorf("decode attempt %s: %w", id, err)
	}
	if !ok || !p.keeps(a) {
		return a, false, nil
	}
	return a, true, nil
}

func containsFold(a Attempt, lower string) bool {
	for _, s := range []string{a.URL, a.Error, a.Message} {
		if strings.Contains(strings.ToLower(s), lower) {
			return true
		}
	}
	return false
}

// rawSearchable reports whether text appears as is in the JSON of a string
// that contains it: encoding/json escapes only these.
func rawSearchable(text string) bool {
	return !strings.ContainsFunc(text, func(r rune) bool {
		return r < 0x20 || strings.ContainsRune("\"\\<>&\u2028\u2029", r)
	})
}
