package actions

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

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
