package actions

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// digestServer is an HTTP server that protects everything with Digest
// authorization as RFC 7616 describes it, written from the RFC and not from
// the client: it issues nonces, checks each request-digest with its own
// H, KD, A1 and A2, refuses a nonce count it has seen (a replay) and
// answers a nonce it has expired with stale=true.
type digestServer struct {
	t                     *testing.T
	realm, user, password string
	algorithm             string // as announced: MD5, SHA-256, SHA-512-256, with -sess or not
	userhash              bool

	mu       sync.Mutex
	nonces   map[string]*serverNonce
	ncs      []string // the nc of each accepted request
	bodies   []string // the body of each accepted request
	requests atomic.Int32
}

type serverNonce struct {
	expired bool
	seen    map[uint64]bool // nonce counts used
}

func newDigestServer(t *testing.T, algorithm string) (*digestServer, *httptest.Server) {
	ds := &digestServer{t: t, realm: "door@buttonhook.test", user: "Mufasa", password: "Circle of Life",
		algorithm: algorithm, nonces: map[string]*serverNonce{}}
	srv := httptest.NewServer(ds)
	t.Cleanup(srv.Close)
	return ds, srv
}

// H is the algorithm's hash, in lower-case hex (RFC 7616 section 3.2).
func (ds *digestServer) H(data string) string {
	var h hash.Hash
	switch strings.TrimSuffix(ds.algorithm, "-sess") {
	case "MD5":
		h = md5.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-512-256":
		h = sha512.New512_256()
	default:
		ds.t.Fatalf("digest server: unknown algorithm %q", ds.algorithm)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil))
}

// KD is KD(secret, data) = H(concat(secret, ":", data)).
func (ds *digestServer) KD(secret, data string) string { return ds.H(secret + ":" + data) }

// expire makes every nonce issued so far stale.
func (ds *digestServer) expire() {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, n := range ds.nonces {
		n.expired = true
	}
}

func (ds *digestServer) challenge(w http.ResponseWriter, stale bool) {
	nonce := rand.Text()
	ds.mu.Lock()
	ds.nonces[nonce] = &serverNonce{seen: map[uint64]bool{}}
	ds.mu.Unlock()
	// A Basic challenge first, in its own header, and a qop list with
	// auth-int, as real servers send them.
	w.Header().Add("WWW-Authenticate", `Basic realm="legacy, please"`)
	w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm=%q, qop="auth-int, auth", algorithm=%s, nonce=%q, opaque="op/aque=", stale=%s, userhash=%t`,
		ds.realm, ds.algorithm, nonce, strings.ToUpper(strconv.FormatBool(stale)), ds.userhash))
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, "who are you?")
}

var digestParamRE = regexp.MustCompile(`([a-zA-Z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))`)

// digestParams reads an Authorization: Digest header's parameters.
func digestParams(h string) map[string]string {
	p := map[string]string{}
	for _, m := range digestParamRE.FindAllStringSubmatch(strings.TrimPrefix(h, "Digest "), -1) {
		v := m[3]
		if m[2] != "" || strings.HasPrefix(m[0][len(m[1])+1:], `"`) {
			v = regexp.MustCompile(`\\(.)`).ReplaceAllString(m[2], "$1")
		}
		p[strings.ToLower(m[1])] = v
	}
	return p
}

func (ds *digestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ds.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Digest ") {
		ds.challenge(w, false)
		return
	}
	p := digestParams(h)
	wantUser := ds.user
	if ds.userhash {
		wantUser = ds.H(ds.user + ":" + ds.realm)
	}
	bad := func(format string, args ...any) {
		ds.t.Errorf("digest server: "+format, args...)
		w.WriteHeader(http.StatusBadRequest)
	}
	switch {
	case p["username"] != wantUser:
		bad("username = %q, want %q", p["username"], wantUser)
		return
	case p["realm"] != ds.realm || p["uri"] != r.URL.RequestURI() || p["algorithm"] != ds.algorithm || p["opaque"] != "op/aque=":
		bad("realm, uri, algorithm or opaque wrong in %s (uri %s)", h, r.URL.RequestURI())
		return
	case p["qop"] != "auth" || len(p["nc"]) != 8 || p["cnonce"] == "":
		bad("qop, nc or cnonce wrong in %s", h)
		return
	case ds.userhash != (p["userhash"] == "true"):
		bad("userhash = %q, want %t", p["userhash"], ds.userhash)
		return
	}
	nc, err := strconv.ParseUint(p["nc"], 16, 32)
	if err != nil {
		bad("nc %q: %v", p["nc"], err)
		return
	}
	// RFC 7616 section 3.4.1 (and 3.4.2 for -sess).
	a1 := ds.user + ":" + ds.realm + ":" + ds.password
	ha1 := ds.H(a1)
	if strings.HasSuffix(ds.algorithm, "-sess") {
		ha1 = ds.H(ha1 + ":" + p["nonce"] + ":" + p["cnonce"])
	}
	a2 := r.Method + ":" + p["uri"]
	want := ds.KD(ha1, p["nonce"]+":"+p["nc"]+":"+p["cnonce"]+":"+p["qop"]+":"+ds.H(a2))

	ds.mu.Lock()
	n := ds.nonces[p["nonce"]]
	switch {
	case n == nil || p["response"] != want: // a nonce never issued, or a wrong password
		ds.mu.Unlock()
		ds.challenge(w, false)
	case n.expired: // the right password with an old nonce
		ds.mu.Unlock()
		ds.challenge(w, true)
	case n.seen[nc]: // a replay
		ds.mu.Unlock()
		ds.challenge(w, false)
	default:
		n.seen[nc] = true
		ds.ncs = append(ds.ncs, p["nc"])
		ds.bodies = append(ds.bodies, string(body))
		ds.mu.Unlock()
		io.WriteString(w, "welcome")
	}
}

