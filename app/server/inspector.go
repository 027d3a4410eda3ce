package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/buttonhook/buttonhook/app/engine"
)

// The request inspector: the seeds' RequestBin step, offline. Whatever is
// sent to /inspect/{bin}[/...] is recorded in memory, the last N requests
// per bin, for `buttonhook inspect BIN` and the window to show.

// MaxInspectBody is the most of a request body the inspector keeps.
const MaxInspectBody = 64 << 10

// maxBins bounds the inspector's memory: a new bin past it replaces the one
// least recently sent to.
const maxBins = 100

// MaxInspectorBytes bounds the inspector's memory across all bins: past it,
// the oldest requests of any bin go first. A request counts its body, its
// path and query, its header names and values, and inspectedOverhead (see
// Inspected.footprint).
const MaxInspectorBytes = 32 << 20

// inspectedOverhead is about what a recorded request takes besides its
// strings (the Inspected value, the header map and slices), so that a
// flood of tiny requests is bounded too.
const inspectedOverhead = 512

// errBadBin answers a bin name that ValidBin refuses.
const errBadBin = "a bin's name is 1 to 64 letters, digits, dots, dashes or underscores"

// binRE is what a bin's name may be.
var binRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ValidBin reports whether name may name an inspector bin: 1 to 64
// letters, digits, dots, dashes or underscores.
func ValidBin(name string) bool { return binRE.MatchString(name) }

