package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/buttonhook/buttonhook/actions"
)

// The guards every request to the local server passes: a Host allow-list
// (against DNS rebinding), headers that keep browsers from doing anything
// with a response, a slow-down for clients that keep sending wrong keys or
// tokens, and a request log with nothing secret in it.

// hostGuard is the set of host names a request's Host header may name.
type hostGuard map[string]bool

// newHostGuard allows the loopback names, and extra (the public URL's host,
// and the machine's names and addresses when the server listens on the LAN).
func newHostGuard(extra ...string) hostGuard {
	g := hostGuard{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, h := range extra {
		if h = normalHost(h); h != "" {
			g[h] = true
		}
	}
	return g
}

// normalHost strips a Host header's port, IPv6 brackets and trailing dot,
// and lowers its case.
func normalHost(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

func (g hostGuard) allows(hostport string) bool { return hostport != "" && g[normalHost(hostport)] }

// lanHostNames is what the host guard should allow beside the loopback names
// when the server listens on the LAN: the machine's name, its mDNS name and
// every address of its interfaces.
func lanHostNames() []string {
	var names []string
	if h, err := os.Hostname(); err == nil && h != "" {
		names = append(names, h, h+".local")
	}
	return append(names, lanAddrs()...)
}

// lanAddr is the address other machines most likely reach this one at:
// that of the interface the default route goes through (found by
// connecting a UDP socket, which sends nothing), else the first LAN
// address, else 127.0.0.1.
func lanAddr() string {
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil { // TEST-NET-1: never reached
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsLoopback() {
			return a.IP.String()
		}
	}
	if addrs := lanAddrs(); len(addrs) > 0 {
		return addrs[0]
	}
	return "127.0.0.1"
}

// lanAddrs lists the machine's interface addresses, IPv4 first.
func lanAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v4, v6 []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() {
			continue
		}
		if ipn.IP.To4() != nil {
			v4 = append(v4, ipn.IP.String())
		} else if !ipn.IP.IsLinkLocalUnicast() {
			v6 = append(v6, ipn.IP.String())
		}
	}
	return append(v4, v6...)
}

// limiter slows down a client that keeps failing: after freeFailures wrong
// keys or tokens within failureWindow, it must wait before each next try,
// twice as long each time, up to maxBackoff. A success forgets its failures.
type limiter struct {
	mu  sync.Mutex
	m   map[string]*strikes // by client address
	now func() time.Time
}

type strikes struct {
	n     int
	last  time.Time
	until time.Time
}

const (
	freeFailures  = 5
	failureWindow = 10 * time.Minute
	maxBackoff    = time.Minute
	// maxClients bounds the limiter's memory: past it, clients whose
	// failures are older than failureWindow are forgotten, then the oldest.
	maxClients = 10_000
)

func newLimiter() *limiter { return &limiter{m: map[string]*strikes{}, now: time.Now} }

// wait is how long the client at addr must still wait; 0 lets it try.
func (l *limiter) wait(addr string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.m[addr]
	if s == nil {
		return 0
	}
	return max(0, s.until.Sub(l.now()))
}

// fail counts a wrong key or token from addr.
func (l *limiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s := l.m[addr]
	if s == nil || now.Sub(s.last) > failureWindow {
		if len(l.m) >= maxClients {
			l.prune(now)
		}
		s = &strikes{}
		l.m[addr] = s
	}
	s.n++
	s.last = now
	if over := s.n - freeFailures; over > 0 {
		s.until = now.Add(min(maxBackoff, time.Second<<min(over-1, 6)))
	}
}

// succeed forgets addr's failures.
func (l *limiter) succeed(addr string) {
	l.mu.Lock()
	delete(l.m, addr)
	l.mu.Unlock()
}

// prune drops stale clients, or else the one that failed longest ago.
func (l *limiter) prune(now time.Time) {
	var oldest string
	for a, s := range l.m {
		if now.Sub(s.last) > failureWindow {
			delete(l.m, a)
		} else if oldest == "" || s.last.Before(l.m[oldest].last) {
			oldest = a
		}
	}
	if len(l.m) >= maxClients {
		delete(l.m, oldest)
	}
}

// tooMany answers a client that must wait.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong keys or tokens from this address: try again in %s", wait.Round(time.Second)))
}

