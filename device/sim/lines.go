package sim

import (
	"bufio"
	"bytes"
	"sync"
)

// LineBoard is a simulated serial device that prints text lines (any
// firmware that is not Buttonhook's), on a pseudo-terminal: the caller
// prints lines with Print, and reads what the host sends from Lines. One
// goroutine, started by NewLineBoard, reads the host's lines; it exits on
// Unplug or Close, which wait for it. All methods are safe for concurrent
// use.
type LineBoard struct {
	*terminal
	wmu   sync.Mutex
	lines chan string
}

// NewLineBoard opens a pseudo-terminal and starts a line device on it.
// Call Close when done.
func NewLineBoard() (*LineBoard, error) {
	t, err := openTerminal()
	if err != nil {
		return nil, err
	}
	b := &LineBoard{terminal: t, lines: make(chan string, CommandBuffer)}
	go b.read()
	return b, nil
}

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
	return b.write(p)
}

// Unplug closes the pseudo-terminal, so that the host's reads and writes
// fail, and waits for the reader goroutine. It is safe to call twice.
func (b *LineBoard) Unplug() error { return b.unplug() }

// Close releases the board; it is Unplug, and safe to call twice.
func (b *LineBoard) Close() error { return b.Unplug() }
