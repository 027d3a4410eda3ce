package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// TLS is a target's certificate policy. By default certificates are
// verified against the system's roots. At most one of the three is set.
type TLS struct {
	// PinSHA256 accepts exactly the server certificate with this SHA-256
	// fingerprint (hex, colons allowed, any case), for self-signed servers.
	// Nothing else about the certificate (issuer, names, dates) is checked.
	PinSHA256 string `json:"pin_sha256,omitempty"`
	// CAPEM trusts these CA certificates (PEM) instead of the system's.
	CAPEM string `json:"ca_pem,omitempty"`
	// Insecure skips verification (bt.tn's option): encrypted, not
	// authenticated. Validation warns about it.
	Insecure bool `json:"insecure,omitempty"`
}

// Connection limits of one attempt; the attempt's own deadline (Target.Deadline)
// cuts both shorter.
const (
	ConnectTimeout   = 5 * time.Second // name lookup and TCP connect
	HandshakeTimeout = 5 * time.Second // TLS handshake
	// MaxRedirects is how many redirects a target with Follow takes.
	MaxRedirects = 5
)

func (t TLS) validate(rawURL string, add adder) {
	set := 0
	if t.PinSHA256 != "" {
		set++
		if _, err := parsePin(t.PinSHA256); err != nil {
			add("tls.pin_sha256", "%v", err)
		}
	}
	if t.CAPEM != "" {
		set++
		if _, err := parseCAs(t.CAPEM); err != nil {
			add("tls.ca_pem", "%v", err)
		}
	}
	if t.Insecure {
		set++
	}
	if set > 1 {
		add("tls", "choose one of a pinned fingerprint, a CA certificate or skipping verification")
	}
	if set > 0 && strings.HasPrefix(strings.ToLower(strings.TrimSpace(rawURL)), "http://") {
		add("tls", "applies only to https:// URLs: use https:// or remove the TLS options")
	}
}

// warnings lists what is allowed but unsafe in t, as "field: message".
func (t TLS) warnings() []string {
	if t.Insecure {
		return []string{"tls.insecure: the server's identity is not checked: anyone on the network path can read and change the requests, secrets included; pin the server's certificate instead"}
	}
	return nil
}

// parsePin reads a SHA-256 fingerprint written in hex, with or without
// colons (or spaces), in any case.
func parsePin(s string) ([]byte, error) {
	h := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s))
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("is not a SHA-256 fingerprint: write 64 hex digits, colons allowed (AB:CD:…)")
	}
	return b, nil
}

// parseCAs reads PEM CA certificates; it needs at least one.
func parseCAs(s string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	rest := []byte(s)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d cannot be read: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("holds no PEM certificate: paste the CA's certificate, starting with -----BEGIN CERTIFICATE-----")
	}
	return pool, nil
}

// Fingerprint is the SHA-256 fingerprint of a DER certificate, written as
// colon-separated upper-case hex pairs (AB:CD:…), as browsers and
// `openssl x509 -fingerprint -sha256` show it.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hexPairs(sum[:])
}

// hexPairs writes b as AB:CD:….
func hexPairs(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i > 0 {
			s.WriteByte(':')
		}
		fmt.Fprintf(&s, "%02X", c)
	}
	return s.String()
}

// FetchFingerprint connects to rawURL's host (https, default port 443),
// completes a TLS handshake without verifying anything and without sending
// an HTTP request, and returns the presented leaf certificate's fingerprint
// and subject, so that an editor can offer to pin it. It connects directly,
// not through a proxy; rawURL has its tags filled in.
func FetchFingerprint(ctx context.Context, rawURL string) (fingerprint string, subject string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", fmt.Errorf("fetch certificate: the URL is not valid: %v", errors.Unwrap(err))
	}
	if u.Scheme != "https" || u.Hostname() == "" {
		return "", "", errors.New("fetch certificate: the URL must start with https:// and name a host")
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout+HandshakeTimeout)
	defer cancel()
	conn, err := (&net.Dialer{Timeout: ConnectTimeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", "", fmt.Errorf("fetch certificate: cannot connect: %w", err)
	}
	tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	defer tc.Close()
	hctx, hcancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer hcancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return "", "", fmt.Errorf("fetch certificate: TLS handshake with %s failed: %w", addr, explainHandshake(err))
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", "", fmt.Errorf("fetch certificate: %s presented no certificate", addr)
	}
	return Fingerprint(certs[0].Raw), certName(certs[0]), nil
}

// certName names a certificate for a person: its subject, or its DNS
// names when the subject is empty.
func certName(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}

