package actions

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
		{"CA without a certificate", TLS{CAPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}, "https://h/", []string{"tls.ca_pem"}},
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
