package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// localRig is a real engine over a real Badger directory, with its local
// server running on a free loopback port.
type localRig struct {
	e    *engine.Engine
	l    *Local
	dir  string
	port int
	stop func()
}

// freePort returns a loopback port nothing listens on (for a moment).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newLocalRig(t testing.TB, cfg engine.Config) *localRig {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := engine.New(engine.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	r := &localRig{e: e, dir: dir, port: freePort(t)}
	s := e.Settings()
	s.Server.Port = r.port
	if err := e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 0 {
		if err := e.Import(cfg); err != nil {
			t.Fatal(err)
		}
	}
	r.l = NewLocal(e, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.l.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			r.stop()
		}
	})
	return r
}

// setServer changes the server settings.
func (r *localRig) setServer(t testing.TB, change func(*engine.ServerSettings)) {
	t.Helper()
	s := r.e.Settings()
	change(&s.Server)
	if err := r.e.SetSettings(s); err != nil {
		t.Fatal(err)
	}
}

// waitState waits until the server's status is in state.
func (r *localRig) waitState(t testing.TB, state string) Status {
	t.Helper()
	return r.waitStatus(t, state, func(Status) bool { return true })
}

// waitStatus waits until the server's status is in state and ok says so.
func (r *localRig) waitStatus(t testing.TB, state string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.l.Status()
		if st.State == state && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("server state = %q (%+v), want %q", st.State, st, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *localRig) url(path string) string { return "http://127.0.0.1:" + strconv.Itoa(r.port) + path }

// do sends a request and returns the status and body.
func do(t testing.TB, c *http.Client, method, url, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func inspectorOn(s *engine.ServerSettings) { s.Inspector = true }

func TestLocalServerRunsOnlyWhenNeeded(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.waitStatus(t, StateOff, func(st Status) bool { return strings.Contains(st.Reason, "nothing needs it") })
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), time.Second); err == nil {
		t.Errorf("something listens on port %d while nothing needs the server", r.port)
	}

	r.setServer(t, inspectorOn)
	st := r.waitState(t, StateRunning)
	if want := "127.0.0.1:" + strconv.Itoa(r.port); st.Addr != want || st.URL != "http://"+want {
		t.Errorf("status = %+v, want it on %s", st, want)
	}
	if code, _, _ := do(t, nil, "POST", r.url("/inspect/demo"), "hi"); code != http.StatusOK {
		t.Errorf("inspect status %d, want 200", code)
	}

	// A port change moves it; the old port is free again.
	old := r.port
	r.port = freePort(t)
	r.setServer(t, func(s *engine.ServerSettings) { s.Port = r.port })
	deadline := time.Now().Add(5 * time.Second)
	for r.l.Status().Addr != "127.0.0.1:"+strconv.Itoa(r.port) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if code, _, _ := do(t, nil, "GET", r.url("/"), ""); code != http.StatusOK {
		t.Errorf("GET / on the new port: %d", code)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(old)); err != nil {
		t.Errorf("old port %d still taken: %v", old, err)
	} else {
		ln.Close()
	}

	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = false })
	r.waitState(t, StateOff)
	r.stop()
	if st := r.l.Status(); st.State == StateRunning {
		t.Errorf("status after Run returned: %+v", st)
	}
}

func TestLocalServerPortInUse(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.port = busy.Addr().(*net.TCPAddr).Port
	r.setServer(t, func(s *engine.ServerSettings) { s.Port = r.port; s.Inspector = true })
	st := r.waitState(t, StateFailed)
	if !strings.Contains(st.Error, "port "+strconv.Itoa(r.port)+" is in use") || !strings.Contains(st.Error, "choose another port") {
		t.Errorf("error = %q, want it to say the port is in use and what to do", st.Error)
	}
	// The engine keeps working: async attempts say why they cannot run.
	if got := r.e.Callbacks().Len(); got != 0 {
		t.Errorf("callbacks = %d", got)
	}
	// Freed, and the settings touched again: it runs.
	busy.Close()
	r.setServer(t, func(s *engine.ServerSettings) { s.InspectorKeep = 7 })
	r.waitState(t, StateRunning)
}