func (ds *digestServer) lastNC() string {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if len(ds.ncs) == 0 {
		return ""
	}
	return ds.ncs[len(ds.ncs)-1]
}

// TestDigestRFCExamples checks the request-digest against the worked
// examples of RFC 7616 section 3.9.1 (and RFC 2617 section 3.5's).
func TestDigestRFCExamples(t *testing.T) {
	const rfc7616 = `realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`
	tests := []struct {
		name      string
		challenge []string // WWW-Authenticate values
		username  string
		password  string
		uri       string
		cnonce    string
		response  string
	}{
		{"RFC 7616 SHA-256 (chosen over MD5)", []string{"Digest " + rfc7616 + ", algorithm=SHA-256", "Digest " + rfc7616 + ", algorithm=MD5"},
			"Mufasa", "Circle of Life", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"RFC 7616 MD5", []string{"Digest " + rfc7616 + ", algorithm=MD5"},
			"Mufasa", "Circle of Life", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "8ca523f5e9506fed4657c9700eebdbec"},
		{"RFC 2617 MD5 without algorithm", []string{`Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"`},
			"Mufasa", "Circle Of Life", "/dir/index.html", "0a4f113b", "6629fae49393a05397450978507c4ef1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, found, err := pickDigest(parseChallenges(tt.challenge))
			if !found || err != nil {
				t.Fatalf("pickDigest = %v, %v", found, err)
			}
			if got := ch.response("GET", tt.uri, tt.username, tt.password, 1, tt.cnonce); got != tt.response {
				t.Errorf("response = %s, want %s", got, tt.response)
			}
			p := digestParams(ch.authorization("GET", tt.uri, tt.username, tt.password, 1, tt.cnonce))
			want := map[string]string{"username": tt.username, "uri": tt.uri, "nc": "00000001", "cnonce": tt.cnonce, "qop": "auth", "response": tt.response, "realm": ch.realm, "nonce": ch.nonce, "opaque": ch.opaque}
			for k, v := range want {
				if p[k] != v {
					t.Errorf("Authorization %s = %q, want %q", k, p[k], v)
				}
			}
		})
	}

	// RFC 7616 section 3.9.2: the hashed user name. The RFC's example value
	// is SHA-512 cut to 256 bits, not SHA-512/256 as its section 3.2 defines
	// (and as Buttonhook computes): both are checked, so the difference is
	// on record.
	ch, _, _ := pickDigest(parseChallenges([]string{`Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true`}))
	p := digestParams(ch.authorization("GET", "/doe.json", "Jäsøn Doe", "Secret, or not?", 1, "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"))
	sum512256 := sha512.Sum512_256([]byte("Jäsøn Doe:api@example.org"))
	if want := hex.EncodeToString(sum512256[:]); p["username"] != want || p["userhash"] != "true" || p["algorithm"] != "SHA-512-256" {
		t.Errorf("hashed user name: %v, want username %s", p, want)
	}
	sum512 := sha512.Sum512([]byte("Jäsøn Doe:api@example.org"))
	if got, rfc := hex.EncodeToString(sum512[:32]), "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"; got != rfc {
		t.Errorf("truncated SHA-512 = %s, want the RFC's %s", got, rfc)
	}
	ch.userhash = false
	p = digestParams(ch.authorization("GET", "/doe.json", "Jäsøn Doe", "Secret, or not?", 1, "x"))
	if want := "UTF-8''J%C3%A4s%C3%B8n%20Doe"; p["username*"] != want || p["username"] != "" {
		t.Errorf("username* = %q, want %q", p["username*"], want)
	}
}

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{`Digest realm="a, b", nonce=xyz, qop="auth"`}, `Digest{nonce=xyz qop=auth realm=a, b}`},
		{[]string{`Basic realm="x", Digest realm="q\"uo\\te", nonce="n", stale=TRUE`}, `Basic{realm=x} Digest{nonce=n realm=q"uo\te stale=TRUE}`},
		{[]string{`Negotiate`, `NTLM, digest Realm="r", NONCE="n"`}, `Negotiate{} NTLM{} digest{nonce=n realm=r}`},
		{[]string{`Bearer realm="x", error="invalid_token", error_description="The access token expired"`}, `Bearer{error=invalid_token error_description=The access token expired realm=x}`},
		{[]string{`Newauth abc/def==, Digest nonce="n", nonce="second"`}, `Newauth{} Digest{nonce=n}`},
		{[]string{``, `,,`, `"garbage`}, ``},
	}
	for _, tt := range tests {
		var parts []string
		for _, c := range parseChallenges(tt.in) {
			var ps []string
			for k, v := range c.params {
				ps = append(ps, k+"="+v)
			}
			slices.Sort(ps)
			parts = append(parts, c.scheme+"{"+strings.Join(ps, " ")+"}")
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("parseChallenges(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDigest(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256", "SHA-512-256-sess", "MD5-sess"} {
		t.Run(alg, func(t *testing.T) {
			ds, srv := newDigestServer(t, alg)
			ds.userhash = alg == "SHA-512-256-sess"
			s := NewSender(memSecrets(map[string]string{"door": "Circle of Life", "wrong": "Circle of Strife"}, nil))
			t.Cleanup(s.Close)
			tg := Target{Name: "x", Method: "POST", URL: srv.URL + "/hook?door=front", Body: Body{Kind: BodyJSON, JSON: `{"press":"<EID>"}`},
				Auth: Auth{Kind: AuthDigest, Username: "Mufasa", Password: "keyring:door"}}
			press := func(step string, eid string, wantRequests int32, wantNC string) {
				t.Helper()
				before := ds.requests.Load()
				r := s.Send(context.Background(), tg, Tags{EID: eid})
				if !r.OK || string(r.Body) != "welcome" {
					t.Fatalf("%s: %+v (%s), want OK", step, r, r.Reason())
				}
				if got := ds.requests.Load() - before; got != wantRequests {
					t.Errorf("%s: the server saw %d requests, want %d", step, got, wantRequests)
				}
				if got := ds.lastNC(); got != wantNC {
					t.Errorf("%s: nc = %s, want %s", step, got, wantNC)
				}
				ds.mu.Lock()
				defer ds.mu.Unlock()
				if got, want := ds.bodies[len(ds.bodies)-1], `{"press":"`+eid+`"}`; got != want {
					t.Errorf("%s: the authorized request's body = %q, want %q", step, got, want)
				}
			}
			press("first press: challenge, then answer", "E1", 2, "00000001")
			press("second press: the remembered nonce", "E2", 1, "00000002")
			press("third press", "E3", 1, "00000003")
			ds.expire()
			press("stale nonce: answered again with the new one", "E4", 2, "00000001")
			press("after the stale nonce", "E5", 1, "00000002")

			// A wrong password: the answered challenge's 401 is the result.
			wrong := tg
			wrong.Auth.Password = "keyring:wrong"
			for _, fresh := range []bool{true, false} {
				sender := s // remembers a nonce: one round trip for it, one for the new challenge
				if fresh {
					sender = NewSender(memSecrets(map[string]string{"wrong": "Circle of Strife"}, nil))
					t.Cleanup(sender.Close)
				}
				before := ds.requests.Load()
				r := sender.Send(context.Background(), wrong, Tags{})
				if r.OK || r.Code != http.StatusUnauthorized || r.Err != nil {
					t.Errorf("wrong password (fresh sender %t): %+v, want a 401 result", fresh, r)
				}
				if got := ds.requests.Load() - before; got != 2 {
					t.Errorf("wrong password (fresh sender %t): the server saw %d requests, want 2", fresh, got)
				}
				if e := wrong.Auth.explain(r.Code, r.Header); !strings.Contains(e, "refused the credentials") {
					t.Errorf("explain = %q", e)
				}
			}
		})
	}
}

// TestDigestServerRefusesReplay checks the test server itself: the same
// nonce count twice is refused.
func TestDigestServerRefusesReplay(t *testing.T) {
	ds, srv := newDigestServer(t, "SHA-256")
	resp, err := http.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch, _, err := pickDigest(parseChallenges(resp.Header.Values("WWW-Authenticate")))
	if err != nil {
		t.Fatal(err)
	}
	authz := ch.authorization("GET", "/x", ds.user, ds.password, 7, "c")
	for i, want := range []int{200, 401} {
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		req.Header.Set("Authorization", authz)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d with nc=00000007: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

// TestDigestConcurrentPresses shares one remembered nonce between presses
// in flight at once: each takes its own nonce count.
func TestDigestConcurrentPresses(t *testing.T) {
	ds, srv := newDigestServer(t, "SHA-256")
	s := NewSender(memSecrets(map[string]string{"door": "Circle of Life"}, nil))
	t.Cleanup(s.Close)
	tg := Target{Name: "x", Method: "GET", URL: srv.URL, Auth: Auth{Kind: AuthDigest, Username: "Mufasa", Password: "door"}}
	if r := s.Send(context.Background(), tg, Tags{}); !r.OK {
		t.Fatalf("first press: %s", r.Reason())
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if r := s.Send(context.Background(), tg, Tags{}); !r.OK {
				t.Errorf("press: %s", r.Reason())
			}
		})
	}
	wg.Wait()
	if got := ds.requests.Load(); got != 2+16 {
		t.Errorf("the server saw %d requests, want 18 (one each after the first press)", got)
	}
}

func TestDigestUnsupportedChallenge(t *testing.T) {
	srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Digest realm="r", nonce="n", qop="auth-int"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	s := NewSender(memSecrets(map[string]string{"pw": "p"}, nil))
	t.Cleanup(s.Close)
	r := s.Send(context.Background(), Target{Name: "x", Method: "GET", URL: srv.URL, Auth: Auth{Kind: AuthDigest, Username: "u", Password: "pw"}}, Tags{})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "cannot answer (qop auth-int)") {
		t.Errorf("err = %v, want the unsupported qop named", r.Err)
	}
	if n.Load() != 1 {
		t.Errorf("the server saw %d requests, want 1", n.Load())
	}
}

