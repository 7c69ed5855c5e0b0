/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk over the virtio-mmio register model, without KVM: the test
 * plays the guest driver (registers, rings in a fake guest memory) against
 * a temporary image file, and checks status bytes, data, the image file
 * and interrupts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "arch/x86/layout.h"
#include "core/machine.h"
#include "core/resources.h"
#include "core/vm.h"
#include "devices/registry.h"
#include "driver.h"
#include "env.h"
#include "unit.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

#define MEM_GPA    0x100000ull
#define MEM_SIZE   0x100000ull
#define DESC_GPA   0x100000ull
#define AVAIL_GPA  0x101000ull
#define USED_GPA   0x102000ull
#define INDIR_GPA  0x103000ull
#define HDR_GPA    0x104000ull
#define STATUS_GPA 0x104100ull
#define DATA_GPA   0x110000ull
#define QSIZE      16u
#define IMG_SECTORS 128u
#define IMG_SIZE   (IMG_SECTORS * 512u)

static uint8_t *buf;
static struct test_env te;
static char img[64];
static void *blk;
static struct virtio_mmio *t;
static unsigned int irqs;
static uint16_t avail_idx, used_seen;

static void *hva(uint64_t gpa)
{
	/* (Not ck_assert: hva() is called in loops, and ck_assert is slow.) */
	if (gpa < MEM_GPA || gpa >= MEM_GPA + MEM_SIZE)
		ck_abort_msg("test bug: gpa 0x%llx outside guest memory", (unsigned long long)gpa);
	return buf + (gpa - MEM_GPA);
}

