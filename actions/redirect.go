package actions

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// MaxRedirects is how many redirects a target with Follow takes.
const MaxRedirects = 5

// noRedirects returns a 3xx as the response: the success rule calls it a
// failure (the Standard Webhooks rule).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// followRedirects follows up to MaxRedirects redirects. It refuses a
// redirect from https to http (the request and its secrets would travel in
// clear), and once any hop leaves the first request's origin (scheme, host
// and port), it drops every secret-carrying header from that hop on: the
// auth's own (secret), and any header secretHeader names. net/http alone
// keeps everything for another port on the same host and forwards custom
// headers (X-Api-Key) to any host.
func followRedirects(secret []string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("too many redirects: stopped after %d", MaxRedirects)
		}
		if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused a redirect from https to %s: it would send the request unencrypted", req.URL.Scheme)
		}
		// The Client copies the first request's headers into every hop, so
		// the check runs over the whole chain each time.
		first := origin(via[0].URL)
		crossed := origin(req.URL) != first
		for _, r := range via[1:] {
			crossed = crossed || origin(r.URL) != first
		}
		if via[0].Header.Get("Referer") == "" {
			req.Header.Del("Referer") // the Client adds the previous URL, which may hold a secret
		}
		if crossed {
			for k := range req.Header {
				if carriesSecret(k, secret) {
					req.Header.Del(k)
				}
			}
		}
		return nil
	}
}

// origin is a URL's scheme, host and port, with the scheme's default port
// written out.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// secretWords mark a header name that probably carries a secret. Dropping a
// harmless header on a cross-origin redirect is the safe mistake.
var secretWords = []string{"auth", "token", "key", "secret", "signature", "session", "password", "passwd", "credential", "cookie", "callback"}

// carriesSecret reports whether header k carries a secret: by its name
// (secretHeader), or because it is one of own, the headers a target's auth
// sets.
func carriesSecret(k string, own []string) bool {
	return secretHeader(k) || slices.ContainsFunc(own, func(o string) bool { return strings.EqualFold(o, k) })
}

// secretHeader reports whether a header, by its name, probably carries a
// secret: Authorization, Proxy-Authorization, Cookie, and any name that
// contains one of secretWords (X-Api-Key, X-Auth-Token, Private-Token,
// X-Hub-Signature, webhook-signature, X-Buttonhook-Callback), except the
// idempotency keys, which are not secret and matter more after a redirect.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "idempotency-key" || n == "x-idempotency-key" {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
