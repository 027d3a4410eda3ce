//go:build !nousb

package main

import (
	"log/slog"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/usb"
)

// usbDrivers returns the USB driver (gousb, libusb).
func usbDrivers(logger *slog.Logger) []device.Driver {
	return []device.Driver{usb.NewDriver(logger)}
}
