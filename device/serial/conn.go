package serial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// writeTimeout bounds one write; a device that stops reading (its buffer
// full) must not hang the host.
const writeTimeout = 500 * time.Millisecond

// closeWait bounds how long Close waits for a write in flight to finish,
// and then for the reader goroutine to leave the port.
const closeWait = time.Second

// port is what a device needs of its transport: go.bug.st/serial's Port in
// production, a fake in the protocol tests.
type port interface {
	// Read blocks until bytes arrive or the port fails or is closed (an
	// error). The ports are opened with no read timeout.
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	ResetInputBuffer() error
	// Close releases a blocked Read at once.
	Close() error
}

// errClosed is returned by Run and SetLED on a device after Close.
var errClosed = fmt.Errorf("device closed: %w", device.ErrGone)

// errWriteTimeout is the cause of a write that did not finish in time.
var errWriteTimeout = fmt.Errorf("write timed out after %v: the device is not reading", writeTimeout)

// conn is an open port as the BH1, Firmata and lines devices use it.
//
// Reading: one goroutine, started by the first wait, blocks in the port's
// Read (there is no read timeout, so an idle port costs nothing) and hands
// what it reads to the consumer: identify during Open, then Run. It exits
// when the read fails (an unplug: at once) or close closes the port. A
// cancelled Run returns without touching the port, so the Manager can still
// turn the LEDs off before it closes the device.
//
// Writing: one write at a time, each bounded by writeTimeout and its ctx; a
// write that fails marks the port gone. close lets a write in flight finish
// (a second at most) and is safe twice.
type conn struct {
	p    port
	path string

	gone    atomic.Bool // a write or read failed underneath
	closed  atomic.Bool
	running atomic.Bool   // a Run is going
	done    chan struct{} // closed by close
	once    sync.Once
	wsem    chan struct{} // holds a token while a write is in flight

	startRead  sync.Once
	reading    atomic.Bool
	in         chan chunk    // reader goroutine -> consumer
	readerDone chan struct{} // closed when the reader goroutine exits

	// The consumer's (identify's, then Run's):
	pending []byte
	err     error // sticky: the port's read error
}

// chunk is one read of the reader goroutine.
type chunk struct {
	b   []byte
	err error
}

func newConn(p port, path string) *conn {
	return &conn{
		p:          p,
		path:       path,
		done:       make(chan struct{}),
		wsem:       make(chan struct{}, 1),
		in:         make(chan chunk, 16),
		readerDone: make(chan struct{}),
	}
}

// read is the reader goroutine.
func (c *conn) read() {
	defer close(c.readerDone)
	buf := make([]byte, 1024)
	for {
		n, err := c.p.Read(buf)
		if n == 0 && err == nil {
			continue // a read timeout: not set on our ports
		}
		select {
		case c.in <- chunk{bytes.Clone(buf[:n]), err}:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read gives the consumer the bytes that have arrived, without waiting:
// (0, nil) when there are none (see wait). After a failed read it returns
// that error, once the bytes before it are taken, and on every later call.
func (c *conn) Read(b []byte) (int, error) {
	if len(c.pending) == 0 && c.err == nil {
		select {
		case ch := <-c.in:
			c.pending, c.err = ch.b, ch.err
		default:
		}
	}
	if len(c.pending) > 0 {
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return 0, c.err
}

// wait blocks until Read has something to give, or until the time until
// (if not zero) has come; then it returns nil. It returns ctx.Err() when
// ctx is done first, and errClosed when the conn is closed.
func (c *conn) wait(ctx context.Context, until time.Time) error {
	if len(c.pending) > 0 || c.err != nil {
		return nil
	}
	c.startRead.Do(func() {
		c.reading.Store(true)
		go c.read()
	})
	var timeout <-chan time.Time
	if !until.IsZero() {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case ch := <-c.in:
		c.pending, c.err = ch.b, ch.err
		return nil
	case <-timeout:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return errClosed
	}
}

// run is the loop of a device's Run. step takes what has arrived (through
// Read): it returns idle when it needs more bytes, or the error Read gave.
// run waits for bytes between steps. It returns nil when ctx is done or
// the conn is closed (at once either way), and an error wrapping
// device.ErrGone when the port fails underneath (at once: the reader
// goroutine is blocked in Read) or was already closed.
func (c *conn) run(ctx context.Context, step func() (idle bool, err error)) error {
	if c.closed.Load() {
		return fmt.Errorf("run %s: %w", c.path, errClosed)
	}
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("run %s: already running", c.path)
	}
	defer c.running.Store(false)
	for ctx.Err() == nil {
		idle, err := step()
		if err != nil {
			return c.failed(err)
		}
		if idle && c.wait(ctx, time.Time{}) != nil {
			return nil // ctx done or closed
		}
	}
	return nil
}

// failed turns a read error into Run's result: nil after close, otherwise
// the port is gone.
func (c *conn) failed(err error) error {
	if c.closed.Load() {
		return nil
	}
	c.gone.Store(true)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %s: %w: %w", c.path, device.ErrGone, err)
}

// write writes b whole. A write that does not finish in time is left to
// finish in its own goroutine (which exits when the write returns: at the
// latest when close closes the port), holding off other writes until then.
// Errors wrap device.ErrGone when the port is closed or gone.
func (c *conn) write(ctx context.Context, b []byte) error {
	if c.closed.Load() {
		return errClosed
	}
	if c.gone.Load() {
		return device.ErrGone
	}
	select {
	case c.wsem <- struct{}{}:
	case <-c.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.closed.Load() {
		<-c.wsem
		return errClosed
	}
	ctx, cancel := context.WithTimeoutCause(ctx, writeTimeout, errWriteTimeout)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		defer func() { <-c.wsem }()
		res <- writeAll(c.p, b)
	}()
	select {
	case err := <-res:
		if err != nil {
			c.gone.Store(true)
			return fmt.Errorf("write: %w: %w", device.ErrGone, err)
		}
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func writeAll(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		b = b[n:]
	}
	return nil
}

// close closes the port once, releasing a blocked Run and the reader
// goroutine: it lets a write in flight finish first and then waits for the
// reader to leave the port, a second at most each. Later calls return nil.
func (c *conn) close() error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		close(c.done)
		select {
		case c.wsem <- struct{}{}:
		case <-time.After(closeWait):
		}
		if cerr := c.p.Close(); cerr != nil {
			err = fmt.Errorf("close %s: %w", c.path, cerr)
		}
		if c.reading.Load() {
			select {
			case <-c.readerDone:
			case <-time.After(closeWait):
			}
		}
	})
	return err
}
