package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Placeholders CurlCommand writes for secrets, as shell variables to set
// before running the command.
const (
	CurlPasswordVar    = "BUTTONHOOK_PASSWORD"     // basic and digest auth, and a password in the URL
	CurlTokenVar       = "BUTTONHOOK_TOKEN"        // bearer auth
	CurlAPIKeyVar      = "BUTTONHOOK_API_KEY"      // API-key auth
	CurlAccessTokenVar = "BUTTONHOOK_ACCESS_TOKEN" // OAuth 2.0: a token fetched from the token URL
	CurlSignatureVar   = "BUTTONHOOK_SIGNATURE"    // a Standard Webhooks signature
	CurlCAFileVar      = "BUTTONHOOK_CA_FILE"      // a file holding the target's CA certificates
)

// mask stands for a secret in a preview.
const mask = "***"

// Preview renders the HTTP/1.1 request a send of t with tags would make:
// the request line, the headers in the order Go writes them (Host,
// User-Agent, Content-Length, then the rest sorted), a blank line and the
// body. Lines end in "\n" here ("\r\n" on the wire). Headers the transport
// adds on its own (Accept-Encoding) are not shown.
//
// Secrets are never read: the authorization header shows its scheme and
// "***" (Authorization: Basic ***), the API-key header and a signature show
// "***", and so does every header that redirects strip and response
// scrubbing looks for (carriesSecret): the auth's own, and any set by hand
// whose name says it carries a secret (Authorization, Cookie, X-Api-Key,
// X-Auth-Token...). A password in the URL shows as Authorization: Basic ***
// (net/http sends it so). A multipart body shows each uploaded file as
// <file PATH, N bytes>; a body that is not UTF-8 text as <N bytes of binary
// data>. A zero tags.Time means now. Preview fails when the send would fail
// to build (a missing upload, a tag value that is not a host name).
func Preview(t Target, tags Tags) (string, error) {
	t, req, err := buildToShow(t, tags)
	if err != nil {
		return "", err
	}
	defer closeBody(req)

	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\n", req.Method, req.URL.RequestURI())
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(&b, "Host: %s\n", host)
	h := previewHeader(t, tags, req)
	if ua := h.Get("User-Agent"); ua != "" {
		fmt.Fprintf(&b, "User-Agent: %s\n", ua)
		h.Del("User-Agent")
	}
	length, known := bodyLength(req)
	switch {
	case !known:
		b.WriteString("Transfer-Encoding: chunked\n")
	case length > 0 || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch:
		fmt.Fprintf(&b, "Content-Length: %d\n", length)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	if err := writePreviewBody(&b, req); err != nil {
		return "", err
	}
	return b.String(), nil
}

// previewHeader returns req's headers with the ones auth and signing would
// add, every secret masked.
func previewHeader(t Target, tags Tags, req *http.Request) http.Header {
	h := req.Header.Clone()
	own := t.Auth.secretHeaders()
	for k, vs := range h {
		if carriesSecret(k, own) {
			for i, v := range vs {
				vs[i] = maskValue(v)
			}
		}
	}
	switch t.Auth.Kind {
	case AuthNone:
		if req.URL.User != nil && h.Get("Authorization") == "" {
			h.Set("Authorization", "Basic "+mask) // net/http sends the URL's user info so
		}
	case AuthBasic:
		h.Set("Authorization", "Basic "+mask)
	case AuthDigest:
		h.Set("Authorization", "Digest "+mask)
	case AuthBearer, AuthOAuth2:
		h.Set("Authorization", "Bearer "+mask)
	case AuthAPIKey:
		h.Set(keyHeader(t.Auth), mask)
	}
	if t.Signing.Secret != "" {
		h.Set("webhook-id", tags.EID)
		h.Set("webhook-timestamp", strconv.FormatInt(tags.Time.Unix(), 10))
		h.Set("webhook-signature", "v1,"+mask)
	}
	return h
}

// headerVar is the placeholder CurlCommand writes for a header with a
// secret that no auth setting provides: BUTTONHOOK_ and the name in upper
// case with "_" for "-".
func headerVar(name string) string {
	return "BUTTONHOOK_" + strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		}
		return '_'
	}, name)
}