func TestHostGuardAndHeaders(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, func(s *engine.ServerSettings) {
		s.Inspector = true
		s.PublicURL = "https://hooks.example.net/bh"
	})
	r.waitState(t, StateRunning)
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + strconv.Itoa(r.port), 200},
		{"localhost:" + strconv.Itoa(r.port), 200},
		{"LOCALHOST.", 200},
		{"hooks.example.net", 200},
		{"evil.example.com:" + strconv.Itoa(r.port), http.StatusMisdirectedRequest}, // DNS rebinding
		{"127.0.0.1.evil.example.com", http.StatusMisdirectedRequest},
		{"192.168.1.10:" + strconv.Itoa(r.port), http.StatusMisdirectedRequest}, // LAN is off
	} {
		code, body, h := do(t, nil, "POST", r.url("/inspect/demo"), "x", "Host", tc.host)
		if code != tc.want {
			t.Errorf("Host %q: status %d (%s), want %d", tc.host, code, body, tc.want)
		}
		if v := h.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("Host %q: Access-Control-Allow-Origin = %q: there is no CORS", tc.host, v)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("Host %q: headers %v lack nosniff/no-store", tc.host, h)
		}
	}
	// A CORS preflight gets nothing that lets a page go on.
	code, _, h := do(t, nil, "OPTIONS", r.url("/api/v1/targets/x/url"), "", "Origin", "http://evil.example.com", "Access-Control-Request-Method", "PUT")
	if code < 400 || h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight: status %d, headers %v", code, h)
	}
}

func TestSlowClientIsCut(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, inspectorOn)
	r.waitState(t, StateRunning)
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(r.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("POST /inspect/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n")); err != nil {
		t.Fatal(err)
	}
	// The rest of the headers never come: the server must hang up (it may
	// answer 408 first) within its header timeout.
	c.SetReadDeadline(time.Now().Add(readHeaderTimeout + 5*time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("the server kept a client that never finished its headers: %v", err)
	}
	if took := time.Since(start); took > readHeaderTimeout+2*time.Second {
		t.Errorf("cut after %v, want about %v", took, readHeaderTimeout)
	}
	if len(b) > 0 && !strings.Contains(string(b), "408") {
		t.Errorf("answer to a slow client = %q", b)
	}
}

func TestHTTPSFingerprint(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, func(s *engine.ServerSettings) { s.HTTPS = true; s.Inspector = true })
	st := r.waitState(t, StateRunning)
	if !strings.HasPrefix(st.URL, "https://127.0.0.1:") || len(st.Fingerprint) != 95 {
		t.Fatalf("status = %+v, want an https URL and a SHA-256 fingerprint", st)
	}
	// The other side pins the fingerprint it was given.
	var seen string
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // self-signed: verified by the pinned fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen = Fingerprint(cs.PeerCertificates[0].Raw)
			if seen != st.Fingerprint {
				return errors.New("fingerprint mismatch")
			}
			return nil
		},
	}}}
	if code, body, _ := do(t, c, "POST", st.URL+"/inspect/tls", "x"); code != 200 {
		t.Fatalf("POST over HTTPS: %d %s", code, body)
	}
	if seen != st.Fingerprint {
		t.Errorf("served certificate %s, status shows %s", seen, st.Fingerprint)
	}
	certPath, keyPath := certFiles(r.dir)
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v, want 0600", err, fi.Mode())
	}

	// Restarted, it keeps its certificate (the other side pinned it).
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = false })
	r.waitState(t, StateOff)
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = true })
	if again := r.waitState(t, StateRunning); again.Fingerprint != st.Fingerprint {
		t.Errorf("fingerprint changed on restart: %s then %s", st.Fingerprint, again.Fingerprint)
	}

	// An unreadable certificate: a clear error, and the rest keeps working.
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = false })
	r.waitState(t, StateOff)
	if err := os.WriteFile(certPath, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = true })
	bad := r.waitState(t, StateFailed)
	if !strings.Contains(bad.Error, "unreadable") || !strings.Contains(bad.Error, "delete "+certPath) {
		t.Errorf("error = %q, want it to say the certificate is unreadable and what to delete", bad.Error)
	}
	if _, err := r.e.Search(storage.Query{}); err != nil {
		t.Errorf("engine after a server failure: %v", err)
	}
}

