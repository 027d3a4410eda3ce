package serial

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

// portWriter does the writing and closing of a port for the Firmata and
// lines devices, with the rules of the BH1 Device: one write at a time,
// each bounded by writeTimeout and ctx; a write that fails marks the port
// gone; Close lets a write in flight finish (a second at most) and is safe
// twice.
type portWriter struct {
	p port

	gone   atomic.Bool // a write or read failed underneath
	closed atomic.Bool
	done   chan struct{} // closed by close
	once   sync.Once
	sem    chan struct{} // holds a token while a write is in flight
}

func newPortWriter(p port) *portWriter {
	return &portWriter{p: p, done: make(chan struct{}), sem: make(chan struct{}, 1)}
}

// write writes b whole. A write that does not finish in time is left to
// finish in its own goroutine (which exits when the write returns: at the
// latest when close closes the port), holding off other writes until then.
// Errors wrap device.ErrGone when the port is closed or gone.
func (w *portWriter) write(ctx context.Context, b []byte) error {
	if w.closed.Load() {
		return errClosed
	}
	if w.gone.Load() {
		return device.ErrGone
	}
	select {
	case w.sem <- struct{}{}:
	case <-w.done:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	if w.closed.Load() {
		<-w.sem
		return errClosed
	}
	ctx, cancel := context.WithTimeoutCause(ctx, writeTimeout, errWriteTimeout)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		defer func() { <-w.sem }()
		res <- writeAll(w.p, b)
	}()
	select {
	case err := <-res:
		if err != nil {
			w.gone.Store(true)
			return fmt.Errorf("write: %w: %w", device.ErrGone, err)
		}
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// close closes the port once, after a write in flight (a second at most).
// Later calls return nil.
func (w *portWriter) close() error {
	var err error
	w.once.Do(func() {
		w.closed.Store(true)
		close(w.done)
		select {
		case w.sem <- struct{}{}:
		case <-time.After(time.Second):
		}
		err = w.p.Close()
	})
	return err
}
