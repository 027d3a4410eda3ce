package actions

import (
	"fmt"
	"strings"
)

// Warnings lists what is allowed in t but probably not meant, one line per
// problem, each starting with the field ("url: ...", "headers[1].value: ...",
// as in a FieldError): text written like a tag that is not one, which is sent
// as written; a tag name in lower case; a tag in a JSON object key, which is
// never substituted. Validate reports errors; Warnings never stops a send.
func (t Target) Warnings() []string {
	var w []string
	t.eachTemplate(func(field, s string) {
		for _, u := range tagLike(s) {
			name := u[1 : len(u)-1]
			switch {
			case !knownTag(name) && knownTag(strings.ToUpper(name)):
				w = append(w, fmt.Sprintf("%s: %s is sent as written: tags are upper case, did you mean %s?", field, u, strings.ToUpper(u)))
			case !knownTag(name):
				w = append(w, fmt.Sprintf("%s: %s is not a tag Buttonhook knows and is sent as written (write <%s for the text itself)", field, u, u))
			}
		}
	})
	if t.Body.Kind == BodyJSON && t.Preset.Kind == PresetNone {
		for _, key := range jsonKeysWithTags(t.Body.JSON) {
			w = append(w, fmt.Sprintf("body.json: the key %s is sent as written: tags are substituted only in string values", key))
		}
	}
	return append(w, t.TLS.warnings()...)
}

// UnknownTags returns the text in t written like a tag that Buttonhook does
// not know ("<FOO>", and "<name>" for <NAME>), each once, in the order of
// first use. Such text is sent as written.
func UnknownTags(t Target) []string {
	var out []string
	seen := map[string]bool{}
	t.eachTemplate(func(_, s string) {
		for _, u := range tagLike(s) {
			if !knownTag(u[1:len(u)-1]) && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	})
	return out
}

// eachTemplate calls f with every field of t in which tags are substituted.
func (t Target) eachTemplate(f func(field, s string)) {
	f("url", t.URL)
	for i, kv := range t.Query {
		f(fmt.Sprintf("query[%d].key", i), kv.Key)
		f(fmt.Sprintf("query[%d].value", i), kv.Value)
	}
	for i, kv := range t.Headers {
		f(fmt.Sprintf("headers[%d].value", i), kv.Value)
	}
	if t.Preset.Kind != PresetNone {
		f("preset.message", t.Preset.Message)
		f("preset.channel", t.Preset.Channel)
		return
	}
	switch t.Body.Kind {
	case BodyJSON:
		f("body.json", t.Body.JSON)
	case BodyForm, BodyMultipart:
		for i, kv := range t.Body.Form {
			f(fmt.Sprintf("body.form[%d].key", i), kv.Key)
			f(fmt.Sprintf("body.form[%d].value", i), kv.Value)
		}
	case BodyText, BodyRaw:
		f("body.text", t.Body.Text)
	}
}

// tagLike returns the pieces of s written like a tag that expand leaves as
// they are: unknown upper-case names, and known names in other cases. "<<"
// escapes are skipped, as expand reads them.
func tagLike(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		s = s[i:]
		if len(s) > 1 && s[1] == '<' {
			s = s[2:]
			continue
		}
		if name, n := tagAt(s); n > 0 {
			if !knownTag(name) {
				out = append(out, s[:n])
			}
			s = s[n:]
			continue
		}
		if j := strings.IndexByte(s, '>'); j > 1 && knownTag(strings.ToUpper(s[1:j])) {
			out = append(out, s[:j+1])
			s = s[j+1:]
			continue
		}
		s = s[1:]
	}
}

// jsonKeysWithTags returns the object keys of doc that hold a known tag.
func jsonKeysWithTags(doc string) []string {
	var keys []string
	for i := 0; i < len(doc); {
		if doc[i] != '"' {
			i++
			continue
		}
		end := skipJSONString(doc, i)
		if raw := doc[i:end]; jsonKeyAt(doc, end) && mayHoldTag(raw) {
			if text, err := jsonUnquote(raw); err == nil && hasTags(text) {
				keys = append(keys, raw)
			}
		}
		i = end
	}
	return keys
}
