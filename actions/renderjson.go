package actions

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

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