// config makes the client TLS configuration for a policy.
func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Resumption saves a round trip when a connection is opened again;
		// pinning is checked on resumed connections too (VerifyConnection).
		ClientSessionCache: tls.NewLRUClientSessionCache(32),
	}
	switch {
	case t.PinSHA256 != "":
		pin, err := parsePin(t.PinSHA256)
		if err != nil {
			return nil, fmt.Errorf("tls.pin_sha256: %v", err)
		}
		cfg.InsecureSkipVerify = true // replaced by the pin check below
		cfg.VerifyConnection = verifyPin(pin)
	case t.CAPEM != "":
		pool, err := parseCAs(t.CAPEM)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_pem: %v", err)
		}
		cfg.RootCAs = pool
	case t.Insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// verifyPin accepts a connection only when the server's leaf certificate
// has the pinned SHA-256 fingerprint. VerifyConnection (unlike
// VerifyPeerCertificate) also runs on resumed sessions, where it sees the
// certificates of the session being resumed.
func verifyPin(pin []byte) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return &tls.CertificateVerificationError{Err: errors.New("the server presented no certificate")}
		}
		leaf := cs.PeerCertificates[0]
		sum := sha256.Sum256(leaf.Raw)
		if subtle.ConstantTimeCompare(sum[:], pin) == 1 {
			return nil
		}
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: &pinMismatchError{
			got: Fingerprint(leaf.Raw), want: hexPairs(pin)}}
	}
}

// pinMismatchError says which certificate the server presented instead of
// the pinned one (both fingerprints are public).
type pinMismatchError struct{ got, want string }

func (e *pinMismatchError) Error() string {
	return fmt.Sprintf("the server presented the certificate %s, but the target is pinned to %s: if the server's certificate was renewed, pin the new one", e.got, e.want)
}

// untrustedError is an x509 verification error with what to do about it.
type untrustedError struct {
	err  error
	hint string
}

func (e *untrustedError) Error() string { return e.err.Error() + " — " + e.hint }
func (e *untrustedError) Unwrap() error { return e.err }

// explainHandshake adds what to do to a TLS handshake error. A certificate
// that is not trusted stays a *tls.CertificateVerificationError whose Err
// names the presented certificate's fingerprint (public information) so
// that it can be pinned.
func explainHandshake(err error) error {
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		var pe *pinMismatchError
		var ue *untrustedError
		if errors.As(ce.Err, &pe) || errors.As(ce.Err, &ue) || len(ce.UnverifiedCertificates) == 0 {
			return err
		}
		leaf := ce.UnverifiedCertificates[0]
		fp := Fingerprint(leaf.Raw)
		var hint string
		var ua x509.UnknownAuthorityError
		var he x509.HostnameError
		var ie x509.CertificateInvalidError
		switch {
		case errors.As(ce.Err, &ua) && bytes.Equal(leaf.RawIssuer, leaf.RawSubject):
			hint = fmt.Sprintf("the server uses a self-signed certificate: pin its fingerprint %s or add its CA", fp)
		case errors.As(ce.Err, &ua):
			hint = fmt.Sprintf("the server's certificate is issued by %q, which this computer does not trust: add that CA's certificate, or pin the fingerprint %s", leaf.Issuer.String(), fp)
		case errors.As(ce.Err, &he):
			hint = fmt.Sprintf("use a URL with one of the certificate's names, or pin its fingerprint %s", fp)
		case errors.As(ce.Err, &ie) && ie.Reason == x509.Expired:
			hint = fmt.Sprintf("the certificate is outside its validity dates (also check this computer's clock): renew it on the server, or pin its fingerprint %s", fp)
		default:
			hint = fmt.Sprintf("the server presented the certificate %s", fp)
		}
		return &tls.CertificateVerificationError{UnverifiedCertificates: ce.UnverifiedCertificates, Err: &untrustedError{ce.Err, hint}}
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return fmt.Errorf("the server does not speak TLS on this port (is the URL http://?): %w", err)
	}
	if strings.Contains(err.Error(), "unsupported protocol version") || strings.Contains(err.Error(), "protocol version not supported") {
		return fmt.Errorf("the server offers only TLS older than 1.2, which Buttonhook refuses: %w", err)
	}
	if err.Error() == "net/http: TLS handshake timeout" {
		return fmt.Errorf("the TLS handshake did not finish within %s: %w", HandshakeTimeout, err)
	}
	return err
}

