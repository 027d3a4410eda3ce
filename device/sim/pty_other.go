//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sim

import (
	"errors"
	"fmt"
	"os"
)

// openPTY fails: this system has no pseudo-terminals the simulator can use.
func openPTY() (master, slave *os.File, err error) {
	return nil, nil, fmt.Errorf("open pseudo-terminal: %w", errors.ErrUnsupported)
}
