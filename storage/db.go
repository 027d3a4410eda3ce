// Package storage keeps Buttonhook's state in an embedded Badger database: the
// configuration (as opaque JSON documents owned by their callers), the log of
// every webhook attempt with its indexes and per-target counters, and the
// buttons' press counters.
//
// A data directory belongs to one process at a time; Open refuses a directory
// that another Buttonhook instance holds (ErrLocked). Config writes and
// PutAttemptDurable are on disk before they return; PutAttempt is fast and
// survives the death of the process but not a power cut.
//
// Keys are laid out by prefix: "m/" for metadata (the schema version, the
// number of attempts), "c/KIND/ID" for config documents, "a/ID" for attempts,
// whose IDs sort in time order, "x/..." for the attempt indexes, "s/TARGET"
// for per-target counters and "n/DEVICE/BUTTON" for press counters. Values
// are JSON. docs/storage.md describes the layout and the durability model.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"
	boptions "github.com/dgraph-io/badger/v4/options"
)

// SchemaVersion is the version of the key and value layout that this package
// reads and writes. Open writes it into a new data directory and refuses a
// directory written with a newer one.
const SchemaVersion = 2

// MaxValueSize is the largest encoded config document or attempt, in bytes.
// Values stay below Badger's value threshold, so they live in the LSM tree and
// its write-ahead log (which a synced write flushes), never in the value log.
const MaxValueSize = 256 << 10

var (
	// ErrLocked means that another process (normally another Buttonhook
	// instance) has the data directory open.
	ErrLocked = errors.New("data directory is in use by another Buttonhook instance: quit it, or choose another data directory")

	// ErrNewerSchema means that the data directory was written by a newer
	// Buttonhook whose layout this version cannot read safely.
	ErrNewerSchema = errors.New("data directory was written by a newer version of Buttonhook: upgrade Buttonhook, or choose another data directory")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("storage is closed")

	// ErrInvalid wraps every error about a caller's bad input (an empty kind,
	// a malformed attempt ID, a document that is not JSON, ...). Nothing is
	// written when it is returned.
	ErrInvalid = errors.New("invalid input")
)

var schemaKey = []byte("m/schema")

// DB is an open data directory. Its methods are safe for concurrent use.
type DB struct {
	dir    string
	badger *badger.DB
	log    *slog.Logger

	// mu is held shared by every operation and exclusively by Close, so that
	// Close waits for operations in flight and later calls see closed.
	mu     sync.RWMutex
	closed bool

	// writeMu is held shared by unsynced writes and exclusively by synced ones
	// from their commit until their Sync returns. Badger's Sync flushes only
	// the current memtable's log; holding writeMu keeps any other write from
	// rotating the memtable between the commit and the Sync.
	writeMu sync.RWMutex

	// attemptMu serializes the transactions that write attempts, which read
	// before they write (the old record, the counters): Badger's conflict
	// detection is off. Held before writeMu, never after.
	attemptMu sync.Mutex

	// queue gathers durable attempt writes into group-commit rounds.
	queue commitQueue

	// expireMu keeps expiry runs apart.
	expireMu sync.Mutex

	// scanLimit is the most entries one Search examines (tests lower it).
	scanLimit int

	// sync flushes committed writes to disk: badger.DB.Sync, which msyncs
	// (fdatasync) the memtable's write-ahead log and the value log. Tests
	// count its calls.
	sync func() error

	// lastWrite is when the last write committed (Unix nanoseconds);
	// trimLoop runs until trimStop is closed and then closes trimDone. A
	// write sends on trimKick (capacity 1) to wake an idle trimLoop.
	lastWrite                    atomic.Int64
	trimStop, trimDone, trimKick chan struct{}
}

// Open opens the data directory dir, creating it (mode 0700) if it is missing,
// and prepares it for this schema version. logger receives Badger's warnings
// and errors; nil discards them. The caller must Close the DB.
//
// Open returns an error wrapping ErrLocked if another process has dir open,
// and one wrapping ErrNewerSchema, without changing anything, if dir was
// written by a newer Buttonhook.
func Open(dir string, logger *slog.Logger) (*DB, error) {
	if dir == "" {
		return nil, fmt.Errorf("open data directory: %w: empty path", ErrInvalid)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open data directory %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open data directory %s: not a directory", dir)
	}

	bdb, err := openBadger(dir, logger)
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, badger: bdb, log: logger, sync: bdb.Sync, scanLimit: ScanLimit,
		trimKick: make(chan struct{}, 1)}
	if err := db.checkSchema(); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("open data directory %s: %w", dir, err)
	}
	db.trimStop, db.trimDone = make(chan struct{}), make(chan struct{})
	go db.trimLoop()
	return db, nil
}

