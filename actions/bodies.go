package actions

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// BodyKind says what a target sends as its body.
type BodyKind string

// Body kinds.
const (
	BodyNone      BodyKind = ""          // no body
	BodyJSON      BodyKind = "json"      // application/json: Body.JSON, tags substituted inside strings only
	BodyForm      BodyKind = "form"      // application/x-www-form-urlencoded: Body.Form rows
	BodyMultipart BodyKind = "multipart" // multipart/form-data: Body.Form rows; a value "file:<path>" uploads a file
	BodyRaw       BodyKind = "raw"       // Body.Text with Body.ContentType (required)
	BodyText      BodyKind = "text"      // text/plain; charset=utf-8: Body.Text
)

// FilePrefix starts a multipart row's value that uploads a file:
// "file:/home/me/snapshot.jpg". The path may hold tags; a tag's value
// cannot leave the directory written (see fileNameEscape). Only the value
// as written counts: a tag whose value starts with "file:" is text.
const FilePrefix = "file:"

// Body is what a target sends after its headers.
//
// Tags are substituted in every kind: in JSON inside string values (see
// renderJSON), in form and multipart rows in keys and values, in text and
// raw bodies as they are, except that a raw body whose content type is JSON
// (application/json, *+json) is treated as a JSON body, one whose type is
// XML (application/xml, text/xml, *+xml) gets values XML-escaped, and one
// that is application/x-www-form-urlencoded gets values query-escaped.
type Body struct {
	Kind        BodyKind `json:"kind,omitempty"`
	JSON        string   `json:"json,omitempty"`
	Form        []KV     `json:"form,omitempty"` // form and multipart rows
	Text        string   `json:"text,omitempty"` // text and raw
	ContentType string   `json:"content_type,omitempty"`
}

// validate checks the body for a request with method.
func (b Body) validate(method string, add adder) {
	switch b.Kind {
	case BodyNone:
	case BodyJSON:
		if strings.TrimSpace(b.JSON) == "" {
			add("body.json", "is required: write a JSON document, like {\"button\": \"<NAME>\"}")
		} else if err := checkJSONTemplate(b.JSON); err != nil {
			add("body.json", "%v", err)
		}
	case BodyForm:
		validateRows("body.form", b.Form, add)
	case BodyMultipart:
		validateRows("body.form", b.Form, add)
		for i, kv := range b.Form {
			if path, ok := strings.CutPrefix(kv.Value, FilePrefix); ok {
				f := fmt.Sprintf("body.form[%d].value", i)
				switch {
				case path == "":
					add(f, "file: needs a path, like file:/home/me/snapshot.jpg")
				case !filepath.IsAbs(expandSample(path)):
					add(f, "the file's path %q is not absolute: write the whole path, like file:/home/me/snapshot.jpg", path)
				}
			}
		}
	case BodyRaw:
		switch mt, err := rawMediaType(b.ContentType); {
		case strings.TrimSpace(b.ContentType) == "":
			add("body.content_type", "is required for a raw body, like application/xml")
		case err != nil:
			add("body.content_type", "%q is not a media type, like application/xml", b.ContentType)
		case isJSONType(mt):
			if err := checkJSONTemplate(b.Text); err != nil {
				add("body.text", "the content type is JSON but the text is not: %v", err)
			}
		}
	case BodyText:
	default:
		add("body.kind", "%q is not one of json, form, multipart, raw, text or empty (no body)", b.Kind)
	}
	if b.Kind != BodyNone && (method == http.MethodGet || method == http.MethodHead) {
		add("body.kind", "a %s request has no body: use POST, PUT or PATCH", method)
	}
}

// validateRows checks key/value rows: every key is set.
func validateRows(field string, rows []KV, add adder) {
	for i, kv := range rows {
		if kv.Key == "" {
			add(fmt.Sprintf("%s[%d].key", field, i), "is required")
		}
	}
}

func rawMediaType(ct string) (string, error) {
	if strings.ContainsAny(ct, "\r\n") {
		return "", fmt.Errorf("line break in content type")
	}
	mt, _, err := mime.ParseMediaType(ct)
	return mt, err
}

func isJSONType(mt string) bool { return mt == "application/json" || strings.HasSuffix(mt, "+json") }

