package main

import (
	"log/slog"

	"github.com/buttonhook/buttonhook/device"
	"github.com/buttonhook/buttonhook/device/serial"
	"github.com/buttonhook/buttonhook/device/usb"
)

// drivers builds every device driver Buttonhook runs: BH1, Firmata and line
// devices on the serial ports the config names, and the USB driver (which,
// built with -tags nousb, finds nothing). The constructors start nothing;
// the engine gives the serial drivers their ports, and the runtime closes
// the USB driver after the engine's Manager has stopped.
func drivers(logger *slog.Logger) []device.Driver {
	return []device.Driver{
		serial.NewDriver(logger),
		serial.NewFirmataDriver(logger),
		serial.NewLinesDriver(logger),
		usb.NewDriver(logger),
	}
}
