// The emulated USB devices behind the usbdevfs ioctl handler; see handler.c.
#ifndef BUTTONHOOK_USBTESTBED_HANDLER_H
#define BUTTONHOOK_USBTESTBED_HANDLER_H

#include <umockdev.h>

enum {
	BH_DELCOM = 1,
	BH_DREAMCHEEKY = 2,
	BH_BLINK1 = 3,
	BH_LUXAFOR = 4,
};

// A write the host sent: a control OUT transfer (setup and data) or an
// interrupt OUT transfer (data only).
typedef struct {
	int interrupt;
	unsigned char setup[8];
	unsigned char data[64];
	int len;
	long long unix_ns; // CLOCK_REALTIME when the handler received it
} bh_write;

typedef struct bh_dev bh_dev;

bh_dev *bh_dev_new(int kind, const char *serial, unsigned int fw_serial);
void bh_dev_free(bh_dev *d);
// bh_dev_attach installs d's handler on devnode ("/dev/bus/usb/001/005").
int bh_dev_attach(bh_dev *d, UMockdevTestbed *tb, const char *devnode, char **err);
int bh_add_from_string(UMockdevTestbed *tb, const char *s, char **err);

void bh_dev_set_pressed(bh_dev *d, int pressed);
void bh_dev_set_lid(bh_dev *d, int open);
// bh_dev_answered returns how many status reads reported the button down
// (*down) and up (*up).
void bh_dev_answered(bh_dev *d, unsigned long long *down, unsigned long long *up);
// bh_dev_first_down_ns returns when a read last reported the button down
// for the first time since it was pressed (CLOCK_REALTIME), or 0.
long long bh_dev_first_down_ns(bh_dev *d);
// bh_dev_writes copies writes [from, from+max) to out and returns how many
// there are in all.
int bh_dev_writes(bh_dev *d, int from, bh_write *out, int max);
// bh_dev_unplug fails every later request with ENODEV and completes the
// pending interrupt reads as the kernel does when a device disappears.
void bh_dev_unplug(bh_dev *d);
// bh_dev_detaches returns how often the kernel driver was detached
// (USBDEVFS_DISCONNECT or DISCONNECT_CLAIM) and claimed (*claims).
int bh_dev_detaches(bh_dev *d, int *claims);

#endif
