package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/buttonhook/buttonhook/storage/secrets"
)

// memStore is an in-memory secrets.Store: a missing name is
// secrets.ErrNotFound, as the keyring says it.
type memStore map[string]string

func (m memStore) Get(name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", fmt.Errorf("get memory secret %s: %w", name, secrets.ErrNotFound)
	}
	return v, nil
}

// memSecrets is a secret source over memory stores, resolving references as
// the running app does (storage/secrets' Sources).
func memSecrets(keyring, env map[string]string) SecretSource {
	return secrets.Sources{Keyring: memStore(keyring), Env: memStore(env)}
}

// counter is a real server on 127.0.0.1 that counts requests and answers
// each with handle.
func counter(t *testing.T, handle http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestAuthValidate(t *testing.T) {
	valid := map[string]Auth{
		"none":                    {},
		"basic":                   {Kind: AuthBasic, Username: "bob", Password: "keyring:door"},
		"digest":                  {Kind: AuthDigest, Username: `bob "the" user:x`, Password: "env:DOOR"},
		"bearer":                  {Kind: AuthBearer, Token: "keyring:door-token"},
		"apikey default":          {Kind: AuthAPIKey, Key: "keyring:k"},
		"apikey custom":           {Kind: AuthAPIKey, Header: "x-auth-key", Key: "keyring:k"},
		"apikey in Authorization": {Kind: AuthAPIKey, Header: "Authorization", Key: "keyring:k"},
		"oauth2":                  {Kind: AuthOAuth2, TokenURL: "https://id.example/token", ClientID: "c", ClientSecret: "keyring:cs", Scopes: []string{"hooks:write", "read"}},
		"oauth2 loopback":         {Kind: AuthOAuth2, TokenURL: "http://127.0.0.1:8080/token", ClientID: "c", ClientSecret: "keyring:cs"},
		"oauth2 localhost":        {Kind: AuthOAuth2, TokenURL: "http://localhost/token", ClientID: "c", ClientSecret: "keyring:cs"},
	}
	for name, a := range valid {
		t.Run(name, func(t *testing.T) {
			if err := (Target{Name: "x", Method: "GET", URL: "https://h.example/", Auth: a}).Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}

	oauth := Auth{Kind: AuthOAuth2, TokenURL: "https://id.example/token", ClientID: "c", ClientSecret: "keyring:cs"}
	tests := []struct {
		name   string
		auth   Auth
		fields []string
	}{
		{"unknown kind", Auth{Kind: "ntlm"}, []string{"auth.kind"}},
		{"basic without anything", Auth{Kind: AuthBasic}, []string{"auth.username", "auth.password"}},
		{"basic with colon", Auth{Kind: AuthBasic, Username: "a:b", Password: "env:P"}, []string{"auth.username"}},
		{"basic with newline", Auth{Kind: AuthBasic, Username: "a\nb", Password: "env:P"}, []string{"auth.username"}},
		{"digest bad ref", Auth{Kind: AuthDigest, Username: "a", Password: "vault:x"}, []string{"auth.password"}},
		{"bearer with a pasted token", Auth{Kind: AuthBearer, Token: "xoxb-1234-abcd"}, []string{"auth.token"}},
		{"bearer without token", Auth{Kind: AuthBearer}, []string{"auth.token"}},
		{"apikey without key", Auth{Kind: AuthAPIKey}, []string{"auth.key"}},
		{"apikey bad header", Auth{Kind: AuthAPIKey, Header: "X Key", Key: "env:K"}, []string{"auth.header"}},
		{"apikey long header", Auth{Kind: AuthAPIKey, Header: strings.Repeat("x", 101), Key: "env:K"}, []string{"auth.header"}},
		{"apikey hop-by-hop", Auth{Kind: AuthAPIKey, Header: "connection", Key: "env:K"}, []string{"auth.header"}},
		{"apikey content type", Auth{Kind: AuthAPIKey, Header: "content-type", Key: "env:K"}, []string{"auth.header"}},
		{"apikey signature", Auth{Kind: AuthAPIKey, Header: "webhook-signature", Key: "env:K"}, []string{"auth.header"}},
		{"oauth2 empty", Auth{Kind: AuthOAuth2}, []string{"auth.token_url", "auth.client_id", "auth.client_secret"}},
		{"oauth2 plain http", with(oauth, func(a *Auth) { a.TokenURL = "http://id.example/token" }), []string{"auth.token_url"}},
		{"oauth2 ftp", with(oauth, func(a *Auth) { a.TokenURL = "ftp://id.example/token" }), []string{"auth.token_url"}},
		{"oauth2 user info", with(oauth, func(a *Auth) { a.TokenURL = "https://c:s@id.example/token" }), []string{"auth.token_url"}},
		{"oauth2 no host", with(oauth, func(a *Auth) { a.TokenURL = "https:///token" }), []string{"auth.token_url"}},
		{"oauth2 scope with space", with(oauth, func(a *Auth) { a.Scopes = []string{"ok", "a b"} }), []string{"auth.scopes[1]"}},
		{"oauth2 empty scope", with(oauth, func(a *Auth) { a.Scopes = []string{""} }), []string{"auth.scopes[0]"}},
		{"oauth2 scope with quote", with(oauth, func(a *Auth) { a.Scopes = []string{`a"b`} }), []string{"auth.scopes[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Target{Name: "x", Method: "GET", URL: "https://h.example/", Auth: tt.auth}.Validate()
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			var got []string
			for _, fe := range ve {
				got = append(got, fe.Field)
			}
			if strings.Join(got, " ") != strings.Join(tt.fields, " ") {
				t.Errorf("fields = %v (%v), want %v", got, err, tt.fields)
			}
		})
	}
}

func with(a Auth, edit func(*Auth)) Auth {
	edit(&a)
	return a
}

func TestSecretHeaders(t *testing.T) {
	tests := []struct {
		auth Auth
		want string
	}{
		{Auth{}, ""},
		{Auth{Kind: AuthBasic}, "Authorization"},
		{Auth{Kind: AuthDigest}, "Authorization"},
		{Auth{Kind: AuthBearer}, "Authorization"},
		{Auth{Kind: AuthOAuth2}, "Authorization"},
		{Auth{Kind: AuthAPIKey}, "X-Api-Key"},
		{Auth{Kind: AuthAPIKey, Header: "x-auth-token"}, "X-Auth-Token"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.auth.secretHeaders(), ","); got != tt.want {
			t.Errorf("%+v.secretHeaders() = %q, want %q", tt.auth, got, tt.want)
		}
	}
}

// TestStaticAuth sends basic, bearer and API-key targets to servers that
// check the credentials.
func TestStaticAuth(t *testing.T) {
	src := memSecrets(map[string]string{"door": "pässword:with colon", "tok": "t0k-ABC", "key": "k3y-XYZ"}, nil)
	check := map[AuthKind]func(r *http.Request) bool{
		AuthBasic: func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "bob" && p == "pässword:with colon"
		},
		AuthBearer: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer t0k-ABC" },
		AuthAPIKey: func(r *http.Request) bool {
			return r.Header.Get("X-Api-Key") == "k3y-XYZ" && r.Header.Get("Authorization") == ""
		},
	}
	auths := map[AuthKind][2]Auth{ // right, wrong
		AuthBasic:  {{Kind: AuthBasic, Username: "bob", Password: "door"}, {Kind: AuthBasic, Username: "bob", Password: "tok"}},
		AuthBearer: {{Kind: AuthBearer, Token: "keyring:tok"}, {Kind: AuthBearer, Token: "keyring:key"}},
		AuthAPIKey: {{Kind: AuthAPIKey, Key: "key"}, {Kind: AuthAPIKey, Header: "X-Other", Key: "key"}},
	}
	for kind, ok := range check {
		t.Run(string(kind), func(t *testing.T) {
			srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {
				if !ok(r) {
					w.WriteHeader(http.StatusUnauthorized)
				}
			})
			s := NewSender(src)
			t.Cleanup(s.Close)
			right, wrong := auths[kind][0], auths[kind][1]
			if r := s.Send(context.Background(), Target{Name: "x", Method: "POST", URL: srv.URL, Auth: right}, Tags{}); !r.OK {
				t.Errorf("with the right credentials: %+v (%s), want OK", r, r.Reason())
			}
			r := s.Send(context.Background(), Target{Name: "x", Method: "POST", URL: srv.URL, Auth: wrong}, Tags{})
			if r.OK || r.Code != http.StatusUnauthorized {
				t.Errorf("with wrong credentials: %+v, want 401", r)
			}
			if !strings.Contains(wrong.explain(r.Code, r.Header), "refused") {
				t.Errorf("explain(401) = %q, want it to say the credentials were refused", wrong.explain(r.Code, r.Header))
			}
			if got := n.Load(); got != 2 {
				t.Errorf("server saw %d requests, want 2", got)
			}
		})
	}
}

// TestMissingSecretSendsNothing fails every kind of auth on every way a
// secret can be missing, and checks that nothing reached the server or the
// token endpoint.
func TestMissingSecretSendsNothing(t *testing.T) {
	srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {})
	ref := func(kind AuthKind, r SecretRef) Auth {
		switch kind {
		case AuthBasic, AuthDigest:
			return Auth{Kind: kind, Username: "u", Password: r}
		case AuthBearer:
			return Auth{Kind: kind, Token: r}
		case AuthAPIKey:
			return Auth{Kind: kind, Key: r}
		}
		return Auth{Kind: kind, TokenURL: srv.URL + "/token", ClientID: "c", ClientSecret: r}
	}
	field := map[AuthKind]string{AuthBasic: "auth.password", AuthDigest: "auth.password", AuthBearer: "auth.token", AuthAPIKey: "auth.key", AuthOAuth2: "auth.client_secret"}
	sources := []struct {
		name string
		src  SecretSource
		ref  SecretRef
		want string
	}{
		{"no source", nil, "keyring:door", `secret "keyring:door" cannot be read: Buttonhook was started without a secret source`},
		{"not in keyring", memSecrets(nil, nil), "keyring:door", `secret "keyring:door" is not in the OS keyring: store it there as "door"`},
		{"bare name not in keyring", memSecrets(nil, nil), "door", `secret "door" is not in the OS keyring`},
		{"env not set", memSecrets(nil, nil), "env:DOOR", `secret "env:DOOR" is not set: set the environment variable DOOR`},
		{"keyring unavailable", secrets.Sources{}, "keyring:door", `secret "keyring:door" cannot be read: get secret keyring:door: secret store unavailable`},
		{"empty", memSecrets(map[string]string{"door": ""}, nil), "keyring:door", `secret "keyring:door" is empty`},
		{"no reference", memSecrets(nil, nil), "", "no secret is set"},
	}
	for _, kind := range []AuthKind{AuthBasic, AuthDigest, AuthBearer, AuthAPIKey, AuthOAuth2} {
		for _, sc := range sources {
			t.Run(string(kind)+"/"+sc.name, func(t *testing.T) {
				before := n.Load()
				s := NewSender(sc.src)
				t.Cleanup(s.Close)
				r := s.Send(context.Background(), Target{Name: "x", Method: "POST", URL: srv.URL, Auth: ref(kind, sc.ref)}, Tags{})
				if !errors.Is(r.Err, ErrSecretMissing) {
					t.Fatalf("err = %v, want ErrSecretMissing", r.Err)
				}
				if want := field[kind] + ": " + sc.want; !strings.HasPrefix(r.Err.Error(), want) {
					t.Errorf("err = %q, want it to start with %q", r.Err, want)
				}
				if got := n.Load() - before; got != 0 {
					t.Errorf("the server saw %d requests, want none", got)
				}
			})
		}
	}
}

