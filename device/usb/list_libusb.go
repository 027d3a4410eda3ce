//go:build !nousb

package usb

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/google/gousb"
)

// List returns the supported devices attached to the USB bus, ordered by bus
// and address. Devices that are not in Supported are left out.
//
// It reads descriptors only and opens nothing, so it needs no access rights
// to the devices. It cannot be interrupted, so ctx is only checked before it
// starts. It takes 2 to 100 ms: closing the gousb context waits for gousb's
// event loop, which polls every 100 ms.
//
// When libusb cannot read some device's descriptors, List returns the
// supported devices it did read together with the error.
func List(ctx context.Context) ([]Found, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uc, err := openContext(gousb.NewContext)
	if err != nil {
		return nil, err
	}
	// Close fails only while devices are open, and List opens none.
	defer func() { _ = uc.Close() }()

	var fs []Found
	// The opener returns false for every device: gousb then opens none and
	// returns no Device, so there is nothing to close but the context.
	_, err = uc.OpenDevices(func(d *gousb.DeviceDesc) bool {
		if m, ok := lookup(uint16(d.Vendor), uint16(d.Product)); ok {
			fs = append(fs, found(m.Model, d.Bus, d.Address))
		}
		return false
	})
	slices.SortFunc(fs, func(a, b Found) int {
		return cmp.Or(cmp.Compare(a.Bus, b.Bus), cmp.Compare(a.Address, b.Address))
	})
	if err != nil {
		return fs, fmt.Errorf("list USB devices: %w", err)
	}
	return fs, nil
}

// openContext starts libusb with newContext (gousb.NewContext), which panics
// when libusb cannot start; openContext returns that as an error instead.
func openContext(newContext func() *gousb.Context) (c *gousb.Context, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		e, ok := r.(gousb.Error)
		if !ok {
			panic(r)
		}
		err = fmt.Errorf("list USB devices: libusb did not start (run with LIBUSB_DEBUG=4 to see why): %w", e)
	}()
	return newContext(), nil
}
