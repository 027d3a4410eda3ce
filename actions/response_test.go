package actions

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestHugeBody: a server sending 100 MB does not make an attempt read
// 100 MB; the first 64 KiB are kept and the connection is closed.
func TestHugeBody(t *testing.T) {
	const huge = 100 << 20
	for _, declared := range []bool{false, true} {
		name := "chunked"
		if declared {
			name = "with Content-Length"
		}
		t.Run(name, func(t *testing.T) {
			wrote := make(chan int64, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if declared {
					w.Header().Set("Content-Length", strconv.Itoa(huge))
				}
				chunk := bytes.Repeat([]byte("x"), 32<<10)
				var n int64
				for n < huge {
					m, err := w.Write(chunk)
					n += int64(m)
					if err != nil {
						break
					}
				}
				wrote <- n
			}))
			t.Cleanup(srv.Close)
			start := time.Now()
			r := NewSender(nil).Send(context.Background(), Target{Name: "h", Method: "GET", URL: srv.URL}, Tags{})
			took := time.Since(start)
			if !r.OK || len(r.Body) != MaxResponseBody || r.Body[0] != 'x' {
				t.Fatalf("result OK %v, %d bytes kept (%s), want OK with %d", r.OK, len(r.Body), r.Reason(), MaxResponseBody)
			}
			var n int64
			select {
			case n = <-wrote:
			case <-time.After(5 * time.Second):
				t.Fatal("the server is still writing: the connection was not closed")
			}
			// What the server wrote beyond 64 KiB sat in socket buffers.
			if n > 16<<20 {
				t.Errorf("the server wrote %d MB before the connection closed, want a few at most", n>>20)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("kept %d bytes, server wrote %d KiB, %v", len(r.Body), n>>10, took)
		})
	}
}

// TestSmallRestDrained: a body a little over the limit is read to its end,
// so the connection serves the next attempt.
func TestSmallRestDrained(t *testing.T) {
	var conns atomic.Int32
	body := strings.Repeat("y", MaxResponseBody+10<<10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := NewSender(nil)
	t.Cleanup(s.Close)
	tg := Target{Name: "d", Method: "GET", URL: srv.URL}
	for i := range 3 {
		r := s.Send(context.Background(), tg, Tags{})
		if !r.OK || len(r.Body) != MaxResponseBody {
			t.Fatalf("attempt %d: OK %v, %d bytes (%s)", i, r.OK, len(r.Body), r.Reason())
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 attempts, want 1", n)
	}
}

func TestServerClosesMidBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf) // the request
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("z", 500))
			c.Close()
		}
	}()
	r := NewSender(nil).Send(context.Background(), Target{Name: "c", Method: "GET", URL: "http://" + ln.Addr().String()}, Tags{})
	if r.OK || r.Code != 200 {
		t.Errorf("OK %v, code %d, want a failed 200", r.OK, r.Code)
	}
	if len(r.Body) != 500 {
		t.Errorf("kept %d bytes, want the 500 that arrived", len(r.Body))
	}
	if want := "the server closed the connection after 500 of 1000 bytes of the body"; !strings.Contains(r.Reason(), want) {
		t.Errorf("reason = %q, want %q", r.Reason(), want)
	}
	if !errors.Is(r.Err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want io.ErrUnexpectedEOF inside", r.Err)
	}
}

func TestServerAbortsChunkedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("a", 300))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = nil
	r := NewSender(nil).Send(context.Background(), Target{Name: "c", Method: "GET", URL: srv.URL}, Tags{})
	if r.OK || len(r.Body) != 300 || !strings.Contains(r.Reason(), "the server closed the connection after 300 bytes of the body") {
		t.Errorf("OK %v, %d bytes, reason %q", r.OK, len(r.Body), r.Reason())
	}
}

func TestReadResponseSizes(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, MaxResponseBody - 1, MaxResponseBody, MaxResponseBody + 1} {
		for _, declared := range []bool{false, true} {
			cl := int64(-1)
			if declared {
				cl = int64(n)
			}
			body := strings.Repeat("b", n)
			resp := &http.Response{ContentLength: cl, Body: io.NopCloser(iotestHalf(strings.NewReader(body)))}
			got, err := readResponse(resp)
			if want := min(n, MaxResponseBody); err != nil || len(got) != want {
				t.Errorf("%d bytes (declared %v): kept %d, %v; want %d", n, declared, len(got), err, want)
			}
		}
	}
}

