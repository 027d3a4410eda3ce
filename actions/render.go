package actions

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Where a tag's value lands decides how it is escaped:
//
//	URL userinfo      every byte but A-Z a-z 0-9 - . _ ~ percent-encoded
//	URL host          not escaped: the value must be letters, digits, "-", "." or "_",
//	                  else the request is not built
//	URL path          url.PathEscape ("/", "?", "#", ";", "%", space... encoded), and
//	                  a segment the value alone makes "." or ".." is sent as %2E / %2E%2E;
//	                  the template's own text is percent-encoded where a path may not
//	                  hold it (space, "<", ">", '"', non-ASCII...), "%" kept
//	URL query         url.QueryEscape ("&", "=", "+", "#"... encoded, space as "+");
//	                  the template's own text percent-encoded where a query may not hold it
//	URL fragment      url.PathEscape (not sent to the server)
//	query/form rows   keys and values expanded, then url.QueryEscape
//	multipart         field names and file names: CR, LF and other control
//	                  characters as %0D, %0A..., and `"` and `\` backslash-quoted;
//	                  a text field's value as is (the boundary is chosen not to occur in it)
//	file paths        "/" and "\" become "_", a value "." or ".." becomes "_" / "__",
//	                  NUL is dropped: a value cannot leave the written directory
//	JSON              inside string values only, as JSON string escapes; see renderJSON
//	header value      CR, LF and other control characters (but tab) become a space
//	raw XML body      & < > ' " as entities
//	raw form body     url.QueryEscape
//	text, raw         as is: the body's length frames it

// renderURL makes t's URL with tags substituted and t.Query added to its
// query. The template is split into its parts (userinfo, host, path, query,
// fragment) before any value is filled in, each part escapes values its own
// way, and a value can never add a part: a tag in the path cannot change the
// host, a tag in the query cannot add a parameter. Tags in the host are
// allowed only if their values are host names. Query rows are appended in
// order as key=value, both expanded and query-escaped.
func renderURL(t Target, vals tagValues) (string, error) {
	raw := t.URL
	if len(t.Query) == 0 && strings.IndexByte(raw, '<') < 0 {
		if _, err := url.Parse(raw); err != nil {
			return "", err
		}
		return raw, nil
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "<>") {
		return "", errors.New("the URL must start with http:// or https://")
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	rest, fragment, hasFragment := strings.Cut(rest, "#")
	path, query, hasQuery := strings.Cut(rest, "?")

	var b strings.Builder
	b.Grow(len(raw) + 64)
	b.WriteString(scheme)
	b.WriteString("://")
	hostport := authority
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		user, pass, hasPass := strings.Cut(authority[:at], ":")
		b.WriteString(expand(user, vals, userinfoEscape))
		if hasPass {
			b.WriteByte(':')
			b.WriteString(expand(pass, vals, userinfoEscape))
		}
		b.WriteByte('@')
		hostport = authority[at+1:]
	}
	badHost := ""
	host := expand(hostport, vals, func(v string) string {
		if !hostLike(v) && badHost == "" {
			badHost = "a tag in the host has a value that is not a host name (only letters, digits, '-', '.' and '_' may be filled in there)"
		}
		return v
	})
	if badHost != "" {
		return "", errors.New(badHost)
	}
	if host == "" {
		return "", errors.New("the URL has no host")
	}
	b.WriteString(host)
	writePath(&b, path, vals)
	if hasQuery || len(t.Query) > 0 {
		b.WriteByte('?')
		q := expandWith(query, vals, queryLiteral, url.QueryEscape)
		b.WriteString(q)
		sep := q != "" && !strings.HasSuffix(q, "&")
		for _, kv := range t.Query {
			if sep {
				b.WriteByte('&')
			}
			sep = true
			b.WriteString(url.QueryEscape(expand(kv.Key, vals, identity)))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(expand(kv.Value, vals, identity)))
		}
	}
	if hasFragment {
		b.WriteByte('#')
		b.WriteString(expandWith(fragment, vals, queryLiteral, url.PathEscape))
	}
	out := b.String()
	u, err := url.Parse(out)
	if err != nil {
		return "", err
	}
	if u.Host != host {
		return "", fmt.Errorf("the URL's host is not where it was written")
	}
	return out, nil
}

