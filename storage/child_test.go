package storage

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// The test binary re-runs itself as a child process for the tests that need
// two processes; childEnv selects what the child does.
const (
	childEnv    = "BUTTONHOOK_STORAGE_TEST_CHILD"
	childDirEnv = "BUTTONHOOK_STORAGE_TEST_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		code := m.Run()
		removeBigLog()
		os.Exit(code)
	case "hold":
		os.Exit(childHold(os.Getenv(childDirEnv)))
	case "durable":
		os.Exit(childDurable(os.Getenv(childDirEnv)))
	case "write":
		os.Exit(childWrite(os.Getenv(childDirEnv)))
	default:
		fmt.Fprintf(os.Stderr, "unknown %s=%q\n", childEnv, os.Getenv(childEnv))
		os.Exit(2)
	}
}

// startChild starts the test binary as a child doing what, on dir.
func startChild(t *testing.T, what, dir string) (cmd *exec.Cmd, stdin io.WriteCloser, stdout *bufio.Scanner) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd = newChildCmd(exe, what, dir)
	if stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stdin, bufio.NewScanner(out)
}

// newChildCmd returns the command that runs the test binary exe as a child
// doing what, on dir.
func newChildCmd(exe, what, dir string) *exec.Cmd {
	cmd := exec.Command(exe)
	// GORACE: a race-enabled child would otherwise sleep 1 s at exit.
	cmd.Env = append(os.Environ(), childEnv+"="+what, childDirEnv+"="+dir, "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	return cmd
}

// childHold opens dir, says "ready" and keeps it open until stdin closes.
func childHold(dir string) int {
	db, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	if err := db.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
