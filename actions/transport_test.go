package actions

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// certPEM is the PEM of a test server's certificate.
func certPEM(srv *httptest.Server) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func TestTLSSelfSigned(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	fp := Fingerprint(srv.Certificate().Raw)
	other := strings.Repeat("AB:", 31) + "AB"
	tests := []struct {
		name   string
		tls    TLS
		url    string
		ok     bool
		reason []string
	}{
		{"refused by default, naming the fingerprint", TLS{}, srv.URL, false,
			[]string{"TLS certificate not trusted: x509: certificate signed by unknown authority", "self-signed", "pin its fingerprint " + fp}},
		{"pinned", TLS{PinSHA256: fp}, srv.URL, true, nil},
		{"pinned, lower case without colons", TLS{PinSHA256: strings.ToLower(strings.ReplaceAll(fp, ":", ""))}, srv.URL, true, nil},
		{"pinned to another certificate", TLS{PinSHA256: other}, srv.URL, false,
			[]string{"TLS certificate not trusted", "presented the certificate " + fp, "pinned to " + other}},
		{"its certificate as the CA", TLS{CAPEM: certPEM(srv)}, srv.URL, true, nil},
		{"the CA, but a name the certificate lacks", TLS{CAPEM: certPEM(srv)}, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), false,
			[]string{"TLS certificate not trusted", "not localhost", "pin its fingerprint " + fp}},
		{"verification skipped", TLS{Insecure: true}, srv.URL, true, nil},
	}
	s := NewSender(nil)
	t.Cleanup(s.Close)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			r := s.Send(context.Background(), Target{Name: "tls", Method: "GET", URL: tt.url, TLS: tt.tls}, Tags{})
			if r.OK != tt.ok {
				t.Fatalf("OK = %v (%s), want %v", r.OK, r.Reason(), tt.ok)
			}
			for _, want := range tt.reason {
				if !strings.Contains(r.Reason(), want) {
					t.Errorf("reason = %q, want it to contain %q", r.Reason(), want)
				}
			}
			if got := hits.Load() - before; tt.ok && got != 1 || !tt.ok && got != 0 {
				t.Errorf("the server saw %d requests", got)
			}
		})
	}
}

// TestPinCheckedOnResumedSessions shows that a pin is enforced on a resumed
// TLS session, where no certificate is presented and VerifyPeerCertificate
// would not run: a session cached under a correct pin does not let a
// connection with another pin through.
func TestPinCheckedOnResumedSessions(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	good, err := TLS{PinSHA256: Fingerprint(srv.Certificate().Raw)}.config()
	if err != nil {
		t.Fatal(err)
	}
	bad, err := TLS{PinSHA256: strings.Repeat("00", 32)}.config()
	if err != nil {
		t.Fatal(err)
	}
	bad.ClientSessionCache = good.ClientSessionCache
	var resumed []bool
	for _, cfg := range []*tls.Config{good, bad} {
		verify := cfg.VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			resumed = append(resumed, cs.DidResume)
			return verify(cs)
		}
	}
	get := func(cfg *tls.Config) error {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		_, err = io.ReadAll(c) // also reads the session ticket
		return err
	}
	if err := get(good); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	if err := get(good); err != nil {
		t.Fatalf("resumed connection: %v", err)
	}
	err = get(bad)
	var pe *pinMismatchError
	if !errors.As(err, &pe) {
		t.Fatalf("resumed connection with another pin: err = %v, want a pin mismatch", err)
	}
	if want := []bool{false, true, true}; fmt.Sprint(resumed) != fmt.Sprint(want) {
		t.Errorf("VerifyConnection saw DidResume %v, want %v", resumed, want)
	}
}

