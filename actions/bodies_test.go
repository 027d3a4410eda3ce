package actions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// multipartForm is a multipart body as a server reads it.
type multipartForm struct{ parts []formPartSeen }

type formPartSeen struct {
	name, filename, contentType string
	data                        []byte
}

func readMultipart(r *http.Request) (*multipartForm, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	f := &multipartForm{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		f.parts = append(f.parts, formPartSeen{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), data})
	}
}

func TestBodyValidate(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   Body
		field  string // "" for valid
		msg    string
	}{
		{"none", "GET", Body{}, "", ""},
		{"json", "POST", Body{Kind: BodyJSON, JSON: `{"a":"<NAME>","n":<COUNTER>}`}, "", ""},
		{"empty json", "POST", Body{Kind: BodyJSON, JSON: " "}, "body.json", "is required"},
		{"bad json", "POST", Body{Kind: BodyJSON, JSON: "{\n \"a\": }"}, "body.json", "line 2"},
		{"text tag outside a string", "POST", Body{Kind: BodyJSON, JSON: `{"a": <NAME>}`}, "body.json", `write "<NAME>" in quotes`},
		{"form", "PUT", Body{Kind: BodyForm, Form: []KV{{"a", "<NAME>"}}}, "", ""},
		{"form key", "POST", Body{Kind: BodyForm, Form: []KV{{"a", "1"}, {"b", "2"}, {"", "3"}}}, "body.form[2].key", "is required"},
		{"multipart", "POST", Body{Kind: BodyMultipart, Form: []KV{{"a", "b"}, {"f", "file:/tmp/<EID>.jpg"}}}, "", ""},
		{"multipart key", "POST", Body{Kind: BodyMultipart, Form: []KV{{"", "b"}}}, "body.form[0].key", "is required"},
		{"multipart no path", "POST", Body{Kind: BodyMultipart, Form: []KV{{"a", "b"}, {"f", "file:"}}}, "body.form[1].value", "needs a path"},
		{"multipart relative path", "POST", Body{Kind: BodyMultipart, Form: []KV{{"f", "file:snap.jpg"}}}, "body.form[0].value", "not absolute"},
		{"multipart tag as path", "POST", Body{Kind: BodyMultipart, Form: []KV{{"f", "file:<NAME>"}}}, "body.form[0].value", "not absolute"},
		{"raw", "POST", Body{Kind: BodyRaw, Text: "<a/>", ContentType: "application/xml"}, "", ""},
		{"raw without type", "POST", Body{Kind: BodyRaw, Text: "x"}, "body.content_type", "is required"},
		{"raw bad type", "POST", Body{Kind: BodyRaw, Text: "x", ContentType: "not a type"}, "body.content_type", "not a media type"},
		{"raw type with a line break", "POST", Body{Kind: BodyRaw, Text: "x", ContentType: "text/plain\r\nX-A: 1"}, "body.content_type", "not a media type"},
		{"raw json", "POST", Body{Kind: BodyRaw, Text: `{"a":`, ContentType: "application/vnd.api+json"}, "body.text", "not"},
		{"text", "PATCH", Body{Kind: BodyText, Text: "<NAME> pressed"}, "", ""},
		{"unknown kind", "POST", Body{Kind: "xml"}, "body.kind", "is not one of"},
		{"body on GET", "GET", Body{Kind: BodyText, Text: "x"}, "body.kind", "GET request has no body"},
		{"body on HEAD", "HEAD", Body{Kind: BodyJSON, JSON: "{}"}, "body.kind", "HEAD request has no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []FieldError
			tt.body.validate(tt.method, func(field, format string, args ...any) {
				errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
			})
			if tt.field == "" {
				if len(errs) > 0 {
					t.Errorf("validate = %v, want no error", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Field != tt.field || !strings.Contains(errs[0].Msg, tt.msg) {
				t.Errorf("validate = %v, want %s: ...%s...", errs, tt.field, tt.msg)
			}
		})
	}
}

func TestSendBodies(t *testing.T) {
	srv, ch := capture(t)
	for _, v := range hostileValues {
		tags := fixedTags()
		tags.Name = v
		post := func(b Body) seenRequest {
			t.Helper()
			return send(t, Target{Name: "b", Method: "POST", URL: srv.URL, Body: b}, tags, ch)
		}

		got := post(Body{Kind: BodyJSON, JSON: `{"button": "<NAME>", "n": <COUNTER>}`})
		var doc map[string]any
		if err := json.Unmarshal(got.body, &doc); err != nil || doc["button"] != jsonReadBack(v) || doc["n"] != 42.0 || len(doc) != 2 {
			t.Errorf("%q: json body %s (%v)", v, got.body, err)
		}
		if got.contentType != "application/json" {
			t.Errorf("json content type %q", got.contentType)
		}

		got = post(Body{Kind: BodyForm, Form: []KV{{"who", "<NAME>"}, {"k<NAME>", "1"}}})
		q, err := url.ParseQuery(string(got.body))
		if err != nil || len(q) != 2 && v != "" || q.Get("who") != v || q.Get("k"+v) != "1" && v != "" {
			t.Errorf("%q: form body %q = %q (%v)", v, got.body, q, err)
		}
		if got.contentType != "application/x-www-form-urlencoded" {
			t.Errorf("form content type %q", got.contentType)
		}

		got = post(Body{Kind: BodyText, Text: "[<NAME>]"})
		if string(got.body) != "["+v+"]" || got.contentType != "text/plain; charset=utf-8" {
			t.Errorf("%q: text body %q, %q", v, got.body, got.contentType)
		}

		got = post(Body{Kind: BodyRaw, Text: `<b a="<NAME>"><NAME></b>`, ContentType: "application/xml"})
		if !strings.HasPrefix(string(got.body), `<b a="`) || strings.Count(string(got.body), "<") != 2 || strings.Count(string(got.body), ">") != 2 || strings.Count(string(got.body), `"`) != 2 {
			t.Errorf("%q: xml body %q", v, got.body)
		}

		got = post(Body{Kind: BodyRaw, Text: `{"b":"<NAME>"}`, ContentType: "application/cloudevents+json"})
		doc = nil
		if err := json.Unmarshal(got.body, &doc); err != nil || doc["b"] != jsonReadBack(v) || got.contentType != "application/cloudevents+json" {
			t.Errorf("%q: raw json body %s (%v)", v, got.body, err)
		}

		got = post(Body{Kind: BodyRaw, Text: `a=<NAME>&b=2`, ContentType: "application/x-www-form-urlencoded"})
		if q, err := url.ParseQuery(string(got.body)); err != nil || len(q) != 2 || q.Get("a") != v {
			t.Errorf("%q: raw form body %q (%v)", v, got.body, err)
		}
	}
}

// dispositionText is what a multipart reader reads back for a name that
// went through dispositionEscape.
func dispositionText(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestMultipartUpload(t *testing.T) {
	dir := t.TempDir()
	photo := bytes.Repeat([]byte("\xff\xd8 jpeg \r\n--"), 5000)
	if err := os.WriteFile(filepath.Join(dir, "snap-18eaa1.jpg"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, `odd "name".txt`), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, ch := capture(t)
	for _, v := range hostileValues {
		if strings.ContainsRune(v, 0) || !utfOK(v) {
			continue // a multipart reader cannot give such names back
		}
		tags := fixedTags()
		tags.Name = v
		tg := Target{Name: "m", Method: "POST", URL: srv.URL, Body: Body{Kind: BodyMultipart, Form: []KV{
			{"button", "<NAME>"},
			{"photo", "file:" + dir + "/snap-<EID>.jpg"},
			{"n<NAME>", "x"},
			{"note", "file:" + dir + `/odd "name".txt`},
		}}}
		got := send(t, tg, tags, ch)
		if got.form == nil {
			t.Fatalf("%q: the server could not read the multipart body (content type %q)", v, got.contentType)
		}
		p := got.form.parts
		if len(p) != 4 {
			t.Fatalf("%q: %d parts, want 4: %+v", v, len(p), p)
		}
		if p[0].name != "button" || string(p[0].data) != v || p[0].filename != "" {
			t.Errorf("%q: part 0 = %q %q", v, p[0].name, p[0].data)
		}
		if p[1].name != "photo" || p[1].filename != "snap-18eaa1.jpg" || p[1].contentType != "image/jpeg" || !bytes.Equal(p[1].data, photo) {
			t.Errorf("%q: part 1 = %q %q %q, %d bytes", v, p[1].name, p[1].filename, p[1].contentType, len(p[1].data))
		}
		if want := "n" + dispositionText(v); p[2].name != want || string(p[2].data) != "x" {
			t.Errorf("%q: part 2 name %q, want %q", v, p[2].name, want)
		}
		if p[3].filename != `odd "name".txt` || !strings.HasPrefix(p[3].contentType, "text/plain") || string(p[3].data) != "hello" {
			t.Errorf("%q: part 3 = %q %q %q", v, p[3].filename, p[3].contentType, p[3].data)
		}
	}
}

func utfOK(s string) bool { return strings.ToValidUTF8(s, "") == s }

func TestMultipartMissingFile(t *testing.T) {
	srv, ch := capture(t)
	tg := Target{Name: "m", Method: "POST", URL: srv.URL, Body: Body{Kind: BodyMultipart, Form: []KV{
		{"a", "b"}, {"photo", "file:" + t.TempDir() + "/<EID>.jpg"}}}}
	r := NewSender(nil).Send(context.Background(), tg, fixedTags())
	if r.OK || r.Err == nil || !errors.Is(r.Err, fs.ErrNotExist) || !strings.Contains(r.Err.Error(), "body.form[1].value: cannot upload the file") ||
		!strings.Contains(r.Err.Error(), "18eaa1.jpg") {
		t.Errorf("err = %v, want a missing file error naming body.form[1] and the file", r.Err)
	}
	select {
	case <-ch:
		t.Errorf("a request was sent")
	default:
	}
	for _, path := range []string{t.TempDir(), "/dev/null", "relative.txt"} {
		tg.Body.Form[1].Value = "file:" + path
		if _, err := Build(context.Background(), tg, fixedTags()); err == nil || !strings.Contains(err.Error(), "body.form[1].value") {
			t.Errorf("upload %s: err = %v, want one naming body.form[1]", path, err)
		}
	}
}

func TestMultipartTagCannotLeaveDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "photos")
	os.Mkdir(dir, 0o700)
	os.WriteFile(filepath.Join(root, "secret"), []byte("SECRET"), 0o600)
	os.WriteFile(filepath.Join(dir, ".._secret"), []byte("photo"), 0o600)
	tags := fixedTags()
	tags.Name = "../secret"
	parts, err := expandParts([]KV{{"f", "file:" + dir + "/<NAME>"}}, tags.values())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".._secret"); parts[0].path != want {
		t.Errorf("path = %q, want %q", parts[0].path, want)
	}
	tags.Name = ".."
	if _, err := expandParts([]KV{{"f", "file:" + dir + "/<NAME>/secret"}}, tags.values()); err == nil || !strings.Contains(err.Error(), "__") {
		t.Errorf("a .. value: err = %v, want the missing file photos/__/secret", err)
	}
	tags.Name = "file:" + filepath.Join(root, "secret")
	parts, _ = expandParts([]KV{{"f", "<NAME>"}}, tags.values())
	if parts[0].path != "" || parts[0].value != tags.Name {
		t.Errorf("a value that expands to file: was read as a file: %+v", parts[0])
	}
}