// transports keeps one client per TLS and redirect policy, and one
// connection pool per TLS policy, so connections are reused across
// attempts. Safe for concurrent use.
type transports struct {
	connectTimeout, handshakeTimeout time.Duration // tests shorten them

	mu      sync.Mutex
	seq     uint64                // use counter, for evicting the least recently used pool
	pools   map[TLS]*pool         // by normalized TLS policy
	clients map[clientKey]*client // by TLS and redirect policy
}

// maxPools bounds the pools kept: policies that stopped being used (a pin
// replaced by a newer one) are dropped with their idle connections.
const maxPools = 64

type pool struct {
	rt   *noReplay
	used uint64
}

type clientKey struct {
	tls    TLS
	follow bool
	secret string // the auth's secret header names, when following redirects
}

type client struct {
	c    *http.Client
	pool *pool
}

func newTransports() *transports {
	return &transports{
		connectTimeout:   ConnectTimeout,
		handshakeTimeout: HandshakeTimeout,
		pools:            map[TLS]*pool{},
		clients:          map[clientKey]*client{},
	}
}

// client returns the client for t's TLS and redirect policy.
func (ts *transports) client(t Target) (*http.Client, error) {
	key := clientKey{tls: t.TLS, follow: t.Follow}
	if key.tls.PinSHA256 != "" {
		pin, err := parsePin(key.tls.PinSHA256)
		if err != nil {
			return nil, fmt.Errorf("tls.pin_sha256: %v", err)
		}
		key.tls.PinSHA256 = hex.EncodeToString(pin)
	}
	var secret []string
	if t.Follow {
		secret = t.Auth.secretHeaders()
		key.secret = strings.Join(secret, "\n")
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.seq++
	if c, ok := ts.clients[key]; ok {
		c.pool.used = ts.seq
		return c.c, nil
	}
	p, ok := ts.pools[key.tls]
	if !ok {
		rt, err := ts.newNoReplay(key.tls)
		if err != nil {
			return nil, err
		}
		p = &pool{rt: rt, used: ts.seq}
		ts.pools[key.tls] = p
		ts.evictLocked()
	}
	p.used = ts.seq
	c := &client{pool: p, c: &http.Client{Transport: p.rt, CheckRedirect: noRedirects}}
	if t.Follow {
		c.c.CheckRedirect = followRedirects(secret)
	}
	ts.clients[key] = c
	return c.c, nil
}

// evictLocked drops the least recently used pools past maxPools.
func (ts *transports) evictLocked() {
	for len(ts.pools) > maxPools {
		var oldest TLS
		least := ^uint64(0)
		for k, p := range ts.pools {
			if p.used < least {
				oldest, least = k, p.used
			}
		}
		p := ts.pools[oldest]
		delete(ts.pools, oldest)
		for k, c := range ts.clients {
			if c.pool == p {
				delete(ts.clients, k)
			}
		}
		p.rt.closeIdle() // attempts in flight on it still finish
	}
}

// close releases idle connections.
func (ts *transports) close() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, p := range ts.pools {
		p.rt.closeIdle()
	}
}

func (ts *transports) newNoReplay(policy TLS) (*noReplay, error) {
	cfg, err := policy.config()
	if err != nil {
		return nil, err
	}
	mk := func(keepAlive bool) *http.Transport {
		tr := &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: ts.connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:        cfg,
			TLSHandshakeTimeout:    ts.handshakeTimeout,
			DisableKeepAlives:      !keepAlive,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        90 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
			// HTTP/1.1 only: one request at a time gains nothing from
			// HTTP/2, and keeping one protocol keeps the no-replay
			// guarantee on the one retry path examined (see noReplay).
			Protocols: new(http.Protocols),
		}
		tr.Protocols.SetHTTP1(true)
		return tr
	}
	return &noReplay{keep: mk(true), fresh: mk(false)}, nil
}

// noReplay makes sure a request reaches the server at most once per
// attempt while keeping connections alive.
//
// net/http's Transport re-sends a request by itself when a reused
// keep-alive connection breaks after the request was written, if the
// request is "replayable": GET, HEAD, OPTIONS or TRACE, or any method with
// an Idempotency-Key or X-Idempotency-Key header, and in both cases no
// body or a body with GetBody (transport.go: shouldRetryRequest,
// isReplayable). The Transport documents the rule: it "only retries ... if
// the request is idempotent and either has no body or has its
// Request.GetBody defined". So each request goes to the Transport as a
// shallow copy that has a body and no GetBody:
//
//   - with a body: GetBody is removed (the Client keeps its own for
//     307/308 redirects);
//   - without a body, when Go would replay it, and the method is one for
//     which net/http probes an unknown-length body and, finding it empty,
//     writes exactly what it writes for no body (GET, HEAD, DELETE,
//     OPTIONS): an empty body of unknown length. The bytes on the wire are
//     unchanged (TestNoReplayKeepsTheWire);
//   - otherwise (POST, PUT, PATCH without a body but with an idempotency
//     key): a connection of its own, never reused, so never retried.
//
// The one retry this gives up is after "nothing was written" on a stale
// connection, which was safe; such a failure is now an attempt's failure,
// and the target's retry policy decides.
type noReplay struct {
	keep  *http.Transport // keep-alive
	fresh *http.Transport // a new connection per request
}

