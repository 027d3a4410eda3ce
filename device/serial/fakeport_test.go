package serial

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakePort is a port on bytes, for the protocol logic: the test plays the
// device with send and takes the host's writes, one per Write call, with
// next (raw bytes) or nextLine (BH1 lines). Like our real ports it has no
// read timeout: Read blocks until bytes come, Close or unplug.
type fakePort struct {
	in     chan []byte   // device -> host, one Read each at most
	out    chan []byte   // host -> device, one Write each
	stale  chan []byte   // bytes waiting from before the port was opened
	closed chan struct{} // Close
	gone   chan struct{} // unplug: reads and writes fail
	hold   chan struct{} // if not nil, Write waits for it to close

	reads               atomic.Int64 // Read calls
	closeOnce, goneOnce sync.Once
	pending             []byte // reader's goroutine only
	partial             []byte // nextLine's: written bytes after the last "\n"
}

var errFakeClosed = errors.New("fake port closed")

func newFakePort() *fakePort {
	return &fakePort{
		in:     make(chan []byte, 64),
		out:    make(chan []byte, 256),
		stale:  make(chan []byte, 8),
		closed: make(chan struct{}),
		gone:   make(chan struct{}),
	}
}

// send queues a line or other text from the device.
func (p *fakePort) send(s string) { p.in <- []byte(s) }

// sendBytes queues bytes from the device.
func (p *fakePort) sendBytes(b []byte) { p.in <- bytes.Clone(b) }

// unplug makes reads and writes fail like a vanished USB device.
func (p *fakePort) unplug() { p.goneOnce.Do(func() { close(p.gone) }) }

func (p *fakePort) Read(b []byte) (int, error) {
	p.reads.Add(1)
	if len(p.pending) == 0 {
		select {
		case p.pending = <-p.stale:
		default:
		}
	}
	if len(p.pending) == 0 {
		select {
		case p.pending = <-p.in:
		case <-p.closed:
			return 0, errFakeClosed
		case <-p.gone:
			return 0, syscall.EIO
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
	p.out <- bytes.Clone(b)
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

// next returns the host's next write, failing the test if there is none
// within a second.
func (p *fakePort) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-p.out:
		return b
	case <-time.After(time.Second):
		t.Fatalf("host wrote nothing within 1s")
		return nil
	}
}

// nextLine returns the next line the host wrote, without its "\n", failing
// the test if there is none within a second.
func (p *fakePort) nextLine(t *testing.T) string {
	t.Helper()
	for {
		if line, rest, ok := bytes.Cut(p.partial, []byte("\n")); ok {
			p.partial = rest
			return string(line)
		}
		p.partial = append(p.partial, p.next(t)...)
	}
}

// none checks that the host wrote nothing more.
func (p *fakePort) none(t *testing.T) {
	t.Helper()
	select {
	case b := <-p.out:
		t.Errorf("host wrote %q; want nothing", b)
	default:
	}
}
