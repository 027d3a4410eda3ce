package actions

import (
	"fmt"
	"net/http"
)

// SuccessRule decides whether a response is a success. The zero rule is 2xx.
type SuccessRule struct {
	StatusMin int `json:"status_min,omitempty"` // default 200
	StatusMax int `json:"status_max,omitempty"` // default 299
	// JSONPointer and Equals: the response's JSON value at the pointer
	// (RFC 6901) must equal Equals (compared as JSON text, or as a string).
	JSONPointer string `json:"json_pointer,omitempty"`
	Equals      string `json:"equals,omitempty"`
	// Regexp must match the response body.
	Regexp string `json:"regexp,omitempty"`
}

func (r SuccessRule) validate(add adder) {}

// evaluate applies the rule to a response; reason says why it failed.
func (r SuccessRule) evaluate(code int, body []byte) (ok bool, reason string) {
	if code >= 200 && code < 300 {
		return true, ""
	}
	if code >= 300 && code < 400 {
		return false, fmt.Sprintf("HTTP %d %s: redirects are not followed", code, http.StatusText(code))
	}
	return false, fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
}
