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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "layout.h"
#include "unit.h"
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "vmm-priv.h"

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
static struct guest_mem mem;
static char img[64];
static struct virtio_blk *blk;
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

static void on_irq(void *opaque)
{
	(*(unsigned int *)opaque)++;
}

static uint32_t rd(uint32_t off)
{
	uint8_t data[4];
	uint32_t v;

	memset(data, 0xee, sizeof(data));
	virtio_mmio_access(t, off, data, 4, false);
	memcpy(&v, data, 4);
	return v;
}

static void wr(uint32_t off, uint32_t v)
{
	uint8_t data[4];

	memcpy(data, &v, 4);
	virtio_mmio_access(t, off, data, 4, true);
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
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

static void setup_queue(uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Full driver initialisation with @features; rings zeroed. */
static void driver_init(uint64_t features)
{
	memset(hva(DESC_GPA), 0, 0x3000);
	avail_idx = 0;
	used_seen = 0;
	ck_assert(negotiate(features));
	setup_queue(QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0xf);
}

static const uint64_t default_features =
	(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_FLUSH) |
	(1ull << VIRTIO_BLK_F_BLK_SIZE);

static void open_blk(bool read_only, const char *id)
{
	struct vmm_block_config cfg = { .path = img, .read_only = read_only, .id = (char *)id };

	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &blk), 0);
	t = virtio_blk_transport(blk);
	virtio_mmio_set_irq_fn(t, on_irq, &irqs);
}

static void setup(void)
{
	uint8_t sector[512];
	int fd;

	buf = calloc(1, MEM_SIZE);
	ck_assert_ptr_nonnull(buf);
	guest_mem_init_fake(&mem, MEM_GPA, buf, MEM_SIZE);
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
	virtio_blk_destroy(blk);
	blk = NULL;
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
	ck_assert_uint_eq(t->driver_features, f);
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

	virtio_blk_destroy(blk);
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

START_TEST(read_only)
{
	uint8_t *data = hva(DATA_GPA);

	virtio_blk_destroy(blk);
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
	t->interrupt_status = VIRTIO_MMIO_INT_VRING;
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);

	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	ck_assert_uint_eq(t->driver_features, 0);
	ck_assert_uint_eq(t->queues[0].vq.last_avail_idx, 0);
	ck_assert_uint_eq(t->queues[0].vq.used_idx, 0);
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
	ck_assert_uint_eq(t->queues[0].num, QSIZE);
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

START_TEST(image_checks)
{
	struct vmm vm;
	struct vmm_block_config cfg = { .path = img };
	struct virtio_blk *b2 = NULL;
	char path[80];
	int fd;

	memset(&vm, 0, sizeof(vm));
	vm.cfg.log_fn = capture_log;
	vm.cfg.log_priority = VMM_LOG_DEBUG;

	/* The setup opened the image read-write: a second user is refused. */
	logbuf[0] = 0;
	ck_assert_int_eq(virtio_blk_create(&vm, &mem, &cfg, &b2), -EBUSY);
	ck_assert_ptr_nonnull(strstr(logbuf, img));
	cfg.read_only = true;
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), -EBUSY);
	/* Read-only users share. */
	virtio_blk_destroy(blk);
	open_blk(true, NULL);
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), 0);
	virtio_blk_destroy(b2);
	cfg.read_only = false;
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), -EBUSY);
	/* Closing releases the lock. */
	virtio_blk_destroy(blk);
	blk = NULL;
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), 0);
	virtio_blk_destroy(b2);

	/* Size not a multiple of 512. */
	snprintf(path, sizeof(path), "%s.odd", img);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1000), 0);
	close(fd);
	cfg.path = path;
	logbuf[0] = 0;
	ck_assert_int_eq(virtio_blk_create(&vm, &mem, &cfg, &b2), -EINVAL);
	ck_assert_ptr_nonnull(strstr(logbuf, path));
	unlink(path);

	/* Missing file, directory, character device. */
	logbuf[0] = 0;
	ck_assert_int_eq(virtio_blk_create(&vm, &mem, &cfg, &b2), -ENOENT);
	ck_assert_ptr_nonnull(strstr(logbuf, path));
	cfg.path = (char *)"/tmp";
	cfg.read_only = true;
	logbuf[0] = 0;
	ck_assert_int_eq(virtio_blk_create(&vm, &mem, &cfg, &b2), -EISDIR);
	ck_assert_ptr_nonnull(strstr(logbuf, "/tmp"));
	cfg.read_only = false;
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), -EISDIR);
	cfg.path = (char *)"/dev/null";
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), -EINVAL);
	/* An id longer than 20 bytes. */
	cfg.path = img;
	cfg.id = (char *)"123456789012345678901";
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), -EINVAL);
	cfg.id = (char *)"12345678901234567890";
	ck_assert_int_eq(virtio_blk_create(NULL, &mem, &cfg, &b2), 0);
	virtio_blk_destroy(b2);
}
END_TEST