// TestDigestNeedsRereadableBody refuses, before sending, a body that could
// not be sent a second time.
func TestDigestNeedsRereadableBody(t *testing.T) {
	srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {})
	req, _ := http.NewRequest("POST", srv.URL, io.NopCloser(strings.NewReader("once")))
	var st authState
	_, err := st.digest(req, srv.Client(), "u", "p")
	if err == nil || !strings.Contains(err.Error(), "cannot be read again") {
		t.Errorf("err = %v, want the body refused", err)
	}
	if n.Load() != 0 {
		t.Errorf("the server saw %d requests, want none", n.Load())
	}
}

// TestDigestNotADigestChallenge returns a 401 that asks for another scheme
// as the result, after one request.
func TestDigestNotADigestChallenge(t *testing.T) {
	srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	s := NewSender(memSecrets(map[string]string{"pw": "p"}, nil))
	t.Cleanup(s.Close)
	r := s.Send(context.Background(), Target{Name: "x", Method: "GET", URL: srv.URL, Auth: Auth{Kind: AuthDigest, Username: "u", Password: "pw"}}, Tags{})
	if r.Code != 401 || r.Err != nil || n.Load() != 1 {
		t.Errorf("result %+v after %d requests, want a 401 after 1", r, n.Load())
	}
	if e := (Auth{}).explain(r.Code, r.Header); !strings.Contains(e, "asks for Basic authorization") {
		t.Errorf("explain for no auth = %q", e)
	}
}