// options returns Badger options sized for a desktop app. Writing a million
// attempts peaked at 1.37 GB of RSS with the options of schema 1; these keep
// it near 400 MB, and the files at half the size (see BenchmarkWrite1MPeakRSS
// and docs/storage.md):
//   - small memtables and small tables (256 KB, the same at every level):
//     Badger pools the buffers of its table builders, sized by table, and
//     compacts with many builders at once;
//   - zstd on 16 KB blocks: attempts are repetitive JSON and compress about
//     2.3 times better than with Snappy on 4 KB blocks; the files are mapped
//     into memory, so their size would also be resident memory, were it not
//     for trimLoop, which pages them out while the log is written.
func options(dir string, logger *slog.Logger) badger.Options {
	o := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{logger.With(slog.String("component", "badger"))}).
		WithSyncWrites(false). // synced writes call Sync themselves
		WithMemTableSize(4 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithBaseTableSize(256 << 10).
		WithBlockSize(16 << 10).
		WithCompression(boptions.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(4 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		// Must stay below Badger's max batch size (15% of MemTableSize:
		// about 600 KB) or Open fails; values smaller than this stay in the
		// LSM tree and its write-ahead log, never in the value log.
		WithValueThreshold(MaxValueSize + 1).
		// Transactions that read before they write are serialized by
		// attemptMu; the others only write, or only read.
		WithDetectConflicts(false).
		WithMetricsEnabled(false)
	o.TableSizeMultiplier = 1 // no With method
	return o
}

func openBadger(dir string, logger *slog.Logger) (bdb *badger.DB, err error) {
	defer func() {
		// Badger panics on some kinds of corruption instead of returning an
		// error; a garbage directory must not take the app down.
		if r := recover(); r != nil {
			bdb, err = nil, fmt.Errorf("open data directory %s: unreadable (%v): move it away to start afresh", dir, r)
		}
	}()
	bdb, err = badger.Open(options(dir, logger))
	if err != nil {
		return nil, openError(dir, err)
	}
	return bdb, nil
}

// openError turns an error from badger.Open into one that says what to do.
// Badger formats its errors with %+v, so they can only be classified by text.
func openError(dir string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Cannot acquire directory lock"), // Unix
		strings.Contains(msg, "Another process is using this Badger database"): // Windows
		return fmt.Errorf("open %s: %w", dir, ErrLocked)
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "Access is denied"):
		return fmt.Errorf("open data directory %s: permission denied: check that it and its files belong to you: %w", dir, err)
	}
	return fmt.Errorf("open data directory %s: %w", dir, err)
}

// checkSchema writes the schema version into a new directory and refuses an
// unknown or newer one.
func (db *DB) checkSchema() error {
	var (
		found   bool
		version int
		empty   = true
	)
	err := db.badger.View(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			it := txn.NewIterator(badger.IteratorOptions{})
			defer it.Close()
			it.Rewind()
			empty = !it.Valid()
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error {
			version, err = strconv.Atoi(string(v))
			if err != nil || version < 1 {
				return fmt.Errorf("unreadable schema version %q", v)
			}
			return nil
		})
	})
	switch {
	case err != nil:
		return fmt.Errorf("read schema version: %w", err)
	case found && version > SchemaVersion:
		return fmt.Errorf("schema version %d is newer than %d: %w", version, SchemaVersion, ErrNewerSchema)
	case found && version < SchemaVersion:
		return db.migrate(version)
	case found:
		return nil
	case !empty:
		return errors.New("not a Buttonhook data directory (it holds data but no schema version)")
	}
	err = db.update(true, func(txn *badger.Txn) error {
		return txn.Set(schemaKey, []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil {
		return fmt.Errorf("write schema version: %w", err)
	}
	return nil
}

// Dir returns the data directory that db was opened with.
func (db *DB) Dir() string { return db.dir }

// Close flushes and closes the database. It waits for operations in flight;
// calls after the first return nil.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	if db.trimStop != nil {
		close(db.trimStop)
		<-db.trimDone
	}
	if err := db.badger.Close(); err != nil {
		return fmt.Errorf("close data directory %s: %w", db.dir, err)
	}
	return nil
}

// update runs fn in a read-write transaction. If durable, it returns only once
// the transaction is on disk.
func (db *DB) update(durable bool, fn func(txn *badger.Txn) error) error {
	_, err := db.commit(durable, fn)
	return err
}

// commit is update that also reports whether the transaction committed, so
// that an error with committed set is the sync's. Every write goes through
// it.
func (db *DB) commit(durable bool, fn func(txn *badger.Txn) error) (committed bool, err error) {
	if durable {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	} else {
		db.writeMu.RLock()
		defer db.writeMu.RUnlock()
	}
	if err := db.badger.Update(fn); err != nil {
		return false, err
	}
	db.wrote()
	if durable {
		if err := db.sync(); err != nil {
			return true, fmt.Errorf("sync: %w", err)
		}
	}
	return true, nil
}

// write is update for the public methods: it fails with ErrClosed after Close.
func (db *DB) write(durable bool, fn func(txn *badger.Txn) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	return db.update(durable, fn)
}

// view runs fn in a read-only transaction; it fails with ErrClosed after Close.
func (db *DB) view(fn func(txn *badger.Txn) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	return db.badger.View(fn)
}

// badgerLogger routes Badger's log to slog: errors and warnings pass, info
// and debug chatter is dropped.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(format string, args ...any) {
	b.log(slog.LevelError, format, args)
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.log(slog.LevelWarn, format, args)
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

func (b badgerLogger) log(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if !b.l.Enabled(ctx, level) {
		return
	}
	b.l.LogAttrs(ctx, level, "badger", slog.String("detail", strings.TrimSpace(fmt.Sprintf(format, args...))))
}
