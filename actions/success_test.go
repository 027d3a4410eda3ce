package actions

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPointer runs the examples of RFC 6901, section 5, and some misses.
func TestPointer(t *testing.T) {
	doc, err := decodeJSON([]byte(`{
		"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
		"i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8, "~1": 9, "nested": {"list": [{"ok": true}]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{
		"":                   "", // the whole document
		"/foo":               `["bar","baz"]`,
		"/foo/0":             `"bar"`,
		"/foo/1":             `"baz"`,
		"/":                  "0",
		"/a~1b":              "1",
		"/c%d":               "2",
		"/e^f":               "3",
		"/g|h":               "4",
		"/i\\j":              "5",
		"/k\"l":              "6",
		"/ ":                 "7",
		"/m~0n":              "8",
		"/~01":               "9", // ~01 is ~1, not /
		"/nested/list/0/ok":  "true",
		"/nested/list/0":     `{"ok":true}`,
		"/nested/list":       `[{"ok":true}]`,
		"/nested/list/0/ok/": "",
	}
	for ptr, want := range found {
		p, err := parsePointer(ptr)
		if err != nil {
			t.Errorf("parsePointer(%q): %v", ptr, err)
			continue
		}
		v, ok := p.find(doc)
		if ptr == "/nested/list/0/ok/" {
			if ok {
				t.Errorf("%q found %v in a boolean", ptr, v)
			}
			continue
		}
		if !ok {
			t.Errorf("%q not found", ptr)
			continue
		}
		if ptr != "" && jsonText(v) != want {
			t.Errorf("%q = %s, want %s", ptr, jsonText(v), want)
		}
	}
	for _, ptr := range []string{"/foo/2", "/foo/-", "/foo/01", "/foo/-1", "/foo/+1", "/foo/ 1", "/foo/", "/nope", "/foo/0/x", "/a/b", "/m~1n"} {
		p, err := parsePointer(ptr)
		if err != nil {
			t.Errorf("parsePointer(%q): %v", ptr, err)
			continue
		}
		if v, ok := p.find(doc); ok {
			t.Errorf("%q found %v, want nothing", ptr, v)
		}
	}
	for _, ptr := range []string{"foo", "/a~2", "/a~", "#/foo"} {
		if _, err := parsePointer(ptr); err == nil {
			t.Errorf("parsePointer(%q) accepted it", ptr)
		}
	}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		rule   SuccessRule
		code   int
		body   string
		reason string // "" when OK
	}{
		{"2xx", SuccessRule{}, 204, "", ""},
		{"5xx", SuccessRule{}, 500, "", "HTTP 500 Internal Server Error"},
		{"4xx", SuccessRule{}, 404, "", "HTTP 404 Not Found"},
		{"3xx", SuccessRule{}, 302, "", "HTTP 302 Found: redirects are not followed"},
		{"below the range", SuccessRule{}, 199, "", "HTTP 199 "},
		{"own range", SuccessRule{StatusMin: 200, StatusMax: 202}, 202, "", ""},
		{"own range missed", SuccessRule{StatusMin: 200, StatusMax: 202}, 204, "", "HTTP 204 No Content, want 200-202"},
		{"only a maximum", SuccessRule{StatusMax: 499}, 404, "", ""},
		{"a redirect as success", SuccessRule{StatusMin: 200, StatusMax: 399}, 302, "", ""},

		{"pointer equals quoted string", SuccessRule{JSONPointer: "/status", Equals: `"ok"`}, 200, `{"status":"ok"}`, ""},
		{"pointer equals bare text", SuccessRule{JSONPointer: "/status", Equals: `ok`}, 200, `{"status":"ok"}`, ""},
		{"pointer differs", SuccessRule{JSONPointer: "/status", Equals: `"ok"`}, 200, `{"status":"error"}`, `HTTP 200, but /status is "error", want "ok"`},
		{"pointer differs, bare text", SuccessRule{JSONPointer: "/status", Equals: `ok`}, 200, `{"status":"error"}`, `HTTP 200, but /status is "error", want "ok"`},
		{"number by value", SuccessRule{JSONPointer: "/n", Equals: `1`}, 200, `{"n":1.0}`, ""},
		{"big number exact", SuccessRule{JSONPointer: "/n", Equals: `12345678901234567890`}, 200, `{"n":12345678901234567891}`, `HTTP 200, but /n is 12345678901234567891, want 12345678901234567890`},
		{"number is not a string", SuccessRule{JSONPointer: "/n", Equals: `"1"`}, 200, `{"n":1}`, `HTTP 200, but /n is 1, want "1"`},
		{"bare number text matches the number", SuccessRule{JSONPointer: "/n", Equals: `1`}, 200, `{"n":"1"}`, `HTTP 200, but /n is "1", want 1`},
		{"boolean", SuccessRule{JSONPointer: "/data/0/ok", Equals: `true`}, 200, `{"data":[{"ok":true}]}`, ""},
		{"null", SuccessRule{JSONPointer: "/e", Equals: `null`}, 200, `{"e":null}`, ""},
		{"object, any key order", SuccessRule{JSONPointer: "/o", Equals: `{"b":2,"a":[1,"x"]}`}, 200, `{"o":{"a":[1,"x"],"b":2}}`, ""},
		{"object differs", SuccessRule{JSONPointer: "/o", Equals: `{"a":1}`}, 200, `{"o":{"a":1,"b":2}}`, `HTTP 200, but /o is {"a":1,"b":2}, want {"a":1}`},
		{"empty string", SuccessRule{JSONPointer: "/s", Equals: `""`}, 200, `{"s":""}`, ""},
		{"missing", SuccessRule{JSONPointer: "/status", Equals: `"ok"`}, 200, `{"state":"ok"}`, `HTTP 200, but the body has no /status, want "ok"`},
		{"not JSON", SuccessRule{JSONPointer: "/status", Equals: `"ok"`}, 200, `<html>ok</html>`, `HTTP 200, but the body is not JSON, want /status = "ok"`},
		{"two JSON values", SuccessRule{JSONPointer: "/a", Equals: `1`}, 200, `{"a":1} {"a":2}`, `HTTP 200, but the body is not JSON, want /a = 1`},
		{"status checked first", SuccessRule{JSONPointer: "/status", Equals: `"ok"`}, 500, `{"status":"ok"}`, "HTTP 500 Internal Server Error"},

		{"regexp", SuccessRule{Regexp: `(?i)^\s*ok`}, 200, " OK!", ""},
		{"regexp missed", SuccessRule{Regexp: `^ok$`}, 200, "not ok", `HTTP 200, but the body does not match "^ok$"`},
		{"pointer and regexp, both hold", SuccessRule{JSONPointer: "/s", Equals: "ok", Regexp: `"s"`}, 200, `{"s":"ok"}`, ""},
		{"pointer and regexp, one fails", SuccessRule{JSONPointer: "/s", Equals: "ok", Regexp: `done`}, 200, `{"s":"ok"}`, `HTTP 200, but the body does not match "done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := tt.rule.evaluate(tt.code, []byte(tt.body))
			if ok != (tt.reason == "") {
				t.Fatalf("ok = %v (%q), want %v", ok, reason, tt.reason == "")
			}
			if tt.reason != "" && (len(reason) < len(tt.reason) || reason[:len(tt.reason)] != tt.reason) {
				t.Errorf("reason = %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestSuccessValidate(t *testing.T) {
	tests := []struct {
		rule   SuccessRule
		fields []string
	}{
		{SuccessRule{}, nil},
		{SuccessRule{StatusMin: 200, StatusMax: 204}, nil},
		{SuccessRule{StatusMin: 100, StatusMax: 599}, nil},
		{SuccessRule{StatusMin: 99}, []string{"success.status_min"}},
		{SuccessRule{StatusMax: 600}, []string{"success.status_max"}},
		{SuccessRule{StatusMin: 300}, []string{"success.status_max"}}, // 300-299
		{SuccessRule{StatusMin: 204, StatusMax: 200}, []string{"success.status_max"}},
		{SuccessRule{JSONPointer: "/a", Equals: "x"}, nil},
		{SuccessRule{JSONPointer: "a", Equals: "x"}, []string{"success.json_pointer"}},
		{SuccessRule{JSONPointer: "/a~2", Equals: "x"}, []string{"success.json_pointer"}},
		{SuccessRule{JSONPointer: "/a"}, []string{"success.equals"}},
		{SuccessRule{Equals: "x"}, []string{"success.json_pointer"}},
		{SuccessRule{Regexp: `^ok`}, nil},
		{SuccessRule{Regexp: `(`}, []string{"success.regexp"}},
		{SuccessRule{Regexp: `(?<=x)`}, []string{"success.regexp"}}, // not RE2
	}
	for _, tt := range tests {
		var got []string
		var msgs []string
		tt.rule.validate(func(field, format string, args ...any) {
			got = append(got, field)
			msgs = append(msgs, fmt.Sprintf(format, args...))
		})
		if fmt.Sprint(got) != fmt.Sprint(tt.fields) {
			t.Errorf("%+v: problems in %v (%q), want %v", tt.rule, got, msgs, tt.fields)
		}
		for _, m := range msgs {
			if strings.Contains(m, "<nil>") || strings.Contains(m, "%!") {
				t.Errorf("%+v: message %q", tt.rule, m)
			}
		}
	}
}

// TestSuccessRuleOverHTTP: the rule decides a real attempt.
func TestSuccessRuleOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"error","detail":"quota"}`)
	}))
	t.Cleanup(srv.Close)
	tg := Target{Name: "s", Method: "GET", URL: srv.URL, Success: SuccessRule{JSONPointer: "/status", Equals: "ok"}}
	r := NewSender(nil).Send(context.Background(), tg, Tags{})
	if want := `HTTP 200, but /status is "error", want "ok"`; r.OK || r.Reason() != want {
		t.Errorf("OK %v, reason %q; want %q", r.OK, r.Reason(), want)
	}
}