/*
 * virtio_blk_add() on a VM without KVM (vm_fd -1): irqfd and ioeventfd
 * cannot be set up, so the transport falls back to MMIO exits for
 * QueueNotify. Checks the slots, IRQs, bus windows, the command line and
 * the refusal of more devices than IRQs.
 */
START_TEST(add_to_vm)
{
	const unsigned int max = IRQ_MAX - VIRTIO_IRQ_BASE + 1;
	struct vmm_block_config cfg = { .path = img, .read_only = true };
	struct vmm vm;
	char expect[80];
	uint8_t data[4];
	uint32_t v;

	/* The fixture holds a write lock; read-only devices share the image. */
	virtio_blk_destroy(blk);
	blk = NULL;
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = vm.sig_fd = -1;
	vm.events.epfd = vm.events.stop_fd = -1;
	vm.cfg.log_fn = capture_log;
	vm.cfg.log_priority = VMM_LOG_DEBUG;
	bus_init(&vm.mmio_bus, "mmio");
	guest_mem_init_fake(&vm.mem, MEM_GPA, buf, MEM_SIZE);

	for (unsigned int i = 0; i < max; i++)
		ck_assert_int_eq(virtio_blk_add(&vm, &cfg), 0);
	ck_assert_uint_eq(vm.virtio_slots, max);
	logbuf[0] = 0;
	ck_assert_int_eq(virtio_blk_add(&vm, &cfg), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(logbuf, "too many virtio devices"));
	ck_assert_uint_eq(vm.virtio_slots, max);

	ck_assert_ptr_nonnull(vm.cmdline);
	snprintf(expect, sizeof(expect), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)VIRTIO_MMIO_BASE, VIRTIO_IRQ_BASE);
	ck_assert_ptr_nonnull(strstr(vm.cmdline, expect));
	snprintf(expect, sizeof(expect), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)(VIRTIO_MMIO_BASE + (max - 1) * VIRTIO_MMIO_WINDOW), IRQ_MAX);
	ck_assert_ptr_nonnull(strstr(vm.cmdline, expect));

	/* Each window answers on the bus. */
	for (unsigned int i = 0; i < max; i++) {
		ck_assert(bus_access(&vm.mmio_bus, VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW,
				     data, 4, false));
		memcpy(&v, data, 4);
		ck_assert_uint_eq(v, VIRTIO_MMIO_MAGIC);
	}
	ck_assert(!bus_access(&vm.mmio_bus, VIRTIO_MMIO_BASE + max * VIRTIO_MMIO_WINDOW,
			      data, 4, false));

	/* Drive the last device through the bus: QueueNotify by MMIO exit. */
	t = virtio_blk_transport(vm.devices->opaque);
	ck_assert_uint_eq(t->base, VIRTIO_MMIO_BASE + (max - 1) * VIRTIO_MMIO_WINDOW);
	ck_assert_uint_eq(t->irq, IRQ_MAX);
	virtio_mmio_set_irq_fn(t, on_irq, &irqs);
	driver_init(default_features);
	request(VIRTIO_BLK_T_IN, 4, 512, VRING_DESC_F_WRITE);
	ck_assert_uint_eq(status_byte(), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(*(uint8_t *)hva(DATA_GPA), img_byte(4 * 512));

	while (vm.devices) {
		struct vmm_device *d = vm.devices;

		vm.devices = d->next;
		d->destroy(d->opaque);
		free(d);
	}
	bus_release(&vm.mmio_bus);
	free(vm.cmdline);
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
	tcase_add_test(tc, read_only);
	tcase_add_test(tc, reset_clears_state);
	tcase_add_test(tc, notify_before_driver_ok);
	tcase_add_test(tc, broken_ring_needs_reset);
	tcase_add_test(tc, bad_chain_keeps_serving);
	tcase_add_test(tc, bad_queue_setup);
	tcase_add_test(tc, event_idx_suppression);
	tcase_add_test(tc, image_checks);
	tcase_add_test(tc, add_to_vm);
	suite_add_tcase(s, tc);
	return s;
}