func TestDigestNextNonce(t *testing.T) {
	var st authState
	u := mustParseURL(t, "https://h.example/a")
	ch, _, _ := pickDigest(parseChallenges([]string{`Digest realm="r", nonce="n1", qop="auth"`}))
	st.rememberDigest(u, ch)
	st.nextNonce(u, http.Header{"Authentication-Info": {`qop=auth, rspauth="x", nextnonce="n2"`}})
	turn, ok := st.nextDigest(mustParseURL(t, "https://H.example:443/b"))
	if !ok || turn.ch.nonce != "n2" || turn.nc != 1 {
		t.Errorf("next turn = %+v, %v; want nonce n2, nc 1", turn, ok)
	}
	if _, ok := st.nextDigest(mustParseURL(t, "http://h.example/a")); ok {
		t.Errorf("a challenge from https was used for http")
	}

	// A challenge with a domain covers only those URIs.
	ch, _, _ = pickDigest(parseChallenges([]string{`Digest realm="r", nonce="n1", qop="auth", domain="/api https://other.example/x"`}))
	st.rememberDigest(u, ch)
	for path, want := range map[string]bool{"/api/hook": true, "/web": false} {
		if _, ok := st.nextDigest(mustParseURL(t, "https://h.example"+path)); ok != want {
			t.Errorf("%s covered: %v, want %v", path, ok, want)
		}
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
