//go:build umockdev

// A usbdevfs ioctl handler for umockdev that plays the supported USB
// devices, modelled on libusb's tests/umockdev.c: libusb submits URBs with
// USBDEVFS_SUBMITURB and collects them with USBDEVFS_REAPURBNDELAY; this
// handler answers control transfers (HID GET_REPORT/SET_REPORT, GET_STATUS,
// string descriptors) at once, keeps interrupt IN URBs pending until the
// device has a report, records every OUT transfer, and plays the kernel's
// usbhid driver for libusb's kernel-driver detach.
//
// The handler runs on umockdev's ioctl thread; the Go side calls the bh_dev_*
// functions from its own threads. d->mu guards everything in bh_dev.

#include "handler.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// REAP_PAUSE_US is how long an empty reap waits before answering EAGAIN.
#define REAP_PAUSE_US 200

typedef struct {
	UMockdevIoctlData *urb; // struct usbdevfs_urb, resolved in the client
	UMockdevIoctlData *buf; // its buffer
} bh_urb;

struct bh_dev {
	pthread_mutex_t mu;
	int kind;
	char serial[64];
	unsigned int fw_serial;
	UMockdevIoctlBase *handler;

	int gone;
	int pressed;
	int lid_open;
	int kernel_driver; // usbhid bound to interface 0
	int detaches;
	int claims;
	unsigned char port1;       // Delcom port 1 (LEDs, active low)
	int status_owed;           // Dream Cheeky: queries not yet answered
	unsigned long long answered_down, answered_up;
	long long first_down_ns; // when a read first reported the button down

