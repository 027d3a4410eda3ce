package usb_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/usb"
)

// rgb are the colours of an RGB LED.
var rgb = []device.Color{device.Red, device.Green, device.Yellow, device.Blue, device.White}

func TestSupported(t *testing.T) {
	want := []usb.Model{
		{
			Name: "Delcom USB HID Visual Indicator", VID: 0x0fc5, PID: 0xb080, Buttons: 1,
			Colors: []device.Color{device.Green, device.Red, device.Yellow},
		},
		{Name: "Dream Cheeky Big Red Button", VID: 0x1d34, PID: 0x000d, Buttons: 1},
		{Name: "blink(1)", VID: 0x27b8, PID: 0x01ed, Colors: rgb, RGB: true},
		{Name: "Luxafor Flag", VID: 0x04d8, PID: 0xf372, Colors: rgb, RGB: true},
	}
	if got := usb.Supported(); !reflect.DeepEqual(got, want) {
		t.Errorf("Supported() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestSupportedIsACopy(t *testing.T) {
	ms := usb.Supported()
	ms[0].Name = "changed"
	ms[0].Colors[0] = "changed"
	if got := usb.Supported()[0]; got.Name == "changed" || got.Colors[0] == "changed" {
		t.Errorf("changing Supported's result changed the table: %+v", got)
	}
}

func TestModelID(t *testing.T) {
	m := usb.Model{VID: 0x1d34, PID: 0x000d}
	if got, want := m.ID(), "1d34:000d"; got != want {
		t.Errorf("ID() = %q, want %q", got, want)
	}
}

// TestTestdata checks that the hand-written umockdev testbeds agree with
// themselves (umockdev's format allows no comments to explain them): the
// descriptors are well formed and carry the IDs the attributes and udev
// properties say, and the bus number and address are the same everywhere.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.umockdev"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.umockdev: %v", err)
	}
	for _, file := range files {
		devs, err := readTestbed(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if err := d.check(); err != nil {
				t.Errorf("%s: %s: %v", file, d["P"], err)
			}
		}
	}
}

// testbedDevice is one device of a umockdev testbed, its lines keyed "P",
// "N", "E:NAME", "A:NAME" and "H:NAME".
type testbedDevice map[string]string

func readTestbed(file string) ([]testbedDevice, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var devs []testbedDevice
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		if line == "" {
			continue
		}
		kind, rest, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("%s: malformed line %q", file, line)
		}
		if kind == "P" {
			devs = append(devs, testbedDevice{})
		}
		if len(devs) == 0 {
			return nil, fmt.Errorf("%s: does not start with a P: line", file)
		}
		key := kind
		if kind == "E" || kind == "A" || kind == "H" {
			name, value, _ := strings.Cut(rest, "=")
			key, rest = kind+":"+name, value
		}
		devs[len(devs)-1][key] = strings.TrimSuffix(rest, `\n`)
	}
	return devs, s.Err()
}

func (d testbedDevice) check() error {
	b, err := hex.DecodeString(d["H:descriptors"])
	if err != nil {
		return fmt.Errorf("descriptors: %v", err)
	}
	if len(b) < 18+9 || b[0] != 18 || b[1] != 1 || b[18] != 9 || b[19] != 2 {
		return errors.New("descriptors do not start with a device and a configuration descriptor")
	}
	if total := int(binary.LittleEndian.Uint16(b[20:])); total != len(b)-18 {
		return fmt.Errorf("configuration wTotalLength %d, but %d bytes follow the device descriptor", total, len(b)-18)
	}
	vid := fmt.Sprintf("%04x", binary.LittleEndian.Uint16(b[8:]))
	pid := fmt.Sprintf("%04x", binary.LittleEndian.Uint16(b[10:]))
	bus, _ := strconv.Atoi(d["A:busnum"])
	dev, _ := strconv.Atoi(d["A:devnum"])
	node := fmt.Sprintf("bus/usb/%03d/%03d", bus, dev)
	for _, c := range []struct{ key, want string }{
		{"A:idVendor", vid}, {"E:ID_VENDOR_ID", vid},
		{"A:idProduct", pid}, {"E:ID_MODEL_ID", pid},
		{"E:BUSNUM", fmt.Sprintf("%03d", bus)}, {"E:DEVNUM", fmt.Sprintf("%03d", dev)},
		{"N", node}, {"E:DEVNAME", "/dev/" + node},
		{"E:DEVTYPE", "usb_device"}, {"E:SUBSYSTEM", "usb"},
	} {
		if got := d[c.key]; got != c.want {
			return fmt.Errorf("%s is %q, want %q", c.key, got, c.want)
		}
	}
	return nil
}

func ExampleList() {
	fs, err := usb.List(context.Background())
	if errors.Is(err, errors.ErrUnsupported) {
		fmt.Println("this build has no USB support")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fs {
		fmt.Printf("%s %s:%s on bus %d address %d\n", f.Model, f.VID, f.PID, f.Bus, f.Address)
	}
}