static uint8_t img_byte(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static void on_irq(void *opaque, unsigned int irq, int level)
{
	if (level)
		(*(unsigned int *)opaque)++;
}

static uint32_t rd(uint32_t off)
{
	return drv_rd(t, off);
}

/* A write, then what the device's I/O thread would serve meanwhile. */
static void wr(uint32_t off, uint32_t v)
{
	drv_wr(t, off, v);
	while (event_loop_dispatch(t->loop, 0) > 0)
		;
}

static uint64_t device_features(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Status handshake up to FEATURES_OK; returns whether it stuck. */
static bool negotiate(uint64_t features)
{
	return drv_negotiate(t, features);
}

static void setup_queue(uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	drv_setup_queue(t, 0, num, desc, avail, used);
}

/* Full driver initialisation with @features and a queue of @qsize
 * (at most 256: the rings fit below INDIR_GPA); rings zeroed. */
static void driver_init_queue(uint64_t features, uint32_t qsize)
{
	memset(hva(DESC_GPA), 0, 0x3000);
	avail_idx = 0;
	used_seen = 0;
	ck_assert(negotiate(features));
	setup_queue(qsize, DESC_GPA, AVAIL_GPA, USED_GPA);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0xf);
}

static void driver_init(uint64_t features)
{
	driver_init_queue(features, QSIZE);
}

static const uint64_t default_features =
	(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
	(1ull << VIRTIO_BLK_F_BLK_SIZE);

/* What a "block" device is configured with. */
struct blk_cfg {
	const char *path;
	bool read_only;
	const char *id;
};

/* A disk at @res (the first virtio slot when NULL). */
static int create_blk(const struct blk_cfg *cfg, const struct device_resources *res, void **dev)
{
	char text[256];

	snprintf(text, sizeof(text), "path=%s,read_only=%s%s%s", cfg->path,
		 cfg->read_only ? "on" : "off", cfg->id ? ",id=" : "", cfg->id ? cfg->id : "");
	return test_device_create(&te, "block", text, res ? res : &test_virtio_res, dev);
}

/* A second disk beside the fixture's, in the next slot. */
static int create_b2(const struct blk_cfg *cfg, void **dev)
{
	struct device_resources res = test_virtio_res;

	res.mmio_base += VIRTIO_MMIO_WINDOW;
	res.irq++;
	return create_blk(cfg, &res, dev);
}

static void destroy_blk(void *dev)
{
	if (dev)
		device_type_find("block")->destroy(dev);
}

static void open_blk(bool read_only, const char *id)
{
	struct blk_cfg cfg = { .path = img, .read_only = read_only, .id = id };

	ck_assert_int_eq(create_blk(&cfg, NULL, &blk), 0);
	t = blk;
}

static void setup(void)
{
	uint8_t sector[512];
	int fd;

	buf = calloc(1, MEM_SIZE);
	ck_assert_ptr_nonnull(buf);
	test_env_init(&te, buf, MEM_GPA, MEM_SIZE);
	te.irq_hook = on_irq;
	te.irq_opaque = &irqs;
	snprintf(img, sizeof(img), "/tmp/vmm-test-blk-XXXXXX");
	fd = mkstemp(img);
	ck_assert_int_ge(fd, 0);
	for (unsigned int s = 0; s < IMG_SECTORS; s++) {
		for (unsigned int i = 0; i < 512; i++)
			sector[i] = img_byte(s * 512ull + i);
		ck_assert_int_eq(pwrite(fd, sector, 512, s * 512), 512);
	}
	close(fd);
	irqs = 0;
	blk = NULL;
	open_blk(false, NULL);
	driver_init(default_features);
}

static void teardown(void)
{
	destroy_blk(blk);
	blk = NULL;
	test_env_release(&te);
	unlink(img);
	free(buf);
}

static void set_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc *d = hva(table + 16ull * i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void publish(uint16_t head)
{
	struct vring_avail *a = hva(AVAIL_GPA);

	a->ring[avail_idx % QSIZE] = head;
	avail_idx++;
	__atomic_store_n(&a->idx, avail_idx, __ATOMIC_RELEASE);
}

/* Notify and collect the used element for @head. Returns its length. */
static uint32_t kick_and_wait(uint16_t head)
{
	struct vring_used *u = hva(USED_GPA);
	unsigned int before = irqs;
	struct vring_used_elem *e;

	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, (uint16_t)(used_seen + 1));
	e = &u->ring[used_seen % QSIZE];
	used_seen++;
	ck_assert_uint_eq(e->id, head);
	ck_assert_uint_eq(irqs, before + 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING,
			  VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	return e->len;
}

static void put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(hva(HDR_GPA), &h, sizeof(h));
	*(uint8_t *)hva(STATUS_GPA) = 0xaa;
}

static uint8_t status_byte(void)
{
	return *(uint8_t *)hva(STATUS_GPA);
}

/*
 * Submit header + one data buffer (@data_flags: 0 readable, or
 * VRING_DESC_F_WRITE; @len 0: none) + status. Returns the used length.
 */
static uint32_t request(uint32_t type, uint64_t sector, uint32_t len, uint16_t data_flags)
{
	const uint16_t N = VRING_DESC_F_NEXT;

	put_hdr(type, sector);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, N, 1);
	if (len) {
		set_desc(DESC_GPA, 1, DATA_GPA, len, N | data_flags, 2);
		set_desc(DESC_GPA, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	} else {
		set_desc(DESC_GPA, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	}
	publish(0);
	return kick_and_wait(0);
}

static void read_file(uint64_t off, void *dst, size_t len)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, dst, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void check_file_unchanged(void)
{
	static uint8_t data[IMG_SIZE];

	uint64_t changed = 0;

	read_file(0, data, IMG_SIZE);
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		changed += data[i] != img_byte(i);
	ck_assert_msg(changed == 0, "%llu image bytes changed", (unsigned long long)changed);
}

START_TEST(registers)
{
	uint8_t b[8];
	uint32_t v;
	uint64_t f = device_features();

	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert_uint_ne(rd(VIRTIO_MMIO_VENDOR_ID), 0);
	ck_assert(f & (1ull << VIRTIO_F_VERSION_1));
	ck_assert(f & (1ull << VIRTIO_BLK_F_FLUSH));
	ck_assert(f & (1ull << VIRTIO_BLK_F_SEG_MAX));
	ck_assert(f & (1ull << VIRTIO_BLK_F_BLK_SIZE));
	ck_assert(f & (1ull << VIRTIO_BLK_F_DISCARD));
	ck_assert(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	ck_assert(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
	ck_assert(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	ck_assert(!(f & (1ull << VIRTIO_BLK_F_RO)));
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);

	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);                 /* no such queue */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);

	/* Config space: capacity as two 32-bit halves, then 8-bit reads. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 0), IMG_SECTORS);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 4), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 12), VIRTIO_BLK_SEG_MAX);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + 20), 512);
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, b, 1, false);
	ck_assert_uint_eq(b[0], IMG_SECTORS);
	/* Past the end of the config space: zero. */
	v = rd(VIRTIO_MMIO_CONFIG + sizeof(struct virtio_blk_config));
	ck_assert_uint_eq(v, 0);
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG + sizeof(struct virtio_blk_config) - 2, b, 4,
			   false);
	ck_assert_uint_eq(b[0] | b[1] | b[2] | b[3], 0);
	/* Config writes are ignored (nothing is writable). */
	wr(VIRTIO_MMIO_CONFIG, 5);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG), IMG_SECTORS);

	/* Unknown and legacy offsets read 0. */
	ck_assert_uint_eq(rd(0x0c0), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
	ck_assert_uint_eq(rd(0xffc), 0);
	/* No shared memory regions: length ~0. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);

	/* Wrong widths on registers: reads 0, writes ignored. */
	memset(b, 0xee, sizeof(b));
	virtio_mmio_access(t, VIRTIO_MMIO_MAGIC_VALUE, b, 2, false);
	ck_assert_uint_eq(b[0] | b[1], 0);
	virtio_mmio_access(t, VIRTIO_MMIO_MAGIC_VALUE, b, 8, false);
	ck_assert_uint_eq(b[0] | b[4], 0);
	virtio_mmio_access(t, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4, false);
	ck_assert_uint_eq(b[0], 0);
	b[0] = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_STATUS, b, 1, true);   /* would reset */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0xf);
	/* Out of the window. */
	virtio_mmio_access(t, 0x1000, b, 4, false);
	ck_assert_uint_eq(b[0], 0);
}
END_TEST

START_TEST(features_negotiation)
{
	uint64_t f = device_features();

	/* A legacy driver (no VERSION_1) cannot set FEATURES_OK. */
	ck_assert(!negotiate(f & ~(1ull << VIRTIO_F_VERSION_1)));
	ck_assert(!negotiate(0));
	/* Nor can a driver accept features that were not offered. */
	ck_assert(!negotiate((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_MQ)));
	ck_assert(!negotiate((1ull << VIRTIO_F_VERSION_1) | (1ull << 50)));
	/* Without FEATURES_OK, queues cannot be enabled nor DRIVER_OK set. */
	setup_queue(QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK));

	/* All offered features together are fine. */
	ck_assert(negotiate(f));
	/* Features are frozen after FEATURES_OK. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	ck_assert_uint_eq(t->r.driver_features, f);
	/* The driver cannot clear status bits without a reset. */
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0xb);
	/* FAILED is kept and stops the device. */
	wr(VIRTIO_MMIO_STATUS, 0xb | VIRTIO_CONFIG_S_FAILED);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0x8b);
	ck_assert_ptr_null(virtio_mmio_queue(t, 0));
}
END_TEST

