package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/storage"
)

// Async targets (bt.tn's asynchronous mode): the request carries a
// single-use callback URL; the attempt stays Waiting, its LED yellow, until
// the callback arrives on the local server or the target's async timeout
// passes. See docs/targets.md.

// ErrNoCallbackServer fails an async attempt when nothing can receive its
// callback.
var ErrNoCallbackServer = errors.New("this target waits for a callback, but Buttonhook's local server is not running: see why with `buttonhook server` (or in Settings), fix it, or turn async off for this target")

// Callbacks is the registry the local server completes async attempts in.
func (e *Engine) Callbacks() *actions.Callbacks { return e.callbacks }

// SetCallbackBase sets the base URL callbacks are addressed to (the local
// server's address, or the public URL in front of it); "" when no server
// runs. Attempts started afterwards use it.
func (e *Engine) SetCallbackBase(base string) {
	base = strings.TrimRight(base, "/")
	e.callbackBase.Store(&base)
}

func (e *Engine) callbackBaseURL() string {
	if b := e.callbackBase.Load(); b != nil {
		return *b
	}
	return ""
}

// callback is an async attempt's registration: the token to wait for.
type callback struct {
	token string
	wait  time.Duration
}

// registerCallback gives an async target's attempt its callback URL in
// tags. It returns nil for a target that is not async, and an error when
// no server can receive the callback.
func (e *Engine) registerCallback(t actions.Target, attemptID string, tags *actions.Tags) (*callback, error) {
	if !t.Async.Enabled {
		return nil, nil
	}
	base := e.callbackBaseURL()
	if base == "" {
		return nil, ErrNoCallbackServer
	}
	token := e.callbacks.Register(attemptID)
	tags.CallbackURL = base + "/callback/" + token
	return &callback{token: token, wait: t.Async.Wait()}, nil
}

// awaitCallback records an accepted async attempt as Waiting for its
// callback, then waits for it (or the timeout, or ctx) and returns the
// attempt with its final status. The caller records it.
func (p *presser) awaitCallback(ctx context.Context, a storage.Attempt, cb *callback) storage.Attempt {
	a.Message = fmt.Sprintf("the server answered %d; waiting up to %s for its callback", a.Code, cb.wait)
	if err := p.e.store.PutAttempt(a); err != nil {
		p.e.log.Warn("cannot log waiting attempt", "id", a.ID, "err", err)
	}
	p.e.bus.publish(Event{Kind: AttemptChanged, Attempt: a})
	r, err := p.e.callbacks.Wait(ctx, cb.token, cb.wait)
	a.Finished = time.Now()
	a.Duration = a.Finished.Sub(a.Time)
	a.Message = r.Message
	switch {
	case err != nil:
		a.Status, a.Error, a.ErrorClass = storage.StatusFailed, err.Error(), storage.ErrorCallback
	case r.OK:
		a.Status = storage.StatusOK
	default:
		a.Status, a.Error, a.ErrorClass = storage.StatusFailed, "the callback reported failure", storage.ErrorCallback
		if r.Message != "" {
			a.Error += ": " + r.Message
		}
	}
	return a
}