// TestSecretThatCannotBeAHeader refuses a token with a trailing newline (as
// echo stores it) before sending.
func TestSecretThatCannotBeAHeader(t *testing.T) {
	srv, n := counter(t, func(w http.ResponseWriter, r *http.Request) {})
	s := NewSender(memSecrets(map[string]string{"tok": "abc\n", "key": "a\r\nX-Evil: 1"}, nil))
	t.Cleanup(s.Close)
	for _, a := range []Auth{{Kind: AuthBearer, Token: "tok"}, {Kind: AuthAPIKey, Key: "key"}} {
		r := s.Send(context.Background(), Target{Name: "x", Method: "GET", URL: srv.URL, Auth: a}, Tags{})
		if !errors.Is(r.Err, ErrSecretMissing) || !strings.Contains(r.Err.Error(), "line break") {
			t.Errorf("%s: err = %v, want a secret refused for its line break", a.Kind, r.Err)
		}
	}
	if n.Load() != 0 {
		t.Errorf("the server saw %d requests, want none", n.Load())
	}
}

// TestReadSecretFromStorageSources pins the errors of storage/secrets that
// readSecret recognises by their text (actions may not import it).
func TestReadSecretFromStorageSources(t *testing.T) {
	t.Setenv("BH_TEST_UNSET", "")
	src := secrets.Sources{Keyring: memStore{}, Env: secrets.Env{}}
	_, err := readSecret(src, "auth.token", "env:BH_TEST_UNSET")
	if !errors.Is(err, ErrSecretMissing) || !errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), "set the environment variable BH_TEST_UNSET") {
		t.Errorf("unset variable: %v", err)
	}
	_, err = readSecret(secrets.Sources{Env: secrets.Env{}}, "auth.token", "keyring:x")
	if !errors.Is(err, ErrSecretMissing) || !errors.Is(err, secrets.ErrUnavailable) || strings.Contains(err.Error(), "not in the OS keyring") {
		t.Errorf("no keyring: %v", err)
	}
	_, err = readSecret(src, "auth.token", "vault:x")
	if !errors.Is(err, ErrSecretMissing) || !errors.Is(err, secrets.ErrInvalid) {
		t.Errorf("bad reference: %v", err)
	}
	t.Setenv("BH_TEST_SET", "v")
	if v, err := readSecret(src, "auth.token", "env:BH_TEST_SET"); v != "v" || err != nil {
		t.Errorf("set variable: %q, %v", v, err)
	}
}