// writePath expands a URL path segment by segment, so that a value can
// neither add a segment ("/" is escaped) nor be a dot segment. The
// template's own text is escaped where it is not valid in a path, so that
// the request is sent with exactly this escaping (net/http re-encodes a
// path that is not validly encoded, which would decode a value's %2F).
func writePath(b *strings.Builder, path string, vals tagValues) {
	if strings.IndexByte(path, '<') < 0 {
		b.WriteString(pathLiteral(path))
		return
	}
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(path, "/")
		if i > 0 {
			b.WriteByte('/')
		}
		out := expandWith(seg, vals, pathLiteral, url.PathEscape)
		if (out == "." || out == "..") && out != seg {
			out = strings.ReplaceAll(out, ".", "%2E")
		}
		b.WriteString(out)
		if !more {
			return
		}
		path = rest
	}
}

// pathLiteral percent-encodes the bytes of template text that may not
// stand unescaped in a URL path; "%" is kept, as the start of an escape.
func pathLiteral(s string) string {
	return escapeBytes(s, func(c byte) bool {
		return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@[]/%", c) >= 0
	})
}

// queryLiteral percent-encodes the bytes of template text that may not
// stand unescaped in a URL query or fragment; "%" is kept.
func queryLiteral(s string) string {
	return escapeBytes(s, func(c byte) bool {
		return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@/?%", c) >= 0
	})
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// escapeBytes percent-encodes each byte of s that keep refuses.
func escapeBytes(s string, keep func(byte) bool) string {
	i := 0
	for i < len(s) && keep(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; keep(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		}
	}
	return b.String()
}

// hostLike reports whether v may be filled into a URL's host: letters
// (international names too), digits, "-", "." and "_".
func hostLike(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		switch {
		case r == '-' || r == '.' || r == '_':
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'):
		case r >= utf8.RuneSelf && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

const upperhex = "0123456789ABCDEF"

// userinfoEscape percent-encodes every byte of v but the unreserved ones.
func userinfoEscape(v string) string { return escapeBytes(v, unreserved) }

// headerEscape makes v safe as (part of) a header value: CR, LF and every
// other control character but tab become a space, so a value can neither
// end the header nor be refused by the transport.
func headerEscape(v string) string {
	ok := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return v
	}
	b := []byte(v)
	for i, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}

// dispositionEscape makes v safe inside a quoted Content-Disposition
// parameter of a multipart part: `\` and `"` are backslash-quoted (as Go's
// mime/multipart does and its reader undoes), control characters are
// percent-encoded (as browsers do for CR and LF).
func dispositionEscape(v string) string {
	if !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f || r == '"' || r == '\\' }) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c == 0x7f:
			b.WriteByte('%')
			b.WriteByte(upperhex[c>>4])
			b.WriteByte(upperhex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// fileNameEscape keeps a value filled into a file path inside the directory
// written in the template: path separators become "_", a dot segment is
// replaced, NUL is dropped.
func fileNameEscape(v string) string {
	v = strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\':
			return '_'
		case 0:
			return -1
		}
		return r
	}, v)
	switch v {
	case ".":
		return "_"
	case "..":
		return "__"
	}
	return v
}

// xmlEscape escapes v for XML text and attribute values. Control characters
// XML 1.0 forbids become U+FFFD.
func xmlEscape(v string) string {
	if !strings.ContainsFunc(v, func(r rune) bool {
		return strings.ContainsRune(`&<>'"`, r) || r < ' ' && r != '\t' && r != '\n' && r != '\r'
	}) {
		return v
	}
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '"':
			b.WriteString("&#34;")
		case r < ' ' && r != '\t' && r != '\n' && r != '\r':
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
