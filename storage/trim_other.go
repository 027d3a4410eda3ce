//go:build !linux

package storage

import "errors"

// trimTables pages out mapped table files where the platform allows it; only
// Linux does (MADV_PAGEOUT), so elsewhere it does nothing.
func trimTables(string) (int64, error) { return 0, errors.ErrUnsupported }
