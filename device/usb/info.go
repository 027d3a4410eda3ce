package usb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/buttonhook/buttonhook/device"
)

// DriverName is the USB driver's name in Candidates and Infos.
const DriverName = "usb"

// portPath names where a device is plugged in as Linux's sysfs does: the
// bus, then the port numbers from the root hub ("1-1.2"). It stays the same
// when the device is plugged into the same port again.
func portPath(bus int, ports []int) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(bus))
	for i, p := range ports {
		if i == 0 {
			b.WriteByte('-')
		} else {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}

// candidateKey identifies an attached device while it stays plugged in:
// its port path and its bus address, which changes on every plug-in
// ("usb:1-1.2@5").
func candidateKey(bus, address int, ports []int) string {
	return fmt.Sprintf("usb:%s@%d", portPath(bus, ports), address)
}

// parseKey returns the bus and address of a candidate key.
func parseKey(key string) (bus, address int, err error) {
	rest, ok := strings.CutPrefix(key, "usb:")
	path, addr, ok2 := strings.Cut(rest, "@")
	busText, _, _ := strings.Cut(path, "-")
	bus, err1 := strconv.Atoi(busText)
	address, err2 := strconv.Atoi(addr)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("malformed USB candidate key %q: want usb:BUS-PORTS@ADDRESS", key)
	}
	return bus, address, nil
}

// deviceInfo describes an open device of model m. Its ID is the model and
// the serial number when there is one ("usb:27b8:01ed:2000AB12"), else the
// model and the port path ("usb:1d34:000d@1-1.2"), both stable across
// reconnects.
func deviceInfo(m Model, path, serial, firmware string) device.Info {
	id := DriverName + ":" + m.ID() + "@" + path
	if serial != "" {
		id = DriverName + ":" + m.ID() + ":" + serial
	}
	return device.Info{
		ID:       id,
		Driver:   DriverName,
		Path:     path,
		Model:    m.Name,
		Firmware: firmware,
		Serial:   serial,
		Buttons:  m.Buttons,
		Colors:   slices.Clone(m.Colors),
	}
}

// identify asks a device what the descriptors do not say: the Delcom's
// serial number and firmware, which it reports in feature report 10 (it
// has no USB serial number string). It returns the serial and firmware
// unchanged for the other models.
func identify(ctx context.Context, t transport, k kind, serial, firmware string) (string, string, error) {
	if k != kindDelcom {
		return serial, firmware, nil
	}
	r := getFeature(delcomReadFirmware, 8)
	if _, err := t.control(ctx, r); err != nil {
		return "", "", fmt.Errorf("read firmware: %w", err)
	}
	fw, err := parseDelcomFirmware(r.data)
	if err != nil {
		return "", "", err
	}
	if serial == "" && fw.Serial != 0 {
		serial = strconv.FormatUint(uint64(fw.Serial), 10)
	}
	return serial, fw.String(), nil
}
