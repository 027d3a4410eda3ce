//go:build umockdev

package usbtestbed

/*
#cgo pkg-config: umockdev-1.0
#include <stdlib.h>
#include "handler.h"
*/
import "C"

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Kind is the protocol an emulated device speaks.
type Kind int

// The emulated models.
const (
	Delcom      Kind = C.BH_DELCOM      // 0fc5:b080, switch and three LEDs on feature reports
	DreamCheeky Kind = C.BH_DREAMCHEEKY // 1d34:000d, status on the interrupt IN endpoint
	Blink1      Kind = C.BH_BLINK1      // 27b8:01ed, feature report 1
	Luxafor     Kind = C.BH_LUXAFOR     // 04d8:f372, interrupt OUT endpoint 1
)

// ids are the vendor and product IDs of each kind.
var ids = map[Kind][2]uint16{
	Delcom:      {0x0fc5, 0xb080},
	DreamCheeky: {0x1d34, 0x000d},
	Blink1:      {0x27b8, 0x01ed},
	Luxafor:     {0x04d8, 0xf372},
}

// Spec describes a device to add.
type Spec struct {
	Kind    Kind
	Bus     int // 1 to 127
	Address int // 1 to 127, unique on its bus
	Port    int // port on the root hub: the device is "Bus-Port"
	// Serial is the USB serial number string; "" for none.
	Serial string
	// FirmwareSerial is the Delcom's serial number in its firmware report.
	FirmwareSerial uint32
}

// Testbed is an in-process umockdev testbed. Only one may exist at a time
// (umockdev redirects the whole process to it).
type Testbed struct {
	tb   *C.UMockdevTestbed
	mu   sync.Mutex
	devs []*Device
}

// New starts a testbed. It fails unless the process runs under umockdev's
// preload library (umockdev-wrapper).
func New() (*Testbed, error) {
	if !strings.Contains(os.Getenv("LD_PRELOAD"), "libumockdev-preload") {
		return nil, errors.New("not running under umockdev: run the tests with -exec umockdev-wrapper")
	}
	return &Testbed{tb: C.umockdev_testbed_new()}, nil
}

// Close removes the testbed. Devices opened through libusb must be closed
// first. It is safe to call twice.
func (tb *Testbed) Close() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.tb == nil {
		return
	}
	C.g_object_unref(C.gpointer(unsafe.Pointer(tb.tb)))
	tb.tb = nil
	for _, d := range tb.devs {
		C.bh_dev_free(d.c)
	}
	tb.devs = nil
}

// Device is one emulated device.
type Device struct {
	tb      *Testbed
	c       *C.bh_dev
	Spec    Spec
	SysPath string // "/sys/devices/.../usb1/1-1"
	mu      sync.Mutex
	read    int // writes returned by NextWrite so far
}

// Add plugs a device in: its ioctl handler is attached first, so libusb
// can open it as soon as it learns of it.
func (tb *Testbed) Add(s Spec) (*Device, error) {
	id, ok := ids[s.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %d", s.Kind)
	}
	cSerial := C.CString(s.Serial)
	defer C.free(unsafe.Pointer(cSerial))
	d := &Device{tb: tb, Spec: s, c: C.bh_dev_new(C.int(s.Kind), cSerial, C.uint(s.FirmwareSerial))}
	tb.mu.Lock()
	tb.devs = append(tb.devs, d)
	tb.mu.Unlock()

	node := fmt.Sprintf("/dev/bus/usb/%03d/%03d", s.Bus, s.Address)
	cNode := C.CString(node)
	defer C.free(unsafe.Pointer(cNode))
	var cErr *C.char
	if C.bh_dev_attach(d.c, tb.tb, cNode, &cErr) == 0 {
		return nil, fmt.Errorf("attach ioctl handler to %s: %s", node, takeString(cErr))
	}
	sysfs := fmt.Sprintf("/devices/pci0000:00/0000:00:14.0/usb%d/%d-%d", s.Bus, s.Bus, s.Port)
	d.SysPath = "/sys" + sysfs
	rec := record(s, id, sysfs)
	cRec := C.CString(rec)
	defer C.free(unsafe.Pointer(cRec))
	if C.bh_add_from_string(tb.tb, cRec, &cErr) == 0 {
		return nil, fmt.Errorf("add %s: %s", sysfs, takeString(cErr))
	}
	return d, nil
}

