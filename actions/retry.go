package actions

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Retry limits.
const (
	MaxTries        = 10
	retryBase       = 500 * time.Millisecond
	retryCap        = 30 * time.Second
	maxRetryAfter   = 120 * time.Second
	defaultMaxTries = 1
)

// retryable reports whether a failed try may be tried again: a network
// error, a timeout, a 5xx or a 429. Anything the server understood and
// refused (4xx), a TLS problem, a missing secret or a bad request is final.
func retryable(r Result) bool {
	if r.OK {
		return false
	}
	if r.Code == http.StatusTooManyRequests || r.Code >= 500 {
		return true
	}
	if r.Code != 0 || r.Err == nil || errors.Is(r.Err, ErrSecretMissing) {
		return false
	}
	var oe *net.OpError
	return errors.Is(r.Err, ErrTimeout) || errors.As(r.Err, &oe) || errors.Is(r.Err, io.EOF) ||
		errors.Is(r.Err, io.ErrUnexpectedEOF) || errors.Is(r.Err, syscall.ECONNRESET) || errors.Is(r.Err, syscall.ECONNREFUSED)
}

// retryDelay is how long to wait before try n+1 (n counts from 1):
// exponential from 0.5 s, capped at 30 s, with jitter in [d/2, d]; a 429 or
// 503 with Retry-After waits what the server asked, up to 2 minutes (past
// that, ok is false: give up).
func retryDelay(n int, r Result) (d time.Duration, ok bool) {
	if ra := r.Header.Get("Retry-After"); ra != "" && (r.Code == http.StatusTooManyRequests || r.Code == http.StatusServiceUnavailable) {
		if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
			d = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(ra); err == nil {
			d = max(time.Until(at), 0)
		}
		if d > maxRetryAfter {
			return 0, false
		}
		if d > 0 {
			return d, true
		}
	}
	d = min(retryBase<<min(n-1, 16), retryCap)
	return d/2 + rand.N(d/2+1), true
}

// TryFunc is told of each try that will be tried again: its number (from
// 1), its result, and the wait before the next.
type TryFunc func(n int, r Result, wait time.Duration)

// SendWithRetries runs an attempt of t: one try, or up to t.Retry.MaxTries
// tries while they fail in a retryable way. Every try carries the same tags
// (so the same trigger id). onTry (may be nil) hears of each try that is
// retried; the last try's result is returned, with Tries set.
func (s *Sender) SendWithRetries(ctx context.Context, t Target, tags Tags, onTry TryFunc) Result {
	tries := max(t.Retry.MaxTries, defaultMaxTries)
	for n := 1; ; n++ {
		r := s.Send(ctx, t, tags)
		r.Tries = n
		if n >= tries || !retryable(r) || ctx.Err() != nil {
			return r
		}
		wait, ok := retryDelay(n, r)
		if !ok {
			return r
		}
		if onTry != nil {
			onTry(n, r, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return r
		case <-timer.C:
		}
	}
}