START_TEST(read_request)
{
	uint8_t *data = hva(DATA_GPA);
	uint32_t len;

	memset(data, 0x55, 4096);
	len = request(VIRTIO_BLK_T_IN, 3, 1024, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1025);
	for (unsigned int i = 0; i < 1024; i++)
		ck_assert_uint_eq(data[i], img_byte(3 * 512 + i));
	ck_assert_uint_eq(data[1024], 0x55);

	/* Last sector of the disk. */
	request(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(data[511], img_byte(IMG_SIZE - 1));
}
END_TEST

START_TEST(read_scattered_indirect)
{
	/* Header split over two descriptors, data over three, in an
	 * indirect table, status in its own descriptor. */
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE;
	uint8_t *data = hva(DATA_GPA);

	driver_init(default_features | (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	put_hdr(VIRTIO_BLK_T_IN, 10);
	set_desc(INDIR_GPA, 0, HDR_GPA, 5, N, 1);
	set_desc(INDIR_GPA, 1, HDR_GPA + 5, 11, N, 2);
	set_desc(INDIR_GPA, 2, DATA_GPA, 100, N | W, 3);
	set_desc(INDIR_GPA, 3, DATA_GPA + 0x1000, 312, N | W, 4);
	set_desc(INDIR_GPA, 4, DATA_GPA + 0x2000, 612, N | W, 5);
	set_desc(INDIR_GPA, 5, STATUS_GPA, 1, W, 0);
	set_desc(DESC_GPA, 7, INDIR_GPA, 6 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(7);
	ck_assert_uint_eq(kick_and_wait(7), 1025);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 100; i++)
		ck_assert_uint_eq(data[i], img_byte(10 * 512 + i));
	for (unsigned int i = 0; i < 312; i++)
		ck_assert_uint_eq(data[0x1000 + i], img_byte(10 * 512 + 100 + i));
	for (unsigned int i = 0; i < 612; i++)
		ck_assert_uint_eq(data[0x2000 + i], img_byte(10 * 512 + 412 + i));
}
END_TEST

START_TEST(write_request)
{
	uint8_t *data = hva(DATA_GPA);
	uint8_t back[1536];

	for (unsigned int i = 0; i < 1536; i++)
		data[i] = (uint8_t)(i ^ 0x3c);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 5, 1536, 0), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	read_file(5 * 512, back, sizeof(back));
	ck_assert_mem_eq(back, data, sizeof(back));
	/* Neighbours untouched. */
	read_file(4 * 512, back, 512);
	ck_assert_uint_eq(back[511], img_byte(5 * 512 - 1));
	read_file(8 * 512, back, 1);
	ck_assert_uint_eq(back[0], img_byte(8 * 512));

	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(get_id)
{
	uint8_t *data = hva(DATA_GPA);
	uint8_t expect[20] = "serial-42";

	/* Default: empty id. */
	memset(data, 0x55, 32);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, VRING_DESC_F_WRITE), 21);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(data[i], 0);
	ck_assert_uint_eq(data[20], 0x55);

	destroy_blk(blk);
	open_blk(false, "serial-42");
	driver_init(default_features);
	memset(data, 0x55, 32);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 32, VRING_DESC_F_WRITE), 21);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(data, expect, 20);
	ck_assert_uint_eq(data[20], 0x55);
	/* A short buffer gets what fits. */
	memset(data, 0x55, 32);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 6, VRING_DESC_F_WRITE), 7);
	ck_assert_mem_eq(data, expect, 6);
	ck_assert_uint_eq(data[6], 0x55);
	/* The id buffer must be writable. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, 0), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(out_of_range)
{
	static const struct {
		uint32_t type;
		uint64_t sector;
		uint32_t len;
	} cases[] = {
		{ VIRTIO_BLK_T_IN, IMG_SECTORS, 512 },
		{ VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 1024 },
		{ VIRTIO_BLK_T_IN, UINT64_MAX, 512 },
		{ VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512 },
		{ VIRTIO_BLK_T_OUT, IMG_SECTORS, 512 },
		{ VIRTIO_BLK_T_OUT, IMG_SECTORS - 1, 1024 },
		{ VIRTIO_BLK_T_OUT, UINT64_MAX, 512 },
		{ VIRTIO_BLK_T_OUT, 1ull << 55, 512 },
		{ VIRTIO_BLK_T_IN, 0, 100 },          /* not whole sectors */
		{ VIRTIO_BLK_T_OUT, 0, 513 },
	};
	uint8_t *data = hva(DATA_GPA);

	memset(data, 0x55, 1024);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t dir = cases[i].type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0;

		ck_assert_uint_eq(request(cases[i].type, cases[i].sector, cases[i].len, dir), 1);
		ck_assert_msg(status_byte() == VIRTIO_BLK_S_IOERR, "case %zu", i);
	}
	ck_assert_uint_eq(data[0], 0x55);
	check_file_unchanged();
	/* Still serving. */
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(wrong_direction)
{
	uint8_t *data = hva(DATA_GPA);

	/* Read into a device-readable buffer: refused, buffer untouched. */
	memset(data, 0x55, 512);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, 0), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(data[i], 0x55);
	/* Write from a device-writable buffer: refused. */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, VRING_DESC_F_WRITE), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	check_file_unchanged();

	/* Status byte in a readable descriptor: never written, chain
	 * returned with length 0. */
	put_hdr(VIRTIO_BLK_T_IN, 0);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, STATUS_GPA, 1, 0, 0);
	publish(0);
	ck_assert_uint_eq(kick_and_wait(0), 0);
	ck_assert_uint_eq(status_byte(), 0xaa);

	/* Header too short: IOERR. */
	put_hdr(VIRTIO_BLK_T_IN, 0);
	set_desc(DESC_GPA, 0, HDR_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	publish(0);
	ck_assert_uint_eq(kick_and_wait(0), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);

	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(unsupported_type)
{
	ck_assert_uint_eq(request(0x55, 0, 0, 0), 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_UNSUPP);
	request(VIRTIO_BLK_T_SCSI_CMD, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_UNSUPP);
	check_file_unchanged();
}
END_TEST

static uint32_t discard_request(uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes r = {
		.sector = sector, .num_sectors = n, .flags = flags,
	};

	memcpy(hva(DATA_GPA), &r, sizeof(r));
	return request(type, 0, sizeof(r), 0);
}

START_TEST(discard_write_zeroes)
{
	uint8_t back[2048];

	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, 2, 3, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	read_file(512, back, sizeof(back));
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(back[i], img_byte(512 + i));
	for (unsigned int i = 512; i < 2048; i++)
		ck_assert_uint_eq(back[i], 0);

	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, 10, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	read_file(10 * 512, back, 512);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(back[i], 0);

	discard_request(VIRTIO_BLK_T_DISCARD, 20, 8, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	/* Unknown flags, out of range, bad data length. */
	discard_request(VIRTIO_BLK_T_DISCARD, 20, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_UNSUPP);
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, 20, 8, 0x80);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_UNSUPP);
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, IMG_SECTORS - 1, 2, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, 1, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	request(VIRTIO_BLK_T_DISCARD, 0, 8, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	/* The file keeps its size. */
	{
		struct stat st;

		ck_assert_int_eq(stat(img, &st), 0);
		ck_assert_int_eq(st.st_size, IMG_SIZE);
	}
}
END_TEST

/* Write-zeroes is bounded: one range of at most 32 MiB, as announced. */
START_TEST(write_zeroes_bounded)
{
	const uint64_t big = 2ull * VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS;
	struct virtio_blk_discard_write_zeroes r[2] = {
		{ .sector = 0, .num_sectors = 8 }, { .sector = 16, .num_sectors = 8 },
	};
	uint8_t back[512];

	destroy_blk(blk);
	ck_assert_int_eq(truncate(img, (off_t)(big * 512)), 0);
	open_blk(false, NULL);
	driver_init(default_features);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config,
							  max_write_zeroes_sectors)),
			  VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG + offsetof(struct virtio_blk_config,
							  max_write_zeroes_seg)),
			  VIRTIO_BLK_MAX_WRITE_ZEROES_SEG);

	/* Exactly the limit, ending at the last sector: served. */
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, big - VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS,
			VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	/* One sector more, or two ranges: refused, the image unchanged. */
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, 0, VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS + 1, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	memcpy(hva(DATA_GPA), r, sizeof(r));
	request(VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(r), 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	read_file(0, back, sizeof(back));
	for (unsigned int i = 0; i < sizeof(back); i++)
		ck_assert_uint_eq(back[i], img_byte(i));
	/* Discard keeps its own limits: two ranges are fine. */
	request(VIRTIO_BLK_T_DISCARD, 0, sizeof(r), 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

/*
 * A read or write carries at most VIRTIO_BLK_REQUEST_MAX bytes, however
 * its buffers are described: 254 descriptors that all name the whole
 * guest memory (1 MiB) plus one sector are refused before any I/O, on a
 * disk large enough for the range.
 */
START_TEST(request_size_bounded)
{
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE;
	const unsigned int full = (unsigned int)(VIRTIO_BLK_REQUEST_MAX / MEM_SIZE);
	struct vring_avail *a = hva(AVAIL_GPA);
	struct vring_used *u = hva(USED_GPA);
	uint8_t back[512];

	ck_assert_uint_eq(full, VIRTIO_BLK_SEG_MAX);
	destroy_blk(blk);
	ck_assert_int_eq(truncate(img, (off_t)(2 * VIRTIO_BLK_REQUEST_MAX)), 0);
	open_blk(false, NULL);
	driver_init_queue(default_features, VIRTIO_BLK_QUEUE_SIZE);

	/* A write: header and one sector in one buffer, then 254 MiB. */
	put_hdr(VIRTIO_BLK_T_OUT, 0);
	memcpy(hva(DATA_GPA), hva(HDR_GPA), 16);
	set_desc(DESC_GPA, 0, DATA_GPA, 16 + 512, N, 1);
	for (unsigned int i = 1; i <= full; i++)
		set_desc(DESC_GPA, i, MEM_GPA, (uint32_t)MEM_SIZE, N, (uint16_t)(i + 1));
	set_desc(DESC_GPA, full + 1, STATUS_GPA, 1, W, 0);
	a->ring[0] = 0;
	__atomic_store_n(&a->idx, 1, __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);

	/* A read of as much, its status the last byte of guest memory. */
	put_hdr(VIRTIO_BLK_T_IN, 0);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, N, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 513, N | W, 2);
	for (unsigned int i = 2; i <= full + 1; i++)
		set_desc(DESC_GPA, i, MEM_GPA, (uint32_t)MEM_SIZE, i <= full ? N | W : W,
			 (uint16_t)(i + 1));
	*(uint8_t *)hva(MEM_GPA + MEM_SIZE - 1) = 0xaa;
	a->ring[1] = 0;
	__atomic_store_n(&a->idx, 2, __ATOMIC_RELEASE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 2);
	ck_assert_uint_eq(*(uint8_t *)hva(MEM_GPA + MEM_SIZE - 1), VIRTIO_BLK_S_IOERR);

	read_file(0, back, sizeof(back));
	for (unsigned int i = 0; i < sizeof(back); i++)
		ck_assert_uint_eq(back[i], img_byte(i));
}
END_TEST

/*
 * Without an ioeventfd (none here) QueueNotify traps to the vCPU that
 * wrote it: the vCPU only hands the queue to the disk's I/O thread (its
 * event loop), which serves it in bounded batches; a guest refilling the
 * ring cannot hold the vCPU.
 */
START_TEST(notify_served_off_vcpu)
{
	const uint16_t N = VRING_DESC_F_NEXT;
	struct vring_used *u = hva(USED_GPA);

	put_hdr(VIRTIO_BLK_T_IN, 1);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, N, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 512, N | VRING_DESC_F_WRITE, 2);
	set_desc(DESC_GPA, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	publish(0);
	drv_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 0);
	ck_assert_uint_eq(status_byte(), 0xaa);
	ck_assert_int_gt(event_loop_dispatch(t->loop, 0), 0);
	ck_assert_uint_eq(u->idx, 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)hva(DATA_GPA), img_byte(512));
}
END_TEST

