package usb

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestUdevRulesCoverSupported keeps packaging/linux/60-buttonhook.rules in
// step with the table: every supported device gets uaccess for its USB node
// and its hidraw node.
func TestUdevRulesCoverSupported(t *testing.T) {
	b, err := os.ReadFile("../../packaging/linux/60-buttonhook.rules")
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	for _, m := range Supported() {
		for _, sub := range []string{"usb", "hidraw"} {
			want := fmt.Sprintf(`SUBSYSTEM=="%s", ATTRS{idVendor}=="%04x", ATTRS{idProduct}=="%04x", TAG+="uaccess"`, sub, m.VID, m.PID)
			if !strings.Contains(rules, want) {
				t.Errorf("rules lack %s for %s:\n%s", sub, m.Name, want)
			}
		}
	}
}