func takeString(s *C.char) string {
	defer C.g_free(C.gpointer(unsafe.Pointer(s)))
	return C.GoString(s)
}

// record is the device in umockdev-record's format (see
// ../../testdata/README.md).
func record(s Spec, id [2]uint16, sysfs string) string {
	vid, pid := fmt.Sprintf("%04x", id[0]), fmt.Sprintf("%04x", id[1])
	var b strings.Builder
	fmt.Fprintf(&b, "P: %s\n", sysfs)
	fmt.Fprintf(&b, "N: bus/usb/%03d/%03d\n", s.Bus, s.Address)
	for _, e := range []string{
		fmt.Sprintf("BUSNUM=%03d", s.Bus),
		fmt.Sprintf("DEVNAME=/dev/bus/usb/%03d/%03d", s.Bus, s.Address),
		fmt.Sprintf("DEVNUM=%03d", s.Address),
		"DEVTYPE=usb_device", "DRIVER=usb", "ID_BUS=usb",
		"ID_MODEL_ID=" + pid, "ID_VENDOR_ID=" + vid,
		fmt.Sprintf("PRODUCT=%x/%x/100", id[0], id[1]),
		"SUBSYSTEM=usb", "TYPE=0/0/0",
	} {
		fmt.Fprintf(&b, "E: %s\n", e)
	}
	for _, a := range []string{
		"bConfigurationValue=1", "bDeviceClass=00", "bNumConfigurations=1", "bNumInterfaces= 1",
		fmt.Sprintf("busnum=%d", s.Bus), fmt.Sprintf("devnum=%d", s.Address),
		fmt.Sprintf("devpath=%d", s.Port), "idProduct=" + pid, "idVendor=" + vid, "speed=12",
	} {
		fmt.Fprintf(&b, "A: %s\\n\n", a)
	}
	fmt.Fprintf(&b, "H: descriptors=%s\n", hex.EncodeToString(descriptors(s, id)))
	return b.String()
}

// descriptors are the device descriptor and the configuration: one HID
// interface with an interrupt IN endpoint 0x81, and for the Luxafor an
// interrupt OUT endpoint 0x01.
func descriptors(s Spec, id [2]uint16) []byte {
	iSerial := byte(0)
	if s.Serial != "" {
		iSerial = 3
	}
	dev := []byte{18, 1, 0x00, 0x02, 0, 0, 0, 8, 0, 0, 0, 0, 0x00, 0x01, 0, 0, iSerial, 1}
	binary.LittleEndian.PutUint16(dev[8:], id[0])
	binary.LittleEndian.PutUint16(dev[10:], id[1])
	eps := [][]byte{{7, 5, 0x81, 3, 8, 0, 10}}
	if s.Kind == Luxafor {
		eps = append(eps, []byte{7, 5, 0x01, 3, 8, 0, 10})
	}
	cfg := []byte{9, 2, 0, 0, 1, 1, 0, 0x80, 50}
	cfg = append(cfg, 9, 4, 0, 0, byte(len(eps)), 3, 0, 0, 0)
	cfg = append(cfg, 9, 0x21, 0x11, 0x01, 0, 1, 0x22, 32, 0)
	for _, ep := range eps {
		cfg = append(cfg, ep...)
	}
	binary.LittleEndian.PutUint16(cfg[2:], uint16(len(cfg)))
	return append(dev, cfg...)
}

// SetPressed holds the button down or lets it go.
func (d *Device) SetPressed(down bool) { C.bh_dev_set_pressed(d.c, cBool(down)) }

// SetLidOpen opens or closes the Dream Cheeky's lid.
func (d *Device) SetLidOpen(open bool) { C.bh_dev_set_lid(d.c, cBool(open)) }

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Answered returns how many button status reads the device has answered
// with the button down and up.
func (d *Device) Answered() (down, up uint64) {
	var cd, cu C.ulonglong
	C.bh_dev_answered(d.c, &cd, &cu)
	return uint64(cd), uint64(cu)
}

