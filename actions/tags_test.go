package actions

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixedTags are tag values with a fixed time, for exact expectations.
func fixedTags() Tags {
	return Tags{
		Time: time.Date(2025, 3, 9, 14, 5, 7, 0, time.FixedZone("CET", 3600)),
		EID:  "18eaa1", EType: ETypePressedLong, Name: "Door bell", TargetID: "tg-7",
		DeviceID: "serial:ABC", Target: "Lights", Hostname: "pi4",
		CallbackURL: "http://127.0.0.1:8080/callback/abc", Counter: 42, CounterPress: 30,
		CounterLong: 10, CounterDouble: 2,
	}
}

func TestExpand(t *testing.T) {
	vals := fixedTags().values()
	tests := []struct{ in, want string }{
		{"", ""},
		{"no tags", "no tags"},
		{"<DATE> <TIME>", "2025-03-09 14:05:07"},
		{"<DATETIME>", "2025-03-09T14:05:07+01:00"},
		{"<UNIXTIME>", "1741525507"},
		{"<NAME>/<ID>/<DEVICEID>/<EID>/<ETYPE>", "Door bell/tg-7/serial:ABC/18eaa1/pressed-long"},
		{"<COUNTER>,<COUNTER_PRESS>,<COUNTER_LONG>,<COUNTER_DOUBLE>", "42,30,10,2"},
		{"<TARGET>@<HOSTNAME> <CALLBACKURL>", "Lights@pi4 http://127.0.0.1:8080/callback/abc"},
		{"<<NAME>", "<NAME>"},
		{"<<<NAME>", "<Door bell"},
		{"a << b", "a < b"},
		{"<FOO> <name> <b>bold</b>", "<FOO> <name> <b>bold</b>"},
		{"<abc <NAME>", "<abc Door bell"},
		{"<NAME", "<NAME"},
		{"<", "<"},
		{"<<", "<"},
		{"<>", "<>"},
		{"<NAME><NAME>", "Door bellDoor bell"},
		{"x<EID>y", "x18eaa1y"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, vals, identity); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandNeverReadsValuesForTags(t *testing.T) {
	tags := fixedTags()
	tags.Name = "<EID> <<NAME> <NAME>"
	got := expand("[<NAME>]", tags.values(), identity)
	if want := "[<EID> <<NAME> <NAME>]"; got != want {
		t.Errorf("got %q, want %q: a value was read for tags", got, want)
	}
}

func TestExpandZeroTime(t *testing.T) {
	before := time.Now().Unix()
	got, err := strconv.ParseInt(expand("<UNIXTIME>", Tags{}.values(), identity), 10, 64)
	after := time.Now().Unix()
	if err != nil || got < before || got > after {
		t.Errorf("UNIXTIME of a zero Time = %d (%v), want now (%d..%d)", got, err, before, after)
	}
}

func TestTagNames(t *testing.T) {
	names := TagNames()
	if len(names) != 16 {
		t.Errorf("TagNames() has %d names, want 16: %v", len(names), names)
	}
	for _, n := range names {
		if !knownTag(n) {
			t.Errorf("%s is listed but not known", n)
		}
		if _, size := tagAt("<" + n + ">"); size != len(n)+2 {
			t.Errorf("<%s> is not read as a tag", n)
		}
	}
	names[0] = "CHANGED"
	if TagNames()[0] != "DATE" {
		t.Errorf("TagNames shares its array with callers")
	}
	for _, n := range []string{"UNIXTIME", "COUNTER", "COUNTER_PRESS", "COUNTER_LONG", "COUNTER_DOUBLE"} {
		if !numericTag(n) {
			t.Errorf("%s is not numeric", n)
		}
	}
	if numericTag("NAME") || numericTag("EID") {
		t.Errorf("a text tag is numeric")
	}
}

func TestWarnings(t *testing.T) {
	tg := Target{
		Name: "w", Method: "POST", URL: "https://h.example/<FOO>?x=<NAME>",
		Query:   []KV{{"<BAR>", "<name>"}},
		Headers: []KV{{"X-A", "<<FOO> is fine"}, {"X-B", "<Eid>"}},
		Body:    Body{Kind: BodyJSON, JSON: `{"<NAME>": "<BAZ>", "k": "<b>html</b>"}`},
	}
	want := []string{
		"url: <FOO> is not a tag Buttonhook knows and is sent as written (write <<FOO> for the text itself)",
		"query[0].key: <BAR> is not a tag Buttonhook knows and is sent as written (write <<BAR> for the text itself)",
		"query[0].value: <name> is sent as written: tags are upper case, did you mean <NAME>?",
		"headers[1].value: <Eid> is sent as written: tags are upper case, did you mean <EID>?",
		"body.json: <BAZ> is not a tag Buttonhook knows and is sent as written (write <<BAZ> for the text itself)",
		`body.json: the key "<NAME>" is sent as written: tags are substituted only in string values`,
	}
	if got := tg.Warnings(); !slices.Equal(got, want) {
		t.Errorf("Warnings() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := UnknownTags(tg), []string{"<FOO>", "<BAR>", "<name>", "<Eid>", "<BAZ>"}; !slices.Equal(got, want) {
		t.Errorf("UnknownTags() = %q, want %q", got, want)
	}
	clean := Target{Name: "c", Method: "GET", URL: "https://h.example/<NAME>?t=<UNIXTIME>"}
	if w := clean.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() of a clean target = %q", w)
	}
	preset := Target{Name: "p", URL: "https://hooks.slack.com/x", Preset: Preset{Kind: PresetSlack, Message: "<NAME> <OOPS>"},
		Body: Body{Kind: BodyJSON, JSON: `{"<IGNORED>":1}`}}
	if got, want := preset.Warnings(), []string{"preset.message: <OOPS> is not a tag Buttonhook knows and is sent as written (write <<OOPS> for the text itself)"}; !slices.Equal(got, want) {
		t.Errorf("preset Warnings() = %q, want %q", got, want)
	}
}

// referenceExpand is expand written another way, as the fuzz oracle: a
// regular expression finds "<<" and tags left to right.
var referenceRE = regexp.MustCompile(`<<|<[A-Z][A-Z0-9_]*>`)

func referenceExpand(s string, vals tagValues) string {
	return referenceRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "<<" {
			return "<"
		}
		if v, ok := vals.lookup(m[1 : len(m)-1]); ok {
			return v
		}
		return m
	})
}

