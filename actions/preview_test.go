package actions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/actions"
)

var pressTime = time.Date(2025, 5, 1, 8, 30, 0, 0, time.UTC)

func ExamplePreview() {
	t := actions.Target{
		Name: "Door bell", Method: "POST", URL: "https://example.com/hooks/<DEVICEID>?event=<ETYPE>",
		Headers: []actions.KV{{Key: "X-Button", Value: "<NAME>"}},
		Auth:    actions.Auth{Kind: actions.AuthBasic, Username: "bob", Password: "keyring:door"},
		Body:    actions.Body{Kind: actions.BodyJSON, JSON: `{"button":"<NAME>","at":"<DATETIME>","n":<COUNTER>}`},
	}
	tags := actions.Tags{Name: "Front door", DeviceID: "sim-1", EType: actions.ETypePressed, Counter: 7, Time: pressTime}
	s, err := actions.Preview(t, tags)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	// Output:
	// POST /hooks/sim-1?event=pressed HTTP/1.1
	// Host: example.com
	// User-Agent: Buttonhook/1
	// Content-Length: 57
	// Authorization: Basic ***
	// Content-Type: application/json
	// X-Button: Front door
	//
	// {"button":"Front door","at":"2025-05-01T08:30:00Z","n":7}
}

func ExampleCurlCommand() {
	t := actions.Target{
		Name: "Door bell", Method: "POST", URL: "https://example.com/hooks/<DEVICEID>",
		Auth: actions.Auth{Kind: actions.AuthBearer, Token: "env:DOOR_TOKEN"},
		Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"button":"<NAME>","at":"<TIME>"}`},
	}
	tags := actions.Tags{Name: "Bob's door", DeviceID: "sim-1", Time: pressTime}
	cmd, err := actions.CurlCommand(t, tags)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cmd)
	// Output:
	// curl -X POST https://example.com/hooks/sim-1 \
	//   -H 'Content-Type: application/json' \
	//   -H 'User-Agent: Buttonhook/1' \
	//   -H 'Authorization: Bearer '"$BUTTONHOOK_TOKEN" \
	//   --data-raw '{"button":"Bob'\''s door","at":"08:30:00"}' \
	//   --max-time 10
}

func TestPreviewMasksSecrets(t *testing.T) {
	base := actions.Target{Name: "s", Method: "POST", URL: "https://bob:hunter2@example.com/x?a=1",
		Body: actions.Body{Kind: actions.BodyText, Text: "hi"}}
	tests := []struct {
		name string
		auth actions.Auth
		want []string
	}{
		{"url user info", actions.Auth{}, []string{"Authorization: Basic ***"}},
		{"basic", actions.Auth{Kind: actions.AuthBasic, Username: "bob", Password: "env:P"}, []string{"Authorization: Basic ***"}},
		{"digest", actions.Auth{Kind: actions.AuthDigest, Username: "bob", Password: "env:P"}, []string{"Authorization: Digest ***"}},
		{"bearer", actions.Auth{Kind: actions.AuthBearer, Token: "env:T"}, []string{"Authorization: Bearer ***"}},
		{"oauth2", actions.Auth{Kind: actions.AuthOAuth2, TokenURL: "https://id/token", ClientID: "c", ClientSecret: "env:S"}, []string{"Authorization: Bearer ***"}},
		{"api key", actions.Auth{Kind: actions.AuthAPIKey, Header: "X-Door-Key", Key: "env:K"}, []string{"X-Door-Key: ***"}},
		{"api key default", actions.Auth{Kind: actions.AuthAPIKey, Key: "env:K"}, []string{"X-Api-Key: ***"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := base
			tg.Auth = tt.auth
			// A header of the same name set by hand is masked too.
			if tt.auth.Kind != actions.AuthNone {
				tg.Headers = []actions.KV{{Key: "Authorization", Value: "Basic c2VjcmV0"}, {Key: tt.auth.Header, Value: "key-123"}}
				if tt.auth.Header == "" {
					tg.Headers = tg.Headers[:1]
				}
			}
			s, err := actions.Preview(tg, actions.Tags{Time: pressTime})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(s, "\n"+w+"\n") {
					t.Errorf("preview lacks %q:\n%s", w, s)
				}
			}
			for _, secret := range []string{"hunter2", "c2VjcmV0", "key-123"} {
				if strings.Contains(s, secret) {
					t.Errorf("preview shows %q:\n%s", secret, s)
				}
			}
			cmd, err := actions.CurlCommand(tg, actions.Tags{Time: pressTime})
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"hunter2", "c2VjcmV0", "key-123", "env:"} {
				if strings.Contains(cmd, secret) {
					t.Errorf("curl command shows %q:\n%s", secret, cmd)
				}
			}
			if !strings.Contains(cmd, `"$BUTTONHOOK_`) {
				t.Errorf("curl command has no placeholder:\n%s", cmd)
			}
		})
	}
}

