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