// Inspected is one request the inspector recorded. Header and query values
// that carry credentials are masked: the inspector shows that they were
// sent, not what they are.
type Inspected struct {
	Bin    string    `json:"bin"`
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Query is the raw query as sent (still URL-encoded, in its order),
	// with the values of credential-like parameters masked.
	Query string `json:"query,omitempty"`
	// Headers in the order of their names.
	Headers http.Header `json:"headers"`
	// Body is the body as text; when it is not UTF-8 it is base64 and
	// BodyBase64 is set.
	Body       string `json:"body,omitempty"`
	BodyBase64 bool   `json:"body_base64,omitempty"`
	// Size is the body's length, or MaxInspectBody+1 when Truncated.
	Size      int64  `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
	Client    string `json:"client"`
}

// Inspector keeps the recent requests of each bin. Safe for concurrent use.
type Inspector struct {
	mu    sync.Mutex
	keep  int
	seq   uint64
	bins  map[string]*bin
	bytes int // the footprint of every request held
	next  int
	subs  map[int]*follower
}

type bin struct {
	reqs []Inspected // oldest first
	last time.Time
}

type follower struct {
	bin string
	ch  chan Inspected
}

// NewInspector returns an empty inspector keeping keep requests per bin
// (engine.DefaultInspectorKeep when keep < 1).
func NewInspector(keep int) *Inspector {
	in := &Inspector{bins: map[string]*bin{}, subs: map[int]*follower{}}
	in.SetKeep(keep)
	return in
}

// SetKeep changes how many requests each bin keeps, dropping the oldest.
func (in *Inspector) SetKeep(keep int) {
	if keep < 1 {
		keep = engine.DefaultInspectorKeep
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.keep = keep
	for _, b := range in.bins {
		in.drop(b, len(b.reqs)-keep)
	}
}

// footprint is what q counts against MaxInspectorBytes.
func (q *Inspected) footprint() int {
	n := inspectedOverhead + len(q.Body) + len(q.Path) + len(q.Query)
	for k, vs := range q.Headers {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// drop removes b's n oldest requests.
func (in *Inspector) drop(b *bin, n int) {
	n = min(n, len(b.reqs))
	if n <= 0 {
		return
	}
	for i := range n {
		in.bytes -= b.reqs[i].footprint()
	}
	// Cleared, so that their strings are freed; resliced, not shifted, so
	// that dropping the oldest of a full bin copies nothing (append moves
	// what is left when it grows the slice).
	clear(b.reqs[:n])
	b.reqs = b.reqs[n:]
}

// record adds a request to its bin and passes it to the bin's followers.
func (in *Inspector) record(q Inspected) Inspected {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	q.Seq = in.seq
	b := in.bins[q.Bin]
	if b == nil {
		if len(in.bins) >= maxBins {
			in.evict()
		}
		b = &bin{}
		in.bins[q.Bin] = b
	}
	b.last = q.Time
	in.drop(b, len(b.reqs)-in.keep+1)
	size := q.footprint()
	for in.bytes+size > MaxInspectorBytes {
		if !in.dropOldest() {
			break
		}
	}
	b.reqs = append(b.reqs, q)
	in.bytes += size
	for _, f := range in.subs {
		if f.bin == q.Bin {
			select {
			case f.ch <- q:
			default: // a follower that fell behind misses it; Seq shows the gap
			}
		}
	}
	return q
}

// evict forgets the bin least recently sent to.
func (in *Inspector) evict() {
	var oldest string
	for name, b := range in.bins {
		if oldest == "" || b.last.Before(in.bins[oldest].last) {
			oldest = name
		}
	}
	if b := in.bins[oldest]; b != nil {
		in.drop(b, len(b.reqs))
	}
	delete(in.bins, oldest)
}

// dropOldest removes the oldest request of any bin; false when none is
// held. A bin it empties stays: it is the one just sent to, or one that
// evict will replace in time.
func (in *Inspector) dropOldest() bool {
	var oldest *bin
	for _, b := range in.bins {
		if len(b.reqs) > 0 && (oldest == nil || b.reqs[0].Seq < oldest.reqs[0].Seq) {
			oldest = b
		}
	}
	if oldest == nil {
		return false
	}
	in.drop(oldest, 1)
	return true
}

// Requests returns the requests bin holds, oldest first.
func (in *Inspector) Requests(bin string) []Inspected {
	in.mu.Lock()
	defer in.mu.Unlock()
	if b := in.bins[bin]; b != nil {
		return slices.Clone(b.reqs)
	}
	return nil
}

// Follow returns the requests bin holds and a channel of those recorded
// after; stop ends it (and closes the channel).
func (in *Inspector) Follow(bin string, buf int) (held []Inspected, ch <-chan Inspected, stop func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	id := in.next
	in.next++
	f := &follower{bin: bin, ch: make(chan Inspected, max(buf, 1))}
	in.subs[id] = f
	if b := in.bins[bin]; b != nil {
		held = slices.Clone(b.reqs)
	}
	var once sync.Once
	return held, f.ch, func() {
		once.Do(func() {
			in.mu.Lock()
			delete(in.subs, id)
			in.mu.Unlock()
			close(f.ch)
		})
	}
}

// inspect records r in its bin.
func (in *Inspector) inspect(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("bin")
	if !ValidBin(name) {
		writeError(w, http.StatusBadRequest, errBadBin)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxInspectBody))
	var tooBig *http.MaxBytesError
	truncated := errors.As(err, &tooBig)
	if err != nil && !truncated {
		writeError(w, http.StatusBadRequest, "read the request body: "+err.Error())
		return
	}
	q := Inspected{
		Bin: name, Time: time.Now(), Method: r.Method, Path: r.URL.Path,
		Query: maskQuery(r.URL.RawQuery), Headers: maskHeaders(r.Header),
		Size: int64(len(body)), Truncated: truncated, Client: clientAddr(r),
	}
	if q.Truncated {
		q.Size = MaxInspectBody + 1
	}
	if utf8.Valid(body) {
		q.Body = string(body)
	} else {
		q.Body, q.BodyBase64 = base64.StdEncoding.EncodeToString(body), true
	}
	in.record(q)
	if truncated {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d KiB: the inspector recorded its first %[1]d KiB", MaxInspectBody>>10))
		return
	}
	writeJSON(w, map[string]any{"recorded": true, "bin": name, "see": "buttonhook inspect " + name})
}

// secretWords mark a header or query parameter whose value is a credential.
var secretWords = []string{"auth", "token", "secret", "password", "passwd", "key", "cookie", "signature", "session", "credential"}

func isSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// mask replaces a credential with dots, keeping an Authorization scheme.
func mask(name, v string) string {
	if strings.EqualFold(name, "Authorization") || strings.EqualFold(name, "Proxy-Authorization") {
		if scheme, _, ok := strings.Cut(v, " "); ok {
			return scheme + " ••••••"
		}
	}
	return "••••••"
}

func maskHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if isSecretName(k) {
			m := make([]string, len(vs))
			for i, v := range vs {
				m[i] = mask(k, v)
			}
			vs = m
		}
		out[k] = slices.Clone(vs)
	}
	return out
}

// maskQuery returns a raw query as it was sent, in its order and encoding,
// with the value of each credential-like parameter replaced by dots (an
// empty value stays empty: nothing was sent).
func maskQuery(raw string) string {
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		rawName, value, _ := strings.Cut(p, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if value != "" && isSecretName(name) {
			parts[i] = rawName + "=••••••"
		}
	}
	return strings.Join(parts, "&")
}