// iotestHalf reads at most half of what is asked (like iotest.HalfReader).
func iotestHalf(r io.Reader) io.Reader { return halfReader{r} }

type halfReader struct{ r io.Reader }

func (h halfReader) Read(p []byte) (int, error) { return h.r.Read(p[:(len(p)+1)/2]) }

func TestTiming(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(5 * time.Millisecond) // the body comes later than the first byte
		io.WriteString(w, "done")
	})
	for _, secure := range []bool{false, true} {
		name := "http"
		var srv *httptest.Server
		var tl TLS
		if secure {
			name, srv = "https", httptest.NewTLSServer(h)
			tl = TLS{PinSHA256: Fingerprint(srv.Certificate().Raw)}
		} else {
			srv = httptest.NewServer(h)
		}
		t.Cleanup(srv.Close)
		t.Run(name, func(t *testing.T) {
			s := NewSender(nil)
			defer s.Close()
			tg := Target{Name: "t", Method: "GET", URL: srv.URL, TLS: tl}
			first := s.Send(context.Background(), tg, Tags{})
			again := s.Send(context.Background(), tg, Tags{})
			for i, r := range []Result{first, again} {
				tm := r.Timing
				if !r.OK {
					t.Fatalf("attempt %d: %s", i, r.Reason())
				}
				if tm.FirstByte <= 0 || tm.Total < tm.FirstByte+4*time.Millisecond || r.Duration != tm.Total {
					t.Errorf("attempt %d: %+v (duration %v): want 0 < first byte < total - 5ms", i, tm, r.Duration)
				}
				if tm.Connect+tm.TLS > tm.FirstByte {
					t.Errorf("attempt %d: %+v: connect and TLS after the first byte", i, tm)
				}
			}
			if first.Timing.Connect <= 0 || secure != (first.Timing.TLS > 0) {
				t.Errorf("first attempt: %+v, want connect > 0 and TLS > 0 only for https", first.Timing)
			}
			if again.Timing.Connect != 0 || again.Timing.TLS != 0 {
				t.Errorf("attempt on the kept connection: %+v, want no connect or TLS", again.Timing)
			}
		})
	}
}

// TestTimingSplit drives the trace hooks as the Transport calls them, on a
// fake clock: a new connection, then a redirect on the kept connection,
// then a hop where a dial raced an idle connection and lost.
func TestTimingSplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, tm := withTiming(context.Background())
		tr := httptrace.ContextClientTrace(ctx)
		ms := func(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

		tr.GetConn("a:443")
		tr.DNSStart(httptrace.DNSStartInfo{Host: "a"})
		ms(10)
		tr.ConnectStart("tcp", "[::1]:443") // happy eyeballs: two tries
		tr.ConnectStart("tcp", "127.0.0.1:443")
		ms(20)
		tr.ConnectDone("tcp", "[::1]:443", errors.New("refused"))
		tr.ConnectDone("tcp", "127.0.0.1:443", nil)
		tr.TLSHandshakeStart()
		ms(30)
		tr.TLSHandshakeDone(tls.ConnectionState{}, nil)
		tr.GotConn(httptrace.GotConnInfo{})
		ms(5)
		tr.GotFirstResponseByte()
		want := Timing{Connect: 30 * time.Millisecond, TLS: 30 * time.Millisecond, FirstByte: 65 * time.Millisecond, Total: 65 * time.Millisecond}
		if got := tm.timing(); got != want {
			t.Errorf("one round trip: %+v, want %+v", got, want)
		}

		ms(1)
		tr.GetConn("a:443") // a redirect on the same connection
		tr.GotConn(httptrace.GotConnInfo{Reused: true})
		ms(4)
		tr.GotFirstResponseByte()
		want.FirstByte, want.Total = 70*time.Millisecond, 70*time.Millisecond
		if got := tm.timing(); got != want {
			t.Errorf("after a hop on the kept connection: %+v, want %+v", got, want)
		}

		tr.GetConn("b:443") // a dial starts, an idle connection wins
		tr.ConnectStart("tcp", "10.0.0.1:443")
		ms(2)
		tr.GotConn(httptrace.GotConnInfo{Reused: true})
		ms(3)
		tr.ConnectDone("tcp", "10.0.0.1:443", nil) // the dial goes on in the background
		tr.GotFirstResponseByte()
		ms(1)
		want.FirstByte, want.Total = 75*time.Millisecond, 76*time.Millisecond
		if got := tm.timing(); got != want {
			t.Errorf("after a lost dial: %+v, want %+v", got, want)
		}
	})
}
