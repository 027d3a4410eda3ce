package engine

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/buttonhook/buttonhook/actions"
)

func TestNewTestReport(t *testing.T) {
	long := strings.Repeat("é", reportBody) // 2 bytes each: the cut falls mid-character
	tests := []struct {
		name string
		r    actions.Result
		body string // prefix of the report's body
		tail string
	}{
		{"text", actions.Result{OK: true, Code: 200, Body: []byte(`{"ok":true}`), Header: http.Header{"Content-Type": {"application/json"}}}, `{"ok":true}`, `}`},
		{"long text is cut at a character", actions.Result{Code: 200, Body: []byte(long)}, "éé", "é\n…"},
		{"binary", actions.Result{Code: 200, Body: []byte{0x89, 'P', 'N', 'G', 0, 1}}, "(6 bytes of binary data)", ")"},
		{"no response", actions.Result{Err: errors.New("cannot connect")}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := NewTestReport(tt.r)
			if !strings.HasPrefix(rep.Body, tt.body) || !strings.HasSuffix(rep.Body, tt.tail) || !utf8.ValidString(rep.Body) {
				t.Errorf("body = %.60q…, want prefix %q and suffix %q", rep.Body, tt.body, tt.tail)
			}
			if len(rep.Body) > reportBody+len("\n…") {
				t.Errorf("body has %d bytes, want at most %d", len(rep.Body), reportBody)
			}
			if rep.OK != tt.r.OK || rep.Code != tt.r.Code || rep.Error != tt.r.Reason() || rep.BodyBytes != len(tt.r.Body) {
				t.Errorf("report = %+v for %+v", rep, tt.r)
			}
		})
	}
	if rep := NewTestReport(tests[0].r); rep.ContentType != "application/json" {
		t.Errorf("content type = %q", rep.ContentType)
	}
}
