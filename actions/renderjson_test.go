package actions

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderJSON(t *testing.T) {
	vals := fixedTags().values()
	tests := []struct{ name, in, want string }{
		{"value", `{"a":"<NAME>"}`, `{"a":"Door bell"}`},
		{"formatting and order kept", "{\n  \"z\" : [ 1, 2.50, \"<EID>\" ],\n\t\"a\":\"x\" }", "{\n  \"z\" : [ 1, 2.50, \"18eaa1\" ],\n\t\"a\":\"x\" }"},
		{"keys as written", `{"<NAME>":"<NAME>"}`, `{"<NAME>":"Door bell"}`},
		{"escaped bracket is a tag", `["\u003cNAME>"]`, `["Door bell"]`},
		{"backslash before a tag", `["\\<NAME>"]`, `["\\Door bell"]`},
		{"escapes without tags kept", `["caf\u00e9","\"q\""]`, `["caf\u00e9","\"q\""]`},
		{"escape for a literal tag", `["<<NAME> is <NAME>"]`, `["<NAME> is Door bell"]`},
		{"unknown tag kept", `["<FOO> <NAME>", "<FOO>"]`, `["<FOO> Door bell", "<FOO>"]`},
		{"numeric tags bare", `{"n": <COUNTER>, "t": [<UNIXTIME>,<COUNTER_DOUBLE>]}`, `{"n": 42, "t": [1741525507,2]}`},
		{"numeric tag at top level", ` <COUNTER> `, ` 42 `},
		{"numeric tag in a string", `{"n":"<COUNTER>"}`, `{"n":"42"}`},
		{"scalar document", `"<ETYPE>"`, `"pressed-long"`},
		{"literal text of an escaped string", `["a\nb <NAME>"]`, `["a\nb Door bell"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderJSON(tt.in, &vals)
			if err != nil || string(got) != tt.want {
				t.Errorf("renderJSON(%s) = %s, %v, want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRenderJSONHostile(t *testing.T) {
	for _, v := range hostileValues {
		tags := fixedTags()
		tags.Name = v
		vals := tags.values()
		out, err := renderJSON(`{"a": "<NAME>", "b": ["x<NAME>y", {"<NAME>": "<NAME>"}], "n": <COUNTER>}`, &vals)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			A string
			B []json.RawMessage
			N int
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", v, out, err)
		}
		want := jsonReadBack(v)
		var b1 string
		var b2 map[string]string
		json.Unmarshal(got.B[0], &b1)
		json.Unmarshal(got.B[1], &b2)
		if got.A != want || b1 != "x"+want+"y" || len(b2) != 1 || b2["<NAME>"] != want || got.N != 42 {
			t.Errorf("%q: decoded %+v %q %q", v, got, b1, b2)
		}
	}
}

func TestCheckJSONTemplate(t *testing.T) {
	ok := []string{`{}`, `[<COUNTER>, <UNIXTIME>]`, `<COUNTER>`, `{"a": "<NAME> <FOO>"}`, "{\"n\":\n<COUNTER_LONG>\n}"}
	for _, doc := range ok {
		if err := checkJSONTemplate(doc); err != nil {
			t.Errorf("checkJSONTemplate(%s) = %v, want nil", doc, err)
		}
	}
	bad := []struct{ doc, want string }{
		{`{"n": <NAME>}`, `line 1, column 7: <NAME> is outside a string: write "<NAME>" in quotes`},
		{`{"n": <FOO>}`, `line 1, column 7: <FOO> is outside a string and is not a tag`},
		{"{\n \"n\": -<COUNTER>}", `line 2, column 8: <COUNTER> must be a whole value`},
		{`{"n": <COUNTER>1}`, `must be a whole value`},
		{`{<COUNTER>: 1}`, `must be a whole value`},
		{`[<COUNTER> <COUNTER>]`, `must be a whole value`},
		{"{\n  \"a\": 1,\n  oops\n}", `line 3`},
		{`{"a": "unterminated}`, `invalid JSON`},
		{``, `invalid JSON`},
	}
	for _, tt := range bad {
		if err := checkJSONTemplate(tt.doc); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkJSONTemplate(%q) = %v, want an error with %q", tt.doc, err, tt.want)
		}
	}
}

// jsonReadBack is what a JSON decoder reads back for s: each byte that is not
// UTF-8 becomes U+FFFD.
func jsonReadBack(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// substituted returns v, a decoded JSON template, as the rendered body
// should decode: tags expanded in string values, keys kept.
func substituted(v any, vals tagValues) any {
	switch v := v.(type) {
	case string:
		return expand(v, vals, jsonReadBack)
	case []any:
		for i := range v {
			v[i] = substituted(v[i], vals)
		}
	case map[string]any:
		for k := range v {
			v[k] = substituted(v[k], vals)
		}
	}
	return v
}

func decodeJSONNumbers(t *testing.T, doc []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", doc, err)
	}
	return v
}

func FuzzJSONBody(f *testing.F) {
	f.Add(`{"a":"<NAME>","b":[1,"<EID> <<NAME>"],"<NAME>":true}`, `"},{"x":1`)
	f.Add(`["\u003cNAME>","\\<NAME>","caf\u00e9 <NAME>"]`, "\x00\n\u2028\xff")
	f.Add(`{"n": <COUNTER>, "t": [<UNIXTIME>]}`, "<COUNTER>")
	f.Add(`"<NAME>"`, `\`)
	f.Add(` { "a" : "x<FOO>y" } `, "")
	f.Fuzz(func(t *testing.T, doc, value string) {
		tags := fixedTags()
		tags.Name, tags.EID, tags.Hostname = value, value, value
		vals := tags.values()
		out, err := renderJSON(doc, &vals)
		if checkErr := checkJSONTemplate(doc); (err == nil) != (checkErr == nil) {
			t.Fatalf("renderJSON(%q) error %v, but validation says %v", doc, err, checkErr)
		}
		if err != nil {
			if json.Valid([]byte(doc)) {
				t.Fatalf("renderJSON refused valid JSON %q: %v", doc, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("renderJSON(%q) with %q = %q, not JSON", doc, value, out)
		}
		if !json.Valid([]byte(doc)) {
			return // a template with bare numeric tags
		}
		want := substituted(decodeJSONNumbers(t, []byte(doc)), vals)
		if got := decodeJSONNumbers(t, out); !reflect.DeepEqual(got, want) {
			t.Fatalf("renderJSON(%q) with %q decodes to %#v, want %#v", doc, value, got, want)
		}
		if !hasTags(doc) && !strings.Contains(doc, `\u003`) && string(out) != doc {
			t.Fatalf("a template without tags changed: %q became %q", doc, out)
		}
	})
}

func BenchmarkJSONBody(b *testing.B) {
	vals := fixedTags().values()
	const doc = `{
  "button": "<NAME>",
  "device": "<DEVICEID>",
  "event": {"id": "<EID>", "type": "<ETYPE>", "at": "<DATETIME>"},
  "count": <COUNTER>,
  "source": "buttonhook"
}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := renderJSON(doc, &vals); err != nil {
			b.Fatal(err)
		}
	}
}