// TestMultipartStreamsFiles checks that a big upload is not read into
// memory when the request is built, and that the body can be read twice.
func TestMultipartStreamsFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.bin")
	f, _ := os.Create(path)
	chunk := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, 1<<13)
	for range 256 { // 16 MiB
		f.Write(chunk)
	}
	f.Close()
	body, ct, err := Body{Kind: BodyMultipart, Form: []KV{{"a", "b"}, {"big", "file:" + path}}}.render(fixedTags().values())
	if err != nil {
		t.Fatal(err)
	}
	mb, ok := body.(*multipartBody)
	if !ok {
		t.Fatalf("body is a %T, want a *multipartBody", body)
	}
	held := 0
	for _, s := range mb.segs {
		held += len(s.data)
	}
	if held > 4<<10 {
		t.Errorf("the built body holds %d bytes, want only the framing", held)
	}
	sum := func(r io.Reader) ([32]byte, int64) {
		h := sha256.New()
		n, err := io.Copy(h, r)
		if err != nil {
			t.Fatal(err)
		}
		return [32]byte(h.Sum(nil)), n
	}
	first, n := sum(mb)
	if n != mb.Len() {
		t.Errorf("read %d bytes, Len() = %d", n, mb.Len())
	}
	again, _ := mb.reopen()
	second, _ := sum(again)
	if first != second {
		t.Errorf("a reopened body differs")
	}
	mb.Close()
	mb.Close()
	if !strings.HasPrefix(ct, "multipart/form-data; boundary=") {
		t.Errorf("content type %q", ct)
	}
}

