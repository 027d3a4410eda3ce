package serial

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/buttonhook/buttonhook/device"
)

func TestDriverName(t *testing.T) {
	if got, want := NewDriver(nil).Name(), "serial"; got != want {
		t.Errorf("Name() = %q; want %q", got, want)
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	there := filepath.Join(dir, "ttyACM0")
	if err := os.WriteFile(there, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "ttyACM1")

	d := NewDriver(nil)
	got, err := d.Scan(t.Context())
	if err != nil || len(got) != 0 {
		t.Errorf("Scan() with no ports = %v, %v; want nothing", got, err)
	}

	ports := []string{missing, there}
	d.SetPorts(ports)
	ports[0] = "changed by the caller"
	if got, want := d.Ports(), []string{missing, there}; !reflect.DeepEqual(got, want) {
		t.Errorf("Ports() = %q; want %q (a copy of what was set)", got, want)
	}
	got, err = d.Scan(t.Context())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if want := []device.Candidate{{Key: there, Driver: "serial"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Scan() = %+v; want %+v", got, want)
	}

	if err := os.WriteFile(missing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ = d.Scan(t.Context())
	if len(got) != 2 {
		t.Errorf("Scan() after the second port appeared = %+v; want 2 candidates", got)
	}
}

// TestSetPortsWhileScanning is for the race detector.
func TestSetPortsWhileScanning(t *testing.T) {
	d := NewDriver(nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				if i%2 == 0 {
					d.SetPorts([]string{fmt.Sprintf("/dev/ttyNONE%d", j)})
				} else if _, err := d.Scan(context.Background()); err != nil {
					t.Errorf("Scan: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestOpenWrongDriver(t *testing.T) {
	_, err := NewDriver(nil).Open(t.Context(), device.Candidate{Key: "/dev/ttyACM0", Driver: "usb"})
	if err == nil || !strings.Contains(err.Error(), `"usb"`) {
		t.Errorf("Open(usb candidate) = %v; want an error naming the other driver", err)
	}
}

func TestOpenError(t *testing.T) {
	tests := []struct {
		err    error
		is     error
		want   string // the whole message, or a part with "..."
		prefix bool
	}{
		{
			err: syscall.EACCES, is: fs.ErrPermission,
			want: "permission denied on /dev/ttyACM0: add your user to the dialout group " +
				"(sudo usermod -aG dialout $USER, then log in again), or install the udev rules",
		},
		{
			err: fmt.Errorf("open: %w", syscall.ENOENT), is: fs.ErrNotExist, prefix: true,
			want: "serial port /dev/ttyACM0 not found: check that the device is plugged in",
		},
		{err: syscall.EIO, is: syscall.EIO, want: "open /dev/ttyACM0: input/output error"},
	}
	for _, tt := range tests {
		got := openError("/dev/ttyACM0", tt.err)
		if !errors.Is(got, tt.is) {
			t.Errorf("openError(%v) = %v; want it to wrap %v", tt.err, got, tt.is)
		}
		if msg := got.Error(); msg != tt.want && !(tt.prefix && strings.HasPrefix(msg, tt.want)) {
			t.Errorf("openError(%v) = %q; want %q", tt.err, msg, tt.want)
		}
	}
}

func TestListPorts(t *testing.T) {
	ports, err := ListPorts()
	if err != nil {
		t.Fatalf("ListPorts: %v", err)
	}
	for _, p := range ports {
		if p.Path == "" {
			t.Errorf("ListPorts gave a port without a path: %+v", p)
		}
		if !p.USB && (p.VID != "" || p.PID != "") {
			t.Errorf("ListPorts gave USB IDs for a port that is not USB: %+v", p)
		}
	}
	t.Logf("%d serial ports: %+v", len(ports), ports)
}