START_TEST(read_only)
{
	uint8_t *data = hva(DATA_GPA);

	destroy_blk(blk);
	open_blk(true, NULL);
	ck_assert(device_features() & (1ull << VIRTIO_BLK_F_RO));
	ck_assert(!(device_features() & (1ull << VIRTIO_BLK_F_DISCARD)));
	driver_init(default_features | (1ull << VIRTIO_BLK_F_RO));

	memset(data, 0, 512);
	request(VIRTIO_BLK_T_OUT, 0, 512, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	discard_request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	discard_request(VIRTIO_BLK_T_DISCARD, 0, 1, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_IOERR);
	check_file_unchanged();
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	request(VIRTIO_BLK_T_IN, 1, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(data[0], img_byte(512));
}
END_TEST

START_TEST(reset_clears_state)
{
	struct vring_used *u = hva(USED_GPA);

	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	/* Leave an interrupt pending. */
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	t->r.interrupt_status = VIRTIO_MMIO_INT_VRING;
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);

	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	ck_assert_uint_eq(t->r.driver_features, 0);
	ck_assert_uint_eq(t->queues[0].vq.s.last_avail_idx, 0);
	ck_assert_uint_eq(t->queues[0].vq.s.used_idx, 0);
	/* A notification now does nothing. */
	publish(0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 3);

	/* Re-initialised with fresh rings, indexes start from 0. */
	driver_init(default_features);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 2, 512, VRING_DESC_F_WRITE), 513);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(u->idx, 1);
}
END_TEST