// maskValue keeps an authorization scheme and masks the rest.
func maskValue(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok && scheme != "" {
		return scheme + " " + mask
	}
	return mask
}

// keyHeader is the header an API key is sent in, as the auth names it.
func keyHeader(a Auth) string {
	if hs := a.secretHeaders(); len(hs) > 0 {
		return hs[0]
	}
	return "X-Api-Key"
}

// bodyLength is what the request's Content-Length would be.
func bodyLength(req *http.Request) (n int64, known bool) {
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		return 0, true
	case req.ContentLength > 0:
		return req.ContentLength, true
	}
	if mb, ok := req.Body.(*multipartBody); ok {
		return mb.Len(), true
	}
	return 0, false
}

func writePreviewBody(b *strings.Builder, req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	if mb, ok := req.Body.(*multipartBody); ok {
		for _, s := range mb.segs {
			if s.path == "" {
				b.Write(s.data)
			} else {
				fmt.Fprintf(b, "<file %s, %d bytes>", s.path, s.size)
			}
		}
		return nil
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return fmt.Errorf("preview: read body: %w", err)
	}
	if !utf8.Valid(body) {
		fmt.Fprintf(b, "<%d bytes of binary data>", len(body))
		return nil
	}
	b.Write(body)
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// CurlCommand returns a curl command line that makes the request a send of
// t with tags would make, quoted for a POSIX shell (bash's $'...' quoting
// for text with control characters). Secrets appear as shell variables
// (CurlPasswordVar and the others) to set before running it, never as
// values; a password in the URL moves to --user; a hand-set header that
// carries a secret (as Preview masks it) becomes $BUTTONHOOK_AUTHORIZATION,
// $BUTTONHOOK_X_API_KEY and so on (after its scheme word, if any); one that
// the auth sets too is left to the auth's option. Bodies are passed with
// --data-raw, so a body starting with "@" is not read as a file name. A
// multipart body becomes --form-string fields and -F file uploads. The
// deadline, redirect policy and an insecure TLS setting carry over; a pinned
// certificate does not (curl pins public keys, not certificates). A zero
// tags.Time means now.
func CurlCommand(t Target, tags Tags) (string, error) {
	t, req, err := buildToShow(t, tags)
	if err != nil {
		return "", err
	}
	defer closeBody(req)

	var c curlLine
	c.add("curl")
	switch req.Method {
	case http.MethodGet:
	case http.MethodHead:
		c.add("--head")
	default:
		c.add("-X", req.Method)
	}
	u := *req.URL
	user := u.User
	u.User = nil
	if strings.ContainsAny(u.String(), "[]{}") {
		c.add("--globoff") // curl would read them as URL patterns
	}
	c.add(shellQuote(u.String()))

	own := t.Auth.secretHeaders() // canonical, as req.Header's keys
	isMultipart := t.Body.Kind == BodyMultipart && t.Preset.Kind == PresetNone
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range req.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		if isMultipart && k == "Content-Type" {
			continue // curl writes its own boundary
		}
		for _, v := range req.Header[k] {
			switch {
			case slices.Contains(own, k):
				// The auth's own option below sends it.
			case carriesSecret(k, own):
				prefix := k + ": "
				if scheme, _, ok := strings.Cut(v, " "); ok && scheme != "" {
					prefix += scheme + " "
				}
				c.line("-H", shellQuote(prefix)+`"$`+headerVar(k)+`"`)
			case v == "":
				c.line("-H", shellQuote(k+";"))
			default:
				c.line("-H", shellQuote(k+": "+v))
			}
		}
	}
	switch t.Auth.Kind {
	case AuthNone:
		if user != nil {
			c.line("--user", shellQuote(user.Username()+":")+`"$`+CurlPasswordVar+`"`)
		}
	case AuthBasic:
		c.line("--user", shellQuote(t.Auth.Username+":")+`"$`+CurlPasswordVar+`"`)
	case AuthDigest:
		c.line("--digest", "--user", shellQuote(t.Auth.Username+":")+`"$`+CurlPasswordVar+`"`)
	case AuthBearer:
		c.line("-H", shellQuote("Authorization: Bearer ")+`"$`+CurlTokenVar+`"`)
	case AuthOAuth2:
		c.line("-H", shellQuote("Authorization: Bearer ")+`"$`+CurlAccessTokenVar+`"`)
	case AuthAPIKey:
		c.line("-H", shellQuote(keyHeader(t.Auth)+": ")+`"$`+CurlAPIKeyVar+`"`)
	}
	if t.Signing.Secret != "" {
		c.line("-H", shellQuote("webhook-id: "+tags.EID))
		c.line("-H", shellQuote("webhook-timestamp: "+strconv.FormatInt(tags.Time.Unix(), 10)))
		c.line("-H", shellQuote("webhook-signature: ")+`"$`+CurlSignatureVar+`"`)
	}

	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case isMultipart:
		parts, err := expandParts(t.Body.Form, tags.values())
		if err != nil {
			return "", err
		}
		for _, p := range parts {
			if strings.ContainsAny(p.name, "=\x00") {
				return "", fmt.Errorf("body.form[%d].key: curl cannot send a field name with %q in it", p.row, "=")
			}
			if p.path == "" {
				q, err := shellQuoteChecked(p.name + "=" + p.value)
				if err != nil {
					return "", fmt.Errorf("body.form[%d].value: %w", p.row, err)
				}
				c.line("--form-string", q)
				continue
			}
			c.line("-F", shellQuote(p.name+`=@"`+curlEscape(p.path)+`";type=`+uploadType(p.path)))
		}
	default:
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return "", fmt.Errorf("curl command: read body: %w", err)
		}
		q, err := shellQuoteChecked(string(body))
		if err != nil {
			return "", fmt.Errorf("body: %w", err)
		}
		c.line("--data-raw", q) // not --data-binary: a body starting with @ would name a file
	}

	c.line("--max-time", strconv.Itoa(int(t.Deadline().Seconds())))
	if t.Follow {
		c.line("--location", "--max-redirs", "5")
	}
	if t.TLS.Insecure {
		c.line("--insecure")
	}
	if t.TLS.CAPEM != "" {
		c.line("--cacert", `"$`+CurlCAFileVar+`"`)
	}
	return c.String(), nil
}

