package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportBoundaries keeps the shape of STYLE.md: only main and app/ui
// import Fyne, and device, actions and storage know nothing of each other or
// of the app.
func TestImportBoundaries(t *testing.T) {
	const mod = "github.com/buttonhook/buttonhook"
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, mod+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, _ := strings.Cut(line, ":")
		deps[pkg] = strings.Fields(list)
	}
	if len(deps) < 8 {
		t.Fatalf("go list found only %d packages: %v", len(deps), deps)
	}
	fyneAllowed := map[string]bool{mod: true, mod + "/app/ui": true}
	layer := func(p string) string {
		for _, l := range []string{"device", "actions", "storage", "app"} {
			if p == mod+"/"+l || strings.HasPrefix(p, mod+"/"+l+"/") {
				return l
			}
		}
		return ""
	}
	for pkg, ds := range deps {
		for _, d := range ds {
			if strings.HasPrefix(d, "fyne.io/") && !fyneAllowed[pkg] {
				t.Errorf("%s depends on %s: only main and app/ui may import Fyne", pkg, d)
				break
			}
			from, to := layer(pkg), layer(d)
			if from != "" && from != "app" && to != "" && to != from {
				t.Errorf("%s imports %s: device, actions and storage must not depend on each other or on app", pkg, d)
			}
		}
	}
	if !strings.Contains(strings.Join(deps[mod+"/app/ui"], " "), "fyne.io/fyne/v2") {
		t.Errorf("app/ui does not depend on Fyne: the check above would prove nothing")
	}

	// The headless build has no Fyne at all.
	out, err = exec.Command("go", "list", "-tags", "nogui", "-f", `{{join .Deps " "}}`, mod).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -tags nogui: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "fyne.io/") {
		t.Errorf("the nogui build of %s depends on Fyne", mod)
	}
}
