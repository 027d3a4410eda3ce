package actions

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// hop is what one server of a redirect chain saw.
type hop struct {
	path   string
	header http.Header
}

// redirectServer answers /r/N with a redirect to next(N), /end with 200.
func redirectServer(t *testing.T, seen chan<- hop, next func(n int) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- hop{r.URL.Path, r.Header.Clone()}
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/r/%d", &n); err == nil {
			http.Redirect(w, r, next(n), http.StatusFound)
			return
		}
		io.WriteString(w, "end")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirects(t *testing.T) {
	secrets := []KV{
		{"Authorization", "Bearer s3cret"}, {"X-Api-Key", "k3y"}, {"X-Auth-Token", "t0k"},
		{"Cookie", "sid=1"}, {"X-Hub-Signature", "sha256=ab"},
	}
	plain := []KV{{"X-Plain", "p"}, {"Idempotency-Key", "i-1"}}
	seen := make(chan hop, 20)
	var a, b *httptest.Server
	var aURL, bURL, bHost string
	a = redirectServer(t, seen, func(n int) string {
		switch n {
		case 1:
			return "/end" // same host
		case 2:
			return bURL + "/end" // another port on 127.0.0.1
		case 3:
			return bHost + "/end" // localhost: another host
		case 4:
			return bURL + "/r/40" // away and back again
		}
		if n == 14 {
			return aURL + "/end" // /r/10 takes 5 redirects, /r/9 takes 6
		}
		return fmt.Sprintf("%s/r/%d", aURL, n+1)
	})
	b = redirectServer(t, seen, func(n int) string { return aURL + "/end" })
	aURL, bURL = a.URL, b.URL
	bHost = strings.Replace(b.URL, "127.0.0.1", "localhost", 1)

	s := NewSender(nil)
	t.Cleanup(s.Close)
	send := func(path string) (Result, []hop) {
		tg := Target{Name: "r", Method: "POST", URL: a.URL + path, Follow: true,
			Headers: append(append([]KV{}, secrets...), plain...), Body: Body{Kind: BodyText, Text: "hi"}}
		r := s.Send(context.Background(), tg, Tags{})
		var hops []hop
		for len(seen) > 0 {
			hops = append(hops, <-seen)
		}
		return r, hops
	}
	check := func(t *testing.T, h hop, secret bool) {
		t.Helper()
		for _, kv := range secrets {
			if got := h.header.Get(kv.Key); secret && got != kv.Value || !secret && got != "" {
				t.Errorf("%s: %s = %q, want it there: %v", h.path, kv.Key, got, secret)
			}
		}
		for _, kv := range plain {
			if got := h.header.Get(kv.Key); got != kv.Value {
				t.Errorf("%s: %s = %q, want %q", h.path, kv.Key, got, kv.Value)
			}
		}
		if ref := h.header.Get("Referer"); ref != "" {
			t.Errorf("%s: Referer = %q, want none", h.path, ref)
		}
	}
	tests := []struct {
		name    string
		path    string
		secrets []bool // per hop
	}{
		{"same host and port keeps them", "/r/1", []bool{true, true}},
		{"another port drops them", "/r/2", []bool{true, false}},
		{"another host drops them", "/r/3", []bool{true, false}},
		{"coming back does not restore them", "/r/4", []bool{true, false, false}},
		{"five redirects", "/r/10", []bool{true, true, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, hops := send(tt.path)
			if !r.OK || string(r.Body) != "end" {
				t.Fatalf("result %d %q (%s), want OK", r.Code, r.Body, r.Reason())
			}
			if len(hops) != len(tt.secrets) {
				t.Fatalf("%d requests arrived, want %d", len(hops), len(tt.secrets))
			}
			for i, h := range hops {
				check(t, h, tt.secrets[i])
			}
		})
	}
	t.Run("six redirects are too many", func(t *testing.T) {
		r, hops := send("/r/9")
		if r.OK || !strings.Contains(r.Reason(), "too many redirects") {
			t.Errorf("reason = %q, want too many redirects", r.Reason())
		}
		if len(hops) != 6 {
			t.Errorf("%d requests arrived, want 6", len(hops))
		}
	})
}

