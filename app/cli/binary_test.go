package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/storage"
)

// The tests in this file run the built binary as a user would: `buttonhook
// sim` in one process, `buttonhook run` (or the window) in another, a real
// webhook server, and `buttonhook log` to read the result.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "buttonhook-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "buttonhook")
		out, err := exec.Command("go", "build", "-o", binPath, "../..").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// lines collects a process's output lines and lets a test wait for one.
type lines struct {
	mu   sync.Mutex
	all  []string
	next chan struct{}
}

func collect(r io.Reader) *lines {
	l := &lines{next: make(chan struct{}, 1)}
	go func() { // ends at EOF, when the process exits
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			l.mu.Lock()
			l.all = append(l.all, sc.Text())
			l.mu.Unlock()
			select {
			case l.next <- struct{}{}:
			default:
			}
		}
	}()
	return l
}

// waitFor returns the first line at index >= from containing s, and its index.
func (l *lines) waitFor(t *testing.T, from int, s string) (string, int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		for i := from; i < len(l.all); i++ {
			if strings.Contains(l.all[i], s) {
				line := l.all[i]
				l.mu.Unlock()
				return line, i
			}
		}
		all := strings.Join(l.all, "\n")
		l.mu.Unlock()
		select {
		case <-l.next:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no line containing %q; got:\n%s", s, all)
		}
	}
}

type simProc struct {
	path  string
	stdin io.WriteCloser
	out   *lines
}

func startSim(t *testing.T, bin string) *simProc {
	t.Helper()
	cmd := exec.Command(bin, "sim", "--serial-number", "SIM-E2E")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	out := collect(stdout)
	path, _ := out.waitFor(t, 0, "/")
	return &simProc{path: path, stdin: stdin, out: out}
}

func (s *simProc) do(t *testing.T, cmd string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, bin string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func hookServer(t *testing.T) (*httptest.Server, chan string, func(int)) {
	var mu sync.Mutex
	status := 200
	got := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.URL.Path + " " + string(b)
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got, func(s int) { mu.Lock(); status = s; mu.Unlock() }
}

func configFor(url string) string {
	return fmt.Sprintf(`{"targets":[{"name":"Door bell","enabled":true,"method":"POST","url":%q,
	  "body":{"kind":"json","json":"{\"event\":\"<ETYPE>\",\"id\":\"<EID>\"}"}}],
	  "bindings":[{"button":1,"gesture":"press","target":"Door bell"}]}`, url+"/hook")
}

func attemptsJSON(t *testing.T, out string) []storage.Attempt {
	t.Helper()
	var as []storage.Attempt
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var a storage.Attempt
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		as = append(as, a)
	}
	return as
}