// TestMultipartResent sends a file upload to a real server that answers
// 307 once: the client sends the body again from GetBody.
func TestMultipartResent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "note.txt")
	os.WriteFile(path, []byte("file content"), 0o600)
	var bodies [][]byte
	var lengths []int64
	srv, _ := capture(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies, lengths = append(bodies, b), append(lengths, r.ContentLength)
		if r.URL.Path == "/first" {
			http.Redirect(w, r, "/second", http.StatusTemporaryRedirect)
		}
	})
	body, ct, err := Body{Kind: BodyMultipart, Form: []KV{{"f", "file:" + path}}}.render(fixedTags().values())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/first", body)
	attachBody(req, body)
	req.Header.Set("Content-Type", ct)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(bodies) != 2 || !bytes.Equal(bodies[0], bodies[1]) || !bytes.Contains(bodies[0], []byte("file content")) {
		t.Fatalf("bodies = %q, want the same upload twice", bodies)
	}
	if lengths[0] != int64(len(bodies[0])) || lengths[1] != lengths[0] {
		t.Errorf("Content-Length %v, bodies of %d bytes", lengths, len(bodies[0]))
	}
}

func TestMultipartFileShrinks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.txt")
	os.WriteFile(path, bytes.Repeat([]byte("x"), 1000), 0o600)
	body, _, err := Body{Kind: BodyMultipart, Form: []KV{{"f", "file:" + path}}}.render(fixedTags().values())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := io.ReadAll(body); err == nil || !strings.Contains(err.Error(), "became shorter") {
		t.Errorf("err = %v, want the file to have become shorter", err)
	}
}

func TestMultipartBoundaryClash(t *testing.T) {
	parts := []formPart{{name: "a", value: "x--abc--y"}}
	if !clashes(parts, "abc") || clashes(parts, "abd") {
		t.Errorf("clashes does not find a boundary in a value")
	}
}
