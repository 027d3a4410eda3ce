package actions

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a real server answering each request with the next status
// of script (then 200), recording request bodies.
func scripted(t *testing.T, script []int, header http.Header) (*httptest.Server, *atomic.Int32, *[]string) {
	t.Helper()
	var n atomic.Int32
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		i := int(n.Add(1)) - 1
		for k, v := range header {
			w.Header()[k] = v
		}
		if i < len(script) {
			w.WriteHeader(script[i])
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n, &bodies
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		script    []int
		header    http.Header
		maxTries  int
		wantOK    bool
		wantTries int
		minTime   time.Duration
	}{
		{"5xx then success", []int{503, 500, 200}, nil, 3, true, 3, 0},
		{"retries are off by default", []int{503}, nil, 0, false, 1, 0},
		{"4xx is final", []int{400}, nil, 5, false, 1, 0},
		{"gives up after max tries", []int{502, 502, 502, 502}, nil, 2, false, 2, 0},
		{"429 honours Retry-After", []int{429}, http.Header{"Retry-After": {"1"}}, 2, true, 2, 900 * time.Millisecond},
		{"Retry-After too long gives up", []int{503}, http.Header{"Retry-After": {"600"}}, 3, false, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, arrivals, bodies := scripted(t, tt.script, tt.header)
			tg := Target{Name: "r", Method: "POST", URL: srv.URL, Retry: Retry{MaxTries: tt.maxTries},
				Body: Body{Kind: BodyJSON, JSON: `{"eid":"<EID>"}`}}
			var heard []int
			start := time.Now()
			r := NewSender(nil).SendWithRetries(context.Background(), tg, Tags{EID: "E42"}, func(n int, r Result, wait time.Duration) {
				heard = append(heard, r.Code)
			})
			if r.OK != tt.wantOK || r.Tries != tt.wantTries || int(arrivals.Load()) != tt.wantTries {
				t.Errorf("OK=%v tries=%d arrivals=%d; want OK=%v tries=%d arrivals=%d", r.OK, r.Tries, arrivals.Load(), tt.wantOK, tt.wantTries, tt.wantTries)
			}
			if len(heard) != tt.wantTries-1 {
				t.Errorf("onTry heard %v, want %d retried tries", heard, tt.wantTries-1)
			}
			for _, b := range *bodies {
				if b != `{"eid":"E42"}` {
					t.Errorf("a try carried %q: the trigger id must stay the same", b)
				}
			}
			if d := time.Since(start); d < tt.minTime {
				t.Errorf("took %v, want at least %v", d, tt.minTime)
			}
		})
	}
}

func TestRetryOnConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	r := NewSender(nil).SendWithRetries(context.Background(), Target{Name: "x", Method: "GET", URL: "http://" + addr, Retry: Retry{MaxTries: 2}}, Tags{}, nil)
	if r.OK || r.Tries != 2 || !strings.Contains(r.Reason(), "cannot connect") {
		t.Errorf("result = tries %d, %q; want 2 tries, cannot connect", r.Tries, r.Reason())
	}
}

func TestRetryDelayBackoff(t *testing.T) {
	for n := 1; n <= 12; n++ {
		d, ok := retryDelay(n, Result{Code: 500})
		hi := min(retryBase<<(n-1), retryCap)
		if !ok || d < hi/2 || d > hi {
			t.Errorf("retryDelay(%d) = %v, want in [%v, %v]", n, d, hi/2, hi)
		}
	}
	at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	if d, ok := retryDelay(1, Result{Code: 503, Header: http.Header{"Retry-After": {at}}}); !ok || d < time.Second || d > 3*time.Second {
		t.Errorf("Retry-After as a date: %v, %v", d, ok)
	}
}

type mapSecrets map[string]string

func (m mapSecrets) Get(ref string) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", errors.New("not found")
}

// verifyStandardWebhook checks a request as the Standard Webhooks
// specification tells a receiver to, independently of sign.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("timestamp missing or outside the tolerance")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := m.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid v1 signature")
}

func TestSigning(t *testing.T) {
	key := make([]byte, 24)
	rand.Read(key)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key) // made here: no key lives in the repository
	type got struct {
		h    http.Header
		body []byte
	}
	ch := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- got{r.Header.Clone(), b}
	}))
	defer srv.Close()
	tg := Target{Name: "s", Method: "POST", URL: srv.URL, Signing: Signing{Secret: "env:SIGNING"},
		Body: Body{Kind: BodyJSON, JSON: `{"eid":"<EID>"}`}}
	if err := tg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := NewSender(mapSecrets{"env:SIGNING": secret})
	if r := s.Send(context.Background(), tg, Tags{EID: "18eaa1"}); !r.OK {
		t.Fatalf("send: %s", r.Reason())
	}
	g := <-ch
	if g.h.Get("webhook-id") != "18eaa1" {
		t.Errorf("webhook-id = %q, want the trigger id", g.h.Get("webhook-id"))
	}
	if err := verifyStandardWebhook(secret, g.h, g.body, time.Now()); err != nil {
		t.Errorf("a receiver following the spec rejects the signature: %v", err)
	}
	if err := verifyStandardWebhook(secret, g.h, append(g.body, ' '), time.Now()); err == nil {
		t.Errorf("the signature does not cover the body")
	}
	if err := verifyStandardWebhook("whsec_"+base64.StdEncoding.EncodeToString([]byte("other")), g.h, g.body, time.Now()); err == nil {
		t.Errorf("another key verifies the signature")
	}

	// A missing signing secret sends nothing.
	r := NewSender(mapSecrets{}).Send(context.Background(), tg, Tags{EID: "x"})
	if !errors.Is(r.Err, ErrSecretMissing) {
		t.Errorf("missing secret: %v, want ErrSecretMissing", r.Err)
	}
	select {
	case <-ch:
		t.Errorf("a request was sent without its signing secret")
	default:
	}
}
