package actions

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestCallbackCompletesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewCallbacks()
		tok := c.Register("A1")
		if len(tok) != 48 {
			t.Fatalf("token %q: want 48 hex digits (64-bit id + 128-bit secret)", tok)
		}
		go func() {
			time.Sleep(5 * time.Second)
			if id, err := c.Complete(tok, CallbackResult{OK: false, Message: "printer jammed"}); err != nil || id != "A1" {
				t.Errorf("Complete = %q, %v", id, err)
			}
		}()
		r, err := c.Wait(context.Background(), tok, time.Minute)
		if err != nil || r.OK || r.Message != "printer jammed" {
			t.Fatalf("Wait = %+v, %v; want the failed result", r, err)
		}
		if _, err := c.Complete(tok, CallbackResult{OK: true}); !errors.Is(err, ErrCallbackUsed) {
			t.Errorf("second Complete = %v, want ErrCallbackUsed (410)", err)
		}
		time.Sleep(usedTokenMemory + time.Second)
		if _, err := c.Complete(tok, CallbackResult{OK: true}); !errors.Is(err, ErrCallbackUnknown) {
			t.Errorf("Complete long after = %v, want ErrCallbackUnknown (404)", err)
		}
		if n := c.Len(); n != 0 {
			t.Errorf("registry holds %d tokens, want 0", n)
		}
	})
}

func TestCallbackTimeoutAndForgery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewCallbacks()
		tok := c.Register("A2")
		forged := tok[:16] + strings.Repeat("0", 32) // right id, wrong secret
		for _, bad := range []string{forged, "", "xyz", tok[:47], strings.Repeat("g", 48)} {
			if _, err := c.Complete(bad, CallbackResult{OK: true}); !errors.Is(err, ErrCallbackUnknown) {
				t.Errorf("Complete(%q) = %v, want ErrCallbackUnknown", bad, err)
			}
		}
		start := time.Now()
		_, err := c.Wait(context.Background(), tok, 60*time.Second)
		if !errors.Is(err, ErrCallbackTimeout) || time.Since(start) != 60*time.Second {
			t.Fatalf("Wait = %v after %v, want ErrCallbackTimeout after 60s", err, time.Since(start))
		}
		if _, err := c.Complete(tok, CallbackResult{OK: true}); !errors.Is(err, ErrCallbackExpired) || !errors.Is(err, ErrCallbackUnknown) {
			t.Errorf("late Complete = %v, want ErrCallbackExpired (404)", err)
		}
		if _, err := c.Complete(forged, CallbackResult{OK: true}); errors.Is(err, ErrCallbackExpired) || !errors.Is(err, ErrCallbackUnknown) {
			t.Errorf("forged late Complete = %v, want ErrCallbackUnknown, not expired", err)
		}
		time.Sleep(usedTokenMemory + time.Second)
		synctest.Wait()
		if n := c.Len(); n != 0 {
			t.Errorf("registry holds %d tokens %v after the timeout, want 0", n, usedTokenMemory)
		}
	})
}

func TestCallbackCancel(t *testing.T) {
	c := NewCallbacks()
	tok := c.Register("A3")
	c.Cancel(tok)
	if _, err := c.Complete(tok, CallbackResult{OK: true}); !errors.Is(err, ErrCallbackUnknown) {
		t.Errorf("Complete after Cancel = %v, want ErrCallbackUnknown", err)
	}
}

func TestParseCallback(t *testing.T) {
	tests := []struct {
		name, ct, query, body string
		ok                    bool
		msg                   string
		bad                   bool
	}{
		{"empty means ok", "", "", "", true, "", false},
		{"json ok", "application/json", "", `{"status":"ok","message":"done"}`, true, "done", false},
		{"json failed", "application/json; charset=utf-8", "", `{"status":"failed","message":"no paper"}`, false, "no paper", false},
		{"form", "application/x-www-form-urlencoded", "", "status=error&message=x%26y", false, "x&y", false},
		{"query", "", "status=ok&message=hi", "", true, "hi", false},
		{"bad json", "application/json", "", `{"status":`, false, "", true},
		{"bad status", "", "status=maybe", "", false, "", true},
		{"too big", "text/plain", "", strings.Repeat("x", MaxCallbackBody+1), false, "", true},
		// A failure report is never read as a success, whatever its type.
		{"json sent as a form (curl -d)", "application/x-www-form-urlencoded", "", `{"status":"failed"}`, false, "", false},
		{"json with no type", "", "", ` {"status":"failed","message":"m"}`, false, "m", false},
		{"json without status keeps the query's", "application/json", "status=failed", `{"message":"jam"}`, false, "jam", false},
		{"form without a type", "text/plain", "", "status=failed", false, "", false},
		{"form overrides the query", "application/x-www-form-urlencoded", "status=ok", "status=failed", false, "", false},
		{"unreadable text", "text/plain", "", "it broke", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			r, err := ParseCallback(tt.ct, q, []byte(tt.body))
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseCallback = %+v, want an error", r)
				}
				return
			}
			if err != nil || r.OK != tt.ok || r.Message != tt.msg {
				t.Errorf("ParseCallback = %+v, %v; want ok=%v message=%q", r, err, tt.ok, tt.msg)
			}
		})
	}
}