// TestSecretsNeverLeak runs every kind of auth with distinctive secrets
// against servers that fail in different ways, and looks for the secrets in
// every error and reason.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		password     = "pw-Zebra-4417"
		token        = "tok-Quokka-9931"
		apiKey       = "key-Narwhal-2208"
		clientSecret = "cs-Axolotl-7719/+="
	)
	// The secrets, and fragments of them that a cut-short text might show.
	values := []string{password, token, apiKey, clientSecret, "Zebra", "Quokka", "Narwhal", "Axolotl"}
	src := memSecrets(map[string]string{"pw": password, "tok": token, "key": apiKey, "cs": clientSecret}, nil)

	// echo reflects the request, secrets and all, in its body.
	echo := func(w http.ResponseWriter, r *http.Request, code int) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(code)
		fmt.Fprintf(w, "%v %s %s", r.Header, b, r.URL)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/401", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 401) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 500) })
	mux.HandleFunc("/digest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Digest realm="r", nonce="n-`+r.Header.Get("Authorization")+`", qop="auth"`)
		echo(w, r, 401)
	})
	mux.HandleFunc("/digest-unsupported", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Digest realm="r", nonce="n", qop="auth-int", algorithm=SHA3`)
		echo(w, r, 401)
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	})
	mux.HandleFunc("/token/echo-error", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"got %q and %q"}`, r.Header.Get("Authorization"), r.PostForm.Encode())
	})
	mux.HandleFunc("/token/echo-500", func(w http.ResponseWriter, r *http.Request) { echo(w, r, 500) })
	mux.HandleFunc("/token/redirect", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		http.Redirect(w, r, "/token/echo-500?"+r.PostForm.Encode(), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/token/ok-echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"%s","token_type":"Bearer","expires_in":3600}`, token)
	})
	mux.HandleFunc("/token/no-token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","note":%q}`, r.Header.Get("Authorization"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()

	paths := []string{"/401", "/500", "/digest", "/digest-unsupported", "/close", "closed"}
	tokenPaths := []string{"/token/echo-error", "/token/echo-500", "/token/redirect", "/token/ok-echo", "/token/no-token", "closed"}
	auths := []Auth{
		{Kind: AuthBasic, Username: "u", Password: "pw"},
		{Kind: AuthDigest, Username: "u", Password: "pw"},
		{Kind: AuthBearer, Token: "tok"},
		{Kind: AuthAPIKey, Key: "key"},
	}
	for _, tp := range tokenPaths {
		u := srv.URL + tp
		if tp == "closed" {
			u = closed + "/token"
		}
		auths = append(auths, Auth{Kind: AuthOAuth2, TokenURL: u, ClientID: "client-" + tp, ClientSecret: "cs", Scopes: []string{"s"}})
	}
	s := NewSender(src)
	t.Cleanup(s.Close)
	for _, a := range auths {
		for _, p := range paths {
			u := srv.URL + p
			if p == "closed" {
				u = closed
			}
			name := string(a.Kind) + p
			if a.Kind == AuthOAuth2 {
				name += "/" + strings.TrimPrefix(a.TokenURL, srv.URL)
			}
			t.Run(name, func(t *testing.T) {
				r := s.Send(context.Background(), Target{Name: "x", Method: "POST", URL: u, Auth: a,
					Body: Body{Kind: BodyJSON, JSON: `{"a":1}`}}, Tags{})
				if r.OK {
					t.Fatalf("result OK, want a failure")
				}
				texts := []string{r.Reason(), a.explain(r.Code, r.Header)}
				if r.Err != nil {
					texts = append(texts, r.Err.Error(), fmt.Sprintf("%+v %#v", r.Err, r.Err))
				}
				for _, text := range texts {
					for _, v := range values {
						if strings.Contains(text, v) {
							t.Errorf("%q holds the secret %q", text, v)
						}
					}
				}
			})
		}
	}
}