START_TEST(notify_before_driver_ok)
{
	struct vring_used *u = hva(USED_GPA);

	memset(hva(DESC_GPA), 0, 0x3000);
	avail_idx = 0;
	used_seen = 0;
	ck_assert(negotiate(default_features));
	setup_queue(QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	put_hdr(VIRTIO_BLK_T_FLUSH, 0);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	publish(0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 0);
	ck_assert_uint_eq(irqs, 0);
	/* Queue registers are frozen while the queue is ready. */
	wr(VIRTIO_MMIO_QUEUE_NUM, 4);
	ck_assert_uint_eq(t->queues[0].r.num, QSIZE);
	wr(VIRTIO_MMIO_STATUS, 0xf);
	ck_assert_uint_eq(u->idx, 1);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(irqs, 1);
	/* Notify of a queue that does not exist: ignored. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	ck_assert_uint_eq(u->idx, 1);
}
END_TEST

static void expect_needs_reset(void)
{
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* Writing the status back does not clear it; only a reset does. */
	wr(VIRTIO_MMIO_STATUS, 0xf);
	ck_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

START_TEST(broken_ring_needs_reset)
{
	struct vring_avail *a = hva(AVAIL_GPA);
	struct vring_used *u = hva(USED_GPA);
	unsigned int before;

	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	before = irqs;
	a->idx = (uint16_t)(avail_idx + QSIZE + 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(irqs, before + 1);
	expect_needs_reset();
	/* Nothing is processed any more, even with a sane index. */
	a->idx = avail_idx;
	publish(0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 1);

	driver_init(default_features);
	ck_assert(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET));
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);

	/* Head index out of range: same. */
	publish(QSIZE + 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	expect_needs_reset();
}
END_TEST

START_TEST(bad_chain_keeps_serving)
{
	/* A descriptor outside guest memory: dropped (length 0), the
	 * next request is served. */
	set_desc(DESC_GPA, 5, MEM_GPA + MEM_SIZE - 4, 16, 0, 0);
	publish(5);
	ck_assert_uint_eq(kick_and_wait(5), 0);
	ck_assert(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET));
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(bad_queue_setup)
{
	static const struct {
		uint32_t num;
		uint64_t desc, avail, used;
	} cases[] = {
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 12, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 512, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA + 4, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
		{ QSIZE, 0, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA, MEM_GPA + MEM_SIZE - 8, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, 0x100000000000ull + USED_GPA },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert(negotiate(default_features));
		setup_queue(cases[i].num, cases[i].desc, cases[i].avail, cases[i].used);
		ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_READY) == 0, "case %zu", i);
		ck_assert_msg(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, "case %zu", i);
	}
	/* The high halves are used. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_USED_HIGH), 0x1000);
	driver_init(default_features);
	request(VIRTIO_BLK_T_IN, 0, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(event_idx_suppression)
{
	uint16_t *used_event = hva(AVAIL_GPA + 4 + 2 * QSIZE);
	struct vring_used *u = hva(USED_GPA);

	driver_init(default_features | (1ull << VIRTIO_RING_F_EVENT_IDX));
	/* Driver wants an interrupt only after used idx passes 1. */
	*used_event = 1;
	put_hdr(VIRTIO_BLK_T_FLUSH, 0);
	set_desc(DESC_GPA, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	publish(0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 1);
	ck_assert_uint_eq(irqs, 0);
	publish(0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(u->idx, 2);
	ck_assert_uint_eq(irqs, 1);
	/* avail_event tells the driver to notify the next buffer. */
	ck_assert_uint_eq(*(uint16_t *)hva(USED_GPA + 4 + 8 * QSIZE), 2);
}
END_TEST

static char logbuf[1024];

static void capture_log(void *data, int prio, const char *fmt, va_list ap)
{
	size_t n = strlen(logbuf);

	vsnprintf(logbuf + n, sizeof(logbuf) - n, fmt, ap);
}

static int count_irq(void *vm, unsigned int irq, int level)
{
	on_irq(&irqs, irq, level);
	return 0;
}

/* Compare what a device shows the guest: transport and queue state. */
static void expect_same_transport(const struct virtio_mmio_regs *r,
				  const struct virtio_mmio_queue_regs *qr,
				  const struct virtq_state *q)
{
	const struct virtq_state *n = &t->queues[0].vq.s;

	ck_assert_uint_eq(t->r.status, r->status);
	ck_assert_uint_eq(t->r.driver_features, r->driver_features);
	ck_assert_uint_eq(t->r.device_features_sel, r->device_features_sel);
	ck_assert_uint_eq(t->r.driver_features_sel, r->driver_features_sel);
	ck_assert_uint_eq(t->r.interrupt_status, r->interrupt_status);
	ck_assert_uint_eq(t->r.queue_sel, r->queue_sel);
	ck_assert_uint_eq(t->r.config_generation, r->config_generation);
	ck_assert_uint_eq(t->queues[0].r.num, qr->num);
	ck_assert_uint_eq(t->queues[0].r.desc, qr->desc);
	ck_assert_uint_eq(t->queues[0].r.avail, qr->avail);
	ck_assert_uint_eq(t->queues[0].r.used, qr->used);
	ck_assert_uint_eq(n->size, q->size);
	ck_assert_uint_eq(n->desc, q->desc);
	ck_assert_uint_eq(n->avail, q->avail);
	ck_assert_uint_eq(n->used, q->used);
	ck_assert_uint_eq(n->last_avail_idx, q->last_avail_idx);
	ck_assert_uint_eq(n->used_idx, q->used_idx);
	ck_assert_uint_eq(n->signalled_used, q->signalled_used);
	ck_assert_int_eq(n->ready, q->ready);
	ck_assert_int_eq(n->event_idx, q->event_idx);
	ck_assert_int_eq(n->indirect, q->indirect);
	ck_assert_int_eq(n->broken, q->broken);
}

static void save_blk(struct state_writer *w)
{
	state_writer_init(w);
	ck_assert_int_eq(device_type_find("block")->save(blk, w), 0);
}

static int restore_blk(const void *saved, size_t len)
{
	struct state_reader r;

	state_reader_init(&r, saved, len);
	return device_type_find("block")->restore(blk, &r);
}

static void expect_saves_as(const struct state_writer *want)
{
	struct state_writer w;

	save_blk(&w);
	ck_assert_uint_eq(w.len, want->len);
	ck_assert_mem_eq(w.buf, want->buf, w.len);
	state_writer_release(&w);
}

/* Saved, the device destroyed (its image lock with it), a fresh one
 * created on the same image and restored: it shows the guest what the
 * first one did and goes on serving the same rings. */
START_TEST(state_round_trip)
{
	struct virtio_mmio_regs regs;
	struct virtio_mmio_queue_regs qregs;
	struct virtq_state qs;
	uint8_t config[sizeof(struct virtio_blk_config)];
	struct state_writer w;

	request(VIRTIO_BLK_T_IN, 4, 512, VRING_DESC_F_WRITE);
	request(VIRTIO_BLK_T_GET_ID, 0, 20, VRING_DESC_F_WRITE);
	t->r.interrupt_status = VIRTIO_MMIO_INT_VRING;  /* left unacknowledged */
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	regs = t->r;
	qregs = t->queues[0].r;
	qs = t->queues[0].vq.s;
	memcpy(config, t->config, sizeof(config));
	save_blk(&w);

	destroy_blk(blk);
	open_blk(false, NULL);
	ck_assert_uint_eq(t->r.status, 0);
	ck_assert_int_eq(restore_blk(w.buf, w.len), 0);
	expect_same_transport(&regs, &qregs, &qs);
	ck_assert_mem_eq(t->config, config, sizeof(config));
	ck_assert_ptr_eq(t->queues[0].vq.desc, hva(DESC_GPA));
	ck_assert_ptr_eq(t->queues[0].vq.used, hva(USED_GPA));
	expect_saves_as(&w);

	/* Truncated, or of a newer version: refused, the device unchanged. */
	for (size_t len = 0; len < w.len; len += 5) {
		ck_assert_int_lt(restore_blk(w.buf, len), 0);
		expect_same_transport(&regs, &qregs, &qs);
	}
	w.buf[sizeof("virtio-mmio")]++;
	ck_assert_int_eq(restore_blk(w.buf, w.len), -EPROTONOSUPPORT);
	w.buf[sizeof("virtio-mmio")]--;
	expect_saves_as(&w);

	/* The restored device goes on where the first one stopped. */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 6, 512, VRING_DESC_F_WRITE), 513);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)hva(DATA_GPA), img_byte(6 * 512));
	ck_assert_uint_eq(t->queues[0].vq.s.used_idx, 3);

	/* Reset: the power-on state of a fresh device. */
	device_type_find("block")->reset(blk);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	state_writer_release(&w);
}
END_TEST

