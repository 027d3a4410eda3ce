package actions

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultAsyncTimeout is how long an async attempt waits for its callback.
const DefaultAsyncTimeout = 60 * time.Second

// MaxCallbackBody bounds a callback's body.
const MaxCallbackBody = 64 << 10

// Callback errors, for the local server to map to HTTP statuses.
var (
	ErrCallbackUnknown = errors.New("no attempt is waiting for this callback (wrong or expired token)") // 404
	ErrCallbackUsed    = errors.New("this callback was already used")                                   // 410
	ErrCallbackTimeout = errors.New("no callback")                                                      // the attempt failed
	// ErrCallbackExpired: the token is right, but its attempt stopped
	// waiting (timed out). It is an ErrCallbackUnknown too (404).
	ErrCallbackExpired = fmt.Errorf("%w: its attempt stopped waiting", ErrCallbackUnknown)
)

// CallbackResult is what the server reported on the callback URL.
type CallbackResult struct {
	OK      bool
	Message string
	At      time.Time
}

// ParseCallback reads a callback request as docs/targets.md defines it:
// query parameters status and message, and a body that may set them too —
// a JSON object {"status": "ok"|"failed", "message": "..."} (read as JSON
// whatever its Content-Type, when it starts with "{"), or form fields.
// Fields present in the body override the query's. No status anywhere
// means OK: the call itself reports success. Any other body is refused, so
// that a failure report is never mistaken for a success.
func ParseCallback(contentType string, query url.Values, body []byte) (CallbackResult, error) {
	if len(body) > MaxCallbackBody {
		return CallbackResult{}, fmt.Errorf("callback body is larger than %d bytes", MaxCallbackBody)
	}
	status, message := query.Get("status"), query.Get("message")
	mt, _, _ := mime.ParseMediaType(contentType)
	text := strings.TrimSpace(string(body))
	switch {
	case text == "":
	case mt == "application/json" || strings.HasPrefix(text, "{"):
		var v struct {
			Status  *string `json:"status"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			return CallbackResult{}, fmt.Errorf(`callback body is not the JSON object {"status": ..., "message": ...}: %v`, err)
		}
		if v.Status != nil {
			status = *v.Status
		}
		if v.Message != nil {
			message = *v.Message
		}
	default:
		f, err := url.ParseQuery(text)
		if err != nil || !f.Has("status") && !f.Has("message") {
			return CallbackResult{}, errors.New(`callback body is neither JSON {"status": "ok"|"failed", "message": ...} nor form fields status=...&message=...`)
		}
		if f.Has("status") {
			status = f.Get("status")
		}
		if f.Has("message") {
			message = f.Get("message")
		}
	}
	r := CallbackResult{Message: message, At: time.Now()}
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "", "ok", "success", "succeeded", "done":
		r.OK = true
	case "failed", "failure", "error":
	default:
		return CallbackResult{}, fmt.Errorf("callback status %q is not ok or failed", status)
	}
	return r, nil
}

// Callbacks is the registry of attempts waiting for their async callback.
// A token is an id, which finds the entry, and a 128-bit secret, compared in
// constant time; each token works once. Safe for concurrent use.
type Callbacks struct {
	mu      sync.Mutex
	pending map[string]*pendingCallback // by id
}

type pendingCallback struct {
	secret  []byte
	attempt string
	done    chan CallbackResult // buffered 1: the result, once
	used    bool
	expired bool // its attempt stopped waiting
}

// NewCallbacks returns an empty registry.
func NewCallbacks() *Callbacks { return &Callbacks{pending: map[string]*pendingCallback{}} }

// Register makes a single-use callback token for an attempt. The caller must
// Wait for it (or Cancel it): that is what forgets it.
func (c *Callbacks) Register(attemptID string) (token string) {
	var id [8]byte
	secret := make([]byte, 16)
	rand.Read(id[:])
	rand.Read(secret)
	token = hex.EncodeToString(id[:]) + hex.EncodeToString(secret)
	c.mu.Lock()
	c.pending[hex.EncodeToString(id[:])] = &pendingCallback{secret: secret, attempt: attemptID, done: make(chan CallbackResult, 1)}
	c.mu.Unlock()
	return token
}

// split parses a token into its id and secret.
func splitToken(token string) (id string, secret []byte, ok bool) {
	if len(token) != 48 {
		return "", nil, false
	}
	secret, err := hex.DecodeString(token[16:])
	if err != nil {
		return "", nil, false
	}
	return token[:16], secret, true
}

// Complete delivers a callback. It returns the attempt's ID, or
// ErrCallbackUnknown for a wrong or expired token and ErrCallbackUsed for
// a token used before.
func (c *Callbacks) Complete(token string, r CallbackResult) (attemptID string, err error) {
	id, secret, ok := splitToken(token)
	if !ok {
		return "", ErrCallbackUnknown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[id]
	if p == nil || subtle.ConstantTimeCompare(p.secret, secret) != 1 {
		return "", ErrCallbackUnknown
	}
	if p.expired {
		return "", ErrCallbackExpired
	}
	if p.used {
		return "", ErrCallbackUsed
	}
	p.used = true
	p.done <- r
	return p.attempt, nil
}

// Wait waits for the token's callback for at most timeout (or until ctx is
// done). After the callback the token is used up: a second call gets
// ErrCallbackUsed for a while (usedTokenMemory), then ErrCallbackUnknown.
// After the timeout the token has expired: a late callback gets
// ErrCallbackExpired (an ErrCallbackUnknown) for a while, then
// ErrCallbackUnknown.
func (c *Callbacks) Wait(ctx context.Context, token string, timeout time.Duration) (CallbackResult, error) {
	id, _, _ := splitToken(token)
	c.mu.Lock()
	p := c.pending[id]
	c.mu.Unlock()
	if p == nil {
		return CallbackResult{}, ErrCallbackUnknown
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-p.done:
		c.forgetLater(id)
		return r, nil
	case <-t.C:
	case <-ctx.Done():
	}
	c.mu.Lock()
	arrived := p.used // just now: Complete sent the result under the lock
	p.expired = !arrived
	c.mu.Unlock()
	c.forgetLater(id)
	if arrived {
		return <-p.done, nil
	}
	if ctx.Err() != nil {
		return CallbackResult{}, fmt.Errorf("%w: stopped waiting: %v", ErrCallbackTimeout, ctx.Err())
	}
	return CallbackResult{}, fmt.Errorf("%w within %s", ErrCallbackTimeout, timeout)
}

// Cancel forgets a token whose request failed: no callback will come.
func (c *Callbacks) Cancel(token string) {
	id, _, _ := splitToken(token)
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// usedTokenMemory is how long a used or expired token is remembered.
const usedTokenMemory = 10 * time.Minute

func (c *Callbacks) forgetLater(id string) {
	time.AfterFunc(usedTokenMemory, func() { // ends after one call
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	})
}

// Len is how many tokens the registry holds (waiting or recently used).
func (c *Callbacks) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