func TestFetchFingerprint(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	fp, subject, err := FetchFingerprint(context.Background(), srv.URL+"/some/path?token=x")
	if err != nil {
		t.Fatal(err)
	}
	if want := Fingerprint(srv.Certificate().Raw); fp != want {
		t.Errorf("fingerprint = %s, want %s", fp, want)
	}
	if !strings.Contains(subject, "Acme Co") {
		t.Errorf("subject = %q, want the test certificate's (O=Acme Co)", subject)
	}
	if hits.Load() != 0 {
		t.Errorf("the server saw %d HTTP requests, want none", hits.Load())
	}
	// The fingerprint pins the server.
	r := NewSender(nil).Send(context.Background(), Target{Name: "p", Method: "GET", URL: srv.URL, TLS: TLS{PinSHA256: fp}}, Tags{})
	if !r.OK {
		t.Errorf("pinned to the fetched fingerprint: %s", r.Reason())
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	for _, tt := range []struct{ url, want string }{
		{"http://example.test/", "must start with https://"},
		{"https://" + closed + "/", "cannot connect"},
		{"https://" + plain.Listener.Addr().String() + "/", "does not speak TLS"},
	} {
		if _, _, err := FetchFingerprint(context.Background(), tt.url); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FetchFingerprint(%s) = %v, want an error about %q", tt.url, err, tt.want)
		}
	}
}

func TestTLSValidate(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil) // for a real certificate, never started
	srv.StartTLS()
	srv.Close()
	good := strings.Repeat("ab:", 31) + "ab"
	tests := []struct {
		name   string
		tls    TLS
		url    string
		fields []string
	}{
		{"default", TLS{}, "https://h/", nil},
		{"default on http", TLS{}, "http://h/", nil},
		{"pin", TLS{PinSHA256: good}, "https://h/", nil},
		{"pin, spaces", TLS{PinSHA256: strings.ReplaceAll(good, ":", " ")}, "https://h/", nil},
		{"pin too short", TLS{PinSHA256: "ab:cd"}, "https://h/", []string{"tls.pin_sha256"}},
		{"pin not hex", TLS{PinSHA256: strings.Repeat("zz", 32)}, "https://h/", []string{"tls.pin_sha256"}},
		{"CA", TLS{CAPEM: certPEM(srv)}, "https://h/", nil},
		{"CA garbage", TLS{CAPEM: "hello"}, "https://h/", []string{"tls.ca_pem"}},
		{"CA without a certificate", TLS{CAPEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, "https://h/", []string{"tls.ca_pem"}},
		{"CA broken certificate", TLS{CAPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "https://h/", []string{"tls.ca_pem"}},
		{"insecure is allowed", TLS{Insecure: true}, "https://h/", nil},
		{"two at once", TLS{PinSHA256: good, Insecure: true}, "https://h/", []string{"tls"}},
		{"pin on http", TLS{PinSHA256: good}, "HTTP://h/", []string{"tls"}},
		{"insecure on http", TLS{Insecure: true}, "http://h/<NAME>", []string{"tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			tt.tls.validate(tt.url, func(field, format string, args ...any) { got = append(got, field) })
			if fmt.Sprint(got) != fmt.Sprint(tt.fields) {
				t.Errorf("problems in %v, want %v", got, tt.fields)
			}
		})
	}
	if w := (TLS{Insecure: true}).warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "tls.insecure: the server's identity is not checked") {
		t.Errorf("warnings = %q", w)
	}
	if w := (TLS{PinSHA256: good}).warnings(); w != nil {
		t.Errorf("warnings of a pin = %q, want none", w)
	}
}

func TestHandshakeBounded(t *testing.T) {
	// A server that accepts and never answers the TLS hello.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // the Transport may still be dialing in the background
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { io.Copy(io.Discard, c) })
		}
	})
	url := "https://" + ln.Addr().String() + "/"

	t.Run("by the handshake limit", func(t *testing.T) {
		s := NewSender(nil)
		defer s.Close()
		s.tr.handshakeTimeout = 200 * time.Millisecond
		start := time.Now()
		r := s.Send(context.Background(), Target{Name: "h", Method: "GET", URL: url, Timeout: 10}, Tags{})
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v, want about 200ms", d)
		}
		if r.OK || !strings.Contains(r.Reason(), "TLS handshake did not finish") {
			t.Errorf("reason = %q, want the handshake limit", r.Reason())
		}
	})
	t.Run("by the total deadline", func(t *testing.T) {
		s := NewSender(nil)
		defer s.Close()
		start := time.Now()
		r := s.Send(context.Background(), Target{Name: "h", Method: "GET", URL: url, Timeout: 1}, Tags{})
		if d := time.Since(start); d < time.Second || d > 2*time.Second {
			t.Errorf("took %v, want the 1s deadline (the handshake limit is 5s)", d)
		}
		if !errors.Is(r.Err, ErrTimeout) {
			t.Errorf("err = %v, want ErrTimeout", r.Err)
		}
	})
}