// TestRedirect307KeepsBody: the Client re-sends the body on a 307 (with
// its own GetBody), although the Transport never sees a GetBody.
func TestRedirect307KeepsBody(t *testing.T) {
	got := make(chan string, 2)
	mux := http.NewServeMux()
	mux.Handle("/start", http.RedirectHandler("/end", http.StatusTemporaryRedirect))
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + string(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := NewSender(nil).Send(context.Background(), Target{Name: "b", Method: "POST", URL: srv.URL + "/start", Follow: true,
		Body: Body{Kind: BodyJSON, JSON: `{"a":"<EID>"}`}}, Tags{EID: "e7"})
	if !r.OK {
		t.Fatal(r.Reason())
	}
	if g := <-got; g != `POST {"a":"e7"}` {
		t.Errorf("after the 307 the server got %q", g)
	}
}

func TestRedirectHTTPSToHTTPRefused(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(plain.Close)
	srv := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/x", http.StatusFound))
	t.Cleanup(srv.Close)
	r := NewSender(nil).Send(context.Background(), Target{Name: "d", Method: "GET", URL: srv.URL, Follow: true,
		TLS: TLS{PinSHA256: Fingerprint(srv.Certificate().Raw)}}, Tags{})
	if r.OK || !strings.Contains(r.Reason(), "refused a redirect from https to http") {
		t.Errorf("reason = %q, want the downgrade refused", r.Reason())
	}
	if hits.Load() != 0 {
		t.Errorf("the http server saw %d requests, want none", hits.Load())
	}
}

// TestRedirectDropsAuthHeaders checks the auth's own secret headers, of any
// name, are dropped across origins.
func TestRedirectDropsAuthHeaders(t *testing.T) {
	check := followRedirects([]string{"X-Custom-Thing"})
	first, _ := http.NewRequest("GET", "https://a.example/x", nil)
	for _, tt := range []struct {
		url  string
		kept bool
	}{
		{"https://a.example:443/y", true},
		{"https://A.example/y", true},
		{"https://a.example:8443/y", false},
		{"https://b.example/y", false},
	} {
		next, _ := http.NewRequest("GET", tt.url, nil)
		next.Header.Set("X-Custom-Thing", "v")
		next.Header.Set("X-Other", "o")
		if err := check(next, []*http.Request{first}); err != nil {
			t.Fatal(err)
		}
		if got := next.Header.Get("X-Custom-Thing") != ""; got != tt.kept {
			t.Errorf("to %s: kept %v, want %v", tt.url, got, tt.kept)
		}
		if next.Header.Get("X-Other") != "o" {
			t.Errorf("to %s: X-Other dropped", tt.url)
		}
	}
}

func TestSecretHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "X-Api-Key": true,
		"X-Auth-Token": true, "Private-Token": true, "Ocp-Apim-Subscription-Key": true, "X-Hub-Signature-256": true,
		"Webhook-Signature": true, "X-Session-Id": true, "X-Buttonhook-Callback": true, "X-Client-Secret": true,
		"Idempotency-Key": false, "X-Idempotency-Key": false, "Content-Type": false, "Webhook-Id": false,
		"User-Agent": false, "X-Button": false, "Accept": false,
	} {
		if got := secretHeader(name); got != want {
			t.Errorf("secretHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestPreviewMasksWhatRedirectsStrip checks that the preview and the curl
// command hide exactly the headers that redirects strip and response
// scrubbing replaces: one rule, carriesSecret, for all of them.
func TestPreviewMasksWhatRedirectsStrip(t *testing.T) {
	const value = "value-123456"
	door := Auth{Kind: AuthAPIKey, Header: "X-Door", Key: "env:K"}
	tests := []struct {
		name string
		auth Auth
		want bool
	}{
		{"X-Api-Key", Auth{}, true},
		{"X-Auth-Token", Auth{}, true},
		{"Authorization", Auth{}, true},
		{"Proxy-Authorization", Auth{}, true},
		{"Cookie", Auth{}, true},
		{"Ocp-Apim-Subscription-Key", Auth{}, true},
		{"X-Hub-Signature-256", Auth{}, true},
		{"X-Client-Secret", Auth{}, true},
		{"X-Door", door, true}, // the API-key auth's own header, whatever its name
		{"X-Door", Auth{}, false},
		{"X-Idempotency-Key", Auth{}, false},
		{"X-Button", Auth{}, false},
	}
	for _, tt := range tests {
		tg := Target{Name: "p", Method: "POST", URL: "https://example.com/", Auth: tt.auth,
			Headers: []KV{{Key: tt.name, Value: value}}}
		if tt.auth.Kind != AuthNone {
			tg.Headers = nil // the auth sets it
		}
		if got := carriesSecret(tt.name, tg.Auth.secretHeaders()); got != tt.want {
			t.Fatalf("carriesSecret(%q) = %v, want %v", tt.name, got, tt.want)
		}
		tags := Tags{EID: "e1"}
		preview, err := Preview(tg, tags)
		if err != nil {
			t.Fatal(err)
		}
		masked := strings.Contains(preview, "\n"+tt.name+": ***\n")
		shown := strings.Contains(preview, "\n"+tt.name+": "+value+"\n")
		if masked != tt.want || shown == tt.want {
			t.Errorf("%s (auth %q): preview masks it %v, shows it %v; want masked %v:\n%s", tt.name, tt.auth.Kind, masked, shown, tt.want, preview)
		}
		cmd, err := CurlCommand(tg, tags)
		if err != nil {
			t.Fatal(err)
		}
		if got := !strings.Contains(cmd, value); got != tt.want {
			t.Errorf("%s (auth %q): curl command hides the value %v, want %v:\n%s", tt.name, tt.auth.Kind, got, tt.want, cmd)
		}
	}
}
