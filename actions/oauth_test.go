package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenEndpoint is an OAuth 2.0 authorization server's token endpoint for
// the client credentials grant (RFC 6749 section 4.4), on 127.0.0.1. It
// takes the client's credentials in a basic authorization or in the form
// (both are allowed by section 2.3.1), and issues tok-1, tok-2... that
// expire in expiresIn seconds. api is a resource server that accepts only
// the newest token.
type tokenEndpoint struct {
	t                  *testing.T
	clientID, secret   string
	expiresIn          int
	token, api         *httptest.Server
	tokenReqs, apiReqs atomic.Int32

	mu      sync.Mutex
	issued  int
	current string
	scopes  []string // the scope of each token request
	closed  bool     // the API refuses every token
}

func newTokenEndpoint(t *testing.T, clientID, secret string, expiresIn int) *tokenEndpoint {
	te := &tokenEndpoint{t: t, clientID: clientID, secret: secret, expiresIn: expiresIn}
	te.token = httptest.NewServer(http.HandlerFunc(te.serveToken))
	t.Cleanup(te.token.Close)
	te.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		te.apiReqs.Add(1)
		te.mu.Lock()
		ok := !te.closed && r.Header.Get("Authorization") == "Bearer "+te.current
		te.mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(te.api.Close)
	return te
}

func (te *tokenEndpoint) serveToken(w http.ResponseWriter, r *http.Request) {
	te.tokenReqs.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		te.t.Errorf("token endpoint: %s request, form error %v", r.Method, err)
	}
	id, secret, basic := r.BasicAuth()
	if basic { // section 2.3.1: form-encoded, then basic
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	te.mu.Lock()
	defer te.mu.Unlock()
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
	case id != te.clientID || secret != te.secret:
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
	default:
		te.issued++
		te.current = fmt.Sprintf("tok-%d", te.issued)
		te.scopes = append(te.scopes, r.PostForm.Get("scope"))
		json.NewEncoder(w).Encode(map[string]any{"access_token": te.current, "token_type": "bearer", "expires_in": te.expiresIn})
	}
}

// revoke makes the API refuse every token issued so far.
func (te *tokenEndpoint) revoke() {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.current = "revoked"
}

// clock is a settable clock for token expiry, starting at the real time.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func oauthTarget(te *tokenEndpoint, scopes ...string) Target {
	return Target{Name: "x", Method: "POST", URL: te.api.URL + "/hook", Body: Body{Kind: BodyJSON, JSON: `{"press":"<EID>"}`},
		Auth: Auth{Kind: AuthOAuth2, TokenURL: te.token.URL + "/token", ClientID: "door-client", ClientSecret: "env:DOOR_SECRET", Scopes: scopes}}
}

func TestOAuthTokenCachedAndRefreshed(t *testing.T) {
	te := newTokenEndpoint(t, "door-client", "s3cret/with+chars", 60)
	s := NewSender(memSecrets(nil, map[string]string{"DOOR_SECRET": "s3cret/with+chars"}))
	t.Cleanup(s.Close)
	var clk clock
	s.auth.now = clk.now
	tg := oauthTarget(te, "hooks:write", "read")

	press := func(step string, wantTokenReqs int32) {
		t.Helper()
		if r := s.Send(context.Background(), tg, Tags{}); !r.OK {
			t.Fatalf("%s: %+v (%s), want OK", step, r, r.Reason())
		}
		if got := te.tokenReqs.Load(); got != wantTokenReqs {
			t.Errorf("%s: %d token requests, want %d", step, got, wantTokenReqs)
		}
	}
	press("first press fetches a token", 1)
	press("second press reuses it", 1)
	press("third press reuses it", 1)
	clk.advance(49 * time.Second) // expires in 11 s: more than the early expiry
	press("49 s later", 1)
	clk.advance(2 * time.Second) // expires in 9 s: renewed
	press("51 s later", 2)
	press("and then reused", 2)
	if got := te.apiReqs.Load(); got != 6 {
		t.Errorf("the API saw %d requests, want 6", got)
	}
	if te.scopes[0] != "hooks:write read" {
		t.Errorf("scope = %q, want %q", te.scopes[0], "hooks:write read")
	}

	// Another configuration (other scopes) has its own token.
	press2 := oauthTarget(te, "admin")
	if r := s.Send(context.Background(), press2, Tags{}); !r.OK || te.tokenReqs.Load() != 3 {
		t.Errorf("other scopes: %s after %d token requests, want OK after 3", r.Reason(), te.tokenReqs.Load())
	}
}

// TestOAuthOneTokenRequestForConcurrentPresses: presses that find no token
// wait for the one request in flight instead of sending their own.
func TestOAuthOneTokenRequestForConcurrentPresses(t *testing.T) {
	te := newTokenEndpoint(t, "door-client", "s", 3600)
	s := NewSender(memSecrets(nil, map[string]string{"DOOR_SECRET": "s"}))
	t.Cleanup(s.Close)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if r := s.Send(context.Background(), oauthTarget(te), Tags{}); !r.OK {
				t.Errorf("press: %s", r.Reason())
			}
		})
	}
	wg.Wait()
	if got := te.tokenReqs.Load(); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
}