/* A device restored from the state of a disk of another size or id is
 * refused: the guest would see a disk change under it. */
START_TEST(state_other_disk)
{
	struct blk_cfg cfg = { .path = img, .id = "other" };
	struct state_writer w;

	save_blk(&w);
	destroy_blk(blk);
	ck_assert_int_eq(create_blk(&cfg, NULL, &blk), 0);
	t = blk;
	te.log[0] = 0;
	ck_assert_int_eq(restore_blk(w.buf, w.len), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(te.log, "differs from the saved one"));
	destroy_blk(blk);
	ck_assert_int_eq(truncate(img, IMG_SIZE / 2), 0);
	open_blk(false, NULL);
	ck_assert_int_eq(restore_blk(w.buf, w.len), -EBADMSG);
	state_writer_release(&w);
}
END_TEST

START_TEST(image_checks)
{
	struct blk_cfg cfg = { .path = img };
	void *b2 = NULL;
	char path[80];
	int fd;

	/* The setup opened the image read-write: a second user is refused. */
	te.log[0] = 0;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EBUSY);
	ck_assert_ptr_nonnull(strstr(te.log, img));
	cfg.read_only = true;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EBUSY);
	/* Read-only users share. */
	destroy_blk(blk);
	open_blk(true, NULL);
	ck_assert_int_eq(create_b2(&cfg, &b2), 0);
	destroy_blk(b2);
	cfg.read_only = false;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EBUSY);
	/* Closing releases the lock. */
	destroy_blk(blk);
	blk = NULL;
	ck_assert_int_eq(create_b2(&cfg, &b2), 0);
	destroy_blk(b2);

	/* Size not a multiple of 512. */
	snprintf(path, sizeof(path), "%s.odd", img);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1000), 0);
	close(fd);
	cfg.path = path;
	te.log[0] = 0;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EINVAL);
	ck_assert_ptr_nonnull(strstr(te.log, path));
	unlink(path);

	/* Missing file, directory, character device. */
	te.log[0] = 0;
	ck_assert_int_eq(create_b2(&cfg, &b2), -ENOENT);
	ck_assert_ptr_nonnull(strstr(te.log, path));
	cfg.path = (char *)"/tmp";
	cfg.read_only = true;
	te.log[0] = 0;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EISDIR);
	ck_assert_ptr_nonnull(strstr(te.log, "/tmp"));
	cfg.read_only = false;
	ck_assert_int_eq(create_b2(&cfg, &b2), -EISDIR);
	cfg.path = (char *)"/dev/null";
	ck_assert_int_eq(create_b2(&cfg, &b2), -EINVAL);
	/* An id longer than 20 bytes: the key table refuses it. */
	cfg.path = img;
	cfg.id = (char *)"123456789012345678901";
	ck_assert_int_eq(create_b2(&cfg, &b2), -ERANGE);
	cfg.id = (char *)"12345678901234567890";
	ck_assert_int_eq(create_b2(&cfg, &b2), 0);
	destroy_blk(b2);
}
END_TEST

