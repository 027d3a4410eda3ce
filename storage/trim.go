package storage

import (
	"errors"
	"time"
)

// trimInterval is how often the trimmer pages out the mapped table files
// while the log is being written; trimQuiet is how long it keeps doing so
// after the last write, while Badger's compactions catch up.
const (
	trimInterval = 250 * time.Millisecond
	trimQuiet    = 10 * time.Second
)

// trimLoop keeps the file-backed part of the resident memory small (see
// trimTables). It runs from Open until Close closes db.trimStop, and stops
// early where the platform cannot page out (it logs why once). An idle
// database costs one timer wake-up per interval and no system calls.
func (db *DB) trimLoop() {
	defer close(db.trimDone)
	t := time.NewTicker(trimInterval)
	defer t.Stop()
	for {
		select {
		case <-db.trimStop:
			return
		case now := <-t.C:
			if now.UnixNano()-db.lastWrite.Load() > int64(trimQuiet) {
				continue
			}
			if _, err := trimTables(db.dir); err != nil {
				if !errors.Is(err, errors.ErrUnsupported) {
					db.log.Info("mapped table files stay resident", "reason", err)
				}
				return
			}
		}
	}
}

// wrote records that a write happened, for trimLoop.
func (db *DB) wrote() { db.lastWrite.Store(time.Now().UnixNano()) }