func (n *noReplay) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := n.keep
	r := *req // RoundTrip must not change req
	switch {
	case req.Body != nil && req.Body != http.NoBody:
		r.GetBody = nil
	case !goReplays(req):
	case req.Method == "" || req.Method == http.MethodGet || req.Method == http.MethodHead ||
		req.Method == http.MethodDelete || req.Method == http.MethodOptions:
		r.Body, r.ContentLength = emptyBody{}, 0
	default:
		rt = n.fresh
	}
	resp, err := rt.RoundTrip(&r)
	if err != nil {
		return nil, explainRoundTrip(err)
	}
	return resp, nil
}

func (n *noReplay) closeIdle() {
	n.keep.CloseIdleConnections()
	n.fresh.CloseIdleConnections()
}

// goReplays reports whether net/http would consider req replayable
// (Request.isReplayable), erring on the side of yes.
func goReplays(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	for k := range req.Header {
		if strings.EqualFold(k, "Idempotency-Key") || strings.EqualFold(k, "X-Idempotency-Key") {
			return true
		}
	}
	return false
}

// emptyBody is a body of unknown length that turns out empty.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// errServerClosed is wrapped when the server closed a connection after the
// request was sent and before any answer: the server may have acted on it.
var errServerClosed = errors.New("the server closed the connection without answering")

// explainRoundTrip makes transport errors say what happened.
func explainRoundTrip(err error) error {
	if err.Error() == "http: server closed idle connection" || errors.Is(err, io.EOF) {
		// A reused connection closed after our request went out.
		return fmt.Errorf("%w: the request was sent and may have been received, so it was not sent again (%w)", errServerClosed, io.ErrUnexpectedEOF)
	}
	return explainHandshake(err)
}

// noRedirects returns a 3xx as the response: the success rule calls it a
// failure (the Standard Webhooks rule).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// followRedirects follows up to MaxRedirects redirects. It refuses a
// redirect from https to http (the request and its secrets would travel in
// clear), and once any hop leaves the first request's origin (scheme, host
// and port), it drops every secret-carrying header from that hop on: the
// auth's own (secret), and any header secretHeader names. net/http alone
// keeps everything for another port on the same host and forwards custom
// headers (X-Api-Key) to any host.
func followRedirects(secret []string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("too many redirects: stopped after %d", MaxRedirects)
		}
		if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect from https to %s: it would send the request unencrypted", req.URL.Scheme)
		}
		// The Client copies the first request's headers into every hop, so
		// the check runs over the whole chain each time.
		first := origin(via[0].URL)
		crossed := origin(req.URL) != first
		for _, r := range via[1:] {
			crossed = crossed || origin(r.URL) != first
		}
		if via[0].Header.Get("Referer") == "" {
			req.Header.Del("Referer") // the Client adds the previous URL, which may hold a secret
		}
		if crossed {
			for k := range req.Header {
				if secretHeader(k) || slices.ContainsFunc(secret, func(s string) bool { return strings.EqualFold(s, k) }) {
					req.Header.Del(k)
				}
			}
		}
		return nil
	}
}

// origin is a URL's scheme, host and port, with the scheme's default port
// written out.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// secretWords mark a header name that probably carries a secret. Dropping a
// harmless header on a cross-origin redirect is the safe mistake.
var secretWords = []string{"auth", "token", "key", "secret", "signature", "session", "password", "passwd", "credential", "cookie", "callback"}

// secretHeader reports whether a header, by its name, probably carries a
// secret: Authorization, Proxy-Authorization, Cookie, and any name that
// contains one of secretWords (X-Api-Key, X-Auth-Token, Private-Token,
// X-Hub-Signature, webhook-signature, X-Buttonhook-Callback), except the
// idempotency keys, which are not secret and matter more after a redirect.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "idempotency-key" || n == "x-idempotency-key" {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