/*
 * The VM core places "block" devices on a VM without KVM (no vm_fd):
 * irqfd and ioeventfd cannot be set up, so the transport falls back to
 * MMIO exits for QueueNotify. Checks the slots and IRQs the core hands
 * out and records, the bus windows, the command line and the refusal of
 * more devices than IRQs.
 */
START_TEST(add_to_vm)
{
	const unsigned int max = IRQ_MAX - VIRTIO_IRQ_BASE + 1;
	const struct device_ops *blk_type = device_type_find("block");
	struct device_env_ops counting;
	struct vmm_config *cfg;
	struct vmm *vm;
	char expect[80], opt[128];
	uint8_t data[4];
	uint32_t v;

	/* The fixture holds a write lock; read-only devices share the image. */
	destroy_blk(blk);
	blk = NULL;
	ck_assert_int_eq(vmm_config_new(&cfg), 0);
	vmm_config_set_log_fn(cfg, capture_log, NULL);
	ck_assert_int_eq(vmm_config_set_log_priority(cfg, VMM_LOG_DEBUG), 0);
	snprintf(opt, sizeof(opt), "path=%s,read_only=on", img);
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", opt), 0);
	ck_assert_int_eq(vm_new(cfg, &vm), 0);
	vmm_config_free(cfg);
	guest_mem_init_fake(&vm->mem, MEM_GPA, buf, MEM_SIZE);
	/* Interrupts counted here: there is no irqchip to take them. */
	counting = *vm->env.ops;
	counting.irq_line = count_irq;
	vm->env.ops = &counting;

	for (unsigned int i = 0; i < max; i++)
		ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, NULL), 0);
	ck_assert_uint_eq(vm->ndevices, max);
	logbuf[0] = 0;
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, NULL), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(logbuf, "too many virtio devices"));
	ck_assert_uint_eq(vm->ndevices, max);

	ck_assert_ptr_nonnull(vm->cmdline.buf);
	snprintf(expect, sizeof(expect), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)VIRTIO_MMIO_BASE, VIRTIO_IRQ_BASE);
	ck_assert_ptr_nonnull(strstr(vm->cmdline.buf, expect));
	snprintf(expect, sizeof(expect), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)(VIRTIO_MMIO_BASE + (max - 1) * VIRTIO_MMIO_WINDOW), IRQ_MAX);
	ck_assert_ptr_nonnull(strstr(vm->cmdline.buf, expect));

	/* Each window answers on the bus, where its record says it is. */
	for (unsigned int i = 0; i < max; i++) {
		ck_assert_uint_eq(vm->devices[i].res.mmio_base, VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW);
		ck_assert_uint_eq(vm->devices[i].res.irq, VIRTIO_IRQ_BASE + i);
		ck_assert(bus_access(&vm->mmio_bus, VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW,
				     data, 4, false));
		memcpy(&v, data, 4);
		ck_assert_uint_eq(v, VIRTIO_MMIO_MAGIC);
	}
	ck_assert(!bus_access(&vm->mmio_bus, VIRTIO_MMIO_BASE + max * VIRTIO_MMIO_WINDOW,
			      data, 4, false));

	/* Drive the last device through the bus: QueueNotify by MMIO exit. */
	t = vm->devices[max - 1].dev;
	ck_assert_uint_eq(t->res.mmio_base, VIRTIO_MMIO_BASE + (max - 1) * VIRTIO_MMIO_WINDOW);
	ck_assert_uint_eq(t->res.irq, IRQ_MAX);
	driver_init(default_features);
	request(VIRTIO_BLK_T_IN, 4, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)hva(DATA_GPA), img_byte(4 * 512));
	vmm_destroy(vm);
}
END_TEST

