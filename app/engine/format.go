package engine

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/buttonhook/buttonhook/storage"
)

// FormatDuration writes how long an attempt or one of its phases took, the
// same way wherever a person reads it (the window, `buttonhook log`, `test`
// and `fire`): to the millisecond ("79ms", "1.235s"), and under a
// millisecond to a tenth of one ("0.4ms", "<0.1ms"), where rounding to the
// millisecond would say 0s or 1ms. JSON output keeps nanoseconds.
func FormatDuration(d time.Duration) string {
	switch tenths := d.Round(100 * time.Microsecond); {
	case d <= 0:
		return "0ms"
	case tenths == 0:
		return "<0.1ms"
	case tenths < time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(tenths)/float64(time.Millisecond))
	}
	return d.Round(time.Millisecond).String()
}

// FormatTiming writes an attempt's time with the phases that were measured:
// "79ms (connect 3ms, first byte 75ms)". A phase of 0 did not happen (a
// reused connection, plain HTTP) and is left out.
func FormatTiming(total, connect, tls, firstByte time.Duration) string {
	var phases []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"connect", connect}, {"TLS", tls}, {"first byte", firstByte}} {
		if p.d > 0 {
			phases = append(phases, p.name+" "+FormatDuration(p.d))
		}
	}
	if len(phases) == 0 {
		return FormatDuration(total)
	}
	return FormatDuration(total) + " (" + strings.Join(phases, ", ") + ")"
}

// Trigger says what started an attempt, for a person: "1 press · Door
// button" (button, gesture, device), or "fired by hand" for `buttonhook
// fire` and the window's Fire.
func Trigger(a storage.Attempt) string {
	if a.Gesture == string(Manual) {
		return "fired by hand"
	}
	return fmt.Sprintf("%d %s · %s", a.Button, a.Gesture, cmp.Or(a.DeviceName, a.DeviceID))
}
