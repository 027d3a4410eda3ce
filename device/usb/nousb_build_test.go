//go:build !nousb

package usb_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoUSBBuild checks the -tags nousb variant, which cannot run in this
// build: it vets it without cgo for Linux, Windows and macOS, and builds and
// runs its tests (List and the Driver) without cgo.
func TestNoUSBBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{[]string{"GOOS=linux"}, []string{"vet", "-tags", "nousb", "."}},
		{[]string{"GOOS=windows"}, []string{"vet", "-tags", "nousb", "."}},
		{[]string{"GOOS=darwin"}, []string{"vet", "-tags", "nousb", "."}},
		{nil, []string{"test", "-tags", "nousb", "-count=1", "-run", "^Test(List|Driver)NoUSB$", "."}},
	} {
		env := append([]string{"CGO_ENABLED=0"}, c.env...)
		cmd := exec.CommandContext(t.Context(), goTool, c.args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "no tests to run") {
			t.Errorf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(c.args, " "), err, out)
		}
	}
}