// hop is what one server of a redirect chain saw.
type hop struct {
	path   string
	header http.Header
}

// redirectServer answers /r/N with a redirect to next(N), /end with 200.
func redirectServer(t *testing.T, seen chan<- hop, next func(n int) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- hop{r.URL.Path, r.Header.Clone()}
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/r/%d", &n); err == nil {
			http.Redirect(w, r, next(n), http.StatusFound)
			return
		}
		io.WriteString(w, "end")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirects(t *testing.T) {
	secrets := []KV{
		{"Authorization", "Bearer s3cret"}, {"X-Api-Key", "k3y"}, {"X-Auth-Token", "t0k"},
		{"Cookie", "sid=1"}, {"X-Hub-Signature", "sha256=ab"},
	}
	plain := []KV{{"X-Plain", "p"}, {"Idempotency-Key", "i-1"}}
	seen := make(chan hop, 20)
	var a, b *httptest.Server
	var aURL, bURL, bHost string
	a = redirectServer(t, seen, func(n int) string {
		switch n {
		case 1:
			return "/end" // same host
		case 2:
			return bURL + "/end" // another port on 127.0.0.1
		case 3:
			return bHost + "/end" // localhost: another host
		case 4:
			return bURL + "/r/40" // away and back again
		}
		if n == 14 {
			return aURL + "/end" // /r/10 takes 5 redirects, /r/9 takes 6
		}
		return fmt.Sprintf("%s/r/%d", aURL, n+1)
	})
	b = redirectServer(t, seen, func(n int) string { return aURL + "/end" })
	aURL, bURL = a.URL, b.URL
	bHost = strings.Replace(b.URL, "127.0.0.1", "localhost", 1)

	s := NewSender(nil)
	t.Cleanup(s.Close)
	send := func(path string) (Result, []hop) {
		tg := Target{Name: "r", Method: "POST", URL: a.URL + path, Follow: true,
			Headers: append(append([]KV{}, secrets...), plain...), Body: Body{Kind: BodyText, Text: "hi"}}
		r := s.Send(context.Background(), tg, Tags{})
		var hops []hop
		for len(seen) > 0 {
			hops = append(hops, <-seen)
		}
		return r, hops
	}
	check := func(t *testing.T, h hop, secret bool) {
		t.Helper()
		for _, kv := range secrets {
			if got := h.header.Get(kv.Key); secret && got != kv.Value || !secret && got != "" {
				t.Errorf("%s: %s = %q, want it there: %v", h.path, kv.Key, got, secret)
			}
		}
		for _, kv := range plain {
			if got := h.header.Get(kv.Key); got != kv.Value {
				t.Errorf("%s: %s = %q, want %q", h.path, kv.Key, got, kv.Value)
			}
		}
		if ref := h.header.Get("Referer"); ref != "" {
			t.Errorf("%s: Referer = %q, want none", h.path, ref)
		}
	}
	tests := []struct {
		name    string
		path    string
		secrets []bool // per hop
	}{
		{"same host and port keeps them", "/r/1", []bool{true, true}},
		{"another port drops them", "/r/2", []bool{true, false}},
		{"another host drops them", "/r/3", []bool{true, false}},
		{"coming back does not restore them", "/r/4", []bool{true, false, false}},
		{"five redirects", "/r/10", []bool{true, true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, hops := send(tt.path)
			if !r.OK || string(r.Body) != "end" {
				t.Fatalf("result %d %q (%s), want OK", r.Code, r.Body, r.Reason())
			}
			if len(hops) != len(tt.secrets) {
				t.Fatalf("%d requests arrived, want %d", len(hops), len(tt.secrets))
			}
			for i, h := range hops {
				check(t, h, tt.secrets[i])
			}
		})
	}
	t.Run("six redirects are too many", func(t *testing.T) {
		r, hops := send("/r/9")
		if r.OK || !strings.Contains(r.Reason(), "too many redirects") {
			t.Errorf("reason = %q, want too many redirects", r.Reason())
		}
		if len(hops) != 6 {
			t.Errorf("%d requests arrived, want 6", len(hops))
		}
	})
}

