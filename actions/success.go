package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// SuccessRule decides whether a response is a success. The zero rule is
// 2xx. Every part that is set must hold: the status range, the JSON
// pointer's value, the regular expression.
type SuccessRule struct {
	StatusMin int `json:"status_min,omitempty"` // default 200
	StatusMax int `json:"status_max,omitempty"` // default 299
	// JSONPointer and Equals: the response's JSON value at the pointer
	// (RFC 6901, "/status", "/items/0/ok") must equal Equals. When Equals is
	// valid JSON ("ok" with its quotes, 42, true, null, {"a":1}) the values
	// are compared as JSON (numbers by value, objects regardless of key
	// order); otherwise Equals is plain text and the value must be a JSON
	// string with exactly that text (ok matches "ok", and so does "ok").
	JSONPointer string `json:"json_pointer,omitempty"`
	Equals      string `json:"equals,omitempty"`
	// Regexp (Go's RE2 syntax) must match somewhere in the kept body
	// (anchor it with ^ and $ to match all of it).
	Regexp string `json:"regexp,omitempty"`
}

// Status codes a rule may name.
const (
	minStatus = 100
	maxStatus = 599
)

// statusRange is the rule's range with its defaults.
func (r SuccessRule) statusRange() (lo, hi int) {
	lo, hi = r.StatusMin, r.StatusMax
	if lo == 0 {
		lo = 200
	}
	if hi == 0 {
		hi = 299
	}
	return lo, hi
}

func (r SuccessRule) validate(add adder) {
	for _, f := range []struct {
		name string
		v    int
	}{{"success.status_min", r.StatusMin}, {"success.status_max", r.StatusMax}} {
		if f.v != 0 && (f.v < minStatus || f.v > maxStatus) {
			add(f.name, "must be an HTTP status between %d and %d", minStatus, maxStatus)
		}
	}
	if lo, hi := r.statusRange(); lo > hi {
		add("success.status_max", "the range %d-%d is empty: the maximum must be at least the minimum", lo, hi)
	}
	switch {
	case r.JSONPointer != "":
		if _, err := parsePointer(r.JSONPointer); err != nil {
			add("success.json_pointer", "%v", err)
		}
		if r.Equals == "" {
			add("success.equals", `is required with a JSON pointer (write "" for an empty string)`)
		}
	case r.Equals != "":
		add("success.json_pointer", "is required with equals: say where in the response the value is (/status)")
	}
	if r.Regexp != "" {
		if _, err := regexp.Compile(r.Regexp); err != nil {
			add("success.regexp", "is not a valid regular expression: %s", reError(err))
		}
	}
}

// evaluate applies the rule to a response; reason says why it failed.
func (r SuccessRule) evaluate(code int, body []byte) (ok bool, reason string) {
	lo, hi := r.statusRange()
	if code < lo || code > hi {
		status := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
		if code >= 300 && code < 400 {
			return false, status + ": redirects are not followed"
		}
		if r.StatusMin != 0 || r.StatusMax != 0 {
			return false, fmt.Sprintf("%s, want %d-%d", status, lo, hi)
		}
		return false, status
	}
	if r.JSONPointer != "" {
		if why := r.matchPointer(body); why != "" {
			return false, fmt.Sprintf("HTTP %d, but %s", code, why)
		}
	}
	if r.Regexp != "" {
		re, err := regexp.Compile(r.Regexp)
		if err != nil {
			return false, fmt.Sprintf("HTTP %d, but the success rule's regular expression is not valid: %s", code, reError(err))
		}
		if !re.Match(body) {
			return false, fmt.Sprintf("HTTP %d, but the body does not match %s", code, quoteShort(r.Regexp))
		}
	}
	return true, ""
}

// reError is a regexp compile error without its "error parsing regexp" prefix.
func reError(err error) string { return strings.TrimPrefix(err.Error(), "error parsing regexp: ") }

// matchPointer says why the body's value at the pointer is not Equals, or
// "" when it is.
func (r SuccessRule) matchPointer(body []byte) string {
	doc, err := decodeJSON(body)
	if err != nil {
		more := ""
		if len(body) >= MaxResponseBody {
			more = fmt.Sprintf(" (or longer than the %d KiB kept)", MaxResponseBody>>10)
		}
		return fmt.Sprintf("the body is not JSON%s, want %s = %s", more, r.JSONPointer, r.wantText())
	}
	ptr, err := parsePointer(r.JSONPointer)
	if err != nil {
		return fmt.Sprintf("the success rule's JSON pointer is not valid: %v", err)
	}
	got, found := ptr.find(doc)
	if !found {
		return fmt.Sprintf("the body has no %s, want %s", r.JSONPointer, r.wantText())
	}
	var want any
	if w, err := decodeJSON([]byte(r.Equals)); err == nil {
		want = w
	} else {
		want = r.Equals // plain text: compare with a string value
	}
	if jsonEqual(got, want) {
		return ""
	}
	return fmt.Sprintf("%s is %s, want %s", r.JSONPointer, jsonText(got), r.wantText())
}

// wantText writes Equals as JSON (plain text quoted).
func (r SuccessRule) wantText() string {
	if w, err := decodeJSON([]byte(r.Equals)); err == nil {
		return jsonText(w)
	}
	return jsonText(r.Equals)
}

// decodeJSON reads exactly one JSON value, keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// jsonEqual compares two decoded JSON values: numbers by value, objects
// whatever their key order.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Rat).SetString(string(a))
		y, oky := new(big.Rat).SetString(string(b))
		return okx && oky && x.Cmp(y) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

// jsonText writes a value as compact JSON, shortened for a reason line.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return shorten(strings.TrimSpace(b.String()))
}

func quoteShort(s string) string { return shorten(strconv.Quote(s)) }

func shorten(s string) string {
	const limit = 80
	if r := []rune(s); len(r) > limit {
		return string(r[:limit-1]) + "…"
	}
	return s
}

// pointer is a parsed JSON pointer (RFC 6901): its reference tokens.
type pointer []string

// parsePointer reads a JSON pointer: "" (the whole document) or "/"
// followed by tokens separated by "/", where "~1" stands for "/" and "~0"
// for "~".
func parsePointer(s string) (pointer, error) {
	if s == "" {
		return pointer{}, nil
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("%q is not a JSON pointer: it starts with / (/status, /data/0/ok)", s)
	}
	toks := strings.Split(s[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%q is not a JSON pointer: ~ must be followed by 0 (for ~) or 1 (for /)", s)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// find returns the value p points to in doc (decoded JSON).
func (p pointer) find(doc any) (any, bool) {
	v := doc
	for _, tok := range p {
		switch node := v.(type) {
		case map[string]any:
			next, ok := node[tok]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			// An index is 0 or digits without a leading zero; "-" (past
			// the end) never holds a value.
			if tok == "" || len(tok) > 1 && tok[0] == '0' || strings.Trim(tok, "0123456789") != "" {
				return nil, false
			}
			i, err := strconv.Atoi(tok)
			if err != nil || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}
