package engine

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/storage"
)

// asyncServer is a webhook server that accepts async requests: it reports
// each request's callback header and body, and answers status.
func asyncServer(t *testing.T, status int) (url string, got <-chan [2]string) {
	t.Helper()
	ch := make(chan [2]string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- [2]string{r.Header.Get(actions.CallbackHeader), string(b)}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

func asyncTarget(url string, timeout actions.Seconds) actions.Target {
	return actions.Target{Name: "Deploy", Enabled: true, Method: "POST", URL: url,
		Async: actions.Async{Enabled: true, Timeout: timeout},
		Body:  actions.Body{Kind: actions.BodyJSON, JSON: `{"callback":"<CALLBACKURL>"}`}}
}

// token takes the token out of a callback URL, checking its shape.
func token(t *testing.T, header, body, base string) string {
	t.Helper()
	if !strings.HasPrefix(header, base+"/callback/") {
		t.Fatalf("X-Buttonhook-Callback = %q, want %s/callback/TOKEN", header, base)
	}
	if want := `{"callback":"` + header + `"}`; body != want {
		t.Errorf("body = %s, want %s (<CALLBACKURL> is the header's URL)", body, want)
	}
	tok := strings.TrimPrefix(header, base+"/callback/")
	if len(tok) != 48 { // 64-bit id + 128-bit secret, hex
		t.Errorf("token %q has %d characters, want 48 (>= 128 random bits)", tok, len(tok))
	}
	return tok
}

func TestAsyncPressWaitsForCallback(t *testing.T) {
	const base = "http://127.0.0.1:7777"
	url, got := asyncServer(t, http.StatusAccepted)
	r := newRig(t, Options{CallbackBase: base + "/"})
	if err := r.e.Import(Config{Targets: []actions.Target{asyncTarget(url, 2)},
		Bindings: []Binding{{Button: 1, Gesture: device.Press, Target: "Deploy"}}}); err != nil {
		t.Fatal(err)
	}
	if err := r.e.AddSerialPort(r.btn.Path()); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	events, unsub := r.e.Subscribe(64)
	defer unsub()

	waiting := func() storage.Attempt { // the accepted attempt, Waiting for its callback
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Kind == AttemptChanged && ev.Attempt.Code == http.StatusAccepted && ev.Attempt.Status == storage.StatusWaiting {
					if !strings.Contains(ev.Attempt.Message, "waiting up to 2s for its callback") {
						t.Errorf("waiting message = %q", ev.Attempt.Message)
					}
					return ev.Attempt
				}
			case <-deadline:
				t.Fatal("no Waiting attempt with the server's 202")
			}
		}
	}
	press := func() (tok string, a storage.Attempt) {
		t.Helper()
		if err := r.btn.Press(1); err != nil {
			t.Fatal(err)
		}
		req := <-got
		tok = token(t, req[0], req[1], base)
		if l := r.nextLED(t); l != "LED 1 PULSE yellow 1000" {
			t.Errorf("LED while waiting = %q, want the yellow pulse", l)
		}
		return tok, waiting()
	}

	// Success, with a message.
	tok, a := press()
	logged, ok, err := r.db.Attempt(a.ID)
	if err != nil || !ok || logged.Status != storage.StatusWaiting {
		t.Errorf("logged while waiting: %+v (%v, %v), want Waiting", logged, ok, err)
	}
	if id, err := r.e.Callbacks().Complete(tok, actions.CallbackResult{OK: true, Message: "deployed v2"}); err != nil || id != a.ID {
		t.Fatalf("Complete = %q, %v; want attempt %s", id, err, a.ID)
	}
	if l := r.nextLED(t); l != "LED 1 FLASH green 1500" {
		t.Errorf("LED after the callback = %q, want green", l)
	}
	logged, _, _ = r.db.Attempt(a.ID)
	if logged.Status != storage.StatusOK || logged.Message != "deployed v2" || logged.Code != 202 || logged.Finished.IsZero() {
		t.Errorf("logged = %+v, want OK 202 with the callback's message", logged)
	}
	if _, err := r.e.Callbacks().Complete(tok, actions.CallbackResult{OK: true}); !errors.Is(err, actions.ErrCallbackUsed) {
		t.Errorf("second callback: %v, want ErrCallbackUsed", err)
	}

	// Failure reported on the callback.
	tok, a = press()
	if _, err := r.e.Callbacks().Complete(tok, actions.CallbackResult{Message: "build broke"}); err != nil {
		t.Fatal(err)
	}
	if l := r.nextLED(t); l != "LED 1 FLASH red 1500" {
		t.Errorf("LED after a failed callback = %q, want red", l)
	}
	logged, _, _ = r.db.Attempt(a.ID)
	if logged.Status != storage.StatusFailed || !strings.Contains(logged.Error, "build broke") {
		t.Errorf("logged = %+v, want Failed with the callback's message", logged)
	}

	// No callback within the async timeout.
	tok, a = press()
	if l := r.nextLED(t); l != "LED 1 FLASH red 1500" {
		t.Errorf("LED after no callback = %q, want red", l)
	}
	logged, _, _ = r.db.Attempt(a.ID)
	if logged.Status != storage.StatusFailed || !strings.Contains(logged.Error, "no callback within 2s") {
		t.Errorf("logged = %+v, want Failed: no callback", logged)
	}
	if _, err := r.e.Callbacks().Complete(tok, actions.CallbackResult{OK: true}); err == nil {
		t.Errorf("a callback after the timeout was accepted")
	}
}

