package actions

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Timing splits an attempt's time.
type Timing struct {
	// Connect is name lookup plus TCP connect; 0 on a reused connection.
	Connect time.Duration `json:"connect,omitempty"`
	// TLS is the TLS handshake; 0 on a reused connection.
	TLS time.Duration `json:"tls,omitempty"`
	// FirstByte is from the start of the attempt to the first byte of the
	// (last) response.
	FirstByte time.Duration `json:"first_byte,omitempty"`
	// Total is from the start of the attempt to the end of the response.
	Total time.Duration `json:"total"`
}

// timer records an attempt's timing through httptrace. When an attempt
// makes several round trips (a redirect, a digest challenge, an OAuth token
// request), Connect and TLS add up the connections it opened and FirstByte
// is the last response's. The trace hooks run on the Transport's
// goroutines, hence the lock.
type timer struct {
	start time.Time

	mu        sync.Mutex
	dialStart time.Time     // of the connection being opened (zero: none)
	tlsStart  time.Time     // of its handshake
	pendDial  time.Duration // of the connection being opened, until GotConn
	pendTLS   time.Duration
	connect   time.Duration
	handshake time.Duration
	firstByte time.Duration
}

// withTiming starts timing a request; attach the returned context to it.
func withTiming(ctx context.Context) (context.Context, *timer) {
	tm := &timer{start: time.Now()}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:              tm.getConn,
		DNSStart:             func(httptrace.DNSStartInfo) { tm.startDial() },
		ConnectStart:         func(string, string) { tm.startDial() },
		ConnectDone:          tm.connectDone,
		TLSHandshakeStart:    tm.tlsStartHook,
		TLSHandshakeDone:     tm.tlsDone,
		GotConn:              tm.gotConn,
		GotFirstResponseByte: tm.gotFirstByte,
	}), tm
}

// getConn begins a round trip: nothing measured yet for its connection.
func (tm *timer) getConn(string) {
	tm.mu.Lock()
	tm.dialStart, tm.tlsStart, tm.pendDial, tm.pendTLS = time.Time{}, time.Time{}, 0, 0
	tm.mu.Unlock()
}

// startDial notes the first of name lookup and connect (several connects
// may race for one connection).
func (tm *timer) startDial() {
	now := time.Now()
	tm.mu.Lock()
	if tm.dialStart.IsZero() {
		tm.dialStart = now
	}
	tm.mu.Unlock()
}

func (tm *timer) connectDone(_, _ string, err error) {
	now := time.Now()
	tm.mu.Lock()
	if err == nil && !tm.dialStart.IsZero() {
		tm.pendDial = now.Sub(tm.dialStart)
	}
	tm.mu.Unlock()
}

func (tm *timer) tlsStartHook() {
	now := time.Now()
	tm.mu.Lock()
	tm.tlsStart = now
	tm.mu.Unlock()
}

func (tm *timer) tlsDone(tls.ConnectionState, error) {
	now := time.Now()
	tm.mu.Lock()
	if !tm.tlsStart.IsZero() {
		tm.pendTLS = now.Sub(tm.tlsStart)
	}
	tm.mu.Unlock()
}

// gotConn counts the connection's setup, unless it was reused (then any
// dial measured belongs to a connection this request did not wait for).
func (tm *timer) gotConn(info httptrace.GotConnInfo) {
	tm.mu.Lock()
	if !info.Reused {
		tm.connect += tm.pendDial
		tm.handshake += tm.pendTLS
	}
	tm.dialStart, tm.tlsStart, tm.pendDial, tm.pendTLS = time.Time{}, time.Time{}, 0, 0
	tm.mu.Unlock()
}

func (tm *timer) gotFirstByte() {
	d := time.Since(tm.start)
	tm.mu.Lock()
	tm.firstByte = d
	tm.mu.Unlock()
}

// timing is the split so far; Total runs to now.
func (tm *timer) timing() Timing {
	total := time.Since(tm.start)
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return Timing{Connect: tm.connect, TLS: tm.handshake, FirstByte: tm.firstByte, Total: total}
}

// maxDrain is how much of a body past MaxResponseBody is read and thrown
// away so that the connection can serve the next attempt; past that (or
// when the length is unknown) the connection is closed instead.
const maxDrain = 256 << 10

// readResponse keeps at most MaxResponseBody bytes of resp's body and
// discards the rest without reading it all: the rest is drained when the
// server declared it and it is at most maxDrain bytes, otherwise the
// connection is closed. A body cut short is an error, with the part that
// arrived returned.
func readResponse(resp *http.Response) (body []byte, err error) {
	defer resp.Body.Close()
	if resp.Body == http.NoBody {
		return nil, nil // HEAD, 204, 304
	}
	size := 512
	if cl := resp.ContentLength; cl >= 0 {
		size = int(min(cl, MaxResponseBody))
	}
	body = make([]byte, 0, size)
	for len(body) < MaxResponseBody {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)] // grow
		}
		n, rerr := resp.Body.Read(body[len(body):min(cap(body), MaxResponseBody)])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			return body, nil
		}
		if rerr != nil {
			return body, bodyError(rerr, len(body), resp.ContentLength)
		}
	}
	if rest := resp.ContentLength - MaxResponseBody; rest > 0 && rest <= maxDrain {
		_, _ = io.CopyN(io.Discard, resp.Body, rest)
	}
	return body, nil
}

func bodyError(err error, n int, length int64) error {
	of := ""
	if length >= 0 {
		of = fmt.Sprintf(" of %d", length)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the server closed the connection after %d%s bytes of the body: %w", n, of, err)
	}
	return fmt.Errorf("after %d%s bytes of the body: %w", n, of, err)
}
