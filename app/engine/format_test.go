package engine

import (
	"testing"
	"time"

	"github.com/buttonhook/buttonhook/storage"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Millisecond, "0ms"},
		{0, "0ms"},
		{30 * time.Microsecond, "<0.1ms"},
		{49 * time.Microsecond, "<0.1ms"},
		{50 * time.Microsecond, "0.1ms"},
		{200 * time.Microsecond, "0.2ms"},
		{437 * time.Microsecond, "0.4ms"},
		{700 * time.Microsecond, "0.7ms"},
		{949 * time.Microsecond, "0.9ms"},
		{960 * time.Microsecond, "1ms"},
		{time.Millisecond, "1ms"},
		{1200 * time.Microsecond, "1ms"},
		{79*time.Millisecond + 400*time.Microsecond, "79ms"},
		{999600 * time.Microsecond, "1s"},
		{1234567 * time.Microsecond, "1.235s"},
		{62*time.Second + 345*time.Millisecond, "1m2.345s"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestFormatTiming(t *testing.T) {
	const us = time.Microsecond
	tests := []struct {
		name                       string
		total, connect, tls, first time.Duration
		want                       string
	}{
		{"nothing measured", 0, 0, 0, 0, "0ms"},
		{"a reused connection", 3 * time.Millisecond, 0, 0, 2 * time.Millisecond, "3ms (first byte 2ms)"},
		{"plain HTTP, sub-millisecond", 1200 * us, 100 * us, 0, 1100 * us, "1ms (connect 0.1ms, first byte 1ms)"},
		{"HTTPS", 79 * time.Millisecond, 3 * time.Millisecond, 12 * time.Millisecond, 75 * time.Millisecond, "79ms (connect 3ms, TLS 12ms, first byte 75ms)"},
		{"no phases", 700 * us, 0, 0, 0, "0.7ms"},
	}
	for _, tt := range tests {
		if got := FormatTiming(tt.total, tt.connect, tt.tls, tt.first); got != tt.want {
			t.Errorf("%s: FormatTiming = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTrigger(t *testing.T) {
	for _, tt := range []struct {
		a    storage.Attempt
		want string
	}{
		{storage.Attempt{Button: 2, Gesture: "long", DeviceName: "Door button", DeviceID: "serial:X"}, "2 long · Door button"},
		{storage.Attempt{Button: 1, Gesture: "press", DeviceID: "serial:X"}, "1 press · serial:X"},
		{storage.Attempt{Gesture: string(Manual)}, "fired by hand"},
	} {
		if got := Trigger(tt.a); got != tt.want {
			t.Errorf("Trigger(%+v) = %q, want %q", tt.a, got, tt.want)
		}
	}
}