func TestAsyncRefusedRequestCancelsItsToken(t *testing.T) {
	url, got := asyncServer(t, http.StatusInternalServerError)
	r := newRig(t, Options{CallbackBase: "http://127.0.0.1:7777"})
	if err := r.e.Import(Config{Targets: []actions.Target{asyncTarget(url, 0)}}); err != nil {
		t.Fatal(err)
	}
	a, err := r.e.Fire(context.Background(), "Deploy")
	if err != nil {
		t.Fatal(err)
	}
	req := <-got
	tok := token(t, req[0], req[1], "http://127.0.0.1:7777")
	if a.Status != storage.StatusFailed || a.Code != 500 {
		t.Errorf("attempt = %+v, want Failed 500 at once (not waiting for a callback)", a)
	}
	if _, err := r.e.Callbacks().Complete(tok, actions.CallbackResult{OK: true}); !errors.Is(err, actions.ErrCallbackUnknown) {
		t.Errorf("callback for a refused request: %v, want ErrCallbackUnknown", err)
	}
	if n := r.e.Callbacks().Len(); n != 0 {
		t.Errorf("registry holds %d tokens, want 0", n)
	}
}

func TestAsyncWithoutCallbackServerFailsBeforeSending(t *testing.T) {
	url, got := asyncServer(t, http.StatusOK)
	r := newRig(t, Options{})
	if err := r.e.Import(Config{Targets: []actions.Target{asyncTarget(url, 0)}}); err != nil {
		t.Fatal(err)
	}
	a, err := r.e.Fire(context.Background(), "Deploy")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != storage.StatusFailed || !strings.Contains(a.Error, "local server is not running") {
		t.Errorf("attempt = %+v, want Failed: no callback server", a)
	}
	select {
	case req := <-got:
		t.Errorf("the server got a request %q", req)
	default:
	}
}

func TestAsyncTestRunShowsPlaceholderCallback(t *testing.T) {
	url, got := asyncServer(t, http.StatusAccepted)
	r := newRig(t, Options{CallbackBase: "http://127.0.0.1:7777"})
	res := r.e.TestTarget(context.Background(), asyncTarget(url, 0))
	if !res.OK || res.Code != http.StatusAccepted {
		t.Errorf("test = %+v, want OK 202 at once", res)
	}
	req := <-got
	if want := "http://127.0.0.1:7777/callback/test-run"; req[0] != want || !strings.Contains(req[1], want) {
		t.Errorf("test run sent header %q body %q, want the placeholder %s", req[0], req[1], want)
	}
	if n := r.e.Callbacks().Len(); n != 0 {
		t.Errorf("a test run registered %d callbacks", n)
	}
}

func TestAttemptRecordsRequestAndResponseDetails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "upstream é down "+strings.Repeat("x", storage.MaxResponseExcerpt))
	}))
	defer srv.Close()
	r := newRig(t, Options{})
	if err := r.e.Import(Config{Targets: []actions.Target{{Name: "Door", Enabled: true, Method: "POST", URL: srv.URL,
		Headers: []actions.KV{{Key: "x-source", Value: "test"}}, Body: actions.Body{Kind: actions.BodyJSON, JSON: `{}`}}, asyncTarget(srv.URL, 0)}}); err != nil {
		t.Fatal(err)
	}
	a, err := r.e.Fire(context.Background(), "Door")
	if err != nil {
		t.Fatal(err)
	}
	logged, _, _ := r.db.Attempt(a.ID)
	if logged.ErrorClass != storage.ErrorHTTP || logged.RequestHeaders != "Content-Type, User-Agent, X-Source" ||
		!strings.HasPrefix(logged.Response, "upstream é down x") || !logged.ResponseTruncated || len(logged.Response) > storage.MaxResponseExcerpt ||
		logged.Timing.Total <= 0 || logged.Timing.FirstByte <= 0 {
		t.Errorf("logged = %+v, want class http, header names, a cut response and timing", logged)
	}
	a, _ = r.e.Fire(context.Background(), "Deploy") // async with no callback server
	if a.ErrorClass != storage.ErrorCallback {
		t.Errorf("async without a server: class %q, want callback", a.ErrorClass)
	}
}
