package actions

// Async is bt.tn's asynchronous mode: the server answers at once and reports
// the result later on a single-use callback URL (see docs/targets.md).
type Async struct {
	Enabled bool    `json:"enabled,omitempty"`
	Timeout Seconds `json:"timeout,omitempty"` // default 60
}

func (a Async) validate(add adder) {}

// Retry retries an attempt that failed on the network, with a 5xx or with
// 429; off by default (fail fast).
type Retry struct {
	MaxTries int `json:"max_tries,omitempty"` // 0 or 1: no retries; at most 10
}

func (r Retry) validate(add adder) {}

// Signing signs each request with a Standard Webhooks signature.
type Signing struct {
	Secret SecretRef `json:"secret,omitempty"` // a whsec_ secret
}

func (s Signing) validate(add adder) {}
