package storage

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Schema history:
//
//	1: config documents, attempts ("a/ID"), press counters.
//	2: attempt indexes ("x/..."), per-target counters ("s/TARGET") and the
//	   number of attempts ("m/attempts").

// migrateBatch is how many attempts one migration transaction indexes.
const migrateBatch = 500

// migrate brings a directory written with schema version from up to
// SchemaVersion, in place. Each step is idempotent and the version is
// written last, in a synced transaction after every other write of the
// migration is synced: an interrupted migration starts again at the next
// Open, and a directory never claims a version its data does not have.
func (db *DB) migrate(from int) error {
	if from != 1 {
		return fmt.Errorf("no migration from schema version %d", from)
	}
	start := time.Now()
	// Leftovers of an interrupted migration (or of a newer Buttonhook's
	// indexes, if the user went back) could be stale: rebuild from nothing.
	for _, prefix := range []string{indexPrefix, statsPrefix} {
		if err := db.deletePrefix(prefix); err != nil {
			return fmt.Errorf("migrate from schema 1: clear %s: %w", prefix, err)
		}
	}
	var (
		after string
		count int64
		stats = make(map[string]*Stats)
	)
	for {
		batch, err := db.readIndexed(after, migrateBatch)
		if err != nil {
			return fmt.Errorf("migrate from schema 1: read attempts: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		err = db.update(true, func(txn *badger.Txn) error {
			for _, a := range batch {
				for _, k := range a.indexKeys() {
					if err := txn.Set([]byte(k), a.indexValue()); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate from schema 1: index attempts: %w", err)
		}
		for _, a := range batch {
			statsOf(stats, a.TargetID).record(a)
		}
		count += int64(len(batch))
		after = batch[len(batch)-1].ID
	}
	if err := db.putStats(stats); err != nil {
		return fmt.Errorf("migrate from schema 1: store counters: %w", err)
	}
	err := db.update(true, func(txn *badger.Txn) error {
		if err := txn.Set(countKey, []byte(strconv.FormatInt(count, 10))); err != nil {
			return err
		}
		return txn.Set(schemaKey, []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil {
		return fmt.Errorf("migrate from schema 1: write schema version: %w", err)
	}
	db.log.Info("migrated data directory", slog.String("dir", db.dir), slog.Int("from", from),
		slog.Int("to", SchemaVersion), slog.Int64("attempts", count), slog.Duration("took", time.Since(start)))
	return nil
}

// readIndexed reads up to n attempts after the ID after, oldest first.
func (db *DB) readIndexed(after string, n int) ([]indexed, error) {
	var out []indexed
	err := db.badger.View(func(txn *badger.Txn) error {
		var err error
		out, err = scanIndexed(txn, after, n, "")
		return err
	})
	return out, err
}

// scanIndexed reads in txn up to n attempts after the ID after (or from the
// start), oldest first, and below the ID cutoff if it is set. It reads them
// with an iterator, not one by one: a point read decompresses a whole block.
func scanIndexed(txn *badger.Txn, after string, n int, cutoff string) ([]indexed, error) {
	var out []indexed
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(attemptPrefix), PrefetchValues: true, PrefetchSize: min(n, 100)})
	defer it.Close()
	for it.Seek([]byte(attemptPrefix + after)); it.Valid() && len(out) < n; it.Next() {
		id := string(it.Item().Key()[len(attemptPrefix):])
		if id == after {
			continue
		}
		if cutoff != "" && id >= cutoff {
			break
		}
		var a indexed
		if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
			return nil, fmt.Errorf("decode attempt %s: %w", id, err)
		}
		a.ID = id
		out = append(out, a)
	}
	return out, nil
}

// putStats stores per-target counters, replacing any, synced.
func (db *DB) putStats(stats map[string]*Stats) error {
	var (
		keys [][]byte
		vals [][]byte
	)
	for id, s := range stats {
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		keys, vals = append(keys, []byte(statsPrefix+id)), append(vals, data)
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		err := db.update(true, func(txn *badger.Txn) error {
			for i := range n {
				if err := txn.Set(keys[i], vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys, vals = keys[n:], vals[n:]
	}
	return nil
}

// deletePrefix deletes every key with the given prefix, synced.
func (db *DB) deletePrefix(prefix string) error {
	for {
		var keys [][]byte
		err := db.badger.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < 5000; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = db.update(true, func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}