func TestOAuthTokenEndpointRefuses(t *testing.T) {
	const secret = "wrong-Secret-8812"
	te := newTokenEndpoint(t, "door-client", "right", 60)
	s := NewSender(memSecrets(nil, map[string]string{"DOOR_SECRET": secret}))
	t.Cleanup(s.Close)
	r := s.Send(context.Background(), oauthTarget(te), Tags{})
	if r.OK || r.Code != 0 || !errors.Is(r.Err, ErrOAuthToken) {
		t.Fatalf("result %+v, want an ErrOAuthToken failure", r)
	}
	want := fmt.Sprintf("OAuth token request to %s/token failed: 401 invalid_client (Client authentication failed)", te.token.URL)
	if r.Reason() != want {
		t.Errorf("reason = %q\nwant     %q", r.Reason(), want)
	}
	if strings.Contains(r.Reason(), secret) {
		t.Errorf("reason %q holds the client secret", r.Reason())
	}
	if te.apiReqs.Load() != 0 {
		t.Errorf("the API saw %d requests, want none", te.apiReqs.Load())
	}
	if retryable(r) {
		t.Errorf("a refused client is retried")
	}
}

func TestOAuthTokenEndpointFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/token", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html>\n<h1>Bad gateway</h1>\n</html>")
	})
	mux.HandleFunc("/no-token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"token_type":"bearer"}`)
	})
	stop := make(chan struct{})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs before srv.Close, which waits for handlers
	api, apiReqs := counter(t, func(w http.ResponseWriter, r *http.Request) {})
	s := NewSender(memSecrets(map[string]string{"cs": "client-Secret-0042"}, nil))
	t.Cleanup(s.Close)
	tests := []struct{ path, want string }{
		{"/redirect", "failed: 307 Temporary Redirect: the token endpoint redirects, and token requests do not follow redirects: set the URL it redirects to, https://elsewhere.example/token"},
		{"/html", "failed: 502 Bad Gateway: <html> <h1>Bad gateway</h1> </html>"},
		{"/no-token", "failed: server response missing access_token"},
		{"/hang", "failed: no answer before the attempt's deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			tg := Target{Name: "x", Method: "GET", URL: api.URL, Timeout: 1,
				Auth: Auth{Kind: AuthOAuth2, TokenURL: srv.URL + tt.path, ClientID: "c", ClientSecret: "cs"}}
			r := s.Send(context.Background(), tg, Tags{})
			if !errors.Is(r.Err, ErrOAuthToken) && !errors.Is(r.Err, ErrTimeout) {
				t.Errorf("err = %v, want ErrOAuthToken", r.Err)
			}
			if tt.path != "/hang" && !strings.HasSuffix(r.Reason(), tt.want) {
				t.Errorf("reason = %q, want it to end %q", r.Reason(), tt.want)
			}
		})
	}
	if apiReqs.Load() != 0 {
		t.Errorf("the API saw %d requests, want none", apiReqs.Load())
	}
}

// TestOAuthRefusedTokenIsReplaced: a cached token the API refuses
// (revoked) is dropped and the press is sent again with a new one.
func TestOAuthRefusedTokenIsReplaced(t *testing.T) {
	te := newTokenEndpoint(t, "door-client", "s", 3600)
	s := NewSender(memSecrets(nil, map[string]string{"DOOR_SECRET": "s"}))
	t.Cleanup(s.Close)
	tg := oauthTarget(te)
	if r := s.Send(context.Background(), tg, Tags{EID: "1"}); !r.OK {
		t.Fatalf("first press: %s", r.Reason())
	}
	te.revoke()
	if r := s.Send(context.Background(), tg, Tags{EID: "2"}); !r.OK {
		t.Fatalf("press after revocation: %+v (%s), want OK", r, r.Reason())
	}
	if tr, ar := te.tokenReqs.Load(), te.apiReqs.Load(); tr != 2 || ar != 3 {
		t.Errorf("%d token requests and %d API requests, want 2 and 3", tr, ar)
	}

	// A fresh token that is refused is the result: no loop.
	te.mu.Lock()
	te.closed = true
	te.mu.Unlock()
	s2 := NewSender(memSecrets(nil, map[string]string{"DOOR_SECRET": "s"}))
	t.Cleanup(s2.Close)
	before := te.apiReqs.Load()
	r := s2.Send(context.Background(), tg, Tags{})
	if r.Code != http.StatusUnauthorized || te.apiReqs.Load()-before != 1 {
		t.Errorf("refused fresh token: %+v after %d API requests, want 401 after 1", r, te.apiReqs.Load()-before)
	}
}
