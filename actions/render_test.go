package actions

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// hostileValues are tag values that try to change a request's structure.
var hostileValues = []string{
	`a"b'c`, "line\nbreak\r\nX-Injected: 1", "&x=1", "=", "#frag", "/../admin", "?q=1",
	"ü 日本 🙂", "<EID>", "<<NAME>", "%2F%00", "..", ".", " spaces ", "+plus+", `\back\`,
	"@evil.example", ":8080", "a;b,c", "\x00\x01\x1f\x7f", "\xff\xfe", "\u2028\u2029",
	`"},{"injected":true,"x":"`, "--boundary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n",
	"", "file:/etc/passwd",
}

// seenRequest is what a capture server saw of one request.
type seenRequest struct {
	method, host, escapedPath, rawQuery, contentType string
	header                                           http.Header
	body                                             []byte
	contentLength                                    int64
	form                                             *multipartForm
}

// capture is a real HTTP server on 127.0.0.1 that reports each request.
func capture(t *testing.T) (*httptest.Server, <-chan seenRequest) {
	t.Helper()
	ch := make(chan seenRequest, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seenRequest{method: r.Method, host: r.Host, escapedPath: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery,
			contentType: r.Header.Get("Content-Type"), header: r.Header.Clone(), contentLength: r.ContentLength}
		if strings.HasPrefix(s.contentType, "multipart/form-data") {
			f, err := readMultipart(r)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				ch <- s
				return
			}
			s.form = f
		} else {
			s.body, _ = io.ReadAll(r.Body)
		}
		ch <- s
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// send sends tg once with tags and returns what the server saw.
func send(t *testing.T, tg Target, tags Tags, ch <-chan seenRequest) seenRequest {
	t.Helper()
	s := NewSender(nil)
	t.Cleanup(s.Close)
	r := s.Send(context.Background(), tg, tags)
	if !r.OK {
		t.Fatalf("send: %s (code %d)", r.Reason(), r.Code)
	}
	select {
	case got := <-ch:
		return got
	default:
		t.Fatal("the server saw no request")
		return seenRequest{}
	}
}

func TestRenderURL(t *testing.T) {
	vals := fixedTags().values()
	tests := []struct {
		name, url string
		query     []KV
		want      string
	}{
		{"no tags", "https://h.example/a?b=c#d", nil, "https://h.example/a?b=c#d"},
		{"path is path-escaped", "https://h.example/b/<NAME>/<DEVICEID>", nil, "https://h.example/b/Door%20bell/serial:ABC"},
		{"query is query-escaped", "https://h.example/?n=<NAME>&d=<DEVICEID>", nil, "https://h.example/?n=Door+bell&d=serial%3AABC"},
		{"key in the query", "https://h.example/?<ETYPE>=1", nil, "https://h.example/?pressed-long=1"},
		{"fragment", "https://h.example/#<NAME>", nil, "https://h.example/#Door%20bell"},
		{"host", "https://<HOSTNAME>.example:8443/", nil, "https://pi4.example:8443/"},
		{"user info", "https://<NAME>:<DEVICEID>@h.example/", nil, "https://Door%20bell:serial%3AABC@h.example/"},
		{"escaped tag", "https://h.example/<<NAME>?<<NAME>", nil, "https://h.example/%3CNAME%3E?%3CNAME%3E"},
		{"unknown tag", "https://h.example/<FOO>", nil, "https://h.example/%3CFOO%3E"},
		{"template text escaped", "https://h.example/a b/<EID>?q=a b\"", nil, "https://h.example/a%20b/18eaa1?q=a%20b%22"},
		{"template escapes kept", "https://h.example/a%2Fb/<EID>?q=%26", nil, "https://h.example/a%2Fb/18eaa1?q=%26"},
		{"query rows", "https://h.example/p", []KV{{"a", "<NAME>"}, {"<EID>", "x&y"}}, "https://h.example/p?a=Door+bell&18eaa1=x%26y"},
		{"query rows after a query", "https://h.example/p?x=1", []KV{{"a", "b"}}, "https://h.example/p?x=1&a=b"},
		{"query rows after an empty query", "https://h.example/p?", []KV{{"a", "b"}}, "https://h.example/p?a=b"},
		{"query rows before a fragment", "https://h.example/p?x=<EID>#f", []KV{{"a", "b"}}, "https://h.example/p?x=18eaa1&a=b#f"},
		{"no path", "https://h.example?x=<EID>", nil, "https://h.example?x=18eaa1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderURL(Target{URL: tt.url, Query: tt.query}, vals)
			if err != nil || got != tt.want {
				t.Errorf("renderURL(%q) = %q, %v, want %q", tt.url, got, err, tt.want)
			}
		})
	}
}

func TestRenderURLRefuses(t *testing.T) {
	tests := []struct{ url, value string }{
		{"https://<NAME>.example/", "evil.example/x"},
		{"https://<NAME>.example/", "a@b"},
		{"https://<NAME>.example/", "a:1"},
		{"https://<NAME>/", "a b"},
		{"https://<NAME>/", ""},
		{"https://<NAME>/", "h#x"},
		{"<NAME>://h.example/", "https"},
		{"https:///<NAME>", "x"},
		{"h.example/<NAME>", "x"},
	}
	for _, tt := range tests {
		tags := fixedTags()
		tags.Name = tt.value
		if got, err := renderURL(Target{URL: tt.url}, tags.values()); err == nil {
			t.Errorf("renderURL(%q) with NAME=%q = %q, want an error", tt.url, tt.value, got)
		}
	}
	tags := fixedTags()
	tags.Name = "sub-1.building_2"
	if got, err := renderURL(Target{URL: "https://<NAME>.example/"}, tags.values()); err != nil || got != "https://sub-1.building_2.example/" {
		t.Errorf("a host name in the host: %q, %v", got, err)
	}
}

func TestRenderURLDotSegments(t *testing.T) {
	for _, tt := range []struct{ tmpl, value, want string }{
		{"https://h/a/<NAME>/b", "..", "https://h/a/%2E%2E/b"},
		{"https://h/a/<NAME>/b", ".", "https://h/a/%2E/b"},
		{"https://h/a/.<NAME>/b", ".", "https://h/a/%2E%2E/b"},
		{"https://h/a/<NAME>.json", ".", "https://h/a/..json"},
		{"https://h/a/../<NAME>", "x", "https://h/a/../x"},
	} {
		tags := fixedTags()
		tags.Name = tt.value
		if got, err := renderURL(Target{URL: tt.tmpl}, tags.values()); err != nil || got != tt.want {
			t.Errorf("renderURL(%q) with NAME=%q = %q, %v, want %q", tt.tmpl, tt.value, got, err, tt.want)
		}
	}
}

// TestHostileTagsInURL sends hostile values in every part of a URL to a
// real server and checks that it sees each exactly where it was written.
func TestHostileTagsInURL(t *testing.T) {
	srv, ch := capture(t)
	for _, v := range hostileValues {
		tags := fixedTags()
		tags.Name = v
		tg := Target{Name: "u", Method: "GET", URL: srv.URL + "/hook/<NAME>/end <<X>?who=<NAME>&fixed=1#<NAME>",
			Query: []KV{{"row", "<NAME>"}, {"k<NAME>", "key"}}}
		got := send(t, tg, tags, ch)
		if got.host != strings.TrimPrefix(srv.URL, "http://") {
			t.Errorf("%q: host = %q", v, got.host)
		}
		segs := strings.Split(got.escapedPath, "/")
		if len(segs) != 4 || segs[1] != "hook" || segs[3] != "end%20%3CX%3E" {
			t.Errorf("%q: path = %q, want /hook/VALUE/end%%20%%3CX%%3E", v, got.escapedPath)
		} else if seg, err := url.PathUnescape(segs[2]); err != nil || seg != v {
			t.Errorf("%q: path segment = %q (%v)", v, seg, err)
		}
		q, err := url.ParseQuery(got.rawQuery)
		want := url.Values{"who": {v}, "fixed": {"1"}, "row": {v}, "k" + v: {"key"}}
		if err != nil || !reflect.DeepEqual(q, want) {
			t.Errorf("%q: query %q = %q (%v), want %q", v, got.rawQuery, q, err, want)
		}
	}
}

// TestHostileTagsInHeaders checks that a header value holding CR, LF or
// other control characters stays one header.
func TestHostileTagsInHeaders(t *testing.T) {
	srv, ch := capture(t)
	c := srv.Client()
	for _, v := range hostileValues {
		tags := fixedTags()
		tags.Name = v
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-Button", expand("<NAME>!", tags.values(), headerEscape))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		resp.Body.Close()
		got := <-ch
		if h := got.header.Values("X-Button"); len(h) != 1 || strings.ContainsAny(h[0], "\r\n\x00") || got.header.Get("X-Injected") != "" {
			t.Errorf("%q: X-Button = %q, X-Injected = %q", v, h, got.header.Get("X-Injected"))
		}
	}
	// Through Build too (its header escape drops line breaks at least).
	tags := fixedTags()
	tags.Name = "a\r\nX-Injected: 1"
	got := send(t, Target{Name: "h", Method: "GET", URL: srv.URL, Headers: []KV{{"X-Button", "<NAME>"}}}, tags, ch)
	if got.header.Get("X-Injected") != "" || strings.ContainsAny(got.header.Get("X-Button"), "\r\n") {
		t.Errorf("header injected: %q", got.header)
	}
}

func TestHeaderEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "a\tb": "a\tb", "a\r\nb": "a  b", "\x00\x1f\x7f": "   ", "ü": "ü",
	} {
		if got := headerEscape(in); got != want {
			t.Errorf("headerEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRenderURL(f *testing.F) {
	f.Add("https://h.example/a/<NAME>?x=<NAME>#<NAME>", "a/b?c#d&e=f")
	f.Add("http://u:<NAME>@h.example:80/<EID>/<<NAME>", "@evil:1/")
	f.Add("https://<HOSTNAME>.example/<NAME>", "..")
	f.Add("https://h.example/?<NAME>=<NAME>&a", "=&=")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		tags := sampleTags()
		tags.Name, tags.EID = value, value
		hostile := tags.values()
		authority, _, _ := strings.Cut(tmpl, "://")
		if _, rest, ok := strings.Cut(tmpl, "://"); ok {
			authority, _, _ = strings.Cut(strings.SplitN(strings.SplitN(rest, "?", 2)[0], "#", 2)[0], "/")
		}
		tagInHost := strings.Contains(authority, "<")

		// A fixed template: each value lands decoded exactly where written.
		u, err := renderURL(Target{URL: "https://h.example/a/<NAME>/b?x=<NAME>&y=1#<NAME>", Query: []KV{{"<NAME>", "<NAME>"}}}, hostile)
		if err != nil {
			t.Fatalf("fixed template: %v", err)
		}
		p, err := url.Parse(u)
		if err != nil {
			t.Fatalf("%q does not parse: %v", u, err)
		}
		segs := strings.Split(p.EscapedPath(), "/")
		if p.Host != "h.example" || len(segs) != 4 || segs[1] != "a" || segs[3] != "b" {
			t.Fatalf("%q: host or path changed", u)
		}
		if seg, _ := url.PathUnescape(segs[2]); seg != value {
			t.Fatalf("%q: segment %q, want %q", u, seg, value)
		}
		q, err := url.ParseQuery(p.RawQuery)
		want := url.Values{"x": {value}, "y": {"1"}}
		want[value] = append(want[value], value)
		if err != nil || !reflect.DeepEqual(q, want) {
			t.Fatalf("%q: query %q (%v), want %q", u, q, err, want)
		}
		if p.Fragment != value {
			t.Fatalf("%q: fragment %q, want %q", u, p.Fragment, value)
		}

		// Any template: the value changes no part but its own.
		sample, err := renderURL(Target{URL: tmpl}, sampleTags().values())
		if err != nil {
			return
		}
		s, err := url.Parse(sample)
		if err != nil {
			t.Fatalf("renderURL returned %q, which does not parse: %v", sample, err)
		}
		got, err := renderURL(Target{URL: tmpl}, hostile)
		if err != nil {
			if !strings.Contains(tmpl, "%") && !tagInHost {
				t.Fatalf("renderURL(%q) with %q: %v", tmpl, value, err)
			}
			return
		}
		g, err := url.Parse(got)
		if err != nil {
			t.Fatalf("renderURL returned %q, which does not parse: %v", got, err)
		}
		if g.Scheme != s.Scheme || (g.User == nil) != (s.User == nil) || strings.Count(got, "#") != strings.Count(sample, "#") {
			t.Fatalf("%q became %q", sample, got)
		}
		if !tagInHost && g.Host != s.Host {
			t.Fatalf("host %q became %q", s.Host, g.Host)
		}
		if strings.Count(g.EscapedPath(), "/") != strings.Count(s.EscapedPath(), "/") {
			t.Fatalf("path %q became %q", s.EscapedPath(), g.EscapedPath())
		}
		for _, sep := range []string{"&", "=", ";"} {
			if strings.Count(g.RawQuery, sep) != strings.Count(s.RawQuery, sep) {
				t.Fatalf("query %q became %q", s.RawQuery, g.RawQuery)
			}
		}
	})
}

func BenchmarkRenderURL(b *testing.B) {
	vals := fixedTags().values()
	tg := Target{URL: "https://api.example.com/buttons/<DEVICEID>/press?name=<NAME>&at=<UNIXTIME>", Query: []KV{{"eid", "<EID>"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := renderURL(tg, vals); err != nil {
			b.Fatal(err)
		}
	}
}
