package actions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type seen struct {
	method, path, query, contentType, body string
	header                                 http.Header
}

// recorder is a real HTTP server on 127.0.0.1 that reports each request.
func recorder(t *testing.T, status int) (*httptest.Server, <-chan seen) {
	t.Helper()
	ch := make(chan seen, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(b), r.Header.Clone()}
		w.WriteHeader(status)
		io.WriteString(w, "pong")
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestSendJSONWithHostileTags(t *testing.T) {
	srv, ch := recorder(t, http.StatusOK)
	s := NewSender(nil)
	t.Cleanup(s.Close)
	hostile := "a\"b\n},{\"x\":1 & <EID> ü"
	tg := Target{Name: "t", Method: "POST", URL: srv.URL + "/hook/<NAME>?who=<NAME>",
		Headers: []KV{{"X-Button", "<NAME>"}},
		Body:    Body{Kind: BodyJSON, JSON: `{"button":"<NAME>","eid":"<EID>","lit":"<<NAME>"}`}}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := s.Send(context.Background(), tg, Tags{Name: hostile, EID: "E1"})
	if !r.OK || r.Code != 200 || r.Err != nil || string(r.Body) != "pong" {
		t.Fatalf("result = %+v, want OK 200 pong", r)
	}
	got := <-ch
	var doc map[string]string
	if err := json.Unmarshal([]byte(got.body), &doc); err != nil {
		t.Fatalf("body %q is not JSON: %v", got.body, err)
	}
	want := map[string]string{"button": hostile, "eid": "E1", "lit": "<NAME>"}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("body[%q] = %q, want %q", k, doc[k], v)
		}
	}
	if len(doc) != len(want) {
		t.Errorf("body has keys %v, want exactly %v", doc, want)
	}
	if q, _ := url.ParseQuery(got.query); q.Get("who") != hostile || len(q) != 1 {
		t.Errorf("query = %q, want who=%q only", got.query, hostile)
	}
	if h := got.header.Get("X-Button"); strings.ContainsAny(h, "\r\n") || !strings.HasPrefix(h, "a\"b") {
		t.Errorf("header X-Button = %q", h)
	}
	if got.contentType != "application/json" {
		t.Errorf("content type = %q", got.contentType)
	}
}

func TestSendForm(t *testing.T) {
	srv, ch := recorder(t, http.StatusCreated)
	s := NewSender(nil)
	tg := Target{Name: "f", Method: "PUT", URL: srv.URL, Body: Body{Kind: BodyForm, Form: []KV{{"test", "test"}, {"who", "<NAME>&x=1"}}}}
	if r := s.Send(context.Background(), tg, Tags{Name: "b1"}); !r.OK || r.Code != 201 {
		t.Fatalf("result = %+v, want OK 201", r)
	}
	got := <-ch
	q, _ := url.ParseQuery(got.body)
	if got.method != "PUT" || q.Get("test") != "test" || q.Get("who") != "b1&x=1" || len(q) != 2 {
		t.Errorf("got %s %q, want PUT with test=test, who=b1&x=1", got.method, got.body)
	}
}

func TestSendFailures(t *testing.T) {
	hang := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-hang })
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-hang
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hang) }) // runs before srv.Close, which waits for handlers
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()

	s := NewSender(nil)
	tests := []struct {
		name    string
		url     string
		code    int
		errIs   error
		reason  string
		maxTime time.Duration
	}{
		{"server error", srv.URL + "/500", 500, nil, "HTTP 500", time.Second},
		{"redirect is not followed", srv.URL + "/redirect", 302, nil, "redirects are not followed", time.Second},
		{"hanging server is cut at the deadline", srv.URL + "/hang", 0, ErrTimeout, "timed out", 3 * time.Second},
		{"stall after headers is cut at the deadline", srv.URL + "/stall", 200, ErrTimeout, "timed out", 3 * time.Second},
		{"connection refused", closed, 0, nil, "cannot connect", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := s.Send(context.Background(), Target{Name: "x", Method: "GET", URL: tt.url, Timeout: 1}, Tags{})
			if r.OK {
				t.Fatalf("result OK, want failure")
			}
			if r.Code != tt.code {
				t.Errorf("code = %d, want %d", r.Code, tt.code)
			}
			if tt.errIs != nil && !errors.Is(r.Err, tt.errIs) {
				t.Errorf("err = %v, want %v", r.Err, tt.errIs)
			}
			if !strings.Contains(r.Reason(), tt.reason) {
				t.Errorf("reason = %q, want it to mention %q", r.Reason(), tt.reason)
			}
			if d := time.Since(start); d > tt.maxTime {
				t.Errorf("took %v, want at most %v", d, tt.maxTime)
			}
		})
	}
}

