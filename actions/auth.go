package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// SecretRef names a secret in a secret source: "keyring:NAME" for the OS
// keyring, "env:NAME" for an environment variable. It is never the secret
// itself; targets must write the scheme, so that a secret pasted into the
// field by mistake is refused rather than saved and exported.
type SecretRef string

// SecretRefs returns the secret references t holds, by field
// ("auth.password", "signing.secret"...), leaving out empty ones.
func (t Target) SecretRefs() map[string]SecretRef {
	m := map[string]SecretRef{}
	for field, ref := range map[string]SecretRef{
		"auth.password": t.Auth.Password, "auth.token": t.Auth.Token, "auth.key": t.Auth.Key,
		"auth.client_secret": t.Auth.ClientSecret, "signing.secret": t.Signing.Secret,
	} {
		if ref != "" {
			m[field] = ref
		}
	}
	return m
}

// SecretSource gives the value of a secret reference. storage/secrets'
// Sources is one.
type SecretSource interface {
	Get(ref string) (string, error)
}

// ErrSecretMissing is wrapped by the error of an attempt whose secret could
// not be read; nothing was sent.
var ErrSecretMissing = errors.New("secret missing")

// AuthKind is how a target authorizes itself.
type AuthKind string

// Auth kinds.
const (
	AuthNone   AuthKind = ""
	AuthBasic  AuthKind = "basic"
	AuthDigest AuthKind = "digest"
	AuthBearer AuthKind = "bearer"
	AuthAPIKey AuthKind = "apikey"
	AuthOAuth2 AuthKind = "oauth2" // client credentials
)

// AuthKinds lists the kinds a target may use, AuthNone first.
var AuthKinds = []AuthKind{AuthNone, AuthBasic, AuthDigest, AuthBearer, AuthAPIKey, AuthOAuth2}

// DefaultAPIKeyHeader is the header an apikey auth uses when it names none.
const DefaultAPIKeyHeader = "X-Api-Key"

// Auth is a target's authorization. Secrets are references.
type Auth struct {
	Kind         AuthKind  `json:"kind,omitempty"`
	Username     string    `json:"username,omitempty"`      // basic, digest
	Password     SecretRef `json:"password,omitempty"`      // basic, digest
	Token        SecretRef `json:"token,omitempty"`         // bearer
	Header       string    `json:"header,omitempty"`        // apikey: the header's name (default X-Api-Key)
	Key          SecretRef `json:"key,omitempty"`           // apikey
	TokenURL     string    `json:"token_url,omitempty"`     // oauth2
	ClientID     string    `json:"client_id,omitempty"`     // oauth2
	ClientSecret SecretRef `json:"client_secret,omitempty"` // oauth2
	Scopes       []string  `json:"scopes,omitempty"`        // oauth2
}

// reservedHeaders are headers Buttonhook sets itself, which an API key may
// not take over (besides the hop-by-hop ones).
var reservedHeaders = map[string]bool{
	"Content-Type": true, "User-Agent": true,
	"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"X-Buttonhook-Callback": true,
}

func (a Auth) validate(add adder) {
	switch a.Kind {
	case AuthNone:
	case AuthBasic, AuthDigest:
		switch {
		case a.Username == "":
			add("auth.username", "is required")
		case hasControl(a.Username):
			add("auth.username", "must not contain line breaks or control characters")
		case a.Kind == AuthBasic && strings.Contains(a.Username, ":"):
			add("auth.username", "must not contain a colon for basic authorization (RFC 7617)")
		}
		validateSecretRef("auth.password", a.Password, add)
	case AuthBearer:
		validateSecretRef("auth.token", a.Token, add)
	case AuthAPIKey:
		h := http.CanonicalHeaderKey(a.apiKeyHeader())
		switch {
		case len(h) > MaxHeaderKeyLen:
			add("auth.header", "is longer than %d characters", MaxHeaderKeyLen)
		case !validHeaderKey(h):
			add("auth.header", "%q is not a valid header name", a.Header)
		case hopByHop[h] || reservedHeaders[h]:
			add("auth.header", "%s is set by Buttonhook itself and cannot carry an API key", h)
		}
		validateSecretRef("auth.key", a.Key, add)
	case AuthOAuth2:
		if err := validateTokenURL(a.TokenURL); err != nil {
			add("auth.token_url", "%v", err)
		}
		switch {
		case a.ClientID == "":
			add("auth.client_id", "is required")
		case hasControl(a.ClientID):
			add("auth.client_id", "must not contain line breaks or control characters")
		}
		validateSecretRef("auth.client_secret", a.ClientSecret, add)
		for i, s := range a.Scopes {
			if !validScope(s) {
				add(fmt.Sprintf("auth.scopes[%d]", i), "%q is not a scope: a scope is one word without spaces, quotes or backslashes (put each scope in its own row)", s)
			}
		}
	default:
		add("auth.kind", "%q is not one of basic, digest, bearer, apikey or oauth2", a.Kind)
	}
}

