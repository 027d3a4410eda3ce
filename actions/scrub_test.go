package actions

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// An echoing server (httpbin's /anything does this) must not put a secret
// into the result's body, and so into the attempt log.
func TestEchoedSecretsAreScrubbed(t *testing.T) {
	const token, password, access = "tok-Secret-9f8e7d", "pw-Secret-1a2b3c", "access-Secret-5x6y7z"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":60}`, access)
			return
		}
		fmt.Fprintf(w, `{"headers":{"Authorization":%q,"X-Api-Key":%q},"ok":true}`, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}))
	defer srv.Close()
	src := memSecrets(map[string]string{"tok": token, "pw": password, "cs": "client-Secret-4d5e"}, nil)
	s := NewSender(src)
	defer s.Close()
	for _, a := range []Auth{
		{Kind: AuthBearer, Token: "keyring:tok"},
		{Kind: AuthBasic, Username: "bob", Password: "keyring:pw"},
		{Kind: AuthAPIKey, Key: "keyring:tok"},
		{Kind: AuthOAuth2, TokenURL: srv.URL + "/token", ClientID: "c", ClientSecret: "keyring:cs"},
	} {
		t.Run(string(a.Kind), func(t *testing.T) {
			r := s.Send(context.Background(), Target{Name: "Echo", Method: "GET", URL: srv.URL + "/anything", Auth: a}, Tags{})
			if !r.OK {
				t.Fatalf("send: %v", r.Reason())
			}
			body := string(r.Body)
			for _, secret := range []string{token, password, access, base64.StdEncoding.EncodeToString([]byte("bob:" + password))} {
				if strings.Contains(body, secret) {
					t.Errorf("the body keeps a secret: %s", body)
				}
			}
			if !strings.Contains(body, "***") || !strings.Contains(body, `"ok":true`) {
				t.Errorf("body = %s, want the secret masked and the rest kept", body)
			}
			want := "Authorization"
			if a.Kind == AuthAPIKey {
				want = "X-Api-Key"
			}
			if !slices.Contains(r.RequestHeaders, want) || !slices.Contains(r.RequestHeaders, "User-Agent") {
				t.Errorf("request headers = %v, want %s and User-Agent", r.RequestHeaders, want)
			}
		})
	}
}

func TestResultClass(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	s := NewSender(memSecrets(nil, nil))
	defer s.Close()
	for _, tt := range []struct {
		name string
		t    Target
		want string
	}{
		{"ok", Target{Method: "GET", URL: plain.URL, Success: SuccessRule{StatusMin: 404, StatusMax: 404}}, ""},
		{"http", Target{Method: "GET", URL: plain.URL}, "http"},
		{"tls", Target{Method: "GET", URL: tlsSrv.URL}, "tls"},
		{"timeout", Target{Method: "GET", URL: slow.URL, Timeout: 1}, "timeout"},
		{"network", Target{Method: "GET", URL: dead.URL}, "network"},
		{"secret", Target{Method: "GET", URL: plain.URL, Auth: Auth{Kind: AuthBearer, Token: "keyring:none"}}, "secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.t.Name = "x"
			if got := s.Send(context.Background(), tt.t, Tags{}).Class(); got != tt.want {
				t.Errorf("Class() = %q, want %q", got, tt.want)
			}
		})
	}
}