	GList *pending; // bh_urb*: interrupt IN URBs waiting for a report
	GList *done;    // bh_urb*: completed URBs, to be reaped
	GArray *writes; // bh_write
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void urb_free(bh_urb *u)
{
	umockdev_ioctl_data_unref(u->buf);
	umockdev_ioctl_data_unref(u->urb);
	g_free(u);
}

static struct usbdevfs_urb *urb_of(bh_urb *u)
{
	return (struct usbdevfs_urb *) u->urb->data;
}

// record keeps an OUT transfer; d->mu is held.
static void record(bh_dev *d, int interrupt, const unsigned char *setup, const unsigned char *data, int len)
{
	bh_write w = {.interrupt = interrupt, .unix_ns = now_ns()};
	if (setup)
		memcpy(w.setup, setup, 8);
	if (len > (int) sizeof(w.data))
		len = sizeof(w.data);
	if (len > 0)
		memcpy(w.data, data, len);
	w.len = len;
	g_array_append_val(d->writes, w);
}

// count_answer counts one answer that reported the button's state, and
// notes when one first reported it down; d->mu is held.
static void count_answer(bh_dev *d)
{
	if (!d->pressed) {
		d->answered_up++;
		return;
	}
	if (!d->first_down_ns)
		d->first_down_ns = now_ns();
	d->answered_down++;
}

// answer_status completes pending interrupt reads with the Dream Cheeky's
// status byte while queries are owed; d->mu is held.
static void answer_status(bh_dev *d)
{
	while (d->status_owed > 0 && d->pending) {
		bh_urb *u = d->pending->data;
		d->pending = g_list_delete_link(d->pending, d->pending);
		struct usbdevfs_urb *urb = urb_of(u);
		int n = urb->buffer_length < 8 ? urb->buffer_length : 8;
		memset(u->buf->data, 0, n);
		if (n > 0)
			u->buf->data[0] = 0x14 | (d->pressed ? 0 : 0x01) | (d->lid_open ? 0x02 : 0);
		urb->actual_length = n;
		urb->status = 0;
		d->status_owed--;
		count_answer(d);
		d->done = g_list_append(d->done, u);
	}
}

// control answers a control URB whose buffer holds the setup packet and the
// data stage; d->mu is held. It returns the URB status.
static int control(bh_dev *d, struct usbdevfs_urb *urb, unsigned char *buf)
{
	if (urb->buffer_length < 8)
		return -EINVAL;
	unsigned char type = buf[0], req = buf[1];
	unsigned int value = buf[2] | buf[3] << 8;
	unsigned int length = buf[6] | buf[7] << 8;
	unsigned char *data = buf + 8;
	if (length > (unsigned int) urb->buffer_length - 8)
		return -EOVERFLOW;

	if (!(type & 0x80)) { // OUT
		record(d, 0, buf, data, length);
		if (type == 0x21 && req == 0x09) { // HID SET_REPORT
			if (d->kind == BH_DREAMCHEEKY && value == 0x0200 && length == 8 && data[7] == 2) {
				d->status_owed++;
				answer_status(d);
			}
			if (d->kind == BH_DELCOM && value == 0x0365 && length >= 4 && data[0] == 101 && data[1] == 12)
				d->port1 = (d->port1 | data[3]) & ~data[2]; // resetting wins
		}
		urb->actual_length = length;
		return 0;
	}

	unsigned char answer[64];
	int n = -1;
	if (type == 0x80 && req == 0x00) { // GET_STATUS
		answer[0] = answer[1] = 0;
		n = 2;
	} else if (type == 0x80 && req == 0x06 && (value >> 8) == 3) { // GET_DESCRIPTOR string
		unsigned int index = value & 0xff;
		if (index == 0) {
			unsigned char langs[] = {4, 3, 0x09, 0x04};
			memcpy(answer, langs, 4);
			n = 4;
		} else if (index == 3 && d->serial[0]) {
			size_t len = strlen(d->serial);
			n = 2 + 2 * (int) len;
			answer[0] = n;
			answer[1] = 3;
			for (size_t i = 0; i < len; i++) {
				answer[2 + 2 * i] = d->serial[i];
				answer[3 + 2 * i] = 0;
			}
		}
	} else if (type == 0xa1 && req == 0x01 && (value >> 8) == 3 && d->kind == BH_DELCOM) { // GET_REPORT feature
		memset(answer, 0, 8);
		switch (value & 0xff) {
		case 100: // read ports: P0.0 is the switch, low while pressed
			answer[0] = d->pressed ? 0xfe : 0xff;
			answer[1] = d->port1;
			count_answer(d);
			n = 8;
			break;
		case 10: // firmware: serial (little-endian), version, day, month, year
			answer[0] = d->fw_serial;
			answer[1] = d->fw_serial >> 8;
			answer[2] = d->fw_serial >> 16;
			answer[3] = d->fw_serial >> 24;
			answer[4] = 58;
			answer[5] = 15;
			answer[6] = 7;
			answer[7] = 13;
			n = 8;
			break;
		}
	}
	if (n < 0)
		return -EPIPE; // stall: the device does not know the request
	if ((unsigned int) n > length)
		n = length;
	memcpy(data, answer, n);
	urb->actual_length = n;
	return 0;
}

static gboolean submit(bh_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *urb_data = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	if (!urb_data)
		return FALSE;
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *) urb_data->data;
	UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(urb_data, offsetof(struct usbdevfs_urb, buffer),
							     urb->buffer_length, NULL);
	if (!buf) {
		umockdev_ioctl_data_unref(urb_data);
		return FALSE;
	}
	bh_urb *u = g_new0(bh_urb, 1);
	u->urb = urb_data;
	u->buf = buf;

	pthread_mutex_lock(&d->mu);
	if (d->gone) {
		pthread_mutex_unlock(&d->mu);
		urb_free(u);
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return TRUE;
	}
	urb->status = 0;
	urb->actual_length = 0;
	switch (urb->type) {
	case USBDEVFS_URB_TYPE_CONTROL:
		urb->status = control(d, urb, buf->data);
		d->done = g_list_append(d->done, u);
		break;
	case USBDEVFS_URB_TYPE_INTERRUPT:
		if (urb->endpoint & 0x80) {
			d->pending = g_list_append(d->pending, u);
			answer_status(d);
		} else {
			record(d, 1, NULL, buf->data, urb->buffer_length);
			urb->actual_length = urb->buffer_length;
			d->done = g_list_append(d->done, u);
		}
		break;
	default:
		urb->status = -EPIPE;
		d->done = g_list_append(d->done, u);
	}
	pthread_mutex_unlock(&d->mu);
	umockdev_ioctl_client_complete(client, 0, 0);
	return TRUE;
}

