package serial

import (
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakePort is a port on bytes, for the protocol logic: the test plays the
// device with send and lines. Its Read honours a read timeout the way
// go.bug.st/serial does (0, nil), so it runs under testing/synctest.
type fakePort struct {
	in      chan []byte   // device -> host, one Read each at most
	out     chan string   // host -> device, one written line each
	stale   chan []byte   // bytes waiting from before the port was opened
	closed  chan struct{} // Close
	gone    chan struct{} // unplug: reads and writes fail
	hold    chan struct{} // if not nil, Write waits for it to close
	timeout time.Duration

	closeOnce, goneOnce sync.Once
	pending             []byte // reader's goroutine only
	partial             strings.Builder
	mu                  sync.Mutex // partial
}

var errFakeClosed = errors.New("fake port closed")

func newFakePort() *fakePort {
	return &fakePort{
		in:      make(chan []byte, 64),
		out:     make(chan string, 64),
		stale:   make(chan []byte, 8),
		closed:  make(chan struct{}),
		gone:    make(chan struct{}),
		timeout: readTimeout,
	}
}

// send queues bytes from the device.
func (p *fakePort) send(s string) { p.in <- []byte(s) }

// unplug makes reads and writes fail like a vanished USB device.
func (p *fakePort) unplug() { p.goneOnce.Do(func() { close(p.gone) }) }

func (p *fakePort) Read(b []byte) (int, error) {
	if len(p.pending) == 0 {
		select {
		case p.pending = <-p.stale:
		default:
		}
	}
	if len(p.pending) == 0 {
		t := time.NewTimer(p.timeout)
		defer t.Stop()
		select {
		case p.pending = <-p.in:
		case <-p.closed:
			return 0, errFakeClosed
		case <-p.gone:
			return 0, syscall.EIO
		case <-t.C:
			return 0, nil
		}
	}
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *fakePort) Write(b []byte) (int, error) {
	if p.hold != nil {
		select {
		case <-p.hold:
		case <-p.gone:
		}
	}
	select {
	case <-p.gone:
		return 0, syscall.EIO
	case <-p.closed:
		return 0, syscall.EBADF
	default:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range string(b) {
		if c == '\n' {
			p.out <- p.partial.String()
			p.partial.Reset()
			continue
		}
		p.partial.WriteRune(c)
	}
	return len(b), nil
}

// ResetInputBuffer drops the stale bytes, as TCFLSH does.
func (p *fakePort) ResetInputBuffer() error {
	for {
		select {
		case <-p.stale:
		default:
			return nil
		}
	}
}

func (p *fakePort) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

// next returns the next line the host wrote, failing the test if there is
// none within a second.
func (p *fakePort) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-p.out:
		return l
	case <-time.After(time.Second):
		t.Fatalf("host wrote no line within 1s")
		return ""
	}
}