func expectPress(t *testing.T, sim *simProc, got chan string, from int, wantLED string) int {
	t.Helper()
	sim.do(t, "press 1")
	select {
	case r := <-got:
		if !strings.HasPrefix(r, `/hook {"event":"pressed","id":"`) {
			t.Errorf("server got %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook server got no request")
	}
	_, i := sim.out.waitFor(t, from, "LED 1 PULSE yellow")
	_, j := sim.out.waitFor(t, i+1, wantLED)
	return j + 1
}

// startInstance imports the door-bell config into data and starts Buttonhook
// on it with the simulator's port (the window when args is empty), returning
// once the simulated button is attached.
func startInstance(t *testing.T, bin, data, hookURL string, sim *simProc, env []string, args ...string) (*exec.Cmd, *lines) {
	t.Helper()
	if out, errs, code := run(t, bin, configFor(hookURL), "--data-dir", data, "targets", "import", "-"); code != 0 {
		t.Fatalf("targets import: exit %d\n%s%s", code, out, errs)
	}
	cmd := exec.Command(bin, append([]string{"--data-dir", data, "--serial", sim.path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	logs := collect(stderr)
	logs.waitFor(t, 0, "device attached")
	return cmd, logs
}

func TestBinaryHeadless(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	srv, got, setStatus := hookServer(t)
	sim := startSim(t, bin)

	cmd, logs := startInstance(t, bin, data, srv.URL, sim, nil, "run")

	next := expectPress(t, sim, got, 0, "LED 1 FLASH green")
	setStatus(500)
	expectPress(t, sim, got, next, "LED 1 FLASH red")
	// The headless instance reports each attempt on its log.
	if line, _ := logs.waitFor(t, 0, "msg=attempt status=Failed code=500"); !strings.Contains(line, `target="Door bell"`) {
		t.Errorf("attempt log line = %q, want the target named", line)
	}

	// While it runs, `buttonhook log` reads through the running instance.
	out, errs, code := run(t, bin, "", "--data-dir", data, "log", "--json")
	if code != 0 {
		t.Fatalf("log while running: exit %d: %s", code, errs)
	}
	as := attemptsJSON(t, out)
	if len(as) != 2 || as[0].Status != storage.StatusFailed || as[0].Code != 500 || as[1].Status != storage.StatusOK || as[1].Code != 200 {
		t.Fatalf("log = %+v, want Failed 500 then OK 200 (newest first)", as)
	}

	// test and fire reach the running instance too; the server still answers 500.
	out, errs, code = run(t, bin, "", "--data-dir", data, "test", "Door bell")
	if code != 1 || !strings.Contains(out, "FAILED  HTTP 500") || !strings.Contains(errs, "test of Door bell failed") {
		t.Errorf("test while running: exit %d\n%s%s", code, out, errs)
	}
	if r := <-got; !strings.HasPrefix(r, `/hook {"event":"test"`) {
		t.Errorf("test sent %q", r)
	}
	out, errs, code = run(t, bin, "", "--data-dir", data, "fire", "--json", "Door bell")
	var fired storage.Attempt
	if err := json.Unmarshal([]byte(out), &fired); code != 1 || err != nil || fired.Gesture != "manual" || fired.Code != 500 {
		t.Errorf("fire while running: exit %d, %+v (%v)\n%s", code, fired, err, errs)
	}
	if r := <-got; !strings.HasPrefix(r, `/hook {"event":"manual","id":"`+fired.ID) {
		t.Errorf("fire sent %q", r)
	}

	// SIGTERM stops it cleanly: LEDs off, exit 0, the log closed.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}
	sim.out.waitFor(t, 0, "LED 1 OFF")
	out, _, code = run(t, bin, "", "--data-dir", data, "log", "--json", "--limit", "1")
	if as := attemptsJSON(t, out); code != 0 || len(as) != 1 || as[0].ID != fired.ID || as[0].Status != storage.StatusFailed {
		t.Errorf("log after stop: exit %d, %+v, want the fired attempt", code, as)
	}
}

func TestBinaryTestAndFire(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	srv, got, setStatus := hookServer(t)
	if out, errs, code := run(t, bin, configFor(srv.URL), "--data-dir", data, "targets", "import", "-"); code != 0 {
		t.Fatalf("targets import: exit %d\n%s%s", code, out, errs)
	}

	out, errs, code := run(t, bin, "", "--data-dir", data, "test", "Door bell")
	if code != 0 || !strings.HasPrefix(out, "OK  HTTP 200  in ") {
		t.Errorf("test: exit %d\n%s%s", code, out, errs)
	}
	if r := <-got; !strings.HasPrefix(r, `/hook {"event":"test"`) {
		t.Errorf("test sent %q, want event type test", r)
	}
	out, _, _ = run(t, bin, "", "--data-dir", data, "log", "--json")
	if as := attemptsJSON(t, out); len(as) != 0 {
		t.Errorf("a test was logged: %+v", as)
	}

	out, errs, code = run(t, bin, "", "--data-dir", data, "fire", "Door bell")
	if code != 0 || !strings.HasPrefix(out, "OK  HTTP 200  in ") {
		t.Errorf("fire: exit %d\n%s%s", code, out, errs)
	}
	<-got
	setStatus(503)
	out, errs, code = run(t, bin, "", "--data-dir", data, "test", "--json", "Door bell")
	var rep struct {
		OK   bool `json:"ok"`
		Code int  `json:"code"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 1 || err != nil || rep.OK || rep.Code != 503 {
		t.Errorf("failing test: exit %d, %+v (%v)\n%s", code, rep, err, errs)
	}
	<-got
	out, _, _ = run(t, bin, "", "--data-dir", data, "log", "--json")
	if as := attemptsJSON(t, out); len(as) != 1 || as[0].Gesture != "manual" || as[0].Status != storage.StatusOK {
		t.Errorf("log = %+v, want the one fired attempt", as)
	}

	// The log's filters and exports.
	out, _, code = run(t, bin, "", "--data-dir", data, "log", "--csv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "manual") {
		t.Errorf("log --csv: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		n    int
	}{
		{[]string{"--status", "failed"}, 0},
		{[]string{"--status", "ok", "--target", "door bell", "--since", "today"}, 1},
		{[]string{"--grep", "/HOOK", "--sort", "code", "--asc"}, 1},
		{[]string{"--until", "2000-01-01"}, 0},
	} {
		out, errs, code := run(t, bin, "", append([]string{"--data-dir", data, "log", "--json"}, c.args...)...)
		if as := attemptsJSON(t, out); code != 0 || len(as) != c.n {
			t.Errorf("log --json %v: exit %d, %d attempts, want %d\n%s", c.args, code, len(as), c.n, errs)
		}
	}
	for _, args := range [][]string{{"--since", "someday"}, {"--status", "maybe"}, {"--csv", "--json"}} {
		if _, errs, code := run(t, bin, "", append([]string{"--data-dir", data, "log"}, args...)...); code != 2 {
			t.Errorf("log %v: exit %d, want 2 (usage)\n%s", args, code, errs)
		}
	}
	if _, errs, code := run(t, bin, "", "--data-dir", data, "log", "--sort", "colour"); code != 1 || !strings.Contains(errs, "colour") {
		t.Errorf("log --sort colour: exit %d, %s", code, errs)
	}

	out, errs, code = run(t, bin, "", "--data-dir", data, "targets", "delete", "door bell")
	if code != 0 || !strings.Contains(out, "deleted target") {
		t.Errorf("targets delete: exit %d\n%s%s", code, out, errs)
	}
	out, _, _ = run(t, bin, "", "--data-dir", data, "targets", "export")
	if strings.Contains(out, "Door bell") {
		t.Errorf("export after delete still has the target:\n%s", out)
	}
	for _, args := range [][]string{{"test", "Nope"}, {"fire", "Nope"}, {"targets", "delete", "Nope"}} {
		_, errs, code = run(t, bin, "", append([]string{"--data-dir", data}, args...)...)
		if code != 1 || !strings.Contains(errs, `no target named "Nope"`) {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
	for _, args := range [][]string{{"test"}, {"fire", "a", "b"}} {
		_, errs, code = run(t, bin, "", append([]string{"--data-dir", data}, args...)...)
		if code != 2 || !strings.Contains(errs, "NAME") {
			t.Errorf("%v: exit %d, %s; want usage", args, code, errs)
		}
	}
}

func TestBinaryExitCodes(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	tests := []struct {
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{[]string{"--version"}, "", 0, ""},
		{[]string{"-h"}, "", 0, "Usage:"},
		{[]string{"frobnicate"}, "", 2, "unknown command"},
		{[]string{"--no-such-flag"}, "", 2, "flag provided but not defined"},
		{[]string{"--data-dir", data, "log", "--limit", "0"}, "", 2, "--limit"},
		{[]string{"--data-dir", data, "targets", "import", "-"}, "{not json", 1, "line 1"},
		{[]string{"--data-dir", data, "targets", "import", "-"}, `{"targets":[{"name":"x/y","method":"GET","url":"ftp://h"}]}`, 1, "targets[0].url"},
		{[]string{"--data-dir", data, "targets", "list"}, "", 0, ""},
		{[]string{"--data-dir", data, "log", "extra"}, "", 2, "unexpected argument"},
		{[]string{"--data-dir", data, "log", "--bogus"}, "", 2, "flag provided but not defined"},
		{[]string{"--data-dir", data, "targets", "import", "-"}, `{"targets":[]} {"targets":[]}`, 1, "more than one JSON document"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errs, code := run(t, bin, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, tt.code, tt.stderr)
			}
		})
	}
}

// screenshot grabs the X display and counts its distinct colours and its
// bright green pixels (the colour of "OK" and of a connected device).
func screenshot(t *testing.T, display, path string) (colours, green int) {
	t.Helper()
	if out, err := exec.Command("import", "-display", display, "-window", "root", path).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[r<<16|g<<8|bl] = true
			if g > 150 && r < 130 && bl < 130 {
				green++
			}
		}
	}
	return len(seen), green
}

// TestBinaryWindow shows the real window under an X server (Xvfb, started by
// .ci/with-services), presses the simulated button, and checks the attempt is
// logged and its green "OK" row is drawn.
func TestBinaryWindow(t *testing.T) {
	display := os.Getenv("BUTTONHOOK_TEST_DISPLAY")
	if display == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("BUTTONHOOK_TEST_DISPLAY is not set: run the tests through make test")
		}
		t.Skip("no X display for the window test (make test starts Xvfb)")
	}
	bin := binary(t)
	data := t.TempDir()
	srv, got, _ := hookServer(t)
	sim := startSim(t, bin)
	cmd, _ := startInstance(t, bin, data, srv.URL, sim, []string{"DISPLAY=" + display, "LANG=en_US.UTF-8"})

	shot := filepath.Join(t.TempDir(), "shot.png")
	if keep := os.Getenv("BUTTONHOOK_SCREENSHOT"); keep != "" {
		shot = keep
	}
	// Poll until the window is drawn, showing the device as connected (green).
	var before int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		colours, green := screenshot(t, display, shot)
		if colours >= 20 && green > 0 {
			before = green
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window drawn: %d colours, %d green pixels", colours, green)
		}
	}

	expectPress(t, sim, got, 0, "LED 1 FLASH green")
	out, errs, code := run(t, bin, "", "--data-dir", data, "log", "--json")
	if as := attemptsJSON(t, out); code != 0 || len(as) != 1 || as[0].Status != storage.StatusOK {
		t.Fatalf("log from the window's instance: exit %d %s %+v", code, errs, as)
	}
	// The new row's green "OK" adds green pixels.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, green := screenshot(t, display, shot)
		if green >= before+30 {
			t.Logf("green pixels: %d before the press, %d after", before, green)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the OK row was not drawn: %d green pixels before the press, %d after", before, green)
		}
	}

	// SIGTERM closes the window cleanly: LEDs off, exit 0.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("window after SIGTERM: %v", err)
	}
	sim.out.waitFor(t, 0, "LED 1 OFF")
}
