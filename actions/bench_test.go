package actions

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkSend compares our send path (NewSender(nil).Send: deadline,
// tags, timing trace, no-replay round tripper, 64 KiB body cap, success
// rule) with a plain net/http client doing the same request to the same
// server in the same run, both on kept-alive connections. Each iteration
// sends one request each way, alternating which goes first; ns/op is
// therefore the sum of both. The metrics are the latency percentiles of
// each and ratio-p50 = ours/plain (goal: <= 1.2).
//
// BenchmarkSend/GET-fresh-connection is what a GET costs on a new
// connection each time: the price of the simpler no-replay design
// (a non-keep-alive transport for replayable requests) that noReplay
// avoids.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	cases := []struct {
		name   string
		target Target
		plain  func() *http.Request
	}{
		{"GET", Target{Name: "g", Method: "GET", URL: srv.URL + "/hook?button=<NAME>"}, func() *http.Request {
			req, _ := http.NewRequest("GET", srv.URL+"/hook?button=b1", nil)
			req.Header.Set("User-Agent", "Buttonhook/1")
			return req
		}},
		{"POST-JSON", Target{Name: "p", Method: "POST", URL: srv.URL + "/hook",
			Body: Body{Kind: BodyJSON, JSON: `{"button":"<NAME>","event":"<ETYPE>"}`}}, func() *http.Request {
			req, _ := http.NewRequest("POST", srv.URL+"/hook", strings.NewReader(`{"button":"b1","event":"pressed"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "Buttonhook/1")
			return req
		}},
	}
	tags := Tags{Name: "b1", EType: "pressed", EID: "e1"}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := NewSender(nil)
			defer s.Close()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			plain := &http.Client{Transport: tr}
			ours := func() {
				if r := s.Send(context.Background(), c.target, tags); !r.OK {
					b.Fatalf("ours: %s", r.Reason())
				}
			}
			theirs := func() {
				resp, err := plain.Do(c.plain())
				if err != nil {
					b.Fatal(err)
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			for range 50 { // warm both up: connections, pools
				ours()
				theirs()
			}
			var oursD, plainD []time.Duration
			timed := func(f func(), to *[]time.Duration) {
				start := time.Now()
				f()
				*to = append(*to, time.Since(start))
			}
			i := 0
			for b.Loop() {
				if i%2 == 0 {
					timed(ours, &oursD)
					timed(theirs, &plainD)
				} else {
					timed(theirs, &plainD)
					timed(ours, &oursD)
				}
				i++
			}
			o50, o99 := percentiles(oursD)
			p50, p99 := percentiles(plainD)
			b.ReportMetric(o50, "ours-p50-µs")
			b.ReportMetric(o99, "ours-p99-µs")
			b.ReportMetric(p50, "plain-p50-µs")
			b.ReportMetric(p99, "plain-p99-µs")
			if p50 > 0 {
				b.ReportMetric(o50/p50, "ratio-p50")
			}
		})
	}

	// What the empty-body trick costs a GET: the same Transport with and
	// without noReplay in front of it, interleaved.
	b.Run("GET-no-replay-cost", func(b *testing.B) {
		ts := newTransports()
		defer ts.close()
		c, err := ts.client(Target{})
		if err != nil {
			b.Fatal(err)
		}
		nr := c.Transport.(*noReplay)
		do := func(rt http.RoundTripper) {
			req, _ := http.NewRequest("GET", srv.URL+"/hook?button=b1", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		for range 50 {
			do(nr)
			do(nr.keep)
		}
		var with, without []time.Duration
		i := 0
		for b.Loop() {
			first, second, d1, d2 := http.RoundTripper(nr), http.RoundTripper(nr.keep), &with, &without
			if i%2 == 1 {
				first, second, d1, d2 = second, first, d2, d1
			}
			start := time.Now()
			do(first)
			mid := time.Now()
			do(second)
			*d1, *d2 = append(*d1, mid.Sub(start)), append(*d2, time.Since(mid))
			i++
		}
		w50, w99 := percentiles(with)
		o50, o99 := percentiles(without)
		b.ReportMetric(w50, "noreplay-p50-µs")
		b.ReportMetric(w99, "noreplay-p99-µs")
		b.ReportMetric(o50, "bare-p50-µs")
		b.ReportMetric(o99, "bare-p99-µs")
	})

	b.Run("GET-fresh-connection", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		plain := &http.Client{Transport: tr}
		var ds []time.Duration
		for b.Loop() {
			start := time.Now()
			resp, err := plain.Get(srv.URL + "/hook?button=b1")
			if err != nil {
				b.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			ds = append(ds, time.Since(start))
		}
		p50, p99 := percentiles(ds)
		b.ReportMetric(p50, "fresh-p50-µs")
		b.ReportMetric(p99, "fresh-p99-µs")
	})
}

// percentiles returns the 50th and 99th percentiles of ds, in µs.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / 1e3 }
	return at(0.50), at(0.99)
}