func isXMLType(mt string) bool {
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// render makes the body with tags substituted, and its content type. Every
// reader it returns can be read again: a *strings.Reader or *bytes.Reader,
// for which http.NewRequest sets GetBody, or a *multipartBody when files are
// uploaded (see attachBody). Files are checked before anything is sent and
// are streamed, never held in memory.
func (b Body) render(vals tagValues) (io.Reader, string, error) {
	switch b.Kind {
	case BodyNone:
		return nil, "", nil
	case BodyJSON:
		doc, err := renderJSON(b.JSON, &vals)
		if err != nil {
			return nil, "", fmt.Errorf("body.json: %w", err)
		}
		return bytes.NewReader(doc), "application/json", nil
	case BodyForm:
		var sb strings.Builder
		for i, kv := range b.Form {
			if i > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(url.QueryEscape(expand(kv.Key, vals, identity)))
			sb.WriteByte('=')
			sb.WriteString(url.QueryEscape(expand(kv.Value, vals, identity)))
		}
		return strings.NewReader(sb.String()), "application/x-www-form-urlencoded", nil
	case BodyMultipart:
		return renderMultipart(b.Form, vals)
	case BodyText:
		return strings.NewReader(expand(b.Text, vals, identity)), "text/plain; charset=utf-8", nil
	case BodyRaw:
		mt, err := rawMediaType(b.ContentType)
		switch {
		case err != nil:
			return nil, "", fmt.Errorf("body.content_type: %q is not a media type", b.ContentType)
		case isJSONType(mt):
			doc, err := renderJSON(b.Text, &vals)
			if err != nil {
				return nil, "", fmt.Errorf("body.text: %w", err)
			}
			return bytes.NewReader(doc), b.ContentType, nil
		case isXMLType(mt):
			return strings.NewReader(expand(b.Text, vals, xmlEscape)), b.ContentType, nil
		case mt == "application/x-www-form-urlencoded":
			return strings.NewReader(expand(b.Text, vals, url.QueryEscape)), b.ContentType, nil
		}
		return strings.NewReader(expand(b.Text, vals, identity)), b.ContentType, nil
	}
	return nil, "", fmt.Errorf("body.kind: %q is not a body kind", b.Kind)
}

// formPart is one multipart row with its tags filled in.
type formPart struct {
	row         int
	name, value string // value: a text field's
	path        string // a file's
	size        int64
}

// renderMultipart builds a multipart/form-data body. Text fields and the
// parts' headers are built here; files are opened and checked here, so a
// missing one fails before anything is sent, and are read only as the
// body is sent.
func renderMultipart(rows []KV, vals tagValues) (io.Reader, string, error) {
	parts, err := expandParts(rows, vals)
	if err != nil {
		return nil, "", err
	}
	files := slices.ContainsFunc(parts, func(p formPart) bool { return p.path != "" })
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for clashes(parts, mw.Boundary()) {
		mw = multipart.NewWriter(&buf)
	}
	var segs []bodySegment
	mark := 0
	for _, p := range parts {
		h := make(textproto.MIMEHeader, 2)
		disp := `form-data; name="` + dispositionEscape(p.name) + `"`
		if p.path != "" {
			disp += `; filename="` + dispositionEscape(filepath.Base(p.path)) + `"`
			h.Set("Content-Type", uploadType(p.path))
		}
		h.Set("Content-Disposition", disp)
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", fmt.Errorf("body.form[%d]: %w", p.row, err)
		}
		if p.path == "" {
			io.WriteString(w, p.value)
			continue
		}
		segs = append(segs, bodySegment{start: mark, end: buf.Len()}, bodySegment{path: p.path, size: p.size, row: p.row})
		mark = buf.Len()
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	ct := mw.FormDataContentType()
	if !files {
		return bytes.NewReader(buf.Bytes()), ct, nil
	}
	segs = append(segs, bodySegment{start: mark, end: buf.Len()})
	all := buf.Bytes()
	mb := &multipartBody{}
	for _, s := range segs {
		if s.path == "" {
			s.data = all[s.start:s.end]
		}
		mb.size += int64(len(s.data)) + s.size
		mb.segs = append(mb.segs, s)
	}
	return mb, ct, nil
}

// expandParts fills in multipart rows' tags and checks that each file to
// upload can be read.
func expandParts(rows []KV, vals tagValues) ([]formPart, error) {
	parts := make([]formPart, len(rows))
	for i, kv := range rows {
		p := formPart{row: i, name: expand(kv.Key, vals, identity)}
		if path, ok := strings.CutPrefix(kv.Value, FilePrefix); ok {
			p.path = expand(path, vals, fileNameEscape)
			size, err := checkUpload(p.path)
			if err != nil {
				return nil, fmt.Errorf("body.form[%d].value: cannot upload the file: %w", i, err)
			}
			p.size = size
		} else {
			p.value = expand(kv.Value, vals, identity)
		}
		parts[i] = p
	}
	return parts, nil
}

// clashes reports whether a name or text value holds the boundary, which
// would end its part early.
func clashes(parts []formPart, boundary string) bool {
	for _, p := range parts {
		if strings.Contains(p.name, boundary) || strings.Contains(p.value, boundary) {
			return true
		}
	}
	return false
}

// checkUpload opens the file to upload to check that it can be read and
// returns its size.
func checkUpload(path string) (int64, error) {
	if !filepath.IsAbs(path) {
		return 0, fmt.Errorf("%q is not an absolute path", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	return fi.Size(), nil
}

// uploadType is a file's content type by its extension.
func uploadType(path string) string {
	if t := mime.TypeByExtension(filepath.Ext(path)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// bodySegment is a piece of a multipart body: bytes, or a file.
type bodySegment struct {
	data       []byte
	start, end int    // of data, while the body is built
	path       string // a file, when set
	size       int64  // the file's size when the request was built
	row        int    // the file's row, for errors
}

// multipartBody streams a multipart body whose files are opened one at a
// time as they are reached. It sends exactly the size each file had when
// the request was built: a file that shrank since fails the send, one that
// grew is cut. Reopen gives a fresh reader for GetBody.
type multipartBody struct {
	segs []bodySegment // shared by reopened copies, never changed
	size int64
	seg  int      // the segment being read
	off  int64    // how much of it has been read
	f    *os.File // open while a file segment is read
}

// Len is the body's length in bytes.
func (b *multipartBody) Len() int64 { return b.size }

// reopen returns a reader of the same body from its start.
func (b *multipartBody) reopen() (io.ReadCloser, error) {
	return &multipartBody{segs: b.segs, size: b.size}, nil
}

func (b *multipartBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for b.seg < len(b.segs) {
		s := &b.segs[b.seg]
		if s.path == "" {
			if b.off < int64(len(s.data)) {
				n := copy(p, s.data[b.off:])
				b.off += int64(n)
				return n, nil
			}
			b.seg, b.off = b.seg+1, 0
			continue
		}
		if b.off == s.size {
			b.closeFile()
			b.seg, b.off = b.seg+1, 0
			continue
		}
		if b.f == nil {
			f, err := os.Open(s.path)
			if err != nil {
				return 0, fmt.Errorf("body.form[%d].value: cannot upload the file: %w", s.row, err)
			}
			b.f = f
		}
		if left := s.size - b.off; int64(len(p)) > left {
			p = p[:left]
		}
		n, err := b.f.Read(p)
		b.off += int64(n)
		switch {
		case err == io.EOF && b.off < s.size:
			return n, fmt.Errorf("body.form[%d].value: %s became shorter while it was being sent", s.row, s.path)
		case err != nil && err != io.EOF:
			return n, fmt.Errorf("body.form[%d].value: read %s: %w", s.row, s.path, err)
		case n > 0:
			return n, nil
		}
	}
	return 0, io.EOF
}

func (b *multipartBody) closeFile() {
	if b.f != nil {
		b.f.Close()
		b.f = nil
	}
}

// Close closes the file being read, if any. Safe to call twice.
func (b *multipartBody) Close() error {
	b.closeFile()
	b.seg = len(b.segs)
	return nil
}

// attachBody makes a request built on a body from render re-sendable when
// http.NewRequest could not: for a streamed multipart body it sets the
// Content-Length and GetBody (digest auth and signing read the body twice).
// Build calls it right after http.NewRequestWithContext.
func attachBody(req *http.Request, body io.Reader) {
	if mb, ok := body.(*multipartBody); ok {
		req.ContentLength = mb.size
		req.GetBody = mb.reopen
	}
}
