package actions

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	OK       bool          // the target's success rule held (2xx)
	Duration time.Duration // from sending to the end of the response
	Body     []byte        // at most MaxResponseBody bytes of the response
	Err      error         // why it failed, when it did (nil for a non-2xx response)
}

// Reason is a one-line explanation of a failed result, for the log and the UI.
func (r Result) Reason() string {
	switch {
	case r.OK:
		return ""
	case r.Err != nil:
		return r.Err.Error()
	case r.Code >= 300 && r.Code < 400:
		return fmt.Sprintf("HTTP %d %s: redirects are not followed", r.Code, http.StatusText(r.Code))
	default:
		return fmt.Sprintf("HTTP %d %s", r.Code, http.StatusText(r.Code))
	}
}

// ErrTimeout is wrapped by the error of an attempt that ran out of time.
var ErrTimeout = errors.New("timed out")

// Sender sends targets' requests. It keeps connections open between attempts
// so that a press reaches a server without a new handshake. Safe for
// concurrent use.
type Sender struct {
	client *http.Client
}

// NewSender returns a Sender with Buttonhook's transport: TLS 1.2 or later and
// verified, bounded connect and handshake, no redirects followed (a 3xx is a
// failure), no automatic decompression surprises.
func NewSender() *Sender {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   5 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Sender{client: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Build makes the HTTP request for t with the tags substituted, each value
// escaped for where it lands.
func Build(ctx context.Context, t Target, tags Tags) (*http.Request, error) {
	vals := tags.values()
	u := expand(t.URL, vals, url.QueryEscape)
	var body io.Reader
	contentType := ""
	switch t.Body.Kind {
	case BodyJSON:
		body = strings.NewReader(expand(t.Body.JSON, vals, jsonEscape))
		contentType = "application/json"
	case BodyForm:
		f := url.Values{}
		for _, kv := range t.Body.Form {
			f.Add(kv.Key, expand(kv.Value, vals, func(v string) string { return v }))
		}
		body = strings.NewReader(f.Encode())
		contentType = "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, u, body)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL itself may carry secrets
		}
		return nil, fmt.Errorf("build request: the URL with its tags filled in is not valid: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Buttonhook/1")
	for _, h := range t.Headers {
		req.Header.Set(h.Key, expand(h.Value, vals, stripCRLF))
	}
	return req, nil
}

// Send runs one attempt of t within its own deadline and classifies it.
func (s *Sender) Send(ctx context.Context, t Target, tags Tags) Result {
	ctx, cancel := context.WithTimeout(ctx, t.Deadline())
	defer cancel()
	start := time.Now()
	req, err := Build(ctx, t, tags)
	if err != nil {
		return Result{Err: err, Duration: time.Since(start)}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Err: classify(ctx, err, t), Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	// Drain a little more so the connection can be reused; past that, close it.
	_, _ = io.CopyN(io.Discard, resp.Body, 256<<10)
	r := Result{Code: resp.StatusCode, Body: buf, Duration: time.Since(start)}
	if err != nil {
		r.Err = classify(ctx, fmt.Errorf("read response: %w", err), t)
		return r
	}
	r.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	return r
}

func classify(ctx context.Context, err error, t Target) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry secrets; the attempt records a redacted one
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s: the server did not answer in time", ErrTimeout, t.Deadline())
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return fmt.Errorf("TLS certificate not trusted: %v", ce.Err)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("cannot connect: %v", oe.Err)
	}
	return err
}

func jsonEscape(v string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	s := strings.TrimSpace(b.String())
	return s[1 : len(s)-1]
}

func stripCRLF(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
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
		lk := strings.ToLower(k)
		for _, s := range secretParams {
			if strings.Contains(lk, s) {
				q[k] = []string{"REDACTED"}
				changed = true
				break
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}