/* A restore asks for the resources a device had: the core gives exactly
 * those, and refuses ones that are taken or that the type cannot use. */
START_TEST(add_at_recorded_resources)
{
	const struct device_ops *blk_type = device_type_find("block");
	struct device_resources at = { .mmio_base = VIRTIO_MMIO_BASE + 5 * VIRTIO_MMIO_WINDOW,
				       .mmio_size = VIRTIO_MMIO_WINDOW, .irq = 17 };
	struct device_resources bad;
	struct vmm_config *cfg;
	struct vmm *vm;
	char opt[128];

	destroy_blk(blk);
	blk = NULL;
	ck_assert_int_eq(vmm_config_new(&cfg), 0);
	ck_assert_int_eq(vmm_config_set_log_priority(cfg, 0), 0);
	snprintf(opt, sizeof(opt), "path=%s,read_only=on", img);
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", opt), 0);
	ck_assert_int_eq(vm_new(cfg, &vm), 0);
	vmm_config_free(cfg);
	guest_mem_init_fake(&vm->mem, MEM_GPA, buf, MEM_SIZE);

	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &at), 0);
	ck_assert_uint_eq(vm->devices[0].res.mmio_base, at.mmio_base);
	ck_assert_uint_eq(vm->devices[0].res.irq, 17);
	t = vm->devices[0].dev;
	ck_assert_uint_eq(t->res.mmio_base, at.mmio_base);
	ck_assert_ptr_nonnull(strstr(vm->cmdline.buf, "virtio_mmio.device=4K@0xd0005000:17"));
	/* The next device without a record takes the lowest free slot. */
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, NULL), 0);
	ck_assert_uint_eq(vm->devices[1].res.mmio_base, VIRTIO_MMIO_BASE);
	ck_assert_uint_eq(vm->devices[1].res.irq, VIRTIO_IRQ_BASE);
	/* Taken, misaligned, outside the area, not an IRQ of the pool. */
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &at), -EBUSY);
	bad = at;
	bad.mmio_base += 8;
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &bad), -EINVAL);
	bad = at;
	bad.mmio_base = 0x1000;
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &bad), -EINVAL);
	bad = at;
	bad.mmio_base += VIRTIO_MMIO_WINDOW;
	bad.irq = 4;
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &bad), -EINVAL);
	bad.irq = 24;
	ck_assert_int_eq(vm_device_add(vm, blk_type, vm->cfg->devices[0].rec, &bad), -EINVAL);
	ck_assert_uint_eq(vm->ndevices, 2);
	vmm_destroy(vm);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("virtio_blk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, registers);
	tcase_add_test(tc, features_negotiation);
	tcase_add_test(tc, read_request);
	tcase_add_test(tc, read_scattered_indirect);
	tcase_add_test(tc, write_request);
	tcase_add_test(tc, get_id);
	tcase_add_test(tc, out_of_range);
	tcase_add_test(tc, wrong_direction);
	tcase_add_test(tc, unsupported_type);
	tcase_add_test(tc, discard_write_zeroes);
	tcase_add_test(tc, write_zeroes_bounded);
	tcase_add_test(tc, request_size_bounded);
	tcase_add_test(tc, notify_served_off_vcpu);
	tcase_add_test(tc, read_only);
	tcase_add_test(tc, reset_clears_state);
	tcase_add_test(tc, notify_before_driver_ok);
	tcase_add_test(tc, broken_ring_needs_reset);
	tcase_add_test(tc, bad_chain_keeps_serving);
	tcase_add_test(tc, bad_queue_setup);
	tcase_add_test(tc, event_idx_suppression);
	tcase_add_test(tc, state_round_trip);
	tcase_add_test(tc, state_other_disk);
	tcase_add_test(tc, image_checks);
	tcase_add_test(tc, add_to_vm);
	tcase_add_test(tc, add_at_recorded_resources);
	suite_add_tcase(s, tc);
	return s;
}
