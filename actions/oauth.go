package actions

// OAuth 2.0 client credentials (RFC 6749 section 4.4) with
// golang.org/x/oauth2/clientcredentials: an access token is fetched from the
// token URL with the client id and secret, cached by the Sender until it is
// about to expire, and sent as a bearer token.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ErrOAuthToken is wrapped by the error of an attempt whose OAuth access
// token could not be had from the token endpoint; nothing was sent to the
// target.
var ErrOAuthToken = errors.New("OAuth token request failed")

// tokenEarlyExpiry is how long before its expiry a cached token is renewed,
// the expiry delta golang.org/x/oauth2 uses: a token taken from the cache is
// still good when the request reaches the server.
const tokenEarlyExpiry = 10 * time.Second

// tokenKey identifies the configuration a token was issued for: token URL,
// client id, scopes and client secret (hashed, so the secret is not kept
// as a key).
type tokenKey [sha256.Size]byte

func newTokenKey(a Auth, secret string) tokenKey {
	h := sha256.New()
	for _, s := range append([]string{a.TokenURL, a.ClientID, secret}, a.Scopes...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	var k tokenKey
	h.Sum(k[:0])
	return k
}

// tokenCache holds one configuration's access token.
type tokenCache struct {
	conf  *clientcredentials.Config
	fetch chan struct{} // one token request at a time; holding it guards tok and expires
	tok   *oauth2.Token
	// expires is when tok expires on st's clock (zero: no expiry given).
	expires time.Time
}

// tokenCacheFor returns the cache of a's configuration with secret,
// forgetting expired tokens of other configurations.
func (st *authState) tokenCacheFor(a Auth, secret string) *tokenCache {
	k := newTokenKey(a, secret)
	st.mu.Lock()
	defer st.mu.Unlock()
	if tc := st.tokens[k]; tc != nil {
		return tc
	}
	if st.tokens == nil {
		st.tokens = map[tokenKey]*tokenCache{}
	}
	for old, tc := range st.tokens {
		select {
		case tc.fetch <- struct{}{}: // not in use
			if !st.fresh(tc) {
				delete(st.tokens, old)
			}
			<-tc.fetch
		default:
		}
	}
	tc := &tokenCache{
		conf: &clientcredentials.Config{
			ClientID: a.ClientID, ClientSecret: secret, TokenURL: a.TokenURL,
			Scopes: append([]string(nil), a.Scopes...),
		},
		fetch: make(chan struct{}, 1),
	}
	st.tokens[k] = tc
	return tc
}

// clock is the time for token expiry.
func (st *authState) clock() time.Time {
	if st.now != nil {
		return st.now()
	}
	return time.Now()
}

// fresh reports whether tc's token can still be sent: it does not expire
// within tokenEarlyExpiry. A token without an expiry is good until refused.
// tc.fetch is held.
func (st *authState) fresh(tc *tokenCache) bool {
	if tc.tok == nil || tc.tok.AccessToken == "" {
		return false
	}
	return tc.expires.IsZero() || st.clock().Add(tokenEarlyExpiry).Before(tc.expires)
}

// token returns a cached token that is still fresh, or fetches a new one
// within ctx through c's transport. fetched says which.
func (st *authState) token(ctx context.Context, tc *tokenCache, c *http.Client) (tok *oauth2.Token, fetched bool, err error) {
	select {
	case tc.fetch <- struct{}{}:
	case <-ctx.Done():
		return nil, false, tokenFailure(tc.conf, ctx.Err())
	}
	defer func() { <-tc.fetch }()
	if st.fresh(tc) {
		return tc.tok, false, nil
	}
	// The token request goes through the target's transport (its TLS
	// policy) and never follows a redirect: a 307 would repeat the client
	// secret to wherever it points.
	hc := &http.Client{
		Transport:     c.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tok, err = tc.conf.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		return nil, false, tokenFailure(tc.conf, err)
	}
	tc.tok, tc.expires = tok, time.Time{}
	if !tok.Expiry.IsZero() { // oauth2 set it from expires_in on the real clock
		tc.expires = st.clock().Add(time.Until(tok.Expiry))
	}
	return tok, true, nil
}

// forget drops tok from the cache, if it is still there.
func (tc *tokenCache) forget(ctx context.Context, tok *oauth2.Token) {
	select {
	case tc.fetch <- struct{}{}:
		if tc.tok == tok {
			tc.tok = nil
		}
		<-tc.fetch
	case <-ctx.Done():
	}
}

// oauthDo sends req with an access token for a's client, whose secret is
// secret. A cached token that the target refuses with 401 is dropped, and
// the request is sent once more with a new one.
func (st *authState) oauthDo(ctx context.Context, a Auth, secret string, req *http.Request, c *http.Client) (*http.Response, error) {
	tc := st.tokenCacheFor(a, secret)
	tok, fetched, err := st.token(ctx, tc, c)
	if err != nil {
		return nil, err
	}
	tok.SetAuthHeader(req)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || fetched {
		return resp, err
	}
	// Revoked, or expired earlier than announced.
	tc.forget(ctx, tok)
	if !canResend(req) {
		return resp, nil
	}
	discard(resp)
	if tok, _, err = st.token(ctx, tc, c); err != nil {
		return nil, err
	}
	r, err := again(req)
	if err != nil {
		return nil, err
	}
	tok.SetAuthHeader(r)
	return c.Do(r)
}

// tokenError is why an access token could not be had. Its text never holds
// the client secret.
type tokenError struct {
	msg     string
	wrapped []error // ErrOAuthToken, and a network error or ErrTimeout
}

func (e *tokenError) Error() string   { return e.msg }
func (e *tokenError) Unwrap() []error { return e.wrapped }

// tokenFailure explains a failed token request for conf: the endpoint's
// status and OAuth error code (RFC 6749 section 5.2), or what went wrong on
// the way. Whatever the server wrote is cleaned of the client secret before
// it is cut short.
func tokenFailure(conf *clientcredentials.Config, err error) error {
	server := func(s string) string { return excerpt(scrub(s, conf.ClientID, conf.ClientSecret)) }
	var (
		detail string
		re     *oauth2.RetrieveError
		oe     *net.OpError
	)
	wrapped := []error{ErrOAuthToken}
	switch {
	case errors.As(err, &re) && re.Response != nil:
		code := re.Response.StatusCode
		switch {
		case re.ErrorCode != "":
			detail = fmt.Sprintf("%d %s", code, server(re.ErrorCode))
			if re.ErrorDescription != "" {
				detail += " (" + server(re.ErrorDescription) + ")"
			}
		case code >= 300 && code < 400:
			detail = fmt.Sprintf("%d %s: the token endpoint redirects, and token requests do not follow redirects", code, http.StatusText(code))
			if loc := re.Response.Header.Get("Location"); loc != "" {
				detail += ": set the URL it redirects to, " + server(RedactURL(loc))
			}
		default:
			detail = fmt.Sprintf("%d %s", code, http.StatusText(code))
			if b := server(string(re.Body)); b != "" {
				detail += ": " + b
			}
		}
	case errors.Is(err, context.DeadlineExceeded):
		detail = "no answer before the attempt's deadline"
		wrapped = append(wrapped, ErrTimeout, err)
	case errors.Is(err, context.Canceled):
		detail = "canceled"
		wrapped = append(wrapped, err)
	default:
		cause := stripURL(err) // the URL is in the message already, redacted
		detail = server(strings.TrimPrefix(cause.Error(), "oauth2: "))
		if errors.As(cause, &oe) && oe.Op == "dial" {
			detail = "cannot connect: " + detail
		}
		wrapped = append(wrapped, cause)
	}
	msg := fmt.Sprintf("OAuth token request to %s failed: %s", RedactURL(conf.TokenURL), detail)
	return &tokenError{msg: msg, wrapped: wrapped}
}

// excerpt is the start of a server's text, on one line.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// scrub removes a client secret from msg, a server's words, in every form
// a token request carries it (as is, form-encoded, in a basic
// authorization), in case the server echoes it back.
func scrub(msg, clientID, secret string) string {
	if secret == "" {
		return msg
	}
	forms := []string{
		secret, url.QueryEscape(secret), url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(clientID + ":" + secret)),
	}
	for _, f := range forms {
		msg = strings.ReplaceAll(msg, f, "REDACTED")
	}
	return msg
}