func TestCallbacksOverHTTP(t *testing.T) {
	hook := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook <- r.Header.Get(actions.CallbackHeader)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	target := actions.Target{Name: "Deploy", Enabled: true, Method: "POST", URL: srv.URL,
		Async: actions.Async{Enabled: true, Timeout: 1}}
	r := newLocalRig(t, engine.Config{Version: engine.ConfigVersion, Targets: []actions.Target{target}})
	st := r.waitState(t, StateRunning)
	if !strings.Contains(st.Reason, "Deploy") {
		t.Errorf("reason = %q, want it to name the async target", st.Reason)
	}

	fire := func() (callbackURL string, result <-chan storage.Attempt) {
		ch := make(chan storage.Attempt, 1)
		go func() {
			a, err := r.e.Fire(context.Background(), "Deploy")
			if err != nil {
				t.Error(err)
			}
			ch <- a
		}()
		select {
		case u := <-hook:
			return u, ch
		case <-time.After(5 * time.Second):
			t.Fatal("the webhook was not called")
		}
		return "", nil
	}

	cb, result := fire()
	if !strings.HasPrefix(cb, st.URL+"/callback/") {
		t.Fatalf("callback URL %q is not on the server (%s)", cb, st.URL)
	}
	tok := strings.TrimPrefix(cb, st.URL+"/callback/")
	forged := tok[:16] + strings.Repeat("0", 32)
	if code, _, _ := do(t, nil, "POST", st.URL+"/callback/"+forged, ""); code != http.StatusNotFound {
		t.Errorf("forged token: %d, want 404", code)
	}
	if code, _, _ := do(t, nil, "POST", cb, strings.Repeat("x", actions.MaxCallbackBody+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized callback: %d, want 413", code)
	}
	code, body, _ := do(t, nil, "POST", cb, `{"status":"ok","message":"deployed v42"}`, "Content-Type", "application/json")
	if code != http.StatusOK || strings.Contains(body, tok) {
		t.Errorf("callback: %d %s", code, body)
	}
	a := <-result
	if a.Status != storage.StatusOK || a.Message != "deployed v42" {
		t.Errorf("attempt after callback: %s %q, want ok \"deployed v42\"", a.Status, a.Message)
	}
	if code, _, _ := do(t, nil, "POST", cb, ""); code != http.StatusGone {
		t.Errorf("replayed callback: %d, want 410", code)
	}

	// Expiry: no callback within the target's 1 s, then a late one gets 404.
	cb, result = fire()
	a = <-result
	if a.Status != storage.StatusFailed || !strings.Contains(a.Error, "no callback") {
		t.Errorf("attempt without callback: %s %q, want failed \"no callback\"", a.Status, a.Error)
	}
	if code, _, _ := do(t, nil, "GET", cb+"?status=ok", ""); code != http.StatusNotFound {
		t.Errorf("late callback: %d, want 404", code)
	}
}

func TestRepeatedFailuresAreSlowed(t *testing.T) {
	door := actions.Target{Name: "Door", Enabled: true, Method: "POST", URL: "https://hooks.example.com/door",
		Dynamic: actions.Dynamic{Enabled: true}}
	lamp := actions.Target{Name: "Lamp", Enabled: true, Method: "POST", URL: "https://hooks.example.com/lamp",
		Dynamic: actions.Dynamic{Enabled: true}}
	r := newLocalRig(t, engine.Config{Version: engine.ConfigVersion, Targets: []actions.Target{door, lamp}})
	ids := map[string]string{}
	for _, tg := range r.e.Config().Targets {
		ids[tg.Name] = tg.ID
	}
	key, _, err := r.e.CreateAPIKey("door only", []string{"Door"}, false)
	if err != nil {
		t.Fatal(err)
	}
	wrong := key[:len(key)-4] + "AAAA"
	rt := &routes{e: r.e, insp: r.l.insp, inspOn: func() bool { return false }, callbacks: newLimiter(), keys: newLimiter()}
	now := time.Unix(1e9, 0)
	rt.callbacks.now = func() time.Time { return now }
	rt.keys.now = rt.callbacks.now
	h := guard(rt.handler(), newHostGuard(), r.l.log, nil)
	send := func(path, auth string, client ...string) int {
		req := httptest.NewRequest("GET", "http://127.0.0.1"+path, nil)
		req.RemoteAddr = "10.1.2.3:5555"
		if len(client) > 0 {
			req.RemoteAddr = client[0]
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusTooManyRequests {
			var msg struct{ Error string }
			json.Unmarshal(w.Body.Bytes(), &msg)
			if w.Header().Get("Retry-After") == "" || !strings.Contains(msg.Error, "try again in") {
				t.Errorf("429 with Retry-After %q, saying %q", w.Header().Get("Retry-After"), msg.Error)
			}
		}
		return w.Code
	}
	doorURL, lampURL := "/api/v1/targets/"+ids["Door"]+"/url", "/api/v1/targets/"+ids["Lamp"]+"/url"
	forged := "/callback/" + strings.Repeat("a", 48)

	// What cannot be a guess at a real key or token is not counted.
	for range 2 * freeFailures {
		if code := send(doorURL, "not-a-key"); code != http.StatusUnauthorized {
			t.Fatalf("malformed key: %d, want 401", code)
		}
		if code := send("/callback/test-run", ""); code != http.StatusNotFound {
			t.Fatalf("test run's placeholder callback: %d, want 404", code)
		}
	}
	// Wrong keys are, up to freeFailures free; a right key out of its scope
	// (403) clears nothing.
	for i := range freeFailures {
		if code := send(doorURL, wrong); code != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: %d, want 401", i, code)
		}
		if code := send(lampURL, key); code != http.StatusForbidden {
			t.Fatalf("key out of scope: %d, want 403", code)
		}
	}
	if code := send(doorURL, wrong); code != http.StatusUnauthorized {
		t.Fatalf("wrong key %d: %d, want 401 (then the wait starts)", freeFailures+1, code)
	}
	if code := send(doorURL, key); code != http.StatusTooManyRequests {
		t.Fatalf("after %d wrong keys: %d, want 429 even for the right key", freeFailures+1, code)
	}
	// Callbacks are counted apart: wrong keys do not block them.
	if code := send(forged, ""); code != http.StatusNotFound {
		t.Errorf("a callback after wrong keys: %d, want 404 (not slowed)", code)
	}
	// Another client is not slowed by this one.
	if code := send(doorURL, key, "10.9.9.9:1"); code != http.StatusOK {
		t.Errorf("other client: %d, want 200", code)
	}
	now = now.Add(maxBackoff + time.Second)
	if code := send(doorURL, key); code != http.StatusOK {
		t.Errorf("after the wait, the right key: %d, want 200", code)
	}
	if code := send(doorURL, wrong); code != http.StatusUnauthorized {
		t.Errorf("after a success: %d, want 401 (failures forgotten)", code)
	}

	// Forged callback tokens are counted like wrong keys.
	for range freeFailures + 1 {
		send(forged, "", "10.5.5.5:1")
	}
	if code := send(forged, "", "10.5.5.5:1"); code != http.StatusTooManyRequests {
		t.Errorf("after %d forged tokens: %d, want 429", freeFailures+1, code)
	}
	// A late callback (its attempt timed out) is not a guess.
	cbs := r.e.Callbacks()
	tok := cbs.Register("late")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cbs.Wait(ctx, tok, time.Second)
	for range freeFailures + 2 {
		if code := send("/callback/"+tok, "", "10.6.6.6:1"); code != http.StatusNotFound {
			t.Fatalf("late callback: %d, want 404 and no slow-down", code)
		}
	}
}

func TestWebPagesAreRefused(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, inspectorOn)
	r.waitState(t, StateRunning)
	for _, tc := range []struct {
		header []string
		want   int
	}{
		{nil, http.StatusOK},
		{[]string{"Sec-Fetch-Site", "none"}, http.StatusOK},
		{[]string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{[]string{"Origin", "http://127.0.0.1:" + strconv.Itoa(r.port)}, http.StatusOK},
		{[]string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{[]string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{[]string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{[]string{"Origin", "null"}, http.StatusForbidden},
	} {
		code, body, _ := do(t, nil, "POST", r.url("/inspect/demo"), "x", tc.header...)
		if code != tc.want {
			t.Errorf("%v: %d %s, want %d", tc.header, code, body, tc.want)
		}
	}
	if n := len(r.l.Inspector().Requests("demo")); n != 4 {
		t.Errorf("inspector holds %d requests, want the 4 allowed ones", n)
	}
}

func TestPublicURLPrefix(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = true; s.PublicURL = "https://hooks.example.net/bh" })
	st := r.waitState(t, StateRunning)
	if st.URL != "https://hooks.example.net/bh" {
		t.Errorf("base URL %q, want the public URL", st.URL)
	}
	for _, path := range []string{"/bh/inspect/demo", "/inspect/demo"} {
		if code, body, _ := do(t, nil, "POST", r.url(path), "x", "Host", "hooks.example.net"); code != http.StatusOK {
			t.Errorf("POST %s: %d %s", path, code, body)
		}
	}
	if got := redactPath("/bh/callback/" + strings.Repeat("a", 48)); got != "/bh/callback/REDACTED" {
		t.Errorf("redactPath = %q", got)
	}
	if got := redactPath("//callback/" + strings.Repeat("a", 48)); got != "//callback/REDACTED" {
		t.Errorf("redactPath = %q", got)
	}
}

func TestDynamicURLAPI(t *testing.T) {
	door := actions.Target{Name: "Door", Enabled: true, Method: "POST",
		Dynamic: actions.Dynamic{Enabled: true, Hosts: []string{"hooks.example.com"}}}
	lamp := actions.Target{Name: "Lamp", Enabled: true, Method: "POST", URL: "http://127.0.0.1:9/lamp"}
	r := newLocalRig(t, engine.Config{Version: engine.ConfigVersion, Targets: []actions.Target{door, lamp}})
	st := r.waitState(t, StateRunning)
	cfg := r.e.Config()
	ids := map[string]string{}
	for _, tg := range cfg.Targets {
		ids[tg.Name] = tg.ID
	}
	key, _, err := r.e.CreateAPIKey("ci", []string{"Door"}, false)
	if err != nil {
		t.Fatal(err)
	}
	allKey, _, err := r.e.CreateAPIKey("all", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	url := func(name string) string { return st.URL + "/api/v1/targets/" + ids[name] + "/url" }
	bearer := func(k string) []string {
		return []string{"Authorization", "Bearer " + k, "Content-Type", "application/json"}
	}

	code, body, _ := do(t, nil, "PUT", url("Door"), `{"url":"https://hooks.example.com/door?x=1"}`, bearer(key)...)
	if code != http.StatusOK || !strings.Contains(body, `"url":"https://hooks.example.com/door?x=1"`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if u, err := r.e.DynamicURL(ids["Door"]); err != nil || u.URL != "https://hooks.example.com/door?x=1" || u.Set.IsZero() {
		t.Errorf("engine's URL after PUT: %+v, %v", u, err)
	}
	code, body, _ = do(t, nil, "GET", url("Door"), "", bearer(key)...)
	var got engine.DynamicURL
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || got.URL != "https://hooks.example.com/door?x=1" {
		t.Errorf("GET: %d %s", code, body)
	}
	// A form body works too.
	code, body, _ = do(t, nil, "PUT", url("Door"), "url=https%3A%2F%2Fhooks.example.com%2Fb", "Authorization", "Bearer "+key, "Content-Type", "application/x-www-form-urlencoded")
	if code != 200 || !strings.Contains(body, "hooks.example.com/b") {
		t.Errorf("PUT form: %d %s", code, body)
	}

	for _, tc := range []struct {
		name, method, url, body string
		header                  []string
		want                    int
	}{
		{"no key", "PUT", url("Door"), `{"url":"https://hooks.example.com/"}`, nil, http.StatusUnauthorized},
		{"wrong key", "PUT", url("Door"), `{"url":"https://hooks.example.com/"}`, bearer(key + "x"), http.StatusUnauthorized},
		{"basic auth", "GET", url("Door"), "", []string{"Authorization", "Basic " + key}, http.StatusUnauthorized},
		{"out of scope", "PUT", url("Lamp"), `{"url":"https://hooks.example.com/"}`, bearer(key), http.StatusForbidden},
		{"not dynamic", "PUT", url("Lamp"), `{"url":"https://hooks.example.com/"}`, bearer(allKey), http.StatusConflict},
		{"unknown target", "GET", st.URL + "/api/v1/targets/ffffffffffffffff/url", "", bearer(allKey), http.StatusNotFound},
		{"host not allowed", "PUT", url("Door"), `{"url":"https://attacker.example.org/"}`, bearer(key), http.StatusUnprocessableEntity},
		{"not http", "PUT", url("Door"), `{"url":"file:///etc/passwd"}`, bearer(key), http.StatusUnprocessableEntity},
		{"bad json", "PUT", url("Door"), `{"url":`, bearer(key), http.StatusBadRequest},
		{"empty", "PUT", url("Door"), ``, bearer(key), http.StatusBadRequest},
		{"too big", "PUT", url("Door"), `{"url":"https://hooks.example.com/` + strings.Repeat("a", maxAPIBody) + `"}`, bearer(key), http.StatusRequestEntityTooLarge},
		{"wrong method", "POST", url("Door"), `{}`, bearer(key), http.StatusMethodNotAllowed},
	} {
		code, body, h := do(t, nil, tc.method, tc.url, tc.body, tc.header...)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if strings.Contains(body, key) || strings.Contains(body, allKey) {
			t.Errorf("%s: the response shows an API key: %s", tc.name, body)
		}
		if code == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
	}
	if u, _ := r.e.DynamicURL(ids["Door"]); u.URL != "https://hooks.example.com/b" {
		t.Errorf("refused requests changed the URL to %q", u.URL)
	}

	if err := r.e.RevokeAPIKey("ci"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := do(t, nil, "GET", url("Door"), "", bearer(key)...); code != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", code)
	}
	if code, _, _ := do(t, nil, "DELETE", url("Door"), "", bearer(allKey)...); code != http.StatusNoContent {
		t.Errorf("DELETE: %d, want 204", code)
	}
	if u, err := r.e.DynamicURL(ids["Door"]); err != nil || u.URL != "" {
		t.Errorf("after DELETE: %+v, %v", u, err)
	}
}

func TestInspectorRecordsAndFollows(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = true; s.InspectorKeep = 3 })
	r.waitState(t, StateRunning)
	for _, path := range []string{"/inspect/other", "/inspect/demo/a"} {
		if code, _, _ := do(t, nil, "POST", r.url(path), "first"); code != 200 {
			t.Fatalf("POST %s: %d", path, code)
		}
	}

	// The control API, as `buttonhook inspect demo` reads it.
	ctl := httptest.NewServer(WithLocal(http.NotFoundHandler(), r.l))
	defer ctl.Close()
	c := &Client{hc: &http.Client{Transport: rewrite{ctl.URL}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan Inspected, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Inspect(ctx, "demo", true, func(q Inspected) error { got <- q; return nil })
	}()
	next := func() Inspected {
		t.Helper()
		select {
		case q := <-got:
			return q
		case <-time.After(5 * time.Second):
			t.Fatal("no inspected request")
		}
		return Inspected{}
	}
	if q := next(); q.Path != "/inspect/demo/a" || q.Body != "first" {
		t.Errorf("held request = %+v", q)
	}
	code, _, _ := do(t, nil, "PUT", r.url("/inspect/demo?token=s3cr3t&n=1"), "\xff\xfe binary",
		"Authorization", "Basic dXNlcjpwYXNz", "X-Api-Key", "k3y", "X-Plain", "visible")
	if code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	q := next()
	if q.Method != "PUT" || q.Headers.Get("Authorization") != "Basic ••••••" || q.Headers.Get("X-Api-Key") != "••••••" ||
		q.Headers.Get("X-Plain") != "visible" || strings.Contains(q.Query, "s3cr3t") || !strings.Contains(q.Query, "n=1") {
		t.Errorf("recorded = %+v, want credentials masked and the rest as sent", q)
	}
	if !q.BodyBase64 || q.Size != 9 {
		t.Errorf("binary body: base64 %v size %d", q.BodyBase64, q.Size)
	}
	code, _, _ = do(t, nil, "POST", r.url("/inspect/demo"), strings.Repeat("z", MaxInspectBody+10))
	if q := next(); code != http.StatusRequestEntityTooLarge || !q.Truncated || len(q.Body) != MaxInspectBody {
		t.Errorf("oversized: status %d, truncated %v, kept %d bytes", code, q.Truncated, len(q.Body))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Inspect = %v", err)
	}
	for range 3 {
		do(t, nil, "POST", r.url("/inspect/demo"), "more")
	}
	if n := len(r.l.Inspector().Requests("demo")); n != 3 {
		t.Errorf("bin holds %d requests, want inspector_keep = 3", n)
	}
	if code, _, _ := do(t, nil, "POST", r.url("/inspect/bad%20name"), ""); code != http.StatusBadRequest {
		t.Errorf("bad bin name: %d", code)
	}

	r.setServer(t, func(s *engine.ServerSettings) { s.Inspector = false })
	r.waitState(t, StateOff)
	err := c.Inspect(context.Background(), "demo", false, func(Inspected) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "inspector is off") {
		t.Errorf("Inspect while off = %v", err)
	}
}

// rewrite sends the control client's requests to a test server.
type rewrite struct{ base string }

func (rw rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	req = req.Clone(req.Context())
	req.URL, _ = req.URL.Parse(rw.base + u.RequestURI())
	req.Host = ""
	return http.DefaultTransport.RoundTrip(req)
}

func TestRequestLogIsRedacted(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt := &routes{e: r.e, insp: r.l.insp, inspOn: func() bool { return true }, callbacks: newLimiter(), keys: newLimiter()}
	h := guard(rt.handler(), newHostGuard(), log, nil)
	token := r.e.Callbacks().Register("attempt-1")
	defer r.e.Callbacks().Cancel(token)
	for _, target := range []string{"/callback/" + token + "?status=ok&message=s3cret-msg", "/inspect/demo?token=s3cret-q"} {
		req := httptest.NewRequest("POST", "http://127.0.0.1"+target, strings.NewReader("body-s3cret"))
		req.Header.Set("Authorization", "Bearer s3cret-key")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	out := buf.String()
	if !strings.Contains(out, "path=/callback/REDACTED") || !strings.Contains(out, "path=/inspect/demo") {
		t.Errorf("request log lacks the requests:\n%s", out)
	}
	for _, secret := range []string{token[16:], "s3cret"} {
		if strings.Contains(out, secret) {
			t.Errorf("request log shows %q:\n%s", secret, out)
		}
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestInspectFollowEndsWithTheControlSocket(t *testing.T) {
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, inspectorOn)
	r.waitState(t, StateRunning)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeControl(ctx, SocketPath(dir), WithLocal(http.NotFoundHandler(), r.l)) }()
	c := NewClient(dir)
	followed := make(chan error, 1)
	got := make(chan Inspected, 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(SocketPath(dir)); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	go func() {
		followed <- c.Inspect(context.Background(), "demo", true, func(q Inspected) error { got <- q; return nil })
	}()
	for q := (Inspected{}); q.Seq == 0; {
		do(t, nil, "POST", r.url("/inspect/demo"), "x")
		select {
		case q = <-got:
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the follower never got a request")
		}
	}
	cancel()
	for _, ch := range []chan error{served, followed} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("after the socket stopped: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("a follower kept the control socket's handler running after it stopped")
		}
	}
}

func TestRequestsYieldToPresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var pressing chan struct{} // open while a press is on its way
		idle := make(chan struct{})
		close(idle)
		current := func() <-chan struct{} {
			if pressing != nil {
				return pressing
			}
			return idle
		}
		in := NewInspector(0)
		rt := &routes{insp: in, inspOn: func() bool { return true }, callbacks: newLimiter(), keys: newLimiter()}
		h := guard(rt.handler(), newHostGuard(), slog.New(slog.DiscardHandler), current)
		send := func() <-chan time.Duration {
			done := make(chan time.Duration, 1)
			start := time.Now()
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("POST", "http://127.0.0.1/inspect/demo", strings.NewReader("x")))
				done <- time.Since(start)
			}()
			return done
		}
		if took := <-send(); took != 0 {
			t.Errorf("with no press on its way, a request waited %v", took)
		}
		pressing = make(chan struct{})
		done := send()
		time.Sleep(time.Millisecond)
		synctest.Wait()
		close(pressing) // the press's requests are out
		if took := <-done; took != time.Millisecond {
			t.Errorf("a request during a press took %v, want it to wait for the press (1ms)", took)
		}
		pressing = make(chan struct{}) // a press that takes long
		if took := <-send(); took != maxYield {
			t.Errorf("a request during a long press took %v, want at most maxYield (%v)", took, maxYield)
		}
		if n := len(in.Requests("demo")); n != 3 {
			t.Errorf("inspector holds %d requests, want 3", n)
		}
	})
}

func TestConnectionsYieldToPresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pressing := make(chan struct{})
		client, srv := net.Pipe()
		defer client.Close()
		c := yieldingConn{Conn: srv, pressesIdle: func() <-chan struct{} { return pressing }}
		defer c.Close()
		go client.Write([]byte("GET / HTTP/1.1\r\n"))
		start := time.Now()
		buf := make([]byte, 64)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != maxYield {
			t.Errorf("a read while a press is on its way took %v, want maxYield (%v)", took, maxYield)
		}
		close(pressing)
		go client.Write([]byte("Host: x\r\n"))
		start = time.Now()
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != 0 {
			t.Errorf("a read with no press on its way waited %v", took)
		}
	})
}
