package actions

import (
	"bytes"
	"net/http"
	"strings"
)

// scrubbed replaces, in a response body, the values of the secret-carrying
// headers the request was sent with (and their credentials after "Bearer "
// or "Basic "): a server that echoes the request (httpbin's /anything, a
// debugging proxy) must not put a secret into the attempt log. It reads no
// secret store: this runs between the response and the LED.
func scrubbed(body []byte, sent *http.Request, t Target) []byte {
	if len(body) == 0 || sent == nil {
		return body
	}
	var values []string
	own := t.Auth.secretHeaders()
	for k, vs := range sent.Header {
		if !carriesSecret(k, own) {
			continue
		}
		for _, v := range vs {
			values = append(values, v)
			if _, cred, ok := strings.Cut(v, " "); ok { // "Bearer TOKEN", "Basic CREDS"
				values = append(values, cred)
			}
		}
	}
	for _, v := range values {
		if len(v) >= 6 && bytes.Contains(body, []byte(v)) {
			body = bytes.ReplaceAll(body, []byte(v), []byte("***"))
		}
	}
	return body
}
