package actions

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Connection limits of one attempt; the attempt's own deadline (Target.Deadline)
// cuts both shorter.
const (
	ConnectTimeout   = 5 * time.Second // name lookup and TCP connect
	HandshakeTimeout = 5 * time.Second // TLS handshake
)

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