// curlLine builds a command: words on the first line, then one option per
// continued line.
type curlLine struct{ b strings.Builder }

func (c *curlLine) add(words ...string) {
	for _, w := range words {
		if c.b.Len() > 0 {
			c.b.WriteByte(' ')
		}
		c.b.WriteString(w)
	}
}

func (c *curlLine) line(words ...string) {
	c.b.WriteString(" \\\n ")
	c.add(words...)
}

func (c *curlLine) String() string { return c.b.String() }

// curlEscape escapes a file name for curl's -F "name=@\"file\"" syntax.
func curlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// shellQuote quotes s as one shell word; see shellQuoteChecked. A NUL, which no
// command line can carry, is dropped.
func shellQuote(s string) string {
	q, _ := shellQuoteChecked(strings.ReplaceAll(s, "\x00", ""))
	return q
}

// shellQuoteChecked quotes s as one shell word: as is when it is plain, in
// single quotes, or in bash's $'...' when it holds control characters other
// than newline and tab (which a terminal paste would mangle). A NUL cannot
// be in a command line.
func shellQuoteChecked(s string) (string, error) {
	if s == "" {
		return "''", nil
	}
	plain, ctl := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0:
			return "", errors.New("a NUL byte cannot be written in a shell command")
		case c < ' ' && c != '\n' && c != '\t' || c == 0x7f:
			ctl, plain = true, false
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			plain = false
		}
	}
	switch {
	case plain:
		return s, nil
	case !ctl:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// buildToShow builds the request that Preview and CurlCommand show, and
// returns t with its preset applied. A zero tags.Time means now.
func buildToShow(t Target, tags Tags) (Target, *http.Request, error) {
	if tags.Time.IsZero() {
		tags.Time = time.Now()
	}
	req, err := Build(context.Background(), t, tags)
	if err != nil {
		return t, nil, err
	}
	if t.Preset.Kind != PresetNone {
		t = t.Preset.apply(t)
	}
	return t, req, nil
}
