package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/app/engine"
)

// heldBytes adds up what the requests of bins count against
// MaxInspectorBytes, and checks the inspector's own count agrees when
// bins are all it holds.
func heldBytes(t *testing.T, in *Inspector, bins []string) (total, held int) {
	t.Helper()
	for _, b := range bins {
		for _, q := range in.Requests(b) {
			n := inspectedOverhead + len(q.Body) + len(q.Path) + len(q.Query)
			for k, vs := range q.Headers {
				for _, v := range vs {
					n += len(k) + len(v)
				}
			}
			total += n
			held++
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.bytes != total {
		t.Errorf("the inspector counts %d bytes, its requests hold %d", in.bytes, total)
	}
	return total, held
}

// TestInspectorMemoryBudget floods many bins with 64 KiB bodies over
// HTTP: the inspector holds at most MaxInspectorBytes, dropping the oldest
// requests of any bin, and keeps the newest.
func TestInspectorMemoryBudget(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = true; s.InspectorKeep = 1000 })
	r.waitState(t, StateRunning)
	in := r.l.Inspector()

	body := strings.Repeat("b", MaxInspectBody)
	const nBins, perBin = 80, 8 // 640 requests of 64 KiB: 40 MiB
	var bins, sent []string     // sent: "bin seq-in-bin", oldest first
	for i := range nBins {
		bins = append(bins, fmt.Sprintf("flood%02d", i))
	}
	for j := range perBin {
		for _, b := range bins {
			path := fmt.Sprintf("/inspect/%s/%d", b, j)
			if code, resp, _ := do(t, nil, "POST", r.url(path), body); code != http.StatusOK {
				t.Fatalf("POST %s: %d %s", path, code, resp)
			}
			sent = append(sent, path)
		}
	}

	total, held := heldBytes(t, in, bins)
	if total > MaxInspectorBytes {
		t.Errorf("the inspector holds %d bytes in %d requests, more than its budget of %d", total, held, MaxInspectorBytes)
	}
	per := total / max(held, 1)
	if total < MaxInspectorBytes-2*per {
		t.Errorf("the inspector holds %d bytes in %d requests: it dropped more than it had to (budget %d)", total, held, MaxInspectorBytes)
	}
	// The newest requests are held; the oldest went first.
	kept := map[string]bool{}
	for _, b := range bins {
		for _, q := range in.Requests(b) {
			kept[q.Path] = true
		}
	}
	for i, path := range sent {
		if newest := i >= len(sent)-held; kept[path] != newest {
			t.Errorf("request %d of %d (%s): held = %t, want %t", i+1, len(sent), path, kept[path], newest)
		}
	}

	// Each bin still keeps at most inspector_keep requests, and the count
	// follows what SetKeep drops.
	in.SetKeep(2)
	if total, held := heldBytes(t, in, bins); held != 2*nBins || total > MaxInspectorBytes {
		t.Errorf("after SetKeep(2): %d requests, %d bytes; want %d", held, total, 2*nBins)
	}
	for range 3 {
		do(t, nil, "PUT", r.url("/inspect/small"), "x")
	}
	if got := len(in.Requests("small")); got != 2 {
		t.Errorf("bin small holds %d requests, want inspector_keep = 2", got)
	}
	heldBytes(t, in, append(bins, "small"))
}

// TestInspectorQueryAsSent shows the query in its own order and encoding,
// with only the values of credential-like parameters masked.
func TestInspectorQueryAsSent(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, inspectorOn)
	r.waitState(t, StateRunning)
	for _, tc := range []struct{ query, want string }{
		{"z=1&a=2", "z=1&a=2"},
		{"token=abc%20def&b=%E2%9C%93+x", "token=••••••&b=%E2%9C%93+x"},
		{"x=1&API_KEY=s3cret&x=0&flag&password=&%74oken=t", "x=1&API_KEY=••••••&x=0&flag&password=&%74oken=••••••"},
		{"sig=1&signature=a=b&authorization=Bearer+xyz", "sig=1&signature=••••••&authorization=••••••"},
	} {
		code, body, _ := do(t, nil, "GET", r.url("/inspect/query?"+tc.query), "")
		if code != http.StatusOK {
			t.Fatalf("GET ?%s: %d %s", tc.query, code, body)
		}
		reqs := r.l.Inspector().Requests("query")
		if got := reqs[len(reqs)-1].Query; got != tc.want {
			t.Errorf("query %q recorded as %q, want %q", tc.query, got, tc.want)
		}
	}
}

// TestInspectorManyTinyRequests: requests with no body still count, so a
// flood of them across full bins is bounded too.
func TestInspectorManyTinyRequests(t *testing.T) {
	in := NewInspector(1000)
	var bins []string
	for i := range maxBins {
		bins = append(bins, fmt.Sprintf("tiny%d", i))
	}
	const n = 100_000 // 1000 per bin, at least 51 MiB counted
	for i := range n {
		in.record(Inspected{Bin: bins[i%maxBins], Method: "GET", Path: "/inspect/" + bins[i%maxBins], Headers: http.Header{"User-Agent": {"flood"}}})
	}
	total, held := heldBytes(t, in, bins)
	if total > MaxInspectorBytes || held >= n {
		t.Errorf("%d tiny requests sent: %d held, %d bytes counted; want at most %d", n, held, total, MaxInspectorBytes)
	}
	if newest := in.Requests(bins[(n-1)%maxBins]); len(newest) == 0 || newest[len(newest)-1].Seq != n {
		t.Errorf("the newest request is not held")
	}
}
