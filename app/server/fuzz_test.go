package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
)

// FuzzLocalHandler sends arbitrary requests through the local server's
// whole handler (guard, routes, a real engine over Badger): whatever comes
// in, it never fails with a 5xx, always answers JSON, and never shows an
// API key or a callback token. "$KEY" in the authorization and "$TOKEN" in
// the path stand for a live key and token, so that the fuzzer also reaches
// what lies behind them.
func FuzzLocalHandler(f *testing.F) {
	door := actions.Target{Name: "Door", Enabled: true, Method: "POST", URL: "https://hooks.example.com/door",
		Dynamic: actions.Dynamic{Enabled: true}}
	r := newLocalRig(f, engine.Config{Version: engine.ConfigVersion, Targets: []actions.Target{door}})
	doorID := r.e.Config().Targets[0].ID
	key, _, err := r.e.CreateAPIKey("fuzz", []string{"Door"}, false)
	if err != nil {
		f.Fatal(err)
	}
	r.l.inspOn.Store(true)

	for _, s := range []struct{ method, path, host, auth, ctype, body string }{
		{"POST", "/callback/$TOKEN", "127.0.0.1:8735", "", "application/json", `{"status":"ok","message":"done"}`},
		{"GET", "/callback/$TOKEN?status=failed&message=x", "localhost", "", "", ""},
		{"POST", "/callback/$TOKEN", "127.0.0.1", "", "application/x-www-form-urlencoded", "status=bogus"},
		{"POST", "/callback/0123456789abcdef0123456789abcdef0123456789abcdef", "127.0.0.1", "", "", ""},
		{"PUT", "/api/v1/targets/" + doorID + "/url", "127.0.0.1", "Bearer $KEY", "application/json", `{"url":"https://hooks.example.com/x"}`},
		{"PUT", "/api/v1/targets/" + doorID + "/url", "127.0.0.1", "Bearer $KEY", "text/plain", "https://elsewhere.example.org/"},
		{"GET", "/api/v1/targets/" + doorID + "/url", "127.0.0.1", "Bearer $KEYx", "", ""},
		{"DELETE", "/api/v1/targets/" + doorID + "/url", "127.0.0.1", "bearer $KEY", "", ""},
		{"PUT", "/api/v1/targets/%2e%2e/url", "127.0.0.1", "Bearer $KEY", "application/json", `{"url":null}`},
		{"POST", "/inspect/demo/a/b?token=x", "[::1]:1", "Basic dTpw", "application/octet-stream", "\x00\xff"},
		{"GET", "/inspect/..", "127.0.0.1", "", "", ""},
		{"GET", "/", "evil.example.com", "", "", ""},
		{"OPTIONS", "/api/v1/targets/x/url", "127.0.0.1", "", "", ""},
	} {
		f.Add(s.method, s.path, s.host, s.auth, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, host, auth, ctype string, body []byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return // not a method a server would receive
		}
		token := r.e.Callbacks().Register("fuzz-attempt")
		defer r.e.Callbacks().Cancel(token)
		u, err := url.ParseRequestURI(strings.ReplaceAll(path, "$TOKEN", token))
		if err != nil {
			return // not a request line a server would receive
		}
		req := &http.Request{Method: method, URL: u, Host: host, Header: http.Header{}, RemoteAddr: "127.0.0.1:40000",
			Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RequestURI: u.RequestURI()}
		req = req.WithContext(t.Context())
		if len(body) > 0 {
			req.Body, req.ContentLength = httpBody(body), int64(len(body))
		}
		if auth != "" {
			req.Header.Set("Authorization", strings.ReplaceAll(auth, "$KEY", key))
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rt := &routes{e: r.e, insp: r.l.insp, inspOn: r.l.inspOn.Load, callbacks: newLimiter(), keys: newLimiter()}
		w := httptest.NewRecorder()
		guard(rt.handler(), newHostGuard(), r.l.log, nil).ServeHTTP(w, req)

		if w.Code >= 500 {
			t.Errorf("%s %s: status %d: %s", method, path, w.Code, w.Body)
		}
		redirect := w.Code >= 300 && w.Code < 400 // the mux cleans paths like /a/../b
		if w.Code != http.StatusNoContent && !redirect && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: Content-Type %q, want JSON", method, path, w.Header().Get("Content-Type"))
		}
		if out := w.Body.String(); strings.Contains(out, key) || strings.Contains(out, token[16:]) {
			t.Errorf("%s %s: the response shows a secret: %s", method, path, out)
		}
		if !newHostGuard().allows(host) && w.Code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: status %d, want 421", host, w.Code)
		}
	})
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }
