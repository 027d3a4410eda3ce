package actions

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxResponseBody is how much of a response body an attempt keeps.
const MaxResponseBody = 64 << 10

// Result is the outcome of one attempt.
type Result struct {
	Code     int           // HTTP status code, 0 when no response arrived
	OK       bool          // the target's success rule held (2xx by default)
	Duration time.Duration // from sending to the end of the response
	Timing   Timing        // the split of Duration
	Header   http.Header   // the response's headers
	Body     []byte        // at most MaxResponseBody bytes of the response
	Err      error         // why it failed when no usable response arrived
	Tries    int           // how many tries it took (SendWithRetries)
	// RequestHeaders names the headers of the request sent (names only:
	// values may be secret).
	RequestHeaders []string
	reason         string // why the success rule failed
}

// Reason is a one-line explanation of a failed result, for the log and the UI.
func (r Result) Reason() string {
	switch {
	case r.OK:
		return ""
	case r.Err != nil:
		return r.Err.Error()
	default:
		return r.reason
	}
}

// Class is a one-word kind of failure for the attempt log: "" for a
// success, then "secret" (a secret could not be read: nothing was sent),
// "auth" (no OAuth token), "timeout", "tls", "network" (no response), or
// "http" (a response that failed the success rule).
func (r Result) Class() string {
	var ce *tls.CertificateVerificationError
	var pe *pinMismatchError
	var ue *untrustedError
	var re tls.RecordHeaderError
	var ae tls.AlertError
	var te *tlsError
	switch {
	case r.OK:
		return ""
	case r.Err == nil:
		return "http"
	case errors.Is(r.Err, ErrSecretMissing):
		return "secret"
	case errors.Is(r.Err, ErrOAuthToken):
		return "auth"
	case errors.Is(r.Err, ErrTimeout):
		return "timeout"
	case errors.As(r.Err, &te) || errors.As(r.Err, &ce) || errors.As(r.Err, &pe) || errors.As(r.Err, &ue) || errors.As(r.Err, &re) || errors.As(r.Err, &ae):
		return "tls"
	case r.Code != 0:
		return "http"
	default:
		return "network"
	}
}

// tlsError marks a failed TLS handshake.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// ErrTimeout is wrapped by the error of an attempt that ran out of time.
var ErrTimeout = errors.New("timed out")

// Sender sends targets' requests. It keeps connections open between attempts
// so that a press reaches a server without a new handshake, and remembers
// OAuth tokens and digest nonces. Safe for concurrent use.
type Sender struct {
	secrets SecretSource
	tr      *transports
	auth    *authState
}

// NewSender returns a Sender reading secrets from secrets (nil: targets that
// need a secret fail with ErrSecretMissing).
func NewSender(secrets SecretSource) *Sender {
	return &Sender{secrets: secrets, tr: newTransports(), auth: &authState{}}
}

// Close releases idle connections.
func (s *Sender) Close() { s.tr.close() }

// secret reads a secret reference for a field, or says what is missing
// (never the value).
func (s *Sender) secret(field string, ref SecretRef) (string, error) {
	return readSecret(s.secrets, field, ref)
}

// CallbackHeader carries an async target's callback URL, as <CALLBACKURL>
// does in the URL or body.
const CallbackHeader = "X-Buttonhook-Callback"

// Build makes the HTTP request for t with the tags substituted, each value
// escaped for where it lands. Auth is not applied here.
func Build(ctx context.Context, t Target, tags Tags) (*http.Request, error) {
	if t.Preset.Kind != PresetNone {
		t = t.Preset.apply(t)
	}
	if tags.TargetID == "" {
		tags.TargetID = t.ID
	}
	if tags.Target == "" {
		tags.Target = t.Name
	}
	vals := tags.values()
	u, err := renderURL(t, vals)
	if err != nil {
		return nil, fmt.Errorf("build request: the URL with its tags filled in is not valid: %w", stripURL(err))
	}
	body, contentType, err := t.Body.render(vals)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: the URL with its tags filled in is not valid: %w", stripURL(err))
	}
	attachBody(req, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Buttonhook/1")
	for _, h := range t.Headers {
		req.Header.Set(h.Key, expand(h.Value, vals, headerEscape))
	}
	if t.Async.Enabled && tags.CallbackURL != "" {
		req.Header.Set(CallbackHeader, tags.CallbackURL)
	}
	return req, nil
}

// stripURL drops the URL from a url.Error: it may carry secrets.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Send runs one attempt of t within its own deadline and classifies it.
func (s *Sender) Send(ctx context.Context, t Target, tags Tags) Result {
	ctx, cancel := context.WithTimeout(ctx, t.Deadline())
	defer cancel()
	ctx, tm := withTiming(ctx)
	fail := func(err error) Result {
		tg := tm.timing()
		return Result{Err: err, Duration: tg.Total, Timing: tg}
	}
	client, err := s.tr.client(t)
	if err != nil {
		return fail(err)
	}
	req, err := Build(ctx, t, tags)
	if err != nil {
		return fail(err)
	}
	if t.Signing.Secret != "" {
		secret, err := s.secret("signing.secret", t.Signing.Secret)
		if err != nil {
			return fail(err)
		}
		if err := sign(req, secret, tags.EID, time.Now()); err != nil {
			return fail(err)
		}
	}
	resp, err := s.auth.do(ctx, t, req, client, s.secrets)
	if err != nil {
		r := fail(classify(ctx, err, t))
		r.RequestHeaders = headerNames(req.Header, t)
		return r
	}
	sent := req
	if resp.Request != nil {
		sent = resp.Request // after auth and redirects
	}
	r := Result{Code: resp.StatusCode, Header: resp.Header, RequestHeaders: headerNames(sent.Header, t)}
	r.Body, err = readResponse(resp)
	r.Body = scrubbed(r.Body, sent, t)
	r.Timing = tm.timing()
	r.Duration = r.Timing.Total
	if err != nil {
		r.Err = classify(ctx, fmt.Errorf("read response: %w", err), t)
		return r
	}
	r.OK, r.reason = t.Success.evaluate(r.Code, r.Body)
	if !r.OK && (r.Code == http.StatusUnauthorized || r.Code == http.StatusForbidden) {
		if x := t.Auth.explain(r.Code, r.Header); x != "" {
			r.reason += ": " + x
		}
	}
	return r
}

// headerNames lists the names of the headers a request carries, with
// those its auth adds on the way (Authorization for digest, say).
func headerNames(h http.Header, t Target) []string {
	names := make([]string, 0, len(h)+1)
	for k := range h {
		names = append(names, k)
	}
	for _, k := range t.Auth.secretHeaders() {
		if h.Get(k) == "" {
			names = append(names, http.CanonicalHeaderKey(k))
		}
	}
	slices.Sort(names)
	return names
}

func classify(ctx context.Context, err error, t Target) error {
	err = stripURL(err) // the URL may carry secrets; the attempt records a redacted one
	if errors.Is(err, ErrSecretMissing) || errors.Is(err, ErrOAuthToken) {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s: the server did not answer in time", ErrTimeout, t.Deadline())
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return &tlsError{fmt.Errorf("TLS certificate not trusted: %w", ce.Err)}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("cannot connect: %w", oe)
	}
	return err
}

// tokenLike reports whether a path segment looks like a secret rather than a
// word or a number: at least 16 characters mixing letters and digits, or at
// least 20 mixing upper and lower case (Slack's tokens). Masking a word by
// mistake is the safe error.
func tokenLike(seg string) bool {
	if len(seg) < 16 {
		return false
	}
	var upper, lower, digits bool
	for _, r := range seg {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r == '-' || r == '_' || r == '.' || r == '~' || r == '@':
		default:
			return false
		}
	}
	letters := upper || lower
	return letters && digits || len(seg) >= 20 && upper && lower
}

var secretParams = []string{"key", "token", "secret", "password", "passwd", "pass", "auth", "sig", "signature", "code", "apikey", "api_key", "access_token"}

// RedactURL returns raw with its user info removed, the values of
// secret-looking query parameters masked, and token-like path segments
// masked (Slack, Discord, Teams and Mattermost webhook URLs carry their
// secret in the path), for logs, the attempt log and the window.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if segs := strings.Split(u.Path, "/"); slices.ContainsFunc(segs, tokenLike) {
		for i, seg := range segs {
			if tokenLike(seg) {
				segs[i] = "REDACTED"
			}
		}
		u.Path, u.RawPath = strings.Join(segs, "/"), ""
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretParam(k) {
			q[k] = []string{"REDACTED"}
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
