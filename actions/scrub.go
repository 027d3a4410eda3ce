package actions

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
)

// scrubbed replaces, in a response body, every secret the request carried:
// a server that echoes the request (httpbin's /anything, a debugging proxy)
// must not put a secret into the attempt log. It looks for the values of
// the target's secret references, a basic auth's base64 credentials, and
// the values of the secret-carrying headers actually sent (an OAuth access
// token, say).
func scrubbed(body []byte, sent *http.Request, t Target, src SecretSource) []byte {
	if len(body) == 0 {
		return body
	}
	var values []string
	if src != nil {
		for _, ref := range t.SecretRefs() {
			v, err := src.Get(string(ref))
			if err != nil || v == "" {
				continue
			}
			values = append(values, v)
			if t.Auth.Kind == AuthBasic {
				values = append(values, base64.StdEncoding.EncodeToString([]byte(t.Auth.Username+":"+v)))
			}
		}
	}
	if sent != nil {
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
	}
	for _, v := range values {
		if len(v) >= 6 && bytes.Contains(body, []byte(v)) {
			body = bytes.ReplaceAll(body, []byte(v), []byte("***"))
		}
	}
	return body
}
