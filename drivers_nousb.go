//go:build nousb

package main

import (
	"log/slog"

	"github.com/buttonhook/buttonhook/device"
)

// usbDrivers returns no driver: this build has no USB support (-tags
// nousb); `buttonhook devices` says so.
func usbDrivers(logger *slog.Logger) []device.Driver { return nil }