// notARef explains a secret field that holds no reference. It does not
// repeat the value: that may be the secret itself.
const notARef = "is not a secret reference: write keyring:NAME or env:NAME (the secret itself is never stored in a target)"

func validateSecretRef(field string, ref SecretRef, add adder) {
	switch {
	case ref == "":
		add(field, "is required: name a secret, as keyring:NAME or env:NAME")
	case !validRef(ref):
		add(field, notARef)
	}
}

// validateTokenURL checks an OAuth token URL: http(s), a host, no user
// info, and https unless the token endpoint is on this machine (the client
// secret travels in the request).
func validateTokenURL(raw string) error {
	if raw == "" {
		return errors.New("is required")
	}
	if len(raw) > MaxURLLen {
		return fmt.Errorf("is longer than %d characters", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL: %v", errors.Unwrap(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with https://")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not contain a user name or password: use auth.client_id and auth.client_secret")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return errors.New("must start with https://: the client secret would cross the network in clear text (plain http:// is allowed only for localhost)")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validScope reports whether s is an OAuth scope token (RFC 6749 section
// 3.3): printable ASCII without space, '"' or '\'.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

// hasControl reports whether s holds a control character (a line break, a
// NUL, DEL...), which no header value may carry. A tab is allowed.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// apiKeyHeader is the header an apikey auth sets.
func (a Auth) apiKeyHeader() string {
	if a.Header == "" {
		return DefaultAPIKeyHeader
	}
	return a.Header
}

// secretHeaders names the headers that carry this auth's secrets, to drop
// on redirects to another origin and to mask in previews.
func (a Auth) secretHeaders() []string {
	switch a.Kind {
	case AuthBasic, AuthDigest, AuthBearer, AuthOAuth2:
		return []string{"Authorization"}
	case AuthAPIKey:
		return []string{http.CanonicalHeaderKey(a.apiKeyHeader())}
	}
	return nil
}

// explain adds to the reason of a failed attempt what an HTTP 401 or 403
// means for this auth, or returns "" when there is nothing to add. h is the
// response's header.
func (a Auth) explain(code int, h http.Header) string {
	switch {
	case code == http.StatusUnauthorized && a.Kind == AuthNone:
		if chs := parseChallenges(h.Values("Www-Authenticate")); len(chs) > 0 {
			return fmt.Sprintf("the server asks for %s authorization: set the target's auth", chs[0].scheme)
		}
		return "the server asks for authorization: set the target's auth"
	case code == http.StatusUnauthorized:
		switch a.Kind {
		case AuthBasic, AuthDigest:
			return "the server refused the credentials: check auth.username and the secret that auth.password names"
		case AuthBearer:
			return "the server refused the token: check the secret that auth.token names"
		case AuthAPIKey:
			return fmt.Sprintf("the server refused the API key: check auth.header (%s) and the secret that auth.key names", http.CanonicalHeaderKey(a.apiKeyHeader()))
		case AuthOAuth2:
			return "the server refused the OAuth access token even after a fresh one was fetched: check auth.scopes and the client's rights"
		}
	case code == http.StatusForbidden && a.Kind != AuthNone:
		return "the server accepted who you are but does not allow this request"
	}
	return ""
}

// readSecret reads the secret that ref names, for field (such as
// "auth.password"). Every failure wraps ErrSecretMissing (and the source's
// error), names the field and the reference, says what to do, and never
// contains a secret value.
func readSecret(src SecretSource, field string, ref SecretRef) (string, error) {
	fail := func(cause error, format string, args ...any) (string, error) {
		return "", &secretError{msg: field + ": " + fmt.Sprintf(format, args...), cause: cause}
	}
	if ref == "" {
		return fail(nil, "no secret is set: name one as keyring:NAME or env:NAME in the target's auth settings")
	}
	if src == nil {
		return fail(nil, "secret %q cannot be read: Buttonhook was started without a secret source", ref)
	}
	v, err := src.Get(string(ref))
	scheme, name, found := strings.Cut(string(ref), ":")
	if !found {
		scheme, name = "keyring", scheme
	}
	switch {
	case err != nil && errorChainHas(err, "secret not found") && scheme == "env":
		return fail(err, "secret %q is not set: set the environment variable %s for Buttonhook", ref, name)
	case err != nil && errorChainHas(err, "secret not found"):
		return fail(err, "secret %q is not in the OS keyring: store it there as %q under the service \"buttonhook\" (on Linux: secret-tool store --label=Buttonhook service buttonhook username %s)", ref, name, name)
	case err != nil:
		// An unavailable source's error says what to do (start a Secret
		// Service, unlock the keyring, or use env: references).
		return fail(err, "secret %q cannot be read: %v", ref, err)
	case v == "":
		return fail(nil, "secret %q is empty: store its value again", ref)
	}
	return v, nil
}

// secretError is why a secret could not be read. It wraps ErrSecretMissing
// and the source's error.
type secretError struct {
	msg   string
	cause error // nil when there is none
}

func (e *secretError) Error() string { return e.msg }

func (e *secretError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrSecretMissing}
	}
	return []error{ErrSecretMissing, e.cause}
}

