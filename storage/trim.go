package storage

import (
	"errors"
	"path/filepath"
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
// early where the platform cannot page out (it logs why once). While the
// database is idle it sleeps until a write wakes it (see wrote): no timer,
// no system calls.
func (db *DB) trimLoop() {
	defer close(db.trimDone)
	dir := mappedPath(db.dir)
	t := time.NewTicker(trimInterval)
	t.Stop() // until the first write
	defer t.Stop()
	var tick <-chan time.Time // nil while idle
	kick := db.trimKick       // nil while trimming
	for {
		select {
		case <-db.trimStop:
			return
		case <-kick:
			t.Reset(trimInterval)
			tick, kick = t.C, nil
		case now := <-tick:
			if now.UnixNano()-db.lastWrite.Load() > int64(trimQuiet) {
				t.Stop()
				tick, kick = nil, db.trimKick
				continue
			}
			if _, err := trimTables(dir); err != nil {
				if !errors.Is(err, errors.ErrUnsupported) {
					db.log.Info("mapped table files stay resident", "reason", err)
				}
				return
			}
		}
	}
}

// wrote records that a write happened, for trimLoop, and wakes it if it is
// idle. While it trims, trimKick stays full and the send fails at once.
func (db *DB) wrote() {
	db.lastWrite.Store(time.Now().UnixNano())
	select {
	case db.trimKick <- struct{}{}:
	default:
	}
}

// mappedPath returns dir as the kernel names it in a memory map: absolute,
// with symbolic links resolved. It returns dir as it is if that fails.
func mappedPath(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		return resolved
	}
	return abs
}
