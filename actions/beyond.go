package actions

import (
	"strings"
	"time"
)

// Async is bt.tn's asynchronous mode: the server answers at once and reports
// the result later on a single-use callback URL (see docs/targets.md).
type Async struct {
	Enabled bool    `json:"enabled,omitempty"`
	Timeout Seconds `json:"timeout,omitempty"` // default 60
}

func (a Async) validate(add adder) {
	if a.Timeout != 0 && (a.Timeout < 1 || a.Timeout > 24*3600) {
		add("async.timeout", "must be between 1 second and 24 hours")
	}
}

// Wait is how long an async attempt waits for its callback.
func (a Async) Wait() time.Duration {
	if a.Timeout == 0 {
		return DefaultAsyncTimeout
	}
	return a.Timeout.Duration()
}

// Retry retries an attempt that failed on the network, with a 5xx or with
// 429; off by default (fail fast).
type Retry struct {
	MaxTries int `json:"max_tries,omitempty"` // 0 or 1: no retries; at most 10
}

func (r Retry) validate(add adder) {
	if r.MaxTries < 0 || r.MaxTries > MaxTries {
		add("retry.max_tries", "must be between 1 and %d (0 or 1: no retries)", MaxTries)
	}
}

// Signing signs each request with a Standard Webhooks signature.
type Signing struct {
	Secret SecretRef `json:"secret,omitempty"` // a whsec_ secret
}

func (s Signing) validate(add adder) {
	if s.Secret != "" && !validRef(s.Secret) {
		add("signing.secret", notARef)
	}
}

// validRef reports whether ref has the form of a secret reference.
func validRef(ref SecretRef) bool {
	scheme, name, found := strings.Cut(string(ref), ":")
	if !found { // a bare word may be a pasted secret: it would be saved and exported
		return false
	}
	return (scheme == "keyring" || scheme == "env") && name != "" && !strings.ContainsAny(name, " \t\r\n")
}
