//go:build !linux

package storage

import (
	"errors"
	"os"
)

// fdatasync flushes f to the disk (fsync where fdatasync is not offered).
func fdatasync(f *os.File) error { return f.Sync() }

// memStatus is measured on Linux only.
func memStatus() (peak, anon, file int64, err error) { return 0, 0, 0, errors.ErrUnsupported }
