package storage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAttemptDetailsRoundTrip(t *testing.T) {
	db := openTest(t, t.TempDir())
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	// 4,095 ASCII bytes then a 3-byte rune: the cut at 4,096 must not split it.
	body := strings.Repeat("x", MaxResponseExcerpt-1) + "€" + strings.Repeat("y", 100)
	a := Attempt{
		ID: NewAttemptID(at), Time: at, TargetID: "t1", Method: "POST", URL: "https://example.com/h?key=REDACTED",
		RequestHeaders: HeaderNames([]string{"x-api-key", "Content-Type", "content-type"}),
		Status:         StatusFailed, Code: 503, ErrorClass: ErrorHTTP, Error: "503 Service Unavailable",
		Duration: 120 * time.Millisecond,
		Timing:   Timing{Connect: 10 * time.Millisecond, TLS: 30 * time.Millisecond, FirstByte: 100 * time.Millisecond, Total: 120 * time.Millisecond},
		Response: body, Tries: 3, Finished: at.Add(time.Second),
	}
	if err := db.PutAttemptDurable(a); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.Attempt(a.ID)
	if err != nil || !ok {
		t.Fatalf("Attempt = %v, %v", ok, err)
	}
	want := a
	want.Response, want.ResponseTruncated = strings.Repeat("x", MaxResponseExcerpt-1), true
	if got != want {
		t.Errorf("stored attempt:\n got %+v\nwant %+v", got, want)
	}
	if got.RequestHeaders != "Content-Type, X-Api-Key" {
		t.Errorf("RequestHeaders = %q, want %q", got.RequestHeaders, "Content-Type, X-Api-Key")
	}

	data, err := json.Marshal(Attempt{ID: a.ID, Status: StatusOK, RequestHeaders: "Accept", ErrorClass: "tls",
		Timing: Timing{Connect: 1, TLS: 2, FirstByte: 3, Total: 4}, Response: "ok", ResponseTruncated: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"request_headers":"Accept"`, `"error_class":"tls"`,
		`"timing":{"connect_ns":1,"tls_ns":2,"first_byte_ns":3,"total_ns":4}`, `"response":"ok"`, `"response_truncated":true`} {
		if !strings.Contains(string(data), field) {
			t.Errorf("JSON %s lacks %s", data, field)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"a€", 3, "a"}, // € is 3 bytes
		{"a€", 4, "a€"},
		{"€€", 5, "€"},
		{"€", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestHeaderNames(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"authorization"}, "Authorization"},
		{[]string{"X-B", "x-a", " X-B ", ""}, "X-A, X-B"},
	}
	for _, tt := range tests {
		if got := HeaderNames(tt.in); got != tt.want {
			t.Errorf("HeaderNames(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
