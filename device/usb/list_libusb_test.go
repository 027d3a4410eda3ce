//go:build !nousb

package usb_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/usb"
	"github.com/google/gousb"
)

// testbedEnv names, in the child process that runs under umockdev-run, the
// testbed it runs in.
const testbedEnv = "BUTTONHOOK_USB_TESTBED"

// TestListUmockdev runs List, through unmodified gousb and libusb, against
// USB devices emulated by umockdev: testdata/NAME.umockdev holds the sysfs
// attributes, udev properties and descriptors of each device (see
// testdata/README.md).
//
// umockdev's preload library must be in the process from its start, so the
// test runs its own test binary again under
//
//	umockdev-run --device testdata/NAME.umockdev -- TESTBINARY -test.run '^TestListUmockdev$/^NAME$'
//
// with BUTTONHOOK_USB_TESTBED=NAME, and the child makes the checks.
func TestListUmockdev(t *testing.T) {
	tests := []struct {
		name string
		want []usb.Found
		// others are devices in the testbed that libusb must see and List
		// must leave out.
		others []string
	}{{
		name: "delcom-keyboard",
		want: []usb.Found{{
			Model: "Delcom USB HID Visual Indicator", VID: "0fc5", PID: "b080",
			Bus: 1, Address: 5, Buttons: 1,
			Colors: []device.Color{device.Green, device.Red, device.Yellow},
		}},
		others: []string{"046d:c31c"}, // a Logitech keyboard
	}, {
		name: "supported-all",
		want: []usb.Found{{
			Model: "blink(1)", VID: "27b8", PID: "01ed",
			Bus: 2, Address: 4, Colors: rgb,
		}, {
			Model: "Dream Cheeky Big Red Button", VID: "1d34", PID: "000d",
			Bus: 2, Address: 7, Buttons: 1,
		}, {
			Model: "Luxafor Flag", VID: "04d8", PID: "f372",
			Bus: 3, Address: 2, Colors: rgb,
		}},
		others: []string{"1d6b:0002"}, // the root hub of bus 2
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch os.Getenv(testbedEnv) {
			case "":
				runInTestbed(t, tt.name)
				return
			case tt.name:
			default:
				t.Skip("not this child's testbed")
			}
			if os.Getenv("UMOCKDEV_DIR") == "" {
				t.Fatal("the child runs outside umockdev: UMOCKDEV_DIR is not set")
			}

			// libusb sees every device of the testbed, so what List
			// leaves out it leaves out on purpose.
			seen := enumerate(t)
			for _, f := range tt.want {
				if id := f.VID + ":" + f.PID; !seen[id] {
					t.Errorf("libusb did not enumerate %s; it saw %v", id, seen)
				}
			}
			for _, id := range tt.others {
				if !seen[id] {
					t.Errorf("libusb did not enumerate %s; it saw %v", id, seen)
				}
			}

			got, err := usb.List(t.Context())
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// enumerate returns the "vid:pid" of every device libusb lists.
func enumerate(t *testing.T) map[string]bool {
	t.Helper()
	c := gousb.NewContext()
	defer func() { _ = c.Close() }()
	seen := map[string]bool{}
	if _, err := c.OpenDevices(func(d *gousb.DeviceDesc) bool {
		seen[d.Vendor.String()+":"+d.Product.String()] = true
		return false
	}); err != nil {
		t.Fatalf("enumerate with gousb: %v", err)
	}
	return seen
}

// runInTestbed runs this test binary's subtest TestListUmockdev/name under
// umockdev-run with testdata/name.umockdev and fails when it does not pass.
func runInTestbed(t *testing.T, name string) {
	t.Helper()
	run, err := exec.LookPath("umockdev-run")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("umockdev-run is required in CI: %v", err)
		}
		t.Skipf("umockdev-run not found (%v): install umockdev (apt-get install umockdev) to run this test", err)
	}
	testbed, err := filepath.Abs(filepath.Join("testdata", name+".umockdev"))
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pattern := "^TestListUmockdev$/^" + regexp.QuoteMeta(name) + "$"
	cmd := exec.CommandContext(ctx, run, "--device", testbed, "--",
		self, "-test.run", pattern, "-test.v", "-test.count=1", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), testbedEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	if pass := "--- PASS: TestListUmockdev/" + name + " "; !strings.Contains(string(out), pass) {
		t.Fatalf("%s: output lacks %q:\n%s", cmd, pass, out)
	}
	t.Logf("%s:\n%s", cmd, out)
}

func TestListCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err := usb.List(ctx)
	if !errors.Is(err, context.Canceled) || got != nil {
		t.Errorf("List(canceled) = %v, %v; want nil, context.Canceled", got, err)
	}
}

// TestListHost runs List on this machine's real bus, whatever is on it: it
// must not fail, and must list supported devices only.
func TestListHost(t *testing.T) {
	got, err := usb.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, f := range got {
		if !isSupported(f.VID + ":" + f.PID) {
			t.Errorf("List returned %+v, which is not in Supported", f)
		}
	}
	t.Logf("supported devices on this machine: %+v", got)
}

func isSupported(id string) bool {
	for _, m := range usb.Supported() {
		if m.ID() == id {
			return true
		}
	}
	return false
}