func TestPreviewSigning(t *testing.T) {
	tg := actions.Target{Name: "s", Method: "POST", URL: "https://example.com/", Signing: actions.Signing{Secret: "env:WHSEC"},
		Body: actions.Body{Kind: actions.BodyJSON, JSON: `{}`}}
	s, err := actions.Preview(tg, actions.Tags{EID: "18eaa1", Time: pressTime})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Webhook-Id: 18eaa1", "Webhook-Timestamp: 1746088200", "Webhook-Signature: v1,***"} {
		if !strings.Contains(s, "\n"+w+"\n") {
			t.Errorf("preview lacks %q:\n%s", w, s)
		}
	}
}

func TestPreviewMultipart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap.jpg")
	os.WriteFile(path, bytes.Repeat([]byte{0xff}, 1234), 0o600)
	tg := actions.Target{Name: "m", Method: "POST", URL: "http://127.0.0.1/up",
		Body: actions.Body{Kind: actions.BodyMultipart, Form: []actions.KV{{Key: "who", Value: "<NAME>"}, {Key: "photo", Value: "file:" + path}}}}
	s, err := actions.Preview(tg, actions.Tags{Name: "Door", Time: pressTime})
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Content-Type: multipart/form-data; boundary=(\w+)\n`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no multipart content type:\n%s", s)
	}
	b := m[1]
	body := "--" + b + "\r\nContent-Disposition: form-data; name=\"who\"\r\n\r\nDoor\r\n" +
		"--" + b + "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"snap.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" +
		"<file " + path + ", 1234 bytes>\r\n--" + b + "--\r\n"
	if !strings.HasSuffix(s, "\n\n"+body) {
		t.Errorf("preview body:\n%s\nwant\n%s", s, body)
	}
	if want := fmt.Sprintf("Content-Length: %d\n", len(body)-len("<file "+path+", 1234 bytes>")+1234); !strings.Contains(s, want) {
		t.Errorf("preview lacks %q:\n%s", want, s)
	}
	os.Remove(path)
	if _, err := actions.Preview(tg, actions.Tags{}); err == nil || !strings.Contains(err.Error(), "body.form[1].value") {
		t.Errorf("preview of a missing upload: %v", err)
	}
}

// rawServer accepts one connection at a time and returns each request's
// bytes exactly as they arrived.
func rawServer(t *testing.T) (addr string, requests <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var raw bytes.Buffer
			br := bufio.NewReader(io.TeeReader(c, &raw))
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				ch <- raw.String()
				raw.Reset()
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			}
			c.Close()
		}
	}()
	return ln.Addr().String(), ch
}

// TestPreviewIsTheWire sends targets to a server that keeps the raw bytes
// of each request and compares them to the preview.
func TestPreviewIsTheWire(t *testing.T) {
	addr, requests := rawServer(t)
	s := actions.NewSender(nil)
	defer s.Close()
	tags := actions.Tags{Name: "Door \"bell\"\r\nX-Evil: 1", EID: "e/1 ?#", Counter: 3, Time: pressTime}
	targets := []actions.Target{
		{Method: "GET", URL: "http://" + addr + "/a/<NAME>/b c?x=<NAME>&y=<<Z>#<EID>", Query: []actions.KV{{Key: "eid", Value: "<EID>"}}},
		{Method: "POST", URL: "http://" + addr + "/json", Headers: []actions.KV{{Key: "X-Button", Value: "<NAME>"}},
			Body: actions.Body{Kind: actions.BodyJSON, JSON: "{\n  \"b\": \"<NAME>\",\n  \"n\": <COUNTER>\n}"}},
		{Method: "PUT", URL: "http://" + addr + "/form", Body: actions.Body{Kind: actions.BodyForm, Form: []actions.KV{{Key: "a", Value: "<NAME>"}}}},
		{Method: "DELETE", URL: "http://" + addr + "/x"},
		{Method: "POST", URL: "http://" + addr + "/empty"},
		{Method: "HEAD", URL: "http://" + addr + "/head"},
		{Method: "POST", URL: "http://" + addr + "/slack", Preset: actions.Preset{Kind: actions.PresetSlack, Message: "<NAME> pressed"}},
	}
	for _, tg := range targets {
		tg.Name = "w"
		preview, err := actions.Preview(tg, tags)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Send(context.Background(), tg, tags); !r.OK {
			t.Fatalf("%s %s: %s", tg.Method, tg.URL, r.Reason())
		}
		wire := <-requests
		wire = strings.ReplaceAll(wire, "Accept-Encoding: gzip\r\n", "")
		wire = strings.ReplaceAll(wire, "\r\n", "\n")
		if wire != strings.ReplaceAll(preview, "\r\n", "\n") {
			t.Errorf("%s %s:\npreview\n%s\nwire\n%s", tg.Method, tg.URL, preview, wire)
		}
	}
}

// seenByServer is a request as a server read it, for comparing requests.
type seenByServer struct {
	Method, RequestURI, ContentType, XButton, Authorization, APIKey string
	Body                                                            string
	Parts                                                           []string
}

func readSeen(r *http.Request) seenByServer {
	s := seenByServer{Method: r.Method, RequestURI: r.RequestURI, XButton: r.Header.Get("X-Button"),
		Authorization: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-Api-Key")}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		s.ContentType = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		s.Body = string(b)
		return s
	}
	mr, err := r.MultipartReader()
	if err != nil {
		s.Body = err.Error()
		return s
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return s
		}
		b, _ := io.ReadAll(p)
		s.Parts = append(s.Parts, fmt.Sprintf("%s|%s|%s|%q", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b))
	}
}

// TestCurlCommandRuns runs the curl commands in bash against a real server
// and checks that it sees what a send makes.
func TestCurlCommandRuns(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	ch := make(chan seenByServer, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ch <- readSeen(r) }))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "it's a snap.png")
	os.WriteFile(path, []byte("\x89PNG\r\n\x1a\n data"), 0o600)
	tags := actions.Tags{Name: "Bob's \"door\" $HOME `id` \\ !x \r\n\t ü @/etc/passwd", EID: "e1", Time: pressTime}
	s := actions.NewSender(nil)
	defer s.Close()
	targets := []actions.Target{
		{Method: "GET", URL: srv.URL + "/a/<NAME>?x=<NAME>", Headers: []actions.KV{{Key: "X-Button", Value: "<NAME>"}}},
		{Method: "POST", URL: srv.URL + "/json", Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"b":"<NAME>"}`}},
		{Method: "PUT", URL: srv.URL + "/text", Body: actions.Body{Kind: actions.BodyText, Text: "<NAME>"}},
		{Method: "POST", URL: srv.URL + "/raw", Body: actions.Body{Kind: actions.BodyRaw, Text: "@/etc/passwd", ContentType: "text/csv"}},
		{Method: "PATCH", URL: srv.URL + "/form", Body: actions.Body{Kind: actions.BodyForm, Form: []actions.KV{{Key: "a", Value: "<NAME>"}}}},
		{Method: "POST", URL: srv.URL + "/multi", Body: actions.Body{Kind: actions.BodyMultipart, Form: []actions.KV{
			{Key: "who", Value: "<NAME>"}, {Key: "at", Value: "@/etc/passwd"}, {Key: "photo", Value: "file:" + path}}}},
		{Method: "DELETE", URL: srv.URL + "/del"},
		{Method: "POST", URL: srv.URL + "/teams", Preset: actions.Preset{Kind: actions.PresetTeams, Message: "<NAME>"}},
	}
	for _, tg := range targets {
		tg.Name = "c"
		cmd, err := actions.CurlCommand(tg, tags)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("bash", "-c", cmd+" --silent --show-error").CombinedOutput()
		if err != nil {
			t.Fatalf("%s\n%s: %v", cmd, out, err)
		}
		byCurl := <-ch
		if r := s.Send(context.Background(), tg, tags); !r.OK {
			t.Fatalf("send: %s", r.Reason())
		}
		bySend := <-ch
		if strings.HasPrefix(bySend.ContentType, "multipart/") || bySend.Parts != nil {
			bySend.ContentType, byCurl.ContentType = "", ""
		}
		if !reflect.DeepEqual(byCurl, bySend) {
			t.Errorf("%s\ncurl sent  %+v\nButtonhook %+v", cmd, byCurl, bySend)
		}
	}

	// Secrets come from the environment.
	for _, tt := range []struct {
		auth actions.Auth
		url  string
		env  string
		want func(seenByServer) bool
	}{
		{actions.Auth{Kind: actions.AuthBasic, Username: "bob", Password: "env:X"}, srv.URL, "BUTTONHOOK_PASSWORD=pa ss'$",
			func(s seenByServer) bool {
				return s.Authorization == "Basic "+base64.StdEncoding.EncodeToString([]byte("bob:pa ss'$"))
			}},
		{actions.Auth{}, strings.Replace(srv.URL, "://", "://amy:secret@", 1), "BUTTONHOOK_PASSWORD=from-env",
			func(s seenByServer) bool {
				return s.Authorization == "Basic "+base64.StdEncoding.EncodeToString([]byte("amy:from-env"))
			}},
		{actions.Auth{Kind: actions.AuthBearer, Token: "env:X"}, srv.URL, "BUTTONHOOK_TOKEN=tok", func(s seenByServer) bool { return s.Authorization == "Bearer tok" }},
		{actions.Auth{Kind: actions.AuthAPIKey, Key: "env:X"}, srv.URL, "BUTTONHOOK_API_KEY=k1", func(s seenByServer) bool { return s.APIKey == "k1" }},
	} {
		cmd, err := actions.CurlCommand(actions.Target{Name: "a", Method: "GET", URL: tt.url, Auth: tt.auth}, tags)
		if err != nil {
			t.Fatal(err)
		}
		c := exec.Command("bash", "-c", cmd+" --silent --show-error")
		c.Env = append(os.Environ(), tt.env)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s\n%s: %v", cmd, out, err)
		}
		if got := <-ch; !tt.want(got) {
			t.Errorf("%s\nwith %s: server saw %+v", cmd, tt.env, got)
		}
	}
}