static gboolean reap(bh_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	pthread_mutex_lock(&d->mu);
	bh_urb *u = NULL;
	if (d->done) {
		u = d->done->data;
		d->done = g_list_delete_link(d->done, d->done);
	}
	int gone = d->gone;
	pthread_mutex_unlock(&d->mu);
	if (!u) {
		// The emulated usbfs fd is a socket, always writable, so libusb's
		// event loop asks again at once: pause a little so that an idle
		// open device does not spin a core (a real usbfs fd is only
		// writable when a URB is ready).
		if (!gone)
			g_usleep(REAP_PAUSE_US);
		umockdev_ioctl_client_complete(client, -1, gone ? ENODEV : EAGAIN);
		return TRUE;
	}
	UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
	umockdev_ioctl_data_set_ptr(ptr, 0, u->urb);
	umockdev_ioctl_client_complete(client, 0, 0);
	umockdev_ioctl_data_unref(ptr);
	urb_free(u);
	return TRUE;
}

static gint same_client_addr(gconstpointer u, gconstpointer addr)
{
	return ((const bh_urb *) u)->urb->client_addr != (gulong) addr;
}

static gboolean discard(bh_dev *d, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
	void *addr = *(void **) arg->data;
	pthread_mutex_lock(&d->mu);
	GList *l = g_list_find_custom(d->pending, addr, same_client_addr);
	if (l) {
		bh_urb *u = l->data;
		d->pending = g_list_delete_link(d->pending, l);
		urb_of(u)->status = -ENOENT;
		urb_of(u)->actual_length = 0;
		d->done = g_list_append(d->done, u);
	}
	pthread_mutex_unlock(&d->mu);
	if (l)
		umockdev_ioctl_client_complete(client, 0, 0);
	else
		umockdev_ioctl_client_complete(client, -1, EINVAL);
	return TRUE;
}

static gboolean handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
	(void) handler;
	bh_dev *d = user_data;
	gulong request = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);

	switch (request) {
	case USBDEVFS_SUBMITURB:
		return submit(d, client, arg);
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		return reap(d, client, arg);
	case USBDEVFS_DISCARDURB:
		return discard(d, client, arg);
	}

	pthread_mutex_lock(&d->mu);
	int gone = d->gone;
	pthread_mutex_unlock(&d->mu);
	if (gone) {
		umockdev_ioctl_client_complete(client, -1, ENODEV);
		return TRUE;
	}

	switch (request) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
		*(guint32 *) caps->data = USBDEVFS_CAP_BULK_SCATTER_GATHER | USBDEVFS_CAP_BULK_CONTINUATION |
					   USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT |
					   USBDEVFS_CAP_ZERO_PACKET;
		umockdev_ioctl_client_complete(client, 0, 0);
		umockdev_ioctl_data_unref(caps);
		return TRUE;
	}
	case USBDEVFS_GETDRIVER: {
		pthread_mutex_lock(&d->mu);
		int bound = d->kernel_driver;
		pthread_mutex_unlock(&d->mu);
		if (!bound) {
			umockdev_ioctl_client_complete(client, -1, ENODATA);
			return TRUE;
		}
		UMockdevIoctlData *gd = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_getdriver), NULL);
		struct usbdevfs_getdriver *g = (struct usbdevfs_getdriver *) gd->data;
		memset(g->driver, 0, sizeof(g->driver));
		strcpy(g->driver, "usbhid");
		umockdev_ioctl_client_complete(client, 0, 0);
		umockdev_ioctl_data_unref(gd);
		return TRUE;
	}
	case USBDEVFS_IOCTL: {
		UMockdevIoctlData *io = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ioctl), NULL);
		int code = ((struct usbdevfs_ioctl *) io->data)->ioctl_code;
		umockdev_ioctl_data_unref(io);
		int ok = 1;
		pthread_mutex_lock(&d->mu);
		if (code == (int) USBDEVFS_DISCONNECT) {
			ok = d->kernel_driver;
			if (ok)
				d->detaches++;
			d->kernel_driver = 0;
		} else if (code == (int) USBDEVFS_CONNECT) {
			d->kernel_driver = 1;
		}
		pthread_mutex_unlock(&d->mu);
		if (ok)
			umockdev_ioctl_client_complete(client, 0, 0);
		else
			umockdev_ioctl_client_complete(client, -1, ENODATA);
		return TRUE;
	}
	case USBDEVFS_DISCONNECT_CLAIM:
		pthread_mutex_lock(&d->mu);
		if (d->kernel_driver)
			d->detaches++;
		d->kernel_driver = 0;
		d->claims++;
		pthread_mutex_unlock(&d->mu);
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_CLAIMINTERFACE:
		pthread_mutex_lock(&d->mu);
		d->claims++;
		pthread_mutex_unlock(&d->mu);
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	case USBDEVFS_RELEASEINTERFACE:
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESET:
	case USBDEVFS_RESETEP:
		umockdev_ioctl_client_complete(client, 0, 0);
		return TRUE;
	}
	fprintf(stderr, "usbtestbed: unhandled ioctl 0x%lx\n", request);
	return FALSE;
}

