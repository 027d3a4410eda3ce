package cli

import (
	"encoding/json"
	"net"
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
	out, errs, code := run(t, bin, "", "--data-dir", data, "inspect", "--no-follow", "--json", "demo")
	var q server.Inspected
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || q.Method != "POST" || q.Headers.Get("User-Agent") == "" {
		t.Errorf("inspect --no-follow --json: exit %d %s\n%s", code, errs, out)
	}
	if _, errs, code := run(t, bin, "", "--data-dir", data, "inspect"); code != 2 || !strings.Contains(errs, "give one bin name") {
		t.Errorf("inspect without a bin: exit %d %s", code, errs)
	}
}
