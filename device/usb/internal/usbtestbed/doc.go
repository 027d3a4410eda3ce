// Package usbtestbed emulates Buttonhook's supported USB devices for libusb,
// in process, with umockdev: a UMockdevTestbed holds their sysfs entries and
// a usbdevfs ioctl handler written in C answers libusb's transfers the way
// each device does, records every byte the host writes, presses buttons and
// unplugs devices on request.
//
// It is built only with -tags umockdev (it needs cgo and libumockdev-dev),
// and a program using it must run under umockdev's preload library:
//
//	go test -tags umockdev -exec umockdev-wrapper ./device/usb/
//
// The testbed must exist before libusb starts (before the first
// gousb.NewContext), since libusb reads the device tree once at start and
// then follows uevents.
package usbtestbed
