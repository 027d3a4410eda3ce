package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
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

	"github.com/buttonhook/buttonhook/actions"
	"github.com/buttonhook/buttonhook/app/engine"
	"github.com/buttonhook/buttonhook/storage"
)

// TestSecretsNeverLeak is the canary test. Distinctive secrets, used by
// targets of every auth kind with signing, go through a headless instance
// for a run of successes and failures of every kind (refused, broken,
// hanging, unreachable, redirected to another host). None may appear in the
// Badger files, `targets export`, `log --json`, the instance's log output,
// the command line's output and errors, or at the host a redirect leads to.
func TestSecretsNeverLeak(t *testing.T) {
	bin := binary(t)
	canaries := map[string]string{
		"BH_CANARY_BASIC":  "canary-basic-Q7wZ3kP9",
		"BH_CANARY_DIGEST": "canary-digest-H2mX8vL4",
		"BH_CANARY_BEARER": "canary-bearer-T5nR1cY6",
		"BH_CANARY_APIKEY": "canary-apikey-J9bF4sD2",
		"BH_CANARY_OAUTH":  "canary-oauth-client-K3pV7gN1",
		"BH_CANARY_WHSEC":  "whsec_" + base64.StdEncoding.EncodeToString([]byte("canary-signing-M6tA0eU8-32bytes!")),
	}
	const accessToken = "canary-access-token-W4yC2hB5"
	var env, needles []string
	for k, v := range canaries {
		env = append(env, k+"="+v)
		needles = append(needles, v, base64.StdEncoding.EncodeToString([]byte(v)))
	}
	needles = append(needles, accessToken, base64.StdEncoding.EncodeToString([]byte("door:"+canaries["BH_CANARY_BASIC"])))

	var otherMu sync.Mutex
	var otherSaw []string // what the host a redirect leads to received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		r.Header.Write(&b)
		otherMu.Lock()
		otherSaw = append(otherSaw, r.URL.String()+"\n"+b.String())
		otherMu.Unlock()
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"bearer","expires_in":3600}`, accessToken)
		case "/ok":
			if strings.HasPrefix(r.Header.Get("Authorization"), "Digest") || r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
				return
			}
			if r.URL.Query().Get("auth") == "digest" {
				w.Header().Set("WWW-Authenticate", `Digest realm="door", nonce="n0nce", qop="auth", algorithm=SHA-256`)
				w.WriteHeader(http.StatusUnauthorized)
			}
		case "/refused":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "something broke")
		case "/slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case "/away":
			http.Redirect(w, r, other.URL+"/landed", http.StatusFound)
		}
	}))
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()

	auths := map[string]actions.Auth{
		"basic":  {Kind: actions.AuthBasic, Username: "door", Password: "env:BH_CANARY_BASIC"},
		"digest": {Kind: actions.AuthDigest, Username: "door", Password: "env:BH_CANARY_DIGEST"},
		"bearer": {Kind: actions.AuthBearer, Token: "env:BH_CANARY_BEARER"},
		"apikey": {Kind: actions.AuthAPIKey, Key: "env:BH_CANARY_APIKEY"},
		"oauth":  {Kind: actions.AuthOAuth2, TokenURL: srv.URL + "/token", ClientID: "door", ClientSecret: "env:BH_CANARY_OAUTH"},
	}
	ends := map[string]string{"ok": srv.URL + "/ok", "refused": srv.URL + "/refused", "broken": srv.URL + "/broken",
		"slow": srv.URL + "/slow", "away": srv.URL + "/away", "dead": dead + "/nobody"}
	var cfg engine.Config
	for an, a := range auths {
		for en, u := range ends {
			cfg.Targets = append(cfg.Targets, actions.Target{Name: an + " " + en, Enabled: true, Method: "POST",
				URL: u + "?auth=" + an + "&id=<EID>", Auth: a, Timeout: 1, Follow: en == "away",
				Signing: actions.Signing{Secret: "env:BH_CANARY_WHSEC"}, Body: actions.Body{Kind: actions.BodyJSON, JSON: `{"id":"<EID>"}`}})
		}
	}
	file, _ := json.Marshal(cfg)
	data := t.TempDir()
	var outputs bytes.Buffer // everything the commands printed
	var outMu sync.Mutex
	runCmd := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"--data-dir", data, "--log-level", "debug"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		outMu.Lock()
		outputs.Write(out.Bytes())
		outMu.Unlock()
		if ee, ok := err.(*exec.ExitError); ok {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	if out, code := runCmd(string(file), "targets", "import", "-"); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	// Fire each once with no instance running, then through a running one.
	for _, tg := range cfg.Targets[:len(cfg.Targets)/2] { // one at a time: each opens the data directory
		runCmd("", "fire", tg.Name)
		runCmd("", "test", tg.Name)
	}
	inst := exec.Command(bin, "--data-dir", data, "--log-level", "debug", "run")
	inst.Env = append(os.Environ(), env...)
	var instLog bytes.Buffer
	inst.Stdout, inst.Stderr = &instLog, &instLog
	if err := inst.Start(); err != nil {
		t.Fatal(err)
	}
	defer inst.Process.Kill()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(data, "run", "control.sock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance never opened its control socket:\n%s", instLog.String())
		}
	}
	var wg sync.WaitGroup
	for _, tg := range cfg.Targets[len(cfg.Targets)/2:] { // together, through the instance
		wg.Add(1)
		go func() {
			defer wg.Done()
			runCmd("", "fire", "--json", tg.Name)
			runCmd("", "test", "--json", tg.Name)
		}()
	}
	wg.Wait()
	logJSON, _ := runCmd("", "log", "--json", "--limit", "1000")
	export, _ := runCmd("", "targets", "export")
	inst.Process.Signal(syscall.SIGTERM)
	inst.Wait()

	var as []storage.Attempt
	for _, l := range strings.Split(strings.TrimSpace(logJSON), "\n") {
		var a storage.Attempt
		if json.Unmarshal([]byte(l), &a) == nil {
			as = append(as, a)
		}
	}
	ok := 0
	for _, a := range as {
		if a.Status == storage.StatusOK {
			ok++
		}
	}
	if len(as) != len(cfg.Targets) || ok < len(auths) || len(as)-ok < 4*len(auths) || !strings.Contains(export, "basic broken") {
		t.Fatalf("%d attempts, %d OK, for %d targets: the run did not exercise successes and failures\n%s", len(as), ok, len(cfg.Targets), outputs.String())
	}
	places := map[string][]byte{"command output": outputs.Bytes(), "instance log": instLog.Bytes()}
	otherMu.Lock()
	places["the redirect's other host"] = []byte(strings.Join(otherSaw, "\n"))
	if len(otherSaw) == 0 {
		t.Errorf("no redirect reached the other host")
	}
	otherMu.Unlock()
	files := 0
	err := filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		places[path] = b
		files++
		return err
	})
	if err != nil || files < 3 {
		t.Fatalf("read the data directory: %d files, %v", files, err)
	}
	for where, b := range places {
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("secret %q leaked into %s", n, where)
			}
		}
	}
	t.Logf("%d attempts (%d OK), %d files, %d bytes of command output, %d bytes of instance log: no secret found",
		len(as), ok, files, outputs.Len(), instLog.Len())
}
