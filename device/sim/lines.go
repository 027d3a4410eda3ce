package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// LineBoard is a simulated serial device that prints text lines (any
// firmware that is not Buttonhook's), on a pseudo-terminal: the caller
// prints lines with Print, and reads what the host sends from Lines. One
// goroutine, started by NewLineBoard, reads the host's lines; it exits on
// Unplug or Close, which wait for it. All methods are safe for concurrent
// use.
type LineBoard struct {
	path          string
	master, slave *os.File
	wmu           sync.Mutex

	lines      chan string
	readerDone chan struct{}
	unplugged  chan struct{}
	once       sync.Once
	unplugErr  error
}

// NewLineBoard opens a pseudo-terminal and starts a line device on it.
// Call Close when done.
func NewLineBoard() (*LineBoard, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	b := &LineBoard{
		path:       slave.Name(),
		master:     master,
		slave:      slave,
		lines:      make(chan string, CommandBuffer),
		readerDone: make(chan struct{}),
		unplugged:  make(chan struct{}),
	}
	go b.read()
	return b, nil
}

// Path is the pseudo-terminal the host opens.
func (b *LineBoard) Path() string { return b.path }

// Lines delivers the non-empty lines the host sends, without their endings
// ("\n", "\r" or "\r\n"). Lines beyond CommandBuffer unread ones are
// dropped. It is closed when the reader goroutine exits.
func (b *LineBoard) Lines() <-chan string { return b.lines }

func (b *LineBoard) read() {
	defer close(b.readerDone)
	defer close(b.lines)
	sc := bufio.NewScanner(b.master)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		select {
		case b.lines <- sc.Text():
		default:
		}
	}
}

// Print sends line and "\r\n" to the host, as Arduino's Serial.println does.
func (b *LineBoard) Print(line string) error { return b.SendRaw([]byte(line + "\r\n")) }

// SendRaw sends p to the host as it is. It fails after a second if the host
// does not read.
func (b *LineBoard) SendRaw(p []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	select {
	case <-b.unplugged:
		return ErrUnplugged
	default:
	}
	if err := b.master.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("sim %s: write: %w", b.path, err)
	}
	if _, err := b.master.Write(p); err != nil {
		return fmt.Errorf("sim %s: write: %w", b.path, err)
	}
	return nil
}

// Unplug closes the pseudo-terminal, so that the host's reads and writes
// fail, and waits for the reader goroutine. It is safe to call twice.
func (b *LineBoard) Unplug() error {
	b.once.Do(func() {
		close(b.unplugged)
		if err := errors.Join(b.master.Close(), b.slave.Close()); err != nil {
			b.unplugErr = fmt.Errorf("sim %s: unplug: %w", b.path, err)
		}
		<-b.readerDone
	})
	return b.unplugErr
}

// Close releases the board; it is Unplug, and safe to call twice.
func (b *LineBoard) Close() error { return b.Unplug() }