func TestCurlCommandNUL(t *testing.T) {
	tg := actions.Target{Name: "n", Method: "POST", URL: "http://h/", Body: actions.Body{Kind: actions.BodyText, Text: "a<NAME>"}}
	if _, err := actions.CurlCommand(tg, actions.Tags{Name: "\x00"}); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("err = %v, want one about the NUL byte", err)
	}
}

// A hand-set header that the target's auth sets too is sent with the auth's
// value (the auth overrides it), so the curl command sends it once, by the
// auth's own option.
func TestCurlCommandAuthHeaderOnce(t *testing.T) {
	tests := []struct {
		auth   actions.Auth
		header string
		want   string
	}{
		{actions.Auth{Kind: actions.AuthBearer, Token: "env:T"}, "Authorization", `"$` + actions.CurlTokenVar + `"`},
		{actions.Auth{Kind: actions.AuthAPIKey, Header: "X-Door", Key: "env:K"}, "X-Door", `"$` + actions.CurlAPIKeyVar + `"`},
	}
	for _, tt := range tests {
		tg := actions.Target{Name: "a", Method: "GET", URL: "https://example.com/", Auth: tt.auth,
			Headers: []actions.KV{{Key: tt.header, Value: "Bearer by-hand"}}}
		cmd, err := actions.CurlCommand(tg, actions.Tags{EID: "e1", Time: pressTime})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(cmd, tt.header+":"); got != 1 || !strings.Contains(cmd, tt.want) || strings.Contains(cmd, "by-hand") {
			t.Errorf("auth %s: %q appears %d times, want once, by %s:\n%s", tt.auth.Kind, tt.header, got, tt.want, cmd)
		}
	}
}