// TestRedirect307KeepsBody: the Client re-sends the body on a 307 (with
// its own GetBody), although the Transport never sees a GetBody.
func TestRedirect307KeepsBody(t *testing.T) {
	got := make(chan string, 2)
	mux := http.NewServeMux()
	mux.Handle("/start", http.RedirectHandler("/end", http.StatusTemporaryRedirect))
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + string(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := NewSender(nil).Send(context.Background(), Target{Name: "b", Method: "POST", URL: srv.URL + "/start", Follow: true,
		Body: Body{Kind: BodyJSON, JSON: `{"a":"<EID>"}`}}, Tags{EID: "e7"})
	if !r.OK {
		t.Fatal(r.Reason())
	}
	if g := <-got; g != `POST {"a":"e7"}` {
		t.Errorf("after the 307 the server got %q", g)
	}
}

func TestTLSTooOld(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	r := NewSender(nil).Send(context.Background(), Target{Name: "o", Method: "GET", URL: srv.URL, TLS: TLS{Insecure: true}}, Tags{})
	if r.OK || !strings.Contains(r.Reason(), "older than 1.2") {
		t.Errorf("reason = %q, want TLS too old", r.Reason())
	}
}

func TestRedirectHTTPSToHTTPRefused(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(plain.Close)
	srv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/x", http.StatusFound))
	t.Cleanup(srv.Close)
	r := NewSender(nil).Send(context.Background(), Target{Name: "d", Method: "GET", URL: srv.URL, Follow: true,
		TLS: TLS{PinSHA256: Fingerprint(srv.Certificate().Raw)}}, Tags{})
	if r.OK || !strings.Contains(r.Reason(), "refused a redirect from https to http") {
		t.Errorf("reason = %q, want the downgrade refused", r.Reason())
	}
	if hits.Load() != 0 {
		t.Errorf("the http server saw %d requests, want none", hits.Load())
	}
}

// TestRedirectDropsAuthHeaders checks the auth's own secret headers, of any
// name, are dropped across origins.
func TestRedirectDropsAuthHeaders(t *testing.T) {
	check := followRedirects([]string{"X-Custom-Thing"})
	first, _ := http.NewRequest("GET", "https://a.example/x", nil)
	for _, tt := range []struct {
		url  string
		kept bool
	}{
		{"https://a.example:443/y", true},
		{"https://A.example/y", true},
		{"https://a.example:8443/y", false},
		{"https://b.example/y", false},
	} {
		next, _ := http.NewRequest("GET", tt.url, nil)
		next.Header.Set("X-Custom-Thing", "v")
		next.Header.Set("X-Other", "o")
		if err := check(next, []*http.Request{first}); err != nil {
			t.Fatal(err)
		}
		if got := next.Header.Get("X-Custom-Thing") != ""; got != tt.kept {
			t.Errorf("to %s: kept %v, want %v", tt.url, got, tt.kept)
		}
		if next.Header.Get("X-Other") != "o" {
			t.Errorf("to %s: X-Other dropped", tt.url)
		}
	}
}

func TestSecretHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "X-Api-Key": true,
		"X-Auth-Token": true, "Private-Token": true, "Ocp-Apim-Subscription-Key": true, "X-Hub-Signature-256": true,
		"Webhook-Signature": true, "X-Session-Id": true, "X-Buttonhook-Callback": true, "X-Client-Secret": true,
		"Idempotency-Key": false, "X-Idempotency-Key": false, "Content-Type": false, "Webhook-Id": false,
		"User-Agent": false, "X-Button": false, "Accept": false,
	} {
		if got := secretHeader(name); got != want {
			t.Errorf("secretHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

// closingServer is a real server on 127.0.0.1 that answers the first
// request and then, for every later request, reads it and closes the
// connection without answering. It counts the requests that arrive and
// notes which connection each came on.
type closingServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	arrivals []string // "conn#request" of each arrival
}

func newClosingServer(t *testing.T) *closingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cs := &closingServer{ln: ln}
	t.Cleanup(func() { ln.Close(); cs.wg.Wait() })
	cs.wg.Go(func() {
		for nconn := 1; ; nconn++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cs.wg.Go(func() { cs.serve(c, nconn) })
		}
	})
	return cs
}

