package serial

import (
	"bytes"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bytePort is a port on raw bytes for the binary and generic protocols: the
// test plays the device with send and takes the host's writes, one per
// Write call, from out. Its Read honours a read timeout the way
// go.bug.st/serial does (0, nil), so it runs under testing/synctest.
type bytePort struct {
	in     chan []byte
	out    chan []byte
	closed chan struct{}
	gone   chan struct{}

	closeOnce, goneOnce sync.Once
	pending             []byte // reader's goroutine only
}

func newBytePort() *bytePort {
	return &bytePort{in: make(chan []byte, 64), out: make(chan []byte, 256),
		closed: make(chan struct{}), gone: make(chan struct{})}
}

func (p *bytePort) send(b []byte) { p.in <- bytes.Clone(b) }

func (p *bytePort) unplug() { p.goneOnce.Do(func() { close(p.gone) }) }

func (p *bytePort) Read(b []byte) (int, error) {
	if len(p.pending) == 0 {
		t := time.NewTimer(readTimeout)
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

func (p *bytePort) Write(b []byte) (int, error) {
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

func (p *bytePort) ResetInputBuffer() error { return nil }

func (p *bytePort) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

// next returns the host's next write, failing the test if there is none
// within a second.
func (p *bytePort) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-p.out:
		return b
	case <-time.After(time.Second):
		t.Fatalf("host wrote nothing within 1s")
		return nil
	}
}

// none checks that the host wrote nothing more.
func (p *bytePort) none(t *testing.T) {
	t.Helper()
	select {
	case b := <-p.out:
		t.Errorf("host wrote % x; want nothing", b)
	default:
	}
}