// errorChainHas reports whether err or an error it wraps has exactly the
// text msg. actions may not import storage/secrets (the layers know nothing
// of each other), so its sentinels ("secret not found") are recognised by
// their text; TestReadSecretFromStorageSources pins the texts.
func errorChainHas(err error, msg string) bool {
	if err == nil {
		return false
	}
	if err.Error() == msg {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return errorChainHas(u.Unwrap(), msg)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if errorChainHas(e, msg) {
				return true
			}
		}
	}
	return false
}

// headerSecret reads a secret that is sent as (part of) a header value,
// which must not hold line breaks or control characters.
func headerSecret(src SecretSource, field string, ref SecretRef) (string, error) {
	v, err := readSecret(src, field, ref)
	if err == nil && hasControl(v) {
		return "", &secretError{msg: fmt.Sprintf("%s: secret %q contains a line break or another control character, which a header cannot carry: store it again without it (printf, unlike echo, adds no newline)", field, ref)}
	}
	return v, err
}

// authState is what the Sender remembers between attempts (OAuth tokens,
// digest nonces). Its zero value is ready; it is safe for concurrent use.
type authState struct {
	mu      sync.Mutex
	digests map[string]*digestSession // by origin
	tokens  map[tokenKey]*tokenCache  // by token URL, client, scopes and secret

	now func() time.Time // the clock for token expiry; nil: time.Now
}

// do sends req for t with its authorization (a digest challenge may take a
// second round trip). Every secret is read before anything is sent; a
// missing one fails with an error wrapping ErrSecretMissing.
func (st *authState) do(ctx context.Context, t Target, req *http.Request, c *http.Client, secrets SecretSource) (*http.Response, error) {
	a := t.Auth
	switch a.Kind {
	case AuthNone:
		return c.Do(req)
	case AuthBasic:
		pw, err := readSecret(secrets, "auth.password", a.Password)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(a.Username, pw)
		return c.Do(req)
	case AuthBearer:
		tok, err := headerSecret(secrets, "auth.token", a.Token)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return c.Do(req)
	case AuthAPIKey:
		key, err := headerSecret(secrets, "auth.key", a.Key)
		if err != nil {
			return nil, err
		}
		req.Header.Set(a.apiKeyHeader(), key)
		return c.Do(req)
	case AuthDigest:
		pw, err := readSecret(secrets, "auth.password", a.Password)
		if err != nil {
			return nil, err
		}
		return st.digest(req, c, a.Username, pw)
	case AuthOAuth2:
		secret, err := readSecret(secrets, "auth.client_secret", a.ClientSecret)
		if err != nil {
			return nil, err
		}
		return st.oauthDo(ctx, a, secret, req, c)
	}
	return nil, fmt.Errorf("auth.kind: %q is not one of basic, digest, bearer, apikey or oauth2", a.Kind)
}

// canResend reports whether req can be sent a second time: it has no body,
// or its body can be made again.
func canResend(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// again returns a copy of req to send once more, with a fresh body.
func again(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("read the body again: %w", err)
		}
		r.Body = body
	}
	return r, nil
}

// discard reads a little of an unwanted response so its connection can be
// reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