func FuzzExpand(f *testing.F) {
	f.Add("<NAME> pressed <<NAME> at <TIME>", "Door bell")
	f.Add("<<<<NAME>>", "<EID>")
	f.Add("a<b<NAME>c>d", "\r\nX-Injected: 1")
	f.Add("<COUNTER><UNKNOWN><name>", "\x00\x7f\u2028")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		tags := fixedTags()
		tags.Name, tags.EID, tags.DeviceID = value, value, value
		vals := tags.values()
		got := expand(tmpl, vals, identity)
		if want := referenceExpand(tmpl, vals); got != want {
			t.Fatalf("expand(%q) = %q, the reference gives %q", tmpl, got, want)
		}
		h := expand(tmpl, vals, headerEscape)
		if strings.ContainsAny(headerEscape(value), "\r\n\x00\x7f") {
			t.Fatalf("headerEscape(%q) keeps a control character", value)
		}
		if !strings.ContainsAny(tmpl, "\r\n") && strings.ContainsAny(h, "\r\n") {
			t.Fatalf("a header value gained a line break: %q", h)
		}
		d := dispositionEscape(value)
		if strings.ContainsAny(d, "\r\n") || strings.Contains(strings.ReplaceAll(d, `\\`, ""), `"`) && !strings.Contains(d, `\"`) {
			t.Fatalf("dispositionEscape(%q) = %q can end its parameter", value, d)
		}
		if p := fileNameEscape(value); strings.ContainsAny(p, "/\\\x00") || p == "." || p == ".." {
			t.Fatalf("fileNameEscape(%q) = %q can leave its directory", value, p)
		}
	})
}

func BenchmarkExpand(b *testing.B) {
	vals := fixedTags().values()
	const tmpl = "Button <NAME> (<DEVICEID>) was <ETYPE> at <DATETIME>, press <COUNTER>"
	b.ReportAllocs()
	for b.Loop() {
		expand(tmpl, vals, headerEscape)
	}
}

func BenchmarkTagValues(b *testing.B) {
	tags := fixedTags()
	b.ReportAllocs()
	for b.Loop() {
		tags.values()
	}
}
