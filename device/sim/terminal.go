package sim

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// terminal is a simulated board's end of its pseudo-terminal, the part the
// boards share: the path the host opens, bounded writes to the host, and
// unplugging. The board starts one reader goroutine on master, which closes
// readerDone when it exits.
type terminal struct {
	path          string
	master, slave *os.File

	readerDone chan struct{}
	unplugged  chan struct{}
	once       sync.Once
	unplugErr  error
}

// openTerminal opens a pseudo-terminal for a board.
func openTerminal() (*terminal, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return &terminal{
		path:       slave.Name(),
		master:     master,
		slave:      slave,
		readerDone: make(chan struct{}),
		unplugged:  make(chan struct{}),
	}, nil
}

// Path is the pseudo-terminal the host opens, like /dev/pts/7.
func (t *terminal) Path() string { return t.path }

// write sends p to the host as it is. It fails after writeTimeout if the
// host does not read, and with ErrUnplugged once unplugged. The caller
// sends one message at a time.
func (t *terminal) write(p []byte) error {
	select {
	case <-t.unplugged:
		return ErrUnplugged
	default:
	}
	err := t.master.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err == nil {
		_, err = t.master.Write(p)
	}
	if err != nil {
		select {
		case <-t.unplugged:
			return ErrUnplugged
		default:
		}
		return fmt.Errorf("sim %s: write: %w", t.path, err)
	}
	return nil
}

// unplug closes both ends of the pseudo-terminal, so that the host's reads
// and writes fail as with a real unplug, and waits for the reader
// goroutine. It is safe to call twice; the pseudo-terminal cannot be
// plugged in again.
func (t *terminal) unplug() error {
	t.once.Do(func() {
		close(t.unplugged)
		if err := errors.Join(t.master.Close(), t.slave.Close()); err != nil {
			t.unplugErr = fmt.Errorf("sim %s: unplug: %w", t.path, err)
		}
		<-t.readerDone
	})
	return t.unplugErr
}
