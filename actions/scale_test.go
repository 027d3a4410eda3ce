package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeSecrets is a SecretSource over a map of references.
type fakeSecrets map[string]string

func (f fakeSecrets) Get(ref string) (string, error) {
	if v, ok := f[ref]; ok {
		return v, nil
	}
	return "", errors.New("secret not found")
}

// arrival is one request as the server saw it.
type arrival struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// scaleTarget is the i-th of many distinct targets on base: its method,
// body kind, auth and redirect policy vary with i, and its index is in the
// path, the query, a header and (where there is one) the body, through tags.
func scaleTarget(base string, i int) Target {
	t := Target{
		ID:      fmt.Sprintf("t%04d", i),
		Name:    fmt.Sprintf("Target %04d", i),
		Enabled: true,
		Method:  Methods[i%len(Methods)],
		URL:     fmt.Sprintf("%s/t/%d/<NAME>", base, i),
		Query:   []KV{{"i", "<COUNTER>"}},
		Headers: []KV{{"X-Target", "<TARGET>"}, {"X-Eid", "<EID>"}},
		Follow:  i%11 == 0,
	}
	if t.Method != http.MethodGet && t.Method != http.MethodHead {
		switch i % 5 {
		case 0:
			t.Body = Body{Kind: BodyJSON, JSON: `{"i": <COUNTER>, "target": "<TARGET>"}`}
		case 1:
			t.Body = Body{Kind: BodyForm, Form: []KV{{"i", "<COUNTER>"}, {"eid", "<EID>"}}}
		case 2:
			t.Body = Body{Kind: BodyMultipart, Form: []KV{{"i", "<COUNTER>"}}}
		case 3:
			t.Body = Body{Kind: BodyText, Text: "<COUNTER>"}
		case 4:
			t.Body = Body{Kind: BodyRaw, ContentType: "application/xml", Text: "<n><COUNTER></n>"}
		}
	}
	if i%7 == 0 {
		t.Auth = Auth{Kind: AuthBasic, Username: fmt.Sprintf("user%d", i), Password: SecretRef(fmt.Sprintf("keyring:door-%d", i))}
	}
	return t
}

// bodyIndex reads the index a scaleTarget's body carries.
func bodyIndex(a arrival) (string, error) {
	mt, params, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var v struct {
			I      json.Number
			Target string
		}
		err := json.Unmarshal(a.body, &v)
		return v.I.String(), err
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(a.body))
		return q.Get("i"), err
	case "multipart/form-data":
		f, err := multipart.NewReader(bytes.NewReader(a.body), params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			return "", err
		}
		return strings.Join(f.Value["i"], ","), nil
	case "text/plain":
		return string(a.body), nil
	case "application/xml":
		var v struct {
			XMLName xml.Name `xml:"n"`
			Text    string   `xml:",chardata"`
		}
		err := xml.Unmarshal(a.body, &v)
		return v.Text, err
	}
	return "", fmt.Errorf("unexpected content type %q", mt)
}

// TestThousandTargets sends 1,000 distinct targets once each through one
// Sender, 8 at a time, to one server on 127.0.0.1: the server sees exactly
// 1,000 requests, each the one its target describes, and the Sender keeps
// one connection pool and one client per redirect policy, not one per
// target.
func TestThousandTargets(t *testing.T) {
	const n, workers = 1000, 8
	var (
		mu       sync.Mutex
		arrivals = map[int][]arrival{}
		total    atomic.Int32
		conns    atomic.Int32
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		var i int
		if _, err := fmt.Sscanf(r.URL.Path, "/t/%d/", &i); err != nil {
			t.Errorf("request for %s: no target index", r.URL.Path)
		}
		mu.Lock()
		arrivals[i] = append(arrivals[i], arrival{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	secrets := fakeSecrets{}
	targets := make([]Target, n)
	for i := range targets {
		targets[i] = scaleTarget(srv.URL, i)
		secrets[fmt.Sprintf("keyring:door-%d", i)] = fmt.Sprintf("pw-%d", i)
		if err := targets[i].Validate(); err != nil {
			t.Fatalf("target %d: %v", i, err)
		}
	}
	s := NewSender(secrets)
	t.Cleanup(s.Close)

	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				r := s.Send(context.Background(), targets[i], Tags{
					EID: fmt.Sprintf("e%04d", i), EType: ETypeManual, Name: fmt.Sprintf("button %d", i), Counter: int64(i)})
				if !r.OK {
					t.Errorf("target %d: %d %s", i, r.Code, r.Reason())
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()

	if got := total.Load(); got != n {
		t.Errorf("the server saw %d requests, want %d", got, n)
	}
	for i, tg := range targets {
		as := arrivals[i]
		if len(as) != 1 {
			t.Errorf("target %d arrived %d times, want once", i, len(as))
			continue
		}
		a := as[0]
		idx := strconv.Itoa(i)
		check := func(what, got, want string) {
			if got != want {
				t.Errorf("target %d: %s = %q, want %q", i, what, got, want)
			}
		}
		check("method", a.method, tg.Method)
		check("path", a.path, fmt.Sprintf("/t/%d/button %d", i, i))
		check("query", a.query, "i="+idx)
		check("X-Target", a.header.Get("X-Target"), tg.Name)
		check("X-Eid", a.header.Get("X-Eid"), fmt.Sprintf("e%04d", i))
		user, pass, ok := (&http.Request{Header: a.header}).BasicAuth()
		if tg.Auth.Kind == AuthBasic {
			check("basic auth", fmt.Sprintf("%s:%s %v", user, pass, ok), fmt.Sprintf("user%d:pw-%d true", i, i))
		} else if a.header.Get("Authorization") != "" {
			t.Errorf("target %d: Authorization %q, want none", i, a.header.Get("Authorization"))
		}
		if tg.Body.Kind == BodyNone {
			if len(a.body) != 0 {
				t.Errorf("target %d: body %q, want none", i, a.body)
			}
			continue
		}
		got, err := bodyIndex(a)
		if err != nil {
			t.Errorf("target %d: body %q: %v", i, a.body, err)
		}
		check("index in the body", got, idx)
	}

	// One TLS policy: one pool. Three redirect policies (not followed;
	// followed without secrets; followed dropping the basic auth's
	// Authorization): three clients, whatever the number of targets.
	s.tr.mu.Lock()
	pools, clients := len(s.tr.pools), len(s.tr.clients)
	s.tr.mu.Unlock()
	if pools != 1 || clients != 3 {
		t.Errorf("the Sender keeps %d connection pools and %d clients, want 1 and 3", pools, clients)
	}
	// Keep-alive: connections are reused, not one per request.
	if c := conns.Load(); c >= n/2 {
		t.Errorf("%d connections for %d requests, want them reused", c, n)
	} else {
		t.Logf("%d requests on %d connections", n, c)
	}
}
