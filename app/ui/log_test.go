package ui

import (
	"testing"
	"time"
)

func TestFormatDateHidesCurrentYear(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local)
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 9, 8, 7, 0, time.Local), "09:08:07 Mar 4"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, time.Local), "23:59:59 Dec 31, 2025"},
	}
	for _, tt := range tests {
		if got := formatDate(tt.t, now); got != tt.want {
			t.Errorf("formatDate(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
