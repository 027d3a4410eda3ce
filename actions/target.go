// Package actions is Buttonhook's webhook engine: the target model and its
// validation, runtime tags, building the HTTP request and sending it with a
// deadline, and classifying the result. It knows nothing of devices, storage
// or the app.
package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Methods a target may use.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}

// DefaultTimeout is bt.tn's fail-fast deadline for one attempt.
const DefaultTimeout = 10 * time.Second

// Limits of a target.
const (
	MaxNameLen      = 80
	MaxURLLen       = 2048
	MaxHeaderKeyLen = 100
	MinTimeout      = time.Second
	MaxTimeout      = 120 * time.Second
)

// KV is one key/value row (a header, a form field).
type KV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Target is a configured webhook. Every secret it uses is a SecretRef into a
// secret source (the OS keyring, an environment variable), never a value.
type Target struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Method  string `json:"method"`
	URL     string `json:"url"`
	Query   []KV   `json:"query,omitempty"`   // added to the URL's query
	Headers []KV   `json:"headers,omitempty"` // no secrets: use Auth
	Body    Body   `json:"body"`
	// Preset, when set, makes the request for a chat service from a message
	// (Slack, Microsoft Teams, Mattermost, Discord): Method and Body follow it.
	Preset  Preset      `json:"preset,omitzero"`
	Auth    Auth        `json:"auth,omitzero"`
	TLS     TLS         `json:"tls,omitzero"`
	Timeout Seconds     `json:"timeout,omitempty"` // 0 means DefaultTimeout
	Follow  bool        `json:"follow_redirects,omitempty"`
	Success SuccessRule `json:"success,omitzero"`
	Async   Async       `json:"async,omitzero"`
	Retry   Retry       `json:"retry,omitzero"`
	Signing Signing     `json:"signing,omitzero"`
	// Dynamic lets the local server's REST API set the URL; URL is then
	// optional, the fallback while none is set.
	Dynamic Dynamic `json:"dynamic,omitzero"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Version int       `json:"version"`
}

// Seconds is a duration written as a number of seconds in JSON.
type Seconds int

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// Deadline is the total time one attempt of t may take.
func (t Target) Deadline() time.Duration {
	if t.Timeout == 0 {
		return DefaultTimeout
	}
	return t.Timeout.Duration()
}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N} '\-]+$`)

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true,
}

// FieldError is one problem with one field of a target.
type FieldError struct {
	Field string // "name", "headers[1].key", ...
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// adder records one problem with one field.
type adder func(field, format string, args ...any)

// ValidationError lists everything wrong with a target.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Validate checks everything a user can get wrong in a target and returns a
// ValidationError listing every problem, or nil.
func (t Target) Validate() error {
	if t.Preset.Kind != PresetNone {
		t = t.Preset.apply(t)
	}
	var errs ValidationError
	reported := map[string]bool{}
	var add adder = func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
		reported[field] = true
	}
	switch {
	case strings.TrimSpace(t.Name) == "":
		add("name", "is required")
	case len([]rune(t.Name)) > MaxNameLen:
		add("name", "is longer than %d characters", MaxNameLen)
	case !nameRE.MatchString(t.Name):
		add("name", "use only letters, digits, -, ' and spaces")
	}
	valid := false
	for _, m := range Methods {
		valid = valid || t.Method == m
	}
	if !valid {
		add("method", "%q is not one of %s", t.Method, strings.Join(Methods, ", "))
	}
	if t.URL != "" || !t.Dynamic.Enabled { // a dynamic target may wait for its URL
		if err := validateURL(t.URL); err != nil {
			add("url", "%v", err)
		}
	}
	validateRows("query", t.Query, add)
	validateHeaders(t.Headers, t.ownHeaders(), add)
	t.Body.validate(t.Method, add)
	t.Preset.validate(add)
	if t.Preset.Kind != PresetNone {
		t.Preset.validateURL(t.URL, add)
	}
	t.Auth.validate(add)
	t.TLS.validate(t.URL, add)
	t.Success.validate(add)
	t.Async.validate(add)
	t.Retry.validate(add)
	t.Signing.validate(add)
	t.Dynamic.validate(add)
	if d := t.Timeout.Duration(); t.Timeout != 0 && (d < MinTimeout || d > MaxTimeout) {
		add("timeout", "must be between %d and %d seconds", int(MinTimeout.Seconds()), int(MaxTimeout.Seconds()))
	}
	// Secret fields the auth kind does not use are saved and exported too:
	// whatever is in them must be a reference, never a pasted secret.
	refs := t.SecretRefs()
	for _, field := range slices.Sorted(maps.Keys(refs)) {
		if !reported[field] && !validRef(refs[field]) {
			add(field, notARef)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func validateURL(raw string) error {
	if raw == "" {
		return errors.New("is required")
	}
	if len(raw) > MaxURLLen {
		return fmt.Errorf("is longer than %d characters", MaxURLLen)
	}
	u, err := url.Parse(expandSample(raw))
	if err != nil {
		return fmt.Errorf("is not a valid URL: %v", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must start with http:// or https://")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// validateHeaders checks header rows: names, lengths, no line breaks, no
// hop-by-hop header, and none of own, the headers the target's auth,
// signing or async mode set (by canonical name, with why).
func validateHeaders(hs []KV, own map[string]string, add adder) {
	for i, h := range hs {
		f := fmt.Sprintf("headers[%d]", i)
		k := http.CanonicalHeaderKey(h.Key)
		switch {
		case h.Key == "":
			add(f+".key", "is required")
		case len(h.Key) > MaxHeaderKeyLen:
			add(f+".key", "is longer than %d characters", MaxHeaderKeyLen)
		case !validHeaderKey(h.Key):
			add(f+".key", "%q is not a valid header name", h.Key)
		case hopByHop[k]:
			add(f+".key", "%s is set by Buttonhook itself and cannot be configured", k)
		case own[k] != "":
			add(f+".key", "%s %s", k, own[k])
		}
		if strings.ContainsAny(h.Value, "\r\n") {
			add(f+".value", "must not contain line breaks")
		}
	}
}

// ownHeaders names the headers that t's auth, signing and async mode set
// on every request, by canonical name, each with why and what to do
// instead of a header row. The send would replace such a row's value (or,
// for digest, send it on the first request only), so it is refused rather
// than silently dropped.
func (t Target) ownHeaders() map[string]string {
	own := map[string]string{}
	for _, k := range t.Auth.secretHeaders() {
		own[http.CanonicalHeaderKey(k)] = fmt.Sprintf("is set by the %s auth: remove this row, or set auth to none", t.Auth.Kind)
	}
	if t.Signing.Secret != "" {
		for _, k := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"} {
			own[k] = "is set by signing: remove this row, or turn signing off"
		}
	}
	if t.Async.Enabled {
		own[CallbackHeader] = "carries the callback URL in async mode: remove this row, or turn async off"
	}
	switch t.Body.Kind {
	case BodyMultipart:
		own["Content-Type"] = "is set by the multipart body (it carries the parts' boundary): remove this row"
	case BodyRaw:
		own["Content-Type"] = "is set by the raw body: choose the content type there and remove this row"
	}
	return own
}

func validHeaderKey(k string) bool {
	for _, r := range k {
		if r > 126 || r <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

func checkJSON(doc string) error {
	var v any
	err := json.Unmarshal([]byte(doc), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(doc, int(se.Offset))
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	}
	if err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return nil
}

func lineCol(s string, off int) (line, col int) {
	line, col = 1, 1
	for i, r := range s {
		if i >= off-1 {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
