package engine

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/buttonhook/buttonhook/actions"
)

// reportBody is how much of a response body a TestReport shows.
const reportBody = 4 << 10

// TestReport is a test run's result as the command line and the control
// API show it: what the server answered, how long it took, and an excerpt
// of its body.
type TestReport struct {
	OK       bool           `json:"ok"`
	Code     int            `json:"code,omitempty"`
	Duration time.Duration  `json:"duration_ns"`
	Timing   actions.Timing `json:"timing"`
	Error    string         `json:"error,omitempty"`
	// ContentType is the response's Content-Type.
	ContentType string `json:"content_type,omitempty"`
	// Body is the start of the response body as text, or a note saying how
	// many bytes of binary arrived.
	Body string `json:"body,omitempty"`
	// BodyBytes is how many bytes of the body were kept (at most 64 KiB).
	BodyBytes int `json:"body_bytes"`
}

// NewTestReport summarises a result.
func NewTestReport(r actions.Result) TestReport {
	rep := TestReport{OK: r.OK, Code: r.Code, Duration: r.Duration, Timing: r.Timing, Error: r.Reason(), BodyBytes: len(r.Body)}
	if r.Header != nil {
		rep.ContentType = r.Header.Get("Content-Type")
	}
	body := r.Body
	if len(body) > reportBody {
		n := reportBody
		for n > reportBody-utf8.UTFMax && !utf8.RuneStart(body[n]) {
			n-- // don't cut a character in two
		}
		body = body[:n]
	}
	switch {
	case len(body) == 0:
	case utf8.Valid(body) && bytes.IndexByte(body, 0) < 0:
		rep.Body = string(body)
		if len(body) < len(r.Body) {
			rep.Body += "\n…"
		}
	default:
		rep.Body = "(" + strconv.Itoa(len(r.Body)) + " bytes of binary data)"
	}
	return rep
}
