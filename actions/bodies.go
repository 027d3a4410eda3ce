package actions

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// BodyKind says what a target sends as its body.
type BodyKind string

// Body kinds.
const (
	BodyNone      BodyKind = ""          // no body
	BodyJSON      BodyKind = "json"      // application/json: Body.JSON, tags substituted inside strings only
	BodyForm      BodyKind = "form"      // application/x-www-form-urlencoded: Body.Form rows
	BodyMultipart BodyKind = "multipart" // multipart/form-data: Body.Form rows; a value "file:<path>" uploads a file
	BodyRaw       BodyKind = "raw"       // Body.Text sent as is, with Body.ContentType
	BodyText      BodyKind = "text"      // text/plain; charset=utf-8: Body.Text
)

// Body is what a target sends after its headers.
type Body struct {
	Kind        BodyKind `json:"kind,omitempty"`
	JSON        string   `json:"json,omitempty"`
	Form        []KV     `json:"form,omitempty"`
	Text        string   `json:"text,omitempty"`
	ContentType string   `json:"content_type,omitempty"` // for raw
}

// validate checks the body for a request with method.
func (b Body) validate(method string, add adder) {
	switch b.Kind {
	case BodyNone:
	case BodyJSON:
		if err := checkJSON(expandSample(b.JSON)); err != nil {
			add("body.json", "%v", err)
		}
	case BodyForm:
		validateRows("body.form", b.Form, add)
	default:
		add("body.kind", "%q is not one of json, form or empty", b.Kind)
	}
	if b.Kind != BodyNone && (method == http.MethodGet || method == http.MethodHead) {
		add("body.kind", "a %s request has no body: use POST, PUT or PATCH", method)
	}
}

// validateRows checks key/value rows: every key is set.
func validateRows(field string, rows []KV, add adder) {
	for i, kv := range rows {
		if kv.Key == "" {
			add(fmt.Sprintf("%s[%d].key", field, i), "is required")
		}
	}
}

// render makes the body with tags substituted, and its content type.
func (b Body) render(vals map[string]string) (io.Reader, string, error) {
	switch b.Kind {
	case BodyJSON:
		return strings.NewReader(expand(b.JSON, vals, jsonEscape)), "application/json", nil
	case BodyForm:
		f := url.Values{}
		for _, kv := range b.Form {
			f.Add(kv.Key, expand(kv.Value, vals, func(v string) string { return v }))
		}
		return strings.NewReader(f.Encode()), "application/x-www-form-urlencoded", nil
	}
	return nil, "", nil
}
