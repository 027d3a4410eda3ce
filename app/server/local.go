package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
)

// LocalEngine is what the local server needs of the engine.
type LocalEngine interface {
	Settings() engine.Settings
	// ServerNeeded says why the server must run; "" when nothing needs it.
	ServerNeeded() string
	Subscribe(buf int) (<-chan engine.Event, func())
	Callbacks() *actions.Callbacks
	SetCallbackBase(base string)
	Authorize(key, targetID string) (engine.APIKey, error)
	DynamicURL(targetID string) (engine.DynamicURL, error)
	SetDynamicURL(targetID, rawURL string) (engine.DynamicURL, error)
	ClearDynamicURL(targetID string) error
	// PressesIdle is closed while no press is on its way to its requests.
	PressesIdle() <-chan struct{}
}

// Server states.
const (
	StateOff     = "off"     // nothing needs it
	StateRunning = "running" // listening
	StateFailed  = "failed"  // needed, but it cannot listen: see Error
)

// Status is what the local server is doing, for `buttonhook server` and
// the window.
type Status struct {
	State string `json:"state"`
	// Reason is why it runs (or would): an async or dynamic target, the
	// inspector.
	Reason string `json:"reason,omitempty"`
	// Addr is the address it listens on; URL is the base URL callbacks are
	// addressed to.
	Addr string `json:"addr,omitempty"`
	URL  string `json:"url,omitempty"`
	// Fingerprint is the HTTPS certificate's SHA-256 fingerprint: give it to
	// the other side, which pins it.
	Fingerprint string    `json:"fingerprint,omitempty"`
	Inspector   bool      `json:"inspector"`
	LAN         bool      `json:"lan,omitempty"`
	Error       string    `json:"error,omitempty"`
	Since       time.Time `json:"since"`
}

// Timeouts of the local server's connections.
const (
	readHeaderTimeout = 5 * time.Second
	requestTimeout    = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
	// retryListen is how often a server that cannot listen tries again
	// (the port may be freed), besides after each settings change.
	retryListen = 15 * time.Second
)

// Local is the local HTTP server: async callbacks, the dynamic URL API and
// the request inspector. It runs only while something needs it, and
// follows the server settings as they change.
type Local struct {
	e       LocalEngine
	dataDir string
	log     *slog.Logger
	insp    *Inspector
	inspOn  atomic.Bool
	// callbacks and keys count wrong callback tokens and API keys.
	callbacks, keys *limiter

	mu     sync.Mutex
	status Status
}

// NewLocal returns the local server of the data directory dataDir (which
// holds its HTTPS certificate). It starts nothing: call Run.
func NewLocal(e LocalEngine, dataDir string, log *slog.Logger) *Local {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Local{e: e, dataDir: dataDir, log: log, insp: NewInspector(0),
		callbacks: newLimiter(), keys: newLimiter(),
		status: Status{State: StateOff, Reason: "Buttonhook is starting", Since: time.Now()}}
}

// Inspector is the server's request inspector.
func (l *Local) Inspector() *Inspector { return l.insp }

// InspectorOn says whether the inspector records requests.
func (l *Local) InspectorOn() bool { return l.inspOn.Load() }

// Status says what the server is doing.
func (l *Local) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

func (l *Local) setStatus(s Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.State != l.status.State || s.Addr != l.status.Addr || s.URL != l.status.URL || s.Error != l.status.Error {
		s.Since = time.Now()
	} else {
		s.Since = l.status.Since
	}
	l.status = s
}

// handler is the local server's handler for a server reached at the
// allowed hosts, and under the path prefix of its public URL (requests may
// come with or without it).
func (l *Local) handler(hosts hostGuard, prefix string) http.Handler {
	rt := &routes{e: l.e, insp: l.insp, inspOn: l.inspOn.Load, callbacks: l.callbacks, keys: l.keys}
	return guard(stripPrefix(prefix, rt.handler()), hosts, l.log, l.e.PressesIdle)
}

// want is the listener the settings ask for; a change of it restarts the
// server.
type want struct {
	addr   string
	https  bool
	lan    bool
	public string
}

