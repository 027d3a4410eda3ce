package secrets

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Tests of the real keyring run in a child process (the test binary re-run
// with childEnv set), because other tests replace go-keyring's provider with
// its mock for the whole process, and godbus caches its session bus
// connection for the whole process.
const childEnv = "BUTTONHOOK_SECRETS_TEST_CHILD"

func inChild() bool { return os.Getenv(childEnv) != "" }

// runInChild re-runs the current test alone in a child process whose
// environment is the parent's with env applied ("NAME=value" sets, "NAME"
// unsets), and fails t if the child's test fails or does not run. A non-empty
// wrapper is a command that runs the child as its arguments.
func runInChild(t *testing.T, wrapper []string, env ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	args := append(wrapper, exe, "-test.run="+strings.Join(parts, "/"), "-test.v", "-test.count=1", "-test.timeout=50s")
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = childEnviron(env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()+" ") {
		t.Fatalf("child test did not pass:\n%s", out)
	}
	t.Logf("child test output:\n%s", out)
}

func childEnviron(changes []string) []string {
	// GORACE: a race-enabled child would otherwise sleep 1 s at exit.
	env := append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	for _, c := range changes {
		name, _, _ := strings.Cut(c, "=")
		env = slicesDeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		if strings.Contains(c, "=") {
			env = append(env, c)
		}
	}
	return env
}

func slicesDeleteFunc(s []string, del func(string) bool) []string {
	out := s[:0:0]
	for _, e := range s {
		if !del(e) {
			out = append(out, e)
		}
	}
	return out
}

// TestSecretServiceReal stores, reads and deletes a secret in a real Secret
// Service. It runs when DBUS_SESSION_BUS_ADDRESS is set, for example under
//
//	dbus-run-session -- sh -c 'export XDG_RUNTIME_DIR=$(mktemp -d); eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"; exec go test ./storage/secrets/'
//
// and is skipped otherwise, except with CI=true, where it fails.
func TestSecretServiceReal(t *testing.T) {
	if !inChild() {
		if runtime.GOOS != "linux" {
			t.Skip("the real keyring test drives the Linux Secret Service")
		}
		if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("CI=true but DBUS_SESSION_BUS_ADDRESS is unset: run the tests under dbus-run-session with gnome-keyring unlocked (see this test's doc comment)")
			}
			t.Skip("DBUS_SESSION_BUS_ADDRESS is unset: no Secret Service to test against")
		}
		runInChild(t, nil)
		return
	}

	k := Keyring{}
	name := "buttonhook-test-" + rand.Text()
	t.Cleanup(func() { k.Delete(name) })

	if _, err := k.Get(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	values := []string{"first value", "second: ünïcødé ✓", strings.Repeat("x", MaxSize)}
	for _, v := range values {
		start := time.Now()
		if err := k.Set(name, v); err != nil {
			t.Fatalf("Set(%d bytes): %v", len(v), err)
		}
		setTime := time.Since(start)
		start = time.Now()
		got, err := k.Get(name)
		if err != nil || got != v {
			t.Fatalf("Get after Set(%d bytes) = %d bytes, %v; want the value set", len(v), len(got), err)
		}
		t.Logf("%d bytes: set %v, get %v", len(v), setTime, time.Since(start))
	}
	if got, err := NewSources().Get("keyring:" + name); err != nil || got != values[len(values)-1] {
		t.Errorf("Sources.Get(keyring:...) = %d bytes, %v; want the value set", len(got), err)
	}
	if err := k.Delete(name); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if err := k.Delete(name); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(missing) error = %v, want ErrNotFound", err)
	}
}

// TestKeyringUnavailable checks that without a Secret Service, Get and Set
// fail promptly with ErrUnavailable and a message that says what to do.
func TestKeyringUnavailable(t *testing.T) {
	if !inChild() && runtime.GOOS != "linux" {
		t.Skip("the D-Bus environment is Linux's")
	}
	tests := []struct {
		name string
		// setup returns a wrapper command and environment changes for the child.
		setup   func(t *testing.T) (wrapper, env []string)
		wantFix string
	}{
		{"bogus bus address", func(t *testing.T) ([]string, []string) {
			return nil, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent"}
		}, fixNoService},
		{"no bus address and no dbus-launch", func(t *testing.T) ([]string, []string) {
			empty := t.TempDir()
			return nil, []string{"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "PATH=" + empty, "XDG_RUNTIME_DIR=" + empty}
		}, fixNoService},
		{"bus without a Secret Service", func(t *testing.T) ([]string, []string) {
			return nil, []string{"DBUS_SESSION_BUS_ADDRESS=" + startBareBus(t)}
		}, fixNoService},
		{"locked keyring", func(t *testing.T) ([]string, []string) {
			// A fresh gnome-keyring, not unlocked, on a private bus: its
			// login keyring cannot be unlocked without a desktop prompt.
			for _, cmd := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
				if _, err := exec.LookPath(cmd); err != nil {
					t.Skipf("%s is not installed", cmd)
				}
			}
			wrapper := []string{"dbus-run-session", "--", "sh", "-c",
				`eval "$(gnome-keyring-daemon --start --components=secrets)" && exec "$0" "$@"`}
			return wrapper, []string{"DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR=" + t.TempDir(), "XDG_DATA_HOME=" + t.TempDir()}
		}, fixLocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !inChild() {
				wrapper, env := tt.setup(t)
				runInChild(t, wrapper, env...)
				return
			}
			const value = "s3cr3t-value"
			k := Keyring{}
			_, getErr := k.Get("buttonhook-test-unavailable")
			setErr := k.Set("buttonhook-test-unavailable", value)
			for op, err := range map[string]error{"Get": getErr, "Set": setErr} {
				t.Logf("%s: %v", op, err)
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s error = %v, want one wrapping ErrUnavailable", op, err)
				}
				if !strings.Contains(err.Error(), tt.wantFix) {
					t.Errorf("%s error = %q, want it to contain %q", op, err, tt.wantFix)
				}
				if strings.Contains(err.Error(), value) {
					t.Errorf("%s error = %q contains the secret", op, err)
				}
			}
		})
	}
}

// startBareBus starts a private D-Bus session bus that provides no services
// and returns its address; it skips t if dbus-daemon is not installed.
func startBareBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("dbus-daemon printed no address: %v\n%s", lines.Err(), stderr.Bytes())
	}
	return strings.TrimSpace(lines.Text())
}