// DownReported returns when the device first answered a status read with
// the button down since it was last pressed, or the zero Time.
func (d *Device) DownReported() time.Time {
	ns := int64(C.bh_dev_first_down_ns(d.c))
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// Press holds the button down until the host has read it down, then lets
// it go and waits until the host has read it up.
func (d *Device) Press(ctx context.Context) error {
	for _, down := range []bool{true, false} {
		d.SetPressed(down)
		if err := d.waitAnswered(ctx, down); err != nil {
			return err
		}
	}
	return nil
}

// waitAnswered waits until the device answers one more status read with
// the button down (or up).
func (d *Device) waitAnswered(ctx context.Context, down bool) error {
	count := func() uint64 {
		dn, up := d.Answered()
		if down {
			return dn
		}
		return up
	}
	start := count()
	for count() == start {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the host did not read the button (down=%v): %w", down, ctx.Err())
		case <-time.After(200 * time.Microsecond):
		}
	}
	return nil
}

// Write is one OUT transfer the host sent.
type Write struct {
	Interrupt bool // on the interrupt OUT endpoint; else a control transfer
	// The control transfer's setup fields.
	RequestType, Request uint8
	Value, Index         uint16
	Data                 []byte
	Time                 time.Time
}

func (w Write) String() string {
	if w.Interrupt {
		return fmt.Sprintf("interrupt OUT % x", w.Data)
	}
	return fmt.Sprintf("control %02x %02x %04x %04x % x", w.RequestType, w.Request, w.Value, w.Index, w.Data)
}

// Writes returns every OUT transfer the device received, in order.
func (d *Device) Writes() []Write { return d.writes(0) }

func (d *Device) writes(from int) []Write {
	n := int(C.bh_dev_writes(d.c, C.int(from), nil, 0))
	if n <= from {
		return nil
	}
	buf := make([]C.bh_write, n-from)
	C.bh_dev_writes(d.c, C.int(from), &buf[0], C.int(len(buf)))
	ws := make([]Write, len(buf))
	for i, cw := range buf {
		setup := C.GoBytes(unsafe.Pointer(&cw.setup[0]), 8)
		ws[i] = Write{
			Interrupt:   cw.interrupt != 0,
			RequestType: setup[0],
			Request:     setup[1],
			Value:       binary.LittleEndian.Uint16(setup[2:]),
			Index:       binary.LittleEndian.Uint16(setup[4:]),
			Data:        C.GoBytes(unsafe.Pointer(&cw.data[0]), cw.len),
			Time:        time.Unix(0, int64(cw.unix_ns)),
		}
	}
	return ws
}

// NextWrite waits until ctx is done for the next OUT transfer not yet
// returned by NextWrite.
func (d *Device) NextWrite(ctx context.Context) (Write, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if ws := d.writes(d.read); len(ws) > 0 {
			d.read++
			return ws[0], nil
		}
		select {
		case <-ctx.Done():
			return Write{}, fmt.Errorf("no write: %w", ctx.Err())
		case <-time.After(200 * time.Microsecond):
		}
	}
}

// Unplug makes the device vanish: every later request fails with ENODEV,
// pending interrupt reads complete with ENODEV, and it leaves the device
// tree (a "remove" uevent).
func (d *Device) Unplug() {
	C.bh_dev_unplug(d.c)
	cPath := C.CString(d.SysPath)
	defer C.free(unsafe.Pointer(cPath))
	cRemove := C.CString("remove")
	defer C.free(unsafe.Pointer(cRemove))
	C.umockdev_testbed_uevent(d.tb.tb, cPath, cRemove)
	C.umockdev_testbed_remove_device(d.tb.tb, cPath)
}

// Detaches returns how often the host detached the kernel's driver from
// the device, and how often it claimed the interface.
func (d *Device) Detaches() (detaches, claims int) {
	var c C.int
	n := C.bh_dev_detaches(d.c, &c)
	return int(n), int(c)
}
