package cli

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/app/server"
)

// TestBinaryInspectorWalkthrough is the seeds' "trying it out" step,
// offline: a new user turns the inspector on, points a target at it,
// presses the button and sees the request with `buttonhook inspect`; and
// `buttonhook server` says where the server is.
func TestBinaryInspectorWalkthrough(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	if _, errs, code := run(t, bin, "", "--data-dir", data, "server"); code != 1 || !strings.Contains(errs, "no Buttonhook is running") {
		t.Errorf("server with nothing running: exit %d, %s", code, errs)
	}
	if out, errs, code := run(t, bin, "", "--data-dir", data, "settings", "set", "server.inspector=true", "server.port="+strconv.Itoa(port)); code != 0 {
		t.Fatalf("settings set: exit %d\n%s%s", code, out, errs)
	}
	sim := startSim(t, bin)
	startInstance(t, bin, data, base+"/inspect/demo", sim, nil, "run")
	waitForSocket(t, data)

	var st server.Status
	for deadline := time.Now().Add(10 * time.Second); st.State != server.StateRunning; time.Sleep(50 * time.Millisecond) {
		out, errs, code := run(t, bin, "", "--data-dir", data, "server", "--json")
		if code != 0 {
			t.Fatalf("server --json: exit %d %s", code, errs)
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("server --json: %v\n%s", err, out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never ran: %+v", st)
		}
	}
	if st.URL != base || !st.Inspector || !strings.Contains(st.Reason, "inspector") {
		t.Errorf("status = %+v, want running at %s for the inspector", st, base)
	}
	out, _, _ := run(t, bin, "", "--data-dir", data, "server")
	if !strings.Contains(out, "running") || !strings.Contains(out, base+"/inspect/BIN") {
		t.Errorf("server:\n%s", out)
	}

	follow := exec.Command(bin, "--data-dir", data, "inspect", "demo")
	stdout, _ := follow.StdoutPipe()
	stderr, _ := follow.StderrPipe()
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	got, notes := collect(stdout), collect(stderr)
	notes.waitFor(t, 0, "Waiting for requests to "+base+"/inspect/demo")

	sim.do(t, "press 1")
	_, i := got.waitFor(t, 0, "POST /inspect/demo/hook")
	got.waitFor(t, i, `{"event":"pressed","id":"`)
	sim.out.waitFor(t, 0, "FLASH green") // the inspector answered 200

	follow.Process.Signal(syscall.SIGINT)
	if err := follow.Wait(); err != nil {
		t.Errorf("inspect after Ctrl-C: %v", err)
	}
	// What a request sends cannot reach the terminal as escape sequences.
	req, _ := http.NewRequest("POST", base+"/inspect/esc/%1b]0;pwned%07%1b[2J?q=%1b[31m", strings.NewReader("one\n\x1b[2Jtwo\tthree\r\n\u009b31m\u202efour"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("escape request: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	out, errs, code := run(t, bin, "", "--data-dir", data, "inspect", "--no-follow", "esc")
	if i := strings.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r < 0xa0 || r == '\u202e' }); code != 0 || i >= 0 {
		t.Errorf("inspect esc: exit %d, a control character at %d of\n%q\n%s", code, i, out, errs)
	}
	for _, want := range []string{"POST /inspect/esc/\\x1b]0;pwned\\x07\\x1b[2J?q=%1b[31m\n", "\none\n\\x1b[2Jtwo\tthree\\x0d\n\\u009b31m\\u202efour\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect esc:\n%s\nwant %q in it", out, want)
		}
	}

	out, errs, code = run(t, bin, "", "--data-dir", data, "inspect", "--no-follow", "--json", "demo")
	var q server.Inspected
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || q.Method != "POST" || q.Headers.Get("User-Agent") == "" {
		t.Errorf("inspect --no-follow --json: exit %d %s\n%s", code, errs, out)
	}
	if _, errs, code := run(t, bin, "", "--data-dir", data, "inspect"); code != 2 || !strings.Contains(errs, "give one bin name") {
		t.Errorf("inspect without a bin: exit %d %s", code, errs)
	}
}

// TestPrintStatus says where the server listens, or where it cannot.
func TestPrintStatus(t *testing.T) {
	since := time.Date(2026, 11, 23, 18, 2, 11, 0, time.UTC)
	for _, tc := range []struct {
		st         server.Status
		want, nope []string
	}{
		{server.Status{State: server.StateOff, Reason: "nothing needs it"},
			[]string{"State:", "off (nothing needs it)", "Inspector:", "off"}, []string{"Since:", "Listening", "listen on", "Problem:"}},
		{server.Status{State: server.StateRunning, Reason: "the inspector is on", Addr: "127.0.0.1:8735", URL: "http://127.0.0.1:8735", Inspector: true, Since: since},
			[]string{"running (the inspector is on)", "Since:", "Listening on:", "127.0.0.1:8735 (this machine only)", "Callbacks and API at:", "send requests to http://127.0.0.1:8735/inspect/BIN"},
			[]string{"Cannot", "Problem:"}},
		{server.Status{State: server.StateRunning, Addr: "[::]:8735", URL: "https://192.168.1.5:8735", LAN: true, Fingerprint: "AB:CD", Since: since},
			[]string{"Listening on:", "[::]:8735 (the local network too)", "HTTPS certificate SHA-256:", "AB:CD"}, []string{"Cannot"}},
		{server.Status{State: server.StateFailed, Reason: "target \"Deploy\" is async", Addr: "127.0.0.1:8735", Error: "port 8735 is in use by another program", Since: since},
			[]string{"failed (target \"Deploy\" is async)", "Problem:", "port 8735 is in use", "Cannot listen on:", "127.0.0.1:8735 (this machine only)"},
			[]string{"Listening on", "Callbacks and API at:"}},
	} {
		var b bytes.Buffer
		if err := printStatus(&b, tc.st); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("state %s: want %q in\n%s", tc.st.State, w, out)
			}
		}
		for _, n := range tc.nope {
			if strings.Contains(out, n) {
				t.Errorf("state %s: %q should not be in\n%s", tc.st.State, n, out)
			}
		}
	}
}

// TestPrintInspectedEscapes shows every field a sender chose with its
// control characters escaped, the body keeping its lines and tabs.
func TestPrintInspectedEscapes(t *testing.T) {
	at := time.Date(2026, 11, 23, 18, 5, 42, 117e6, time.Local)
	q := server.Inspected{Seq: 3, Time: at, Method: "POST\x1b[2J", Path: "/inspect/x/\x1b]0;t\x07", Query: "a=\x9b1m",
		Headers: http.Header{"X-Evil\x1b": {"v\x1b[31m\r\n\t", "\u202eabc"}}, Body: "l1\n\tl2\x1b[H\x7f\xff", Size: 12, Client: "127.0.0.1"}
	var b bytes.Buffer
	printInspected(&b, q)
	out := b.String()
	want := "#3  2026-11-23 18:05:42.117  from 127.0.0.1\n" +
		"POST\\x1b[2J /inspect/x/\\x1b]0;t\\x07?a=\\x9b1m\n" +
		"X-Evil\\x1b: v\\x1b[31m\\x0d\\x0a\\x09\n" +
		"X-Evil\\x1b: \\u202eabc\n" +
		"\nl1\n\tl2\\x1b[H\\x7f\\xff\n\n"
	if out != want {
		t.Errorf("printed\n%q\nwant\n%q", out, want)
	}
	if strings.ContainsAny(out, "\x1b\x07\r\x7f\u009b\u202e") {
		t.Errorf("control characters printed raw:\n%q", out)
	}
}
