package usb

import (
	"errors"
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/device"
)

func TestParseDreamCheeky(t *testing.T) {
	for _, c := range []struct {
		b    byte
		want dreamCheekyStatus
	}{
		{0x15, dreamCheekyStatus{}},                             // lid closed
		{0x17, dreamCheekyStatus{LidOpen: true}},                // lid open, button up
		{0x16, dreamCheekyStatus{Pressed: true, LidOpen: true}}, // pressed
		{0x14, dreamCheekyStatus{Pressed: true}},
	} {
		got, err := parseDreamCheeky([]byte{c.b, 0, 0, 0, 0, 0, 0, 0})
		if err != nil || got != c.want {
			t.Errorf("parseDreamCheeky(%#x) = %+v, %v; want %+v", c.b, got, err, c.want)
		}
	}
	for _, b := range [][]byte{nil, {0x00}, {0x1f}} {
		if _, err := parseDreamCheeky(b); err == nil {
			t.Errorf("parseDreamCheeky(% x) = nil error, want one", b)
		}
	}
}

func TestParseDelcomFirmware(t *testing.T) {
	got, err := parseDelcomFirmware([]byte{0x40, 0xe2, 0x01, 0x00, 58, 15, 7, 13})
	want := delcomFirmware{Serial: 123456, Version: 58, Year: 2013, Month: 7, Day: 15}
	if err != nil || got != want || got.String() != "58 (2013-07-15)" {
		t.Errorf("parseDelcomFirmware = %+v (%s), %v; want %+v", got, got, err, want)
	}
	if _, err := parseDelcomFirmware([]byte{1, 2}); err == nil {
		t.Error("short firmware report: nil error, want one")
	}
}

func TestDelcomPressed(t *testing.T) {
	for b, want := range map[byte]bool{0xff: false, 0xfe: true, 0x00: true, 0x01: false} {
		if got, err := delcomPressed([]byte{b}); err != nil || got != want {
			t.Errorf("delcomPressed(%#x) = %v, %v; want %v", b, got, err, want)
		}
	}
}

// TestDelcomTicks covers the clamping of flash-clock times.
func TestDelcomTicks(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		lo, hi uint8
		want   uint8
	}{
		{1500 * time.Millisecond, 1, 254, 150},
		{5 * time.Second, 1, 254, 254},
		{time.Millisecond, 1, 254, 1},
		{14 * time.Millisecond, 1, 255, 1},
		{15 * time.Millisecond, 1, 255, 2},
	} {
		if got := delcomTicks(c.d, c.lo, c.hi); got != c.want {
			t.Errorf("delcomTicks(%v, %d, %d) = %d, want %d", c.d, c.lo, c.hi, got, c.want)
		}
	}
}

func TestBlink1Fade(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want []byte
	}{
		{0, []byte{1, 'n', 1, 2, 3, 0, 0, 0}},
		{100 * time.Millisecond, []byte{1, 'c', 1, 2, 3, 0, 10, 0}},
		{5 * time.Second, []byte{1, 'c', 1, 2, 3, 0x01, 0xf4, 0}},
		{time.Hour, []byte{1, 'c', 1, 2, 3, 0xff, 0xff, 0}},
	} {
		r := blink1Fade(1, 2, 3, c.d)
		if r.reqType != 0x21 || r.req != 0x09 || r.value != 0x0301 || string(r.data) != string(c.want) {
			t.Errorf("blink1Fade(%v) = %v, want 21 09 0301 0000 % x", c.d, r, c.want)
		}
	}
}

func TestCandidateKey(t *testing.T) {
	k := candidateKey(1, 5, []int{1, 2})
	if k != "usb:1-1.2@5" {
		t.Errorf("candidateKey = %q", k)
	}
	bus, addr, err := parseKey(k)
	if err != nil || bus != 1 || addr != 5 {
		t.Errorf("parseKey(%q) = %d, %d, %v", k, bus, addr, err)
	}
	for _, bad := range []string{"", "usb:", "usb:1-1", "serial:/dev/ttyACM0", "usb:x-1@5", "usb:1-1@y"} {
		if _, _, err := parseKey(bad); err == nil {
			t.Errorf("parseKey(%q) = nil error, want one", bad)
		}
	}
}

func TestPlanLEDNoLEDs(t *testing.T) {
	if _, err := planLED(kindDreamCheeky, device.LEDBusy); err == nil {
		t.Error("planLED for the Dream Cheeky = nil error, want one")
	}
	if _, err := planLED(kindBlink1, device.LED{Mode: device.LEDOn, Color: "purple"}); err == nil || errors.Is(err, device.ErrGone) {
		t.Errorf("planLED(purple) = %v, want an unknown-colour error", err)
	}
}
