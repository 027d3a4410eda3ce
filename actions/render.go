package actions

import (
	"encoding/json"
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

// JSON bodies. Tags are substituted inside JSON string values only, and
// escaped as JSON there, so that a value can never end its string. A tag is
// recognised in a string's text, after its escapes are read ("\u003cNAME>"
// is the tag <NAME> too). Object keys are sent as written: a tag value must
// not decide a document's shape, nor duplicate a key. The numeric tags
// (<UNIXTIME> and the <COUNTER...> tags) may also stand unquoted as a whole
// value, {"n": <COUNTER>}, and are sent as JSON numbers; any other tag
// outside a string is a validation error. Everything but the strings that
// hold tags is copied byte for byte: formatting, key order and number
// spelling stay as written.

// renderJSON returns doc with its tags substituted. doc must pass
// checkJSONTemplate; then the result is valid JSON.
func renderJSON(doc string, vals *tagValues) ([]byte, error) {
	if err := checkJSONTemplate(doc); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(doc)+64)
	i, last := 0, 0
	for {
		j := strings.IndexAny(doc[i:], `"<`)
		if j < 0 {
			break
		}
		i += j
		if doc[i] == '"' {
			end := skipJSONString(doc, i)
			if jsonKeyAt(doc, end) || !mayHoldTag(doc[i:end]) {
				i = end
				continue
			}
			out = append(out, doc[last:i]...)
			out = appendJSONTemplateString(out, doc[i:end], vals)
			i, last = end, end
			continue
		}
		// A bare numeric tag: checkJSONTemplate allowed only those.
		name, n := tagAt(doc[i:])
		v, _ := vals.lookup(name)
		out = append(out, doc[last:i]...)
		out = append(out, v...)
		i += n
		last = i
	}
	return append(out, doc[last:]...), nil
}

// skipJSONString returns the index just past the string token starting at
// doc[i] == '"' (len(doc) if it never ends).
func skipJSONString(doc string, i int) int {
	j := i + 1
	for {
		k := strings.IndexAny(doc[j:], `"\`)
		if k < 0 {
			return len(doc)
		}
		if doc[j+k] == '\\' {
			j += k + 2
			if j > len(doc) {
				return len(doc)
			}
			continue
		}
		return j + k + 1
	}
}

// jsonKeyAt reports whether the string token ending at end is an object
// key: a ':' follows it.
func jsonKeyAt(doc string, end int) bool {
	for ; end < len(doc); end++ {
		switch doc[end] {
		case ' ', '\t', '\n', '\r':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// mayHoldTag reports whether a string token's text may contain a "<".
func mayHoldTag(raw string) bool {
	if strings.IndexByte(raw, '<') >= 0 {
		return true
	}
	for {
		i := strings.Index(raw, `\u003`)
		if i < 0 || i+5 >= len(raw) {
			return false
		}
		if c := raw[i+5]; c == 'c' || c == 'C' {
			return true
		}
		raw = raw[i+5:]
	}
}

// appendJSONTemplateString appends the string token raw with its tags
// substituted; a string without tags is appended as written.
func appendJSONTemplateString(dst []byte, raw string, vals *tagValues) []byte {
	text := raw[1 : len(raw)-1]
	asWritten := strings.IndexByte(text, '\\') < 0 && utf8.ValidString(text)
	if !asWritten {
		var err error
		if text, err = jsonUnquote(raw); err != nil {
			return append(dst, raw...)
		}
	}
	if !hasTags(text) {
		return append(dst, raw...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(text, '<')
		if i < 0 {
			break
		}
		dst = appendJSONText(dst, text[:i], asWritten)
		text = text[i:]
		if name, n := tagAt(text); n > 0 {
			if v, ok := vals.lookup(name); ok {
				dst = appendJSONEscaped(dst, v)
			} else {
				dst = appendJSONText(dst, text[:n], asWritten)
			}
			text = text[n:]
		} else if len(text) > 1 && text[1] == '<' {
			dst = append(dst, '<')
			text = text[2:]
		} else {
			dst = append(dst, '<')
			text = text[1:]
		}
	}
	dst = appendJSONText(dst, text, asWritten)
	return append(dst, '"')
}

// appendJSONText appends literal text of a template string: as written when
// it came unescaped from the template, else escaped.
func appendJSONText(dst []byte, s string, asWritten bool) []byte {
	if asWritten {
		return append(dst, s...)
	}
	return appendJSONEscaped(dst, s)
}

// appendJSONEscaped appends s escaped as the inside of a JSON string:
// `"`, `\` and control characters escaped, invalid UTF-8 as \ufffd, U+2028
// and U+2029 escaped (as encoding/json does); everything else as is.
func appendJSONEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', upperhex[c>>4], upperhex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, upperhex[r&15])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// checkJSONTemplate checks a JSON body template: tags outside strings are
// numeric tags standing as whole values, and the document is valid JSON
// with them read as numbers. Errors give the line and column.
func checkJSONTemplate(doc string) error {
	var bare []int
	for i := 0; i < len(doc); {
		switch doc[i] {
		case '"':
			i = skipJSONString(doc, i)
			continue
		case '<':
			name, n := tagAt(doc[i:])
			if n == 0 {
				break
			}
			line, col := lineCol(doc, i+1)
			switch {
			case !knownTag(name):
				return fmt.Errorf("line %d, column %d: <%s> is outside a string and is not a tag: tags are substituted only inside strings", line, col, name)
			case !numericTag(name):
				return fmt.Errorf("line %d, column %d: <%s> is outside a string: write \"<%s>\" in quotes (only <UNIXTIME> and the <COUNTER...> tags may stand unquoted, as numbers)", line, col, name, name)
			case !jsonValueSlot(doc, i, i+n):
				return fmt.Errorf("line %d, column %d: <%s> must be a whole value, as in {\"n\": <%s>}", line, col, name, name)
			}
			bare = append(bare, i)
			i += n
			continue
		}
		i++
	}
	check := []byte(doc)
	for _, i := range bare {
		// A number of the same length keeps lines and columns.
		_, n := tagAt(doc[i:])
		check[i] = '0'
		for k := 1; k < n; k++ {
			check[i+k] = ' '
		}
	}
	if !json.Valid(check) {
		return checkJSON(string(check))
	}
	return nil
}

// jsonValueSlot reports whether doc[start:end] stands where a whole value
// does: after the start, ':', '[' or ',', and before the end, ',', ']' or '}'.
func jsonValueSlot(doc string, start, end int) bool {
	before := strings.TrimRight(doc[:start], " \t\r\n")
	after := strings.TrimLeft(doc[end:], " \t\r\n")
	okBefore := before == "" || strings.ContainsRune(":[,", rune(before[len(before)-1]))
	okAfter := after == "" || strings.ContainsRune(",]}", rune(after[0]))
	return okBefore && okAfter
}

// jsonUnquote reads the JSON string token raw.
func jsonUnquote(raw string) (string, error) {
	var text string
	err := json.Unmarshal([]byte(raw), &text)
	return text, err
}