// Run keeps the server as the settings want it, until ctx is done: it
// listens while something needs it, restarts it when its address changes,
// and tries again every so often while it cannot listen. A server that
// cannot run never stops the rest of the app: its Status says why.
func (l *Local) Run(ctx context.Context) error {
	events, unsubscribe := l.e.Subscribe(16)
	defer unsubscribe()
	var cur *listening
	defer func() {
		if cur != nil {
			cur.stop()
		}
		l.e.SetCallbackBase("")
	}()
	retry := time.NewTimer(retryListen)
	defer retry.Stop()
	for {
		s := l.e.Settings().Server
		l.insp.SetKeep(s.InspectorKeep)
		l.inspOn.Store(s.Inspector)
		reason := l.e.ServerNeeded()
		w := want{addr: listenAddr(s), https: s.HTTPS, lan: s.LAN, public: s.PublicURL}
		if cur != nil && (reason == "" || cur.want != w) {
			cur.stop()
			cur = nil
			l.e.SetCallbackBase("")
		}
		switch {
		case reason == "":
			l.setStatus(Status{State: StateOff, Reason: "nothing needs it: no async or dynamic target, and the inspector is off"})
		case cur == nil:
			var err error
			if cur, err = l.listen(w); err != nil {
				l.log.Warn("local server cannot run", "addr", w.addr, "err", err)
				l.setStatus(Status{State: StateFailed, Reason: reason, Addr: w.addr, Error: err.Error(), Inspector: s.Inspector, LAN: s.LAN})
				retry.Reset(retryListen)
				break
			}
			l.e.SetCallbackBase(cur.base)
			l.log.Info("local server listening", "addr", cur.addr, "url", cur.base, "https", w.https, "fingerprint", cur.fingerprint)
			fallthrough
		default:
			l.setStatus(Status{State: StateRunning, Reason: reason, Addr: cur.addr, URL: cur.base,
				Fingerprint: cur.fingerprint, Inspector: s.Inspector, LAN: s.LAN})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-retry.C:
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Kind != engine.ConfigChanged {
				continue
			}
		}
	}
}

// listenAddr is where the settings ask the server to listen.
func listenAddr(s engine.ServerSettings) string {
	host := "127.0.0.1"
	if s.LAN {
		host = ""
	}
	return net.JoinHostPort(host, strconv.Itoa(s.Port))
}

// listening is a running http.Server.
type listening struct {
	want        want
	addr        string // as bound
	base        string // callback base URL
	fingerprint string
	srv         *http.Server
	done        chan struct{} // closed when Serve returns
}

// listen starts serving w.
func (l *Local) listen(w want) (*listening, error) {
	var names []string
	if w.lan {
		names = lanHostNames()
	}
	var publicHost, prefix string
	if w.public != "" {
		u, err := url.Parse(w.public)
		if err != nil {
			return nil, fmt.Errorf("server.public_url %q is not a URL: %w", w.public, err)
		}
		publicHost, prefix = u.Hostname(), strings.TrimRight(u.Path, "/")
	}
	lis := &listening{want: w, done: make(chan struct{})}
	var tlsConf *tls.Config
	if w.https {
		cert, fp, err := loadOrCreateCert(l.dataDir, names)
		if err != nil {
			return nil, err
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		lis.fingerprint = fp
	}
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		return nil, listenError(w.addr, err)
	}
	lis.addr = ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	lis.base = baseURL(w, port)
	ln = yieldingListener{Listener: ln, pressesIdle: l.e.PressesIdle}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	lis.srv = &http.Server{
		Handler:           l.handler(newHostGuard(append(names, publicHost)...), prefix),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      requestTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(l.log.Handler(), slog.LevelDebug),
	}
	go func() { // ends when stop shuts the server down
		defer close(lis.done)
		if err := lis.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			l.log.Warn("local server stopped", "err", err)
		}
	}()
	return lis, nil
}

// stop shuts the server down, letting requests in flight finish for a
// moment.
func (lis *listening) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := lis.srv.Shutdown(ctx); err != nil {
		lis.srv.Close()
	}
	<-lis.done
}

// baseURL is the URL the other side reaches the server at: the public URL
// when one is set, else the server's own address (on the LAN, the
// machine's first LAN address).
func baseURL(w want, port int) string {
	if w.public != "" {
		return w.public
	}
	scheme := "http"
	if w.https {
		scheme = "https"
	}
	host := "127.0.0.1"
	if w.lan {
		host = lanAddr()
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// Windows' socket errors, which syscall.Errno.Is does not map to the
// POSIX ones.
const (
	wsaEACCES        = syscall.Errno(10013)
	wsaEADDRINUSE    = syscall.Errno(10048)
	wsaEADDRNOTAVAIL = syscall.Errno(10049)
)

// listenError says why the server cannot listen, and what to do.
func listenError(addr string, err error) error {
	_, port, _ := net.SplitHostPort(addr)
	is := func(posix, windows syscall.Errno) bool { return errors.Is(err, posix) || errors.Is(err, windows) }
	switch {
	case is(syscall.EADDRINUSE, wsaEADDRINUSE):
		return fmt.Errorf("port %s is in use by another program: choose another port in Settings (or `buttonhook settings set server.port=N`), or stop that program", port)
	case is(syscall.EADDRNOTAVAIL, wsaEADDRNOTAVAIL):
		return fmt.Errorf("address %s is not available on this machine: check the server settings", addr)
	case is(syscall.EACCES, wsaEACCES):
		return fmt.Errorf("no permission to listen on port %s (ports below 1024 need administrator rights): choose a port from 1024 up", port)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}