func TestBuildErrorHidesURLSecrets(t *testing.T) {
	// A tag in the host makes the URL invalid only at send time.
	tg := Target{Name: "x", Method: "GET", URL: "http://user:hunter2@<DEVICEID>.example/?token=hunter2"}
	r := NewSender(nil).Send(context.Background(), tg, Tags{DeviceID: "serial:SIM 1"})
	if r.Err == nil || strings.Contains(r.Err.Error(), "hunter2") {
		t.Errorf("err = %v, want an error without the secret", r.Err)
	}
}

func TestSendErrorHidesURLSecrets(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	r := NewSender(nil).Send(context.Background(), Target{Name: "x", Method: "GET", URL: "http://user:hunter2@" + addr + "/?token=hunter2"}, Tags{})
	if r.Err == nil || strings.Contains(r.Err.Error(), "hunter2") {
		t.Errorf("err = %v, want an error without the secret", r.Err)
	}
}

func TestValidate(t *testing.T) {
	ok := Target{Name: "Door bell", Method: "POST", URL: "https://example.test/<NAME>", Body: Body{Kind: BodyJSON, JSON: `{"a":"<EID>"}`}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid target: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Target)
		field string
	}{
		{"no name", func(t *Target) { t.Name = " " }, "name"},
		{"long name", func(t *Target) { t.Name = strings.Repeat("a", 81) }, "name"},
		{"bad name", func(t *Target) { t.Name = "a/b" }, "name"},
		{"bad method", func(t *Target) { t.Method = "BREW" }, "method"},
		{"ftp url", func(t *Target) { t.URL = "ftp://x/" }, "url"},
		{"no host", func(t *Target) { t.URL = "http:///x" }, "url"},
		{"header newline", func(t *Target) { t.Headers = []KV{{"X-A", "a\r\nB: c"}} }, "headers[0].value"},
		{"hop-by-hop header", func(t *Target) { t.Headers = []KV{{"connection", "close"}} }, "headers[0].key"},
		{"bad header name", func(t *Target) { t.Headers = []KV{{"X A", "1"}} }, "headers[0].key"},
		{"bad json", func(t *Target) { t.Body.JSON = "{\n\"a\": }" }, "body.json"},
		{"body on GET", func(t *Target) { t.Method = "GET" }, "body.kind"},
		{"timeout too long", func(t *Target) { t.Timeout = 500 }, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := ok
			tt.edit(&tg)
			err := tg.Validate()
			var ve ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want a ValidationError", err)
			}
			if ve[0].Field != tt.field {
				t.Errorf("field = %q (%v), want %q", ve[0].Field, err, tt.field)
			}
		})
	}
	bad := ok
	bad.Body.JSON = "{\n  \"a\": 1,\n  oops\n}"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("Validate() = %v, want the line of the JSON error", err)
	}
}

func TestRedactURL(t *testing.T) {
	// Webhook tokens are built here rather than written out, so that no
	// secret scanner takes this file for a leaked Slack or Discord webhook.
	slack := "https://hooks.slack.com/services/" + "T0123ABCD/B0456EFGH/"
	discord := "https://discord.com/api/webhooks/" + "123456789012345678/"
	token := strings.Repeat("aB3", 8) // 24 characters, as real tokens have
	tests := []struct{ in, want string }{
		{"https://h/x?a=1&token=abc", "https://h/x?a=1&token=REDACTED"},
		{"https://u:p@h/x", "https://REDACTED@h/x"},
		{"http://h/plain", "http://h/plain"},
		{slack + token, slack + "REDACTED"},
		{discord + token, discord + "REDACTED"},
		{"https://example.com/api/v1/door-bell-notifications", "https://example.com/api/v1/door-bell-notifications"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