// clientAddr is the client's IP address, without its port.
func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// guard wraps the local server's handler: it refuses foreign Host headers,
// sets headers that keep browsers from using a response (there is no CORS:
// no page on another origin may read anything), and logs each request
// with its path redacted.
//
// Requests are handled at most GOMAXPROCS-1 at a time (each after its body
// has arrived), so that however busy the server is, one processor stays
// free for the devices and the webhooks: a press never waits behind it.
//
// And a press comes first: while one is on its way to its requests
// (pressesIdle, when not nil, is then open), a request waits for it, up to
// maxYield, before it takes a slot.
func guard(h http.Handler, hosts hostGuard, log *slog.Logger, pressesIdle func() <-chan struct{}) http.Handler {
	slots := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		switch {
		case !hosts.allows(r.Host):
			writeError(sw, http.StatusMisdirectedRequest, fmt.Sprintf("this Buttonhook server does not answer to host %q: use its own address, or set server.public_url to the address callbacks arrive at", r.Host))
		case fromWebPage(r, hosts):
			writeError(sw, http.StatusForbidden, "requests that a web browser sends for another site are refused: callbacks and the API are for servers, not web pages")
		case !bufferBody(sw, r):
		default:
			yieldToPresses(r.Context(), pressesIdle)
			select {
			case slots <- struct{}{}:
				h.ServeHTTP(sw, r)
				<-slots
			case <-r.Context().Done():
			}
		}
		log.Debug("local server request", "method", r.Method, "path", redactPath(r.URL.Path),
			"status", sw.code, "duration", time.Since(start), "client", clientAddr(r))
	})
}

// maxYield is the longest a request waits for presses on their way.
const maxYield = 5 * time.Millisecond

// yieldToPresses waits until no press is on its way to its requests, for
// at most maxYield.
func yieldToPresses(ctx context.Context, pressesIdle func() <-chan struct{}) {
	if pressesIdle == nil {
		return
	}
	idle := pressesIdle()
	select {
	case <-idle:
		return
	default:
	}
	t := time.NewTimer(maxYield)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-ctx.Done():
	}
}

// yieldingListener's connections wait for presses on their way (up to
// maxYield) before each read: while a press is on its way, the server
// neither parses nor decrypts new requests.
type yieldingListener struct {
	net.Listener
	pressesIdle func() <-chan struct{}
}

func (l yieldingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return yieldingConn{Conn: c, pressesIdle: l.pressesIdle}, nil
}

type yieldingConn struct {
	net.Conn
	pressesIdle func() <-chan struct{}
}

func (c yieldingConn) Read(p []byte) (int, error) {
	yieldToPresses(context.Background(), c.pressesIdle)
	return c.Conn.Read(p)
}

// maxBody is the most any route reads of a body.
const maxBody = max(MaxInspectBody, actions.MaxCallbackBody, maxAPIBody)

// bufferBody reads the body (up to maxBody and one byte more, so that the
// route's own limit still sees it is too long) before the request takes a
// slot: a client that sends its body slowly holds no slot. It answers 400
// and returns false when the body cannot be read.
func bufferBody(w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body.Close()
	if err != nil {
		writeError(w, http.StatusBadRequest, "read the request body: "+err.Error())
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return true
}

// fromWebPage reports whether a browser sends r on behalf of a page of
// another site: its Sec-Fetch-Site says so, or its Origin is not one of the
// server's own hosts. Webhook senders send neither header.
func fromWebPage(r *http.Request, hosts hostGuard) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !hosts.allows(u.Host)
}

// stripPrefix serves h both under prefix (the public URL's path, which a
// reverse proxy may pass on) and without it.
func stripPrefix(prefix string, h http.Handler) http.Handler {
	if prefix == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok && strings.HasPrefix(rest, "/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = rest, ""
			h.ServeHTTP(w, r2)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// redactPath hides a callback token in a logged path, wherever the path
// puts it (//callback/TOKEN, /bh/callback/TOKEN).
func redactPath(p string) string {
	if i := strings.Index(p, "callback/"); i >= 0 && len(p) > i+len("callback/") {
		return p[:i] + "callback/REDACTED"
	}
	return p
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}