bh_dev *bh_dev_new(int kind, const char *serial, unsigned int fw_serial)
{
	bh_dev *d = g_new0(bh_dev, 1);
	pthread_mutex_init(&d->mu, NULL);
	d->kind = kind;
	g_strlcpy(d->serial, serial, sizeof(d->serial));
	d->fw_serial = fw_serial;
	d->kernel_driver = 1;
	d->port1 = 0xff;
	d->writes = g_array_new(FALSE, TRUE, sizeof(bh_write));
	d->handler = umockdev_ioctl_base_new();
	g_signal_connect(d->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), d);
	return d;
}

void bh_dev_free(bh_dev *d)
{
	g_object_unref(d->handler);
	g_list_free_full(d->pending, (GDestroyNotify) urb_free);
	g_list_free_full(d->done, (GDestroyNotify) urb_free);
	g_array_free(d->writes, TRUE);
	pthread_mutex_destroy(&d->mu);
	g_free(d);
}

static int fail(GError *e, char **err)
{
	*err = g_strdup(e ? e->message : "unknown error");
	if (e)
		g_error_free(e);
	return 0;
}

int bh_dev_attach(bh_dev *d, UMockdevTestbed *tb, const char *devnode, char **err)
{
	GError *e = NULL;
	if (!umockdev_testbed_attach_ioctl(tb, devnode, d->handler, &e))
		return fail(e, err);
	return 1;
}

int bh_add_from_string(UMockdevTestbed *tb, const char *s, char **err)
{
	GError *e = NULL;
	if (!umockdev_testbed_add_from_string(tb, s, &e))
		return fail(e, err);
	return 1;
}

void bh_dev_set_pressed(bh_dev *d, int pressed)
{
	pthread_mutex_lock(&d->mu);
	if (pressed && !d->pressed)
		d->first_down_ns = 0;
	d->pressed = pressed;
	pthread_mutex_unlock(&d->mu);
}

void bh_dev_set_lid(bh_dev *d, int open)
{
	pthread_mutex_lock(&d->mu);
	d->lid_open = open;
	pthread_mutex_unlock(&d->mu);
}

void bh_dev_answered(bh_dev *d, unsigned long long *down, unsigned long long *up)
{
	pthread_mutex_lock(&d->mu);
	*down = d->answered_down;
	*up = d->answered_up;
	pthread_mutex_unlock(&d->mu);
}

int bh_dev_writes(bh_dev *d, int from, bh_write *out, int max)
{
	pthread_mutex_lock(&d->mu);
	int n = d->writes->len;
	for (int i = 0; i < max && from + i < n; i++)
		out[i] = g_array_index(d->writes, bh_write, from + i);
	pthread_mutex_unlock(&d->mu);
	return n;
}

void bh_dev_unplug(bh_dev *d)
{
	pthread_mutex_lock(&d->mu);
	d->gone = 1;
	while (d->pending) {
		bh_urb *u = d->pending->data;
		d->pending = g_list_delete_link(d->pending, d->pending);
		urb_of(u)->status = -ENODEV;
		urb_of(u)->actual_length = 0;
		d->done = g_list_append(d->done, u);
	}
	pthread_mutex_unlock(&d->mu);
}

int bh_dev_detaches(bh_dev *d, int *claims)
{
	pthread_mutex_lock(&d->mu);
	int n = d->detaches;
	*claims = d->claims;
	pthread_mutex_unlock(&d->mu);
	return n;
}

long long bh_dev_first_down_ns(bh_dev *d)
{
	pthread_mutex_lock(&d->mu);
	long long ns = d->first_down_ns;
	pthread_mutex_unlock(&d->mu);
	return ns;
}