func (cs *closingServer) serve(c net.Conn, nconn int) {
	defer c.Close()
	br := bufio.NewReader(c)
	for nreq := 1; ; nreq++ {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		cs.mu.Lock()
		cs.arrivals = append(cs.arrivals, fmt.Sprintf("%d#%d", nconn, nreq))
		first := len(cs.arrivals) == 1
		cs.mu.Unlock()
		if !first {
			return // read it, then close without a word
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
		if req.Method != "HEAD" {
			io.WriteString(c, "ok")
		}
	}
}

func (cs *closingServer) seen() []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]string(nil), cs.arrivals...)
}

// TestNoReplay: a request hit by a close on a reused keep-alive connection
// after it was sent arrives once, not twice, whatever net/http thinks of its
// method or an Idempotency-Key header.
func TestNoReplay(t *testing.T) {
	idem := []KV{{"Idempotency-Key", "k-1"}}
	tests := []struct {
		name   string
		target Target
		reused bool // the failed attempt went on the kept-alive connection
	}{
		{"GET", Target{Method: "GET"}, true},
		{"HEAD", Target{Method: "HEAD"}, true},
		{"POST JSON with an Idempotency-Key", Target{Method: "POST", Headers: idem, Body: Body{Kind: BodyJSON, JSON: `{"a":"<EID>"}`}}, true},
		{"PUT form with an X-Idempotency-Key", Target{Method: "PUT", Headers: []KV{{"X-Idempotency-Key", "k"}}, Body: Body{Kind: BodyForm, Form: []KV{{"a", "b"}}}}, true},
		{"DELETE with an Idempotency-Key", Target{Method: "DELETE", Headers: idem}, true},
		{"POST without a body, with an Idempotency-Key", Target{Method: "POST", Headers: idem}, false},
		{"POST JSON", Target{Method: "POST", Body: Body{Kind: BodyJSON, JSON: `{}`}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newClosingServer(t)
			s := NewSender(nil)
			defer s.Close()
			tg := tt.target
			tg.Name, tg.URL = "n", "http://"+cs.ln.Addr().String()+"/hook"
			if r := s.Send(context.Background(), tg, Tags{EID: "e1"}); !r.OK {
				t.Fatalf("first attempt: %s", r.Reason())
			}
			r := s.Send(context.Background(), tg, Tags{EID: "e2"})
			t.Logf("second attempt: %s", r.Reason())
			if r.OK || !errors.Is(r.Err, errServerClosed) || !errors.Is(r.Err, io.ErrUnexpectedEOF) {
				t.Errorf("second attempt: OK %v, err %v; want the close explained", r.OK, r.Err)
			}
			want := []string{"1#1", "1#2"}
			if !tt.reused {
				want = []string{"1#1", "2#1"}
			}
			if got := cs.seen(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("arrivals (connection#request) = %v, want %v: two attempts, two arrivals", got, want)
			}
		})
	}
	// The reason for all this: plain net/http sends the GET again.
	t.Run("plain net/http replays", func(t *testing.T) {
		cs := newClosingServer(t)
		c := &http.Client{Transport: &http.Transport{}}
		defer c.CloseIdleConnections()
		for range 2 {
			if resp, err := c.Get("http://" + cs.ln.Addr().String() + "/"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		if got := cs.seen(); len(got) != 3 {
			t.Logf("plain net/http: arrivals %v; net/http no longer replays, and noReplay may be simplified", got)
		}
	})
}

// rawRequest captures the bytes of the first request on a connection.
func rawRequest(t *testing.T, do func(url string)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer c.Close()
		var b bytes.Buffer
		buf := make([]byte, 4096)
		for !bytes.Contains(b.Bytes(), []byte("\r\n\r\n")) {
			n, err := c.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) // anything after the headers
		for {
			n, err := c.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got <- b.String()
		io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	}()
	do("http://" + ln.Addr().String() + "/x")
	return <-got
}

// TestNoReplayKeepsTheWire: the empty body that makes a bodyless request
// non-replayable changes nothing on the wire.
func TestNoReplayKeepsTheWire(t *testing.T) {
	ts := newTransports()
	defer ts.close()
	ours, err := ts.client(Target{})
	if err != nil {
		t.Fatal(err)
	}
	plainTr := &http.Transport{}
	defer plainTr.CloseIdleConnections()
	plain := &http.Client{Transport: plainTr}
	for _, method := range []string{"GET", "HEAD", "DELETE"} {
		via := func(c *http.Client) func(string) {
			return func(url string) {
				req, _ := http.NewRequest(method, url, nil)
				req.Header.Set("User-Agent", "Buttonhook/1")
				req.Header.Set("Idempotency-Key", "k")
				resp, err := c.Do(req)
				if err != nil {
					t.Errorf("%s: %v", method, err)
					return
				}
				resp.Body.Close()
			}
		}
		host := regexp.MustCompile(`Host: [^\r]*`)
		want := host.ReplaceAllString(rawRequest(t, via(plain)), "Host: h")
		got := host.ReplaceAllString(rawRequest(t, via(ours)), "Host: h")
		if got != want || !strings.HasPrefix(got, method+" /x HTTP/1.1\r\n") {
			t.Errorf("%s on the wire:\n%q\nwant, as plain net/http sends it:\n%q", method, got, want)
		}
	}
}

func TestClientsCached(t *testing.T) {
	ts := newTransports()
	defer ts.close()
	fp := strings.Repeat("AB:", 31) + "AB"
	c1, _ := ts.client(Target{TLS: TLS{PinSHA256: fp}})
	c2, _ := ts.client(Target{TLS: TLS{PinSHA256: strings.ToLower(strings.ReplaceAll(fp, ":", ""))}, URL: "https://other/"})
	c3, _ := ts.client(Target{TLS: TLS{PinSHA256: fp}, Follow: true})
	c4, _ := ts.client(Target{})
	if c1 != c2 {
		t.Error("the same pin written differently gave two clients")
	}
	if c1 == c3 || c1 == c4 || c3 == c4 {
		t.Error("different policies share a client")
	}
	if c1.Transport != c3.Transport {
		t.Error("the same TLS policy has two connection pools")
	}
	if _, err := ts.client(Target{TLS: TLS{CAPEM: "junk"}}); err == nil || !strings.Contains(err.Error(), "tls.ca_pem") {
		t.Errorf("bad CA: err = %v", err)
	}

	// Concurrent use, and a bound on the pools kept.
	var wg sync.WaitGroup
	for i := range 2 * maxPools {
		wg.Go(func() {
			pin := fmt.Sprintf("%064x", i)
			if _, err := ts.client(Target{TLS: TLS{PinSHA256: pin}}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.pools) > maxPools || len(ts.clients) > maxPools {
		t.Errorf("%d pools and %d clients kept, want at most %d", len(ts.pools), len(ts.clients), maxPools)
	}
}
