// SPDX-License-Identifier: Apache-2.0
/*
 * blk guest: a minimal virtio-mmio (version 2, "modern") virtio-blk driver
 * that exercises the VMM's block devices.
 *
 * Devices are found by probing the 4 KiB windows from 0xd0000000 for the
 * virtio magic; window i uses IOAPIC pin 5 + i. Each device is initialised
 * by virtio.c as the virtio 1.x spec says (reset, ACKNOWLEDGE, DRIVER,
 * features with VIRTIO_F_VERSION_1, FEATURES_OK, one split virtqueue,
 * DRIVER_OK), then requests are submitted one at a time and the used ring
 * is polled (one request waits for the interrupt instead).
 *
 * The host's disk images hold, in sector n, "DISK<tag> SECTOR <n, %08u>"
 * padded with '.' to 511 bytes and a '\n'. Command line:
 *   expect_blk_tags=AB    one tag character per expected disk (vda, vdb...)
 *   expect_blk_sectors=N  capacity of the first disk, in 512-byte sectors
 *   expect_blk_ro=1       the first disk is read-only: writes must fail
 *   blk_write_sector=N    sector of the first disk the guest writes
 *                         ("GUEST WROTE SECTOR <n>" padded the same way),
 *                         flushes and reads back (default 3); with
 *                         VIRTIO_BLK_F_WRITE_ZEROES offered, sector N + 1 is
 *                         zeroed too
 *   blk_abuse=1           finally submit malformed requests, then reset
 *                         the device and check that it works again
 *   blk_durable=SEED      durability mode (tests/guest-blk-durability.sh),
 *                         instead of all the above: writes a pattern derived
 *                         from SEED (see durable()), waits for every write
 *                         to complete, flushes, prints "DURABLE <SEED>" and
 *                         halts with interrupts off, never resetting
 *   blk_bench=MIB         benchmark mode (bench/blk), instead of all the
 *                         above: writes then reads the first MIB MiB of vda
 *                         sequentially in 4 KiB and in 1 MiB requests (see
 *                         bench())
 *   blk_stream=1          stream mode (tests/signals.sh), instead of all the
 *                         above: writes 4 KiB requests over vda round and
 *                         round, with a FLUSH after each round, for ever;
 *                         prints "STREAM START" after the first write
 * It also checks the "virtio_mmio.device=SIZE@BASE:IRQ" parameters the VMM
 * adds to the command line for Linux against what the probe found.
 * Prints "BLK 0 ID[<serial>]", "PASS ..."/"FAIL ...", "BLK PASS <disks>".
 */
#include "virtio.h"

#define VIRTIO_ID_BLK           2

#define F_BLK_SIZE_MAX          1
#define F_BLK_SEG_MAX           2
#define F_BLK_RO                5
#define F_BLK_BLK_SIZE          6
#define F_BLK_FLUSH             9
#define F_BLK_DISCARD           13
#define F_BLK_WRITE_ZEROES      14

#define T_IN                    0
#define T_OUT                   1
#define T_FLUSH                 4
#define T_GET_ID                8
#define T_WRITE_ZEROES          13
#define BLK_S_OK                0
#define BLK_S_IOERR             1
#define BLK_S_UNSUPP            2
#define BLK_S_NONE              0xff    /* never written by the device */

#define SECTOR                  512u

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct blk_dev {
	struct virtio_dev vd;
	u64 capacity;
	char name[4];                   /* "vda" */
	char tag[6];                    /* "vda: " */
};

static struct blk_req_hdr req_hdr __attribute__((aligned(16)));
static volatile u8 req_status;
static u8 data[16384] __attribute__((aligned(4096)));
static u8 expect[SECTOR];
static struct blk_dev devs[VIRTIO_MAX_DEVS];

static u32 cfg32(struct blk_dev *d, u32 off)
{
	return virtio_rd(&d->vd, VM_CONFIG + off);
}

static u64 cfg64(struct blk_dev *d, u32 off)
{
	u32 gen, lo, hi;
	unsigned int tries = 0;

	do {
		gen = virtio_rd(&d->vd, VM_CONFIG_GENERATION);
		lo = cfg32(d, off);
		hi = cfg32(d, off + 4);
	} while (gen != virtio_rd(&d->vd, VM_CONFIG_GENERATION) && ++tries < 100);
	return (u64)hi << 32 | lo;
}

static bool has(struct blk_dev *d, unsigned int bit)
{
	return virtio_has(&d->vd, bit);
}

/* Expected content of sector @n of the disk tagged @tag. */
static void fill_expect(u8 *buf, char tag, u64 n, const char *prefix)
{
	unsigned int i = 0, k;
	char num[8];

	if (prefix) {
		while (*prefix)
			buf[i++] = (u8)*prefix++;
	} else {
		buf[i++] = 'D';
		buf[i++] = 'I';
		buf[i++] = 'S';
		buf[i++] = 'K';
		buf[i++] = (u8)tag;
		memcpy(buf + i, " SECTOR ", 8);
		i += 8;
	}
	for (k = 0; k < 8; k++) {
		num[7 - k] = (char)('0' + n % 10);
		n /= 10;
	}
	memcpy(buf + i, num, 8);
	i += 8;
	while (i < SECTOR - 1)
		buf[i++] = '.';
	buf[SECTOR - 1] = '\n';
}

static void show(const u8 *buf, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		con_putc(buf[i] >= ' ' && buf[i] <= '~' ? (char)buf[i] : '?');
}

/* ------------------------------------------------------------ device */

/* The next disk, vda first: named for what virtio.c prints ("INFO vda:
 * ...", "FAIL blk-init: vda: ..."). */
static void blk_attach(struct blk_dev *d, u64 base, unsigned int pin)
{
	virtio_attach(&d->vd, base, pin);
	memcpy(d->name, "vd?", sizeof(d->name));
	memcpy(d->tag, "vd?: ", sizeof(d->tag));
	d->name[2] = d->tag[2] = (char)('a' + d->vd.index);
	d->vd.fn = "blk-init";
	d->vd.tag = d->tag;
	d->vd.name = d->name;
}

static bool dev_init(struct blk_dev *d)
{
	u64 want = 1ul << F_VERSION_1 | 1ul << F_BLK_RO | 1ul << F_BLK_FLUSH |
		   1ul << F_BLK_BLK_SIZE | 1ul << F_BLK_SEG_MAX | 1ul << F_BLK_SIZE_MAX |
		   1ul << F_BLK_WRITE_ZEROES;

	if (!virtio_init(&d->vd, want, 1))
		return false;
	d->capacity = cfg64(d, 0);
	return true;
}

/*
 * One request: header, @nseg data segments of @seglen bytes each from
 * @buf (device-writable for reads), status. Returns the status byte, or -1
 * on timeout. @used_len gets what the device reported as written.
 */
static int request(struct blk_dev *d, u32 type, u64 sector, void *buf, u32 seglen,
		   unsigned int nseg, bool use_irq, u32 *used_len)
{
	struct virtqueue *v = &d->vd.vq[0];
	unsigned int i, n = 0;
	bool dev_writes = type == T_IN || type == T_GET_ID;
	u32 len = 0;

	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = BLK_S_NONE;
	v->desc[n].addr = (u64)&req_hdr;
	v->desc[n].len = sizeof(req_hdr);
	v->desc[n].flags = VRING_DESC_F_NEXT;
	v->desc[n].next = (u16)(n + 1);
	n++;
	for (i = 0; i < nseg; i++, n++) {
		v->desc[n].addr = (u64)buf + (u64)i * seglen;
		v->desc[n].len = seglen;
		v->desc[n].flags = VRING_DESC_F_NEXT | (dev_writes ? VRING_DESC_F_WRITE : 0);
		v->desc[n].next = (u16)(n + 1);
	}
	v->desc[n].addr = (u64)&req_status;
	v->desc[n].len = 1;
	v->desc[n].flags = VRING_DESC_F_WRITE;
	v->desc[n].next = 0;
	virtio_submit(v, 0);
	if (!virtio_wait_used(v, use_irq, &len))
		return -1;
	if (used_len)
		*used_len = len;
	return req_status;
}

static const char *status_name(int s)
{
	switch (s) {
	case BLK_S_OK: return "OK";
	case BLK_S_IOERR: return "IOERR";
	case BLK_S_UNSUPP: return "UNSUPP";
	case BLK_S_NONE: return "not written";
	case -1: return "timeout";
	default: return "unknown";
	}
}

/* Reads @count sectors from @first in @nseg segments and checks them. */
static bool read_check(struct blk_dev *d, char tag, u64 first, unsigned int count,
		       unsigned int nseg, bool use_irq, const char *name)
{
	u32 seglen = count * SECTOR / nseg, used_len = 0;
	unsigned int i;
	int s;

	memset(data, 0xee, count * SECTOR);
	s = request(d, T_IN, first, data, seglen, nseg, use_irq, &used_len);
	if (s != BLK_S_OK) {
		fail(name, "vd%c: read of %u sectors at %lu: status %s", 'a' + d->vd.index, count,
		     first, status_name(s));
		return false;
	}
	if (used_len < count * SECTOR || used_len > count * SECTOR + 1)
		kprintf("INFO vd%c: used length %u for a %u-byte read\n", 'a' + d->vd.index,
			used_len, count * SECTOR);
	for (i = 0; i < count; i++) {
		fill_expect(expect, tag, first + i, NULL);
		if (memcmp(data + i * SECTOR, expect, SECTOR)) {
			lock_console();
			fail(name, "vd%c: sector %lu holds the wrong data", 'a' + d->vd.index,
			     first + i);
			con_puts("  got:      ");
			show(data + i * SECTOR, 40);
			con_puts("\n  expected: ");
			show(expect, 40);
			con_putc('\n');
			unlock_console();
			return false;
		}
	}
	pass(name);
	return true;
}

static void test_first_disk(struct blk_dev *d, char tag)
{
	u64 want_sectors = cmdline_num("expect_blk_sectors", 0);
	bool want_ro = cmdline_num("expect_blk_ro", 0) != 0;
	u64 ws = cmdline_num("blk_write_sector", 3);
	int s;
	unsigned int i;
	u32 len;

	kprintf("INFO vda: capacity %lu sectors, size_max %u seg_max %u blk_size %u\n",
		d->capacity, has(d, F_BLK_SIZE_MAX) ? cfg32(d, 8) : 0,
		has(d, F_BLK_SEG_MAX) ? cfg32(d, 12) : 0,
		has(d, F_BLK_BLK_SIZE) ? cfg32(d, 20) : 0);
	if (want_sectors && d->capacity != want_sectors)
		fail("blk-capacity", "vda: %lu sectors, expected %lu", d->capacity, want_sectors);
	else if (want_sectors)
		pass("blk-capacity");
	if (has(d, F_BLK_RO) != want_ro)
		fail("blk-ro-feature", "VIRTIO_BLK_F_RO %s, expected %s",
		     has(d, F_BLK_RO) ? "offered" : "not offered", want_ro ? "on" : "off");
	else
		pass("blk-ro-feature");

	read_check(d, tag, 0, 1, 1, false, "blk-read-first");
	if (d->capacity)
		read_check(d, tag, d->capacity - 1, 1, 1, false, "blk-read-last");
	if (d->capacity >= 24) {
		read_check(d, tag, 9, 8, 2, false, "blk-read-multi-segment");
		read_check(d, tag, 16, 8, 8, false, "blk-read-8-segments");
	}
	/* The same request, waiting for the interrupt: the IOAPIC pin is
	 * masked except for this request. */
	virtio_irq_mask(&d->vd, false);
	i = d->vd.irqs;
	if (read_check(d, tag, 1, 1, 1, true, "blk-read-irq") && d->vd.irqs == i)
		fail("blk-irq", "vda: request completed but no interrupt arrived");
	else if (d->vd.irqs != i)
		pass("blk-irq");
	virtio_irq_mask(&d->vd, true);

	/* Out of range: the device must refuse, then keep working. */
	s = request(d, T_IN, d->capacity, data, SECTOR, 1, false, NULL);
	if (s != BLK_S_IOERR)
		fail("blk-out-of-range", "read at sector %lu (capacity): status %s",
		     d->capacity, status_name(s));
	else
		pass("blk-out-of-range");
	s = request(d, T_IN, d->capacity - 1, data, 2 * SECTOR, 1, false, NULL);
	if (s != BLK_S_IOERR)
		fail("blk-across-end", "2-sector read at the last sector: status %s",
		     status_name(s));
	else
		pass("blk-across-end");
	s = request(d, 0x55, 0, data, SECTOR, 1, false, NULL);
	if (s != BLK_S_UNSUPP)
		fail("blk-unsupported", "request type 0x55: status %s", status_name(s));
	else
		pass("blk-unsupported");

	/* GET_ID. */
	memset(data, 0, 32);
	s = request(d, T_GET_ID, 0, data, 20, 1, false, &len);
	if (s != BLK_S_OK) {
		fail("blk-get-id", "status %s", status_name(s));
	} else {
		lock_console();
		con_puts("BLK 0 ID[");
		for (i = 0; i < 20 && data[i]; i++)
			con_putc(data[i] >= ' ' && data[i] <= '~' ? (char)data[i] : '?');
		con_puts("]\n");
		unlock_console();
		pass("blk-get-id");
	}

	/* Write, flush, read back. */
	if (ws >= d->capacity) {
		fail("blk-write", "blk_write_sector %lu is beyond the disk", ws);
		return;
	}
	fill_expect(data, 0, ws, "GUEST WROTE SECTOR ");
	s = request(d, T_OUT, ws, data, SECTOR, 1, false, NULL);
	if (want_ro) {
		if (s == BLK_S_OK)
			fail("blk-write-ro", "a write to a read-only disk succeeded");
		else if (s == -1)
			fail("blk-write-ro", "write to a read-only disk: timeout");
		else
			pass("blk-write-ro");
		/* Still readable, unchanged. */
		read_check(d, tag, ws, 1, 1, false, "blk-read-after-ro-write");
		return;
	}
	if (s != BLK_S_OK) {
		fail("blk-write", "write of sector %lu: status %s", ws, status_name(s));
		return;
	}
	if (has(d, F_BLK_FLUSH)) {
		s = request(d, T_FLUSH, 0, NULL, 0, 0, false, NULL);
		if (s != BLK_S_OK)
			fail("blk-flush", "status %s", status_name(s));
		else
			pass("blk-flush");
	}
	memset(data, 0, SECTOR);
	s = request(d, T_IN, ws, data, SECTOR, 1, false, NULL);
	fill_expect(expect, 0, ws, "GUEST WROTE SECTOR ");
	if (s != BLK_S_OK || memcmp(data, expect, SECTOR))
		fail("blk-write", "sector %lu does not read back what was written (%s)", ws,
		     status_name(s));
	else
		kprintf("PASS blk-write sector %lu\n", ws);

	if (has(d, F_BLK_WRITE_ZEROES) && ws + 1 < d->capacity) {
		struct {
			u64 sector;
			u32 num;
			u32 flags;
		} __attribute__((packed)) *seg = (void *)data;

		seg->sector = ws + 1;
		seg->num = 1;
		seg->flags = 0;
		s = request(d, T_WRITE_ZEROES, 0, data, 16, 1, false, NULL);
		memset(data, 0xee, SECTOR);
		if (s == BLK_S_OK)
			s = request(d, T_IN, ws + 1, data, SECTOR, 1, false, NULL);
		for (i = 0; s == BLK_S_OK && i < SECTOR; i++)
			if (data[i])
				break;
		if (s != BLK_S_OK || i != SECTOR)
			fail("blk-write-zeroes", "sector %lu: status %s, byte %u not zero", ws + 1,
			     status_name(s), i);
		else
			kprintf("PASS blk-write-zeroes sector %lu\n", ws + 1);
	}
}

/* Malformed requests: the VMM must survive them; after a reset the device
 * must work again. */
static void abuse(struct blk_dev *d, char tag)
{
	struct virtio_dev *v = &d->vd;
	struct virtqueue *q = &v->vq[0];
	int s;
	u32 st;

	/* Data buffer in the MMIO gap: no guest memory there. */
	q->desc[0] = (struct vring_desc){ (u64)&req_hdr, sizeof(req_hdr), VRING_DESC_F_NEXT, 1 };
	q->desc[1] = (struct vring_desc){ 0xe0000000ul, SECTOR,
					  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	q->desc[2] = (struct vring_desc){ (u64)&req_status, 1, VRING_DESC_F_WRITE, 0 };
	req_hdr.type = T_IN;
	req_hdr.sector = 0;
	req_status = BLK_S_NONE;
	virtio_submit(q, 0);
	s = virtio_wait_used(q, false, NULL) ? req_status : -1;
	kprintf("INFO abuse: buffer outside RAM: status %s, device status 0x%x\n",
		status_name(s), virtio_rd(v, VM_STATUS));

	/* A descriptor chain that loops. */
	if (!(virtio_rd(v, VM_STATUS) & S_NEEDS_RESET)) {
		q->desc[0] = (struct vring_desc){ (u64)&req_hdr, sizeof(req_hdr),
						  VRING_DESC_F_NEXT, 1 };
		q->desc[1] = (struct vring_desc){ (u64)data, SECTOR,
						  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0 };
		req_status = BLK_S_NONE;
		virtio_submit(q, 0);
		s = virtio_wait_used(q, false, NULL) ? req_status : -1;
		kprintf("INFO abuse: looping chain: status %s, device status 0x%x\n",
			status_name(s), virtio_rd(v, VM_STATUS));
	}

	/* The avail index runs far ahead of the ring. */
	if (!(virtio_rd(v, VM_STATUS) & S_NEEDS_RESET)) {
		q->avail_idx = (u16)(q->avail_idx + 1000);
		*(volatile u16 *)&q->avail->idx = q->avail_idx;
		virtio_notify(q);
		delay_us(100000);
		kprintf("INFO abuse: avail index +1000: used idx %u, device status 0x%x\n",
			*(volatile u16 *)&q->used->idx, virtio_rd(v, VM_STATUS));
	}
	/* A notification for a queue that does not exist. */
	virtio_wr(v, VM_QUEUE_NOTIFY, 7);
	/* Config space writes and reads past the end of the window. */
	(void)virtio_rd(v, 0xffc);
	virtio_wr(v, VM_CONFIG + 0x200, 0x12345678);

	st = virtio_rd(v, VM_STATUS);
	if (!dev_init(d)) {
		fail("blk-reset-recovery", "device did not come back after a reset (status was "
		     "0x%x)", st);
		return;
	}
	read_check(d, tag, 0, 1, 1, false, "blk-reset-recovery");
}

/* ------------------------------------------------------------ durability */

/*
 * blk_durable=SEED: tests/guest-blk-durability.sh kills the VMM with
 * SIGKILL as soon as it sees the marker, then checks that the image holds
 * exactly what was written. Four regions of vda (which needs at least
 * DUR_MIN_SECTORS sectors), computed the same way by the test:
 *   sector 1 + SEED % 97             1 sector   one 512-byte segment
 *   sector 128 + SEED * 13 % 256     8 sectors  segments of 512, 2048, 1536
 *   sector 512 + SEED * 31 % 1024   16 sectors  two 4 KiB segments
 *   the last sector                  1 sector   one 512-byte segment
 * Sector n of a region holds "SEED <SEED, %010u> SECTOR <n, %08u> ", then
 * the letter 'a' + (SEED + 7 n + i) % 26 at each offset i from 32 to 510,
 * then '\n'. Even seeds submit the four writes together (one notification,
 * all in flight at once), odd seeds one after another. Either way the FLUSH
 * is submitted only once every write has completed with status OK (a flush
 * covers the writes completed before it), and "DURABLE <SEED>" is printed
 * only once the flush completed with status OK. Then the guest halts with
 * interrupts off and never resets: the VMM runs until it is killed.
 */
#define DUR_REGIONS             4
#define DUR_MIN_SECTORS         2048
#define DUR_MAX_SEED            9999999999ul

static struct blk_req_hdr dur_hdr[DUR_REGIONS + 1] __attribute__((aligned(16)));
static volatile u8 dur_status[DUR_REGIONS + 1];

static void put_digits(u8 *buf, u64 v, unsigned int width)
{
	while (width--) {
		buf[width] = (u8)('0' + v % 10);
		v /= 10;
	}
}

static void durable_fill(u8 *buf, u64 seed, u64 n)
{
	unsigned int i;

	memcpy(buf, "SEED ", 5);
	put_digits(buf + 5, seed, 10);
	memcpy(buf + 15, " SECTOR ", 8);
	put_digits(buf + 23, n, 8);
	buf[31] = ' ';
	for (i = 32; i < SECTOR - 1; i++)
		buf[i] = (u8)('a' + (seed + 7 * n + i) % 26);
	buf[SECTOR - 1] = '\n';
}

/* Builds a request chain at descriptor @first: header, @nseg segments of
 * @buf with the lengths in @seg, status. Returns the number of descriptors. */
static unsigned int build_chain(struct blk_dev *d, unsigned int first, struct blk_req_hdr *h,
				u32 type, u64 sector, u8 *buf, const u32 *seg, unsigned int nseg,
				volatile u8 *status)
{
	struct virtqueue *v = &d->vd.vq[0];
	unsigned int i, n = first;
	u16 dflag = type == T_IN || type == T_GET_ID ? VRING_DESC_F_WRITE : 0;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*status = BLK_S_NONE;
	v->desc[n] = (struct vring_desc){ (u64)h, sizeof(*h), VRING_DESC_F_NEXT, (u16)(n + 1) };
	n++;
	for (i = 0; i < nseg; i++, n++) {
		v->desc[n] = (struct vring_desc){ (u64)buf, seg[i], VRING_DESC_F_NEXT | dflag,
						  (u16)(n + 1) };
		buf += seg[i];
	}
	v->desc[n] = (struct vring_desc){ (u64)status, 1, VRING_DESC_F_WRITE, 0 };
	return n + 1 - first;
}

/* Waits for the next used element and matches it with one of the @n
 * outstanding chains in @head (not yet @done). Returns its index or -1. */
static int durable_reap(struct blk_dev *d, const u16 *head, bool *done, unsigned int n,
			const char *what)
{
	struct virtqueue *q = &d->vd.vq[0];
	unsigned int i;

	if (!virtio_wait_used(q, false, NULL)) {
		fail("blk-durable", "%s: no completion within %u ms", what, VIRTIO_TIMEOUT_MS);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!done[i] && head[i] == q->last_id)
			break;
	if (i == n) {
		fail("blk-durable", "%s: used element with unexpected id %u", what, q->last_id);
		return -1;
	}
	done[i] = true;
	return (int)i;
}

static void durable(struct blk_dev *d, u64 seed)
{
	static const u32 seg1[] = { 512 }, seg2[] = { 512, 2048, 1536 }, seg3[] = { 4096, 4096 };
	struct {
		u64 sector;
		unsigned int nsec;
		const u32 *seg;
		unsigned int nseg;
	} r[DUR_REGIONS] = {
		{ 1 + seed % 97, 1, seg1, 1 },
		{ 128 + seed * 13 % 256, 8, seg2, 3 },
		{ 512 + seed * 31 % 1024, 16, seg3, 2 },
		{ d->capacity - 1, 1, seg1, 1 },
	};
	u16 head[DUR_REGIONS + 1];
	bool done[DUR_REGIONS + 1] = { false };
	bool together = !(seed & 1);
	unsigned int i, k, ndesc = 0;
	u8 *p = data;
	int j;

	if (seed > DUR_MAX_SEED) {
		fail("blk-durable", "seed %lu has more than 10 digits", seed);
		return;
	}
	if (d->capacity < DUR_MIN_SECTORS || has(d, F_BLK_RO) || !has(d, F_BLK_FLUSH)) {
		fail("blk-durable", "vda: %lu sectors (need %u), RO %s, FLUSH %s", d->capacity,
		     DUR_MIN_SECTORS, has(d, F_BLK_RO) ? "on" : "off",
		     has(d, F_BLK_FLUSH) ? "offered" : "not offered");
		return;
	}
	kprintf("INFO durable: seed %lu, writes %s, sectors %lu+1 %lu+8 %lu+16 %lu+1\n", seed,
		together ? "in flight together" : "one by one", r[0].sector, r[1].sector,
		r[2].sector, r[3].sector);

	for (i = 0; i < DUR_REGIONS; i++) {
		for (k = 0; k < r[i].nsec; k++)
			durable_fill(p + k * SECTOR, seed, r[i].sector + k);
		head[i] = (u16)ndesc;
		ndesc += build_chain(d, ndesc, &dur_hdr[i], T_OUT, r[i].sector, p, r[i].seg,
				     r[i].nseg, &dur_status[i]);
		p += r[i].nsec * SECTOR;
	}
	head[DUR_REGIONS] = (u16)ndesc;
	ndesc += build_chain(d, ndesc, &dur_hdr[DUR_REGIONS], T_FLUSH, 0, NULL, NULL, 0,
			     &dur_status[DUR_REGIONS]);
	if (ndesc > d->vd.vq[0].qsize || p > data + sizeof(data)) {
		fail("blk-durable", "%u descriptors for a queue of %u", ndesc, d->vd.vq[0].qsize);
		return;
	}

	/* The writes; every one must complete OK before the flush goes out. */
	for (i = 0; i < DUR_REGIONS; i++) {
		virtio_publish(&d->vd.vq[0], head[i]);
		if (!together) {
			virtio_notify(&d->vd.vq[0]);
			if (durable_reap(d, head, done, DUR_REGIONS, "write") < 0)
				return;
		}
	}
	if (together) {
		virtio_notify(&d->vd.vq[0]);
		for (i = 0; i < DUR_REGIONS; i++)
			if (durable_reap(d, head, done, DUR_REGIONS, "write") < 0)
				return;
	}
	for (i = 0; i < DUR_REGIONS; i++) {
		if (dur_status[i] != BLK_S_OK) {
			fail("blk-durable", "write of sector %lu: status %s", r[i].sector,
			     status_name(dur_status[i]));
			return;
		}
	}
	if (*(volatile u16 *)&d->vd.vq[0].used->idx != d->vd.vq[0].used_seen) {
		fail("blk-durable", "more used elements than requests");
		return;
	}
	pass("blk-durable-writes");

	/* The flush, alone in flight: every write above has completed. */
	virtio_publish(&d->vd.vq[0], head[DUR_REGIONS]);
	virtio_notify(&d->vd.vq[0]);
	j = durable_reap(d, head, done, DUR_REGIONS + 1, "flush");
	if (j < 0)
		return;
	if (j != DUR_REGIONS || dur_status[DUR_REGIONS] != BLK_S_OK) {
		fail("blk-durable", "flush: used id %u, status %s", d->vd.vq[0].last_id,
		     status_name(dur_status[DUR_REGIONS]));
		return;
	}
	pass("blk-durable-flush");
	kprintf("DURABLE %lu\n", seed);
	halt_forever();
}

/* ------------------------------------------------------------ stream */

/* blk_stream=1: a VMM busy with disk I/O when a signal comes. Returns on
 * failure only. */
static void stream(struct blk_dev *d)
{
	u64 nsec = d->capacity & ~7ul, sector = 0, round = 0;
	int s;

	if (nsec < 8 || has(d, F_BLK_RO)) {
		fail("blk-stream", "vda: %lu sectors, RO %s", d->capacity,
		     has(d, F_BLK_RO) ? "on" : "off");
		return;
	}
	for (;;) {
		memset(data, (int)('a' + round % 26), 4096);
		s = request(d, T_OUT, sector, data, 4096, 1, false, NULL);
		if (s != BLK_S_OK) {
			fail("blk-stream", "write at sector %lu: status %s", sector,
			     status_name(s));
			return;
		}
		if (!sector && !round)
			kprintf("STREAM START\n");
		sector += 8;
		if (sector < nsec)
			continue;
		sector = 0;
		round++;
		if (has(d, F_BLK_FLUSH) && request(d, T_FLUSH, 0, NULL, 0, 0, false, NULL) != BLK_S_OK) {
			fail("blk-stream", "flush after round %lu", round);
			return;
		}
	}
}

/* ------------------------------------------------------------ benchmark */

/*
 * blk_bench=MIB: bench/blk times these phases on the host by the arrival
 * of the "BENCH START <phase>" and "BENCH END <phase> ..." lines:
 *   write-4k  MIB MiB from sector 0 in 4 KiB requests, then one FLUSH
 *   read-4k   the same back in 4 KiB requests
 *   write-1m  MIB MiB in 1 MiB requests, then one FLUSH
 *   read-1m   the same back in 1 MiB requests
 * One request in flight at a time, completions polled (no interrupts).
 * The buffer is 1 MiB of RAM at BENCH_BUF; a request is split into equal
 * segments no larger than the device's size_max, at most seg_max of them.
 * Writes stamp the first 8 bytes of every 4 KiB block with the phase's
 * magic and the block number, reads poison then check these stamps: the
 * data really moved, at a cost of one store and load per 4 KiB. Ends with
 * "BENCH DONE" and the usual reset.
 */
#define BENCH_BUF               0x1000000ul     /* 16 MiB */
#define BENCH_BUF_SIZE          0x100000ul
#define BENCH_BLOCK             4096u
#define BENCH_MAGIC_4K          0x4b34424e45420000ul
#define BENCH_MAGIC_1M          0x4d31424e45420000ul
#define BENCH_POISON            0xdeadbeefdeadbeeful

static bool bench_phase(struct blk_dev *d, const char *name, u32 type, u32 reqsize, u64 total,
			u64 magic)
{
	u64 size_max = has(d, F_BLK_SIZE_MAX) ? cfg32(d, 8) : 0;
	u64 seg_max = has(d, F_BLK_SEG_MAX) ? cfg32(d, 12) : 1;
	u8 *buf = phys(BENCH_BUF);
	u32 seglen = reqsize;
	unsigned int nseg, b, nblk = reqsize / BENCH_BLOCK;
	u64 off, nreq = 0;
	int s;

	while (size_max && seglen > size_max && seglen > SECTOR)
		seglen /= 2;
	nseg = reqsize / seglen;
	if ((size_max && seglen > size_max) || nseg > seg_max || nseg + 2 > d->vd.vq[0].qsize) {
		fail("blk-bench", "%s: %u-byte requests do not fit size_max %lu, seg_max %lu, "
		     "queue %u", name, reqsize, size_max, seg_max, d->vd.vq[0].qsize);
		return false;
	}
	kprintf("INFO bench %s: %lu bytes in %u-byte requests of %u segments\n", name, total,
		reqsize, nseg);
	kprintf("BENCH START %s\n", name);
	for (off = 0; off < total; off += reqsize, nreq++) {
		u64 *stamp;

		for (b = 0; b < nblk; b++) {
			stamp = (u64 *)(buf + b * BENCH_BLOCK);
			*stamp = type == T_OUT ? magic ^ (off / BENCH_BLOCK + b) : BENCH_POISON;
		}
		s = request(d, type, off / SECTOR, buf, seglen, nseg, false, NULL);
		if (s != BLK_S_OK) {
			fail("blk-bench", "%s: request at byte %lu: status %s", name, off,
			     status_name(s));
			return false;
		}
		for (b = 0; type == T_IN && b < nblk; b++) {
			stamp = (u64 *)(buf + b * BENCH_BLOCK);
			if (*stamp != (magic ^ (off / BENCH_BLOCK + b))) {
				fail("blk-bench", "%s: block %lu holds 0x%lx", name,
				     off / BENCH_BLOCK + b, *stamp);
				return false;
			}
		}
	}
	if (type == T_OUT) {
		s = request(d, T_FLUSH, 0, NULL, 0, 0, false, NULL);
		if (s != BLK_S_OK) {
			fail("blk-bench", "%s: flush: status %s", name, status_name(s));
			return false;
		}
	}
	kprintf("BENCH END %s %lu bytes %lu requests\n", name, total, nreq);
	return true;
}

static void bench(struct blk_dev *d, u64 mib)
{
	u64 total = mib << 20;

	if (!mib || mib > (1ul << 30) || total / SECTOR > d->capacity || has(d, F_BLK_RO)) {
		fail("blk-bench", "cannot write %lu MiB to vda: %lu sectors, RO %s", mib,
		     d->capacity, has(d, F_BLK_RO) ? "on" : "off");
		return;
	}
	if ((u64)_end > BENCH_BUF || !e820_is_ram(BENCH_BUF, BENCH_BUF_SIZE)) {
		fail("blk-bench", "no RAM for the buffer at 0x%lx", BENCH_BUF);
		return;
	}
	if (!has(d, F_BLK_FLUSH))
		kprintf("INFO bench: no VIRTIO_BLK_F_FLUSH, write phases end without a flush\n");
	if (bench_phase(d, "write-4k", T_OUT, 4096, total, BENCH_MAGIC_4K) &&
	    bench_phase(d, "read-4k", T_IN, 4096, total, BENCH_MAGIC_4K) &&
	    bench_phase(d, "write-1m", T_OUT, 1u << 20, total, BENCH_MAGIC_1M) &&
	    bench_phase(d, "read-1m", T_IN, 1u << 20, total, BENCH_MAGIC_1M))
		kprintf("BENCH DONE\n");
}

/* Linux finds virtio-mmio devices through "virtio_mmio.device=SIZE@BASE:IRQ"
 * on its command line: one per device, matching what the probe found. */
static void check_cmdline_devices(unsigned int ndev)
{
	const char *p = cmdline();
	unsigned int found = 0;
	bool bad = false;

	while ((p = virtio_cmdline_next(p)) != NULL) {
		struct virtio_entry e;

		if (!virtio_parse_entry(p, &e)) {
			fail("blk-cmdline", "cannot parse the virtio_mmio.device parameter #%u", found);
			bad = true;
		} else if (e.base != VIRTIO_MMIO_BASE + found * VIRTIO_MMIO_WINDOW ||
			   e.irq != VIRTIO_IRQ_BASE + found || e.size < 0x200) {
			fail("blk-cmdline", "virtio_mmio.device #%u: size 0x%lx base 0x%lx irq %lu",
			     found, e.size, e.base, e.irq);
			bad = true;
		}
		found++;
	}
	if (found != ndev)
		fail("blk-cmdline", "%u virtio_mmio.device parameters for %u devices", found, ndev);
	else if (!bad)
		pass("blk-cmdline");
}

void guest_main(void)
{
	char tags[VIRTIO_MAX_DEVS + 1];
	unsigned int i, ndev = 0, ntags = 0;
	unsigned int failed_before = fail_count();

	idt_init();
	if (cmdline_get("expect_blk_tags", tags, sizeof(tags)))
		tags[0] = '\0';
	ntags = (unsigned int)strlen(tags);

	/* Interrupt plumbing: one IOAPIC pin per device. */
	virtio_irq_init();
	for (i = 0; i < VIRTIO_MAX_DEVS; i++) {
		u64 base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW;
		struct virtio_ident id;

		virtio_ident(base, &id);
		if (id.magic != VIRTIO_MAGIC)
			break;
		kprintf("INFO virtio-mmio at 0x%lx: version %u device %u vendor 0x%x\n", base,
			id.version, id.device, id.vendor);
		if (id.version != 2) {
			fail("blk-probe", "0x%lx: version %u, expected 2", base, id.version);
			continue;
		}
		if (id.device == VIRTIO_ID_BLK)
			blk_attach(&devs[ndev++], base, VIRTIO_IRQ_BASE + i);
	}
	kprintf("INFO %u virtio-blk devices\n", ndev);
	if (ntags && ndev != ntags)
		fail("blk-probe", "%u block devices, expected %u", ndev, ntags);
	if (!ndev) {
		kprintf("BLK FAIL no device\n");
		return;
	}
	check_cmdline_devices(ndev);

	/* The special modes use vda only. */
	if (cmdline_has("blk_durable") || cmdline_has("blk_bench") || cmdline_has("blk_stream")) {
		u64 seed = cmdline_num("blk_durable", ~0ul);

		if (dev_init(&devs[0])) {
			if (cmdline_has("blk_stream"))
				stream(&devs[0]);       /* returns on failure only */
			else if (!cmdline_has("blk_durable"))
				bench(&devs[0], cmdline_num("blk_bench", 64));
			else if (seed == ~0ul)
				fail("blk-durable", "blk_durable= needs a number");
			else
				durable(&devs[0], seed);        /* returns on failure only */
		}
		if (fail_count() == failed_before)
			kprintf("BLK PASS %u\n", ndev);
		else
			kprintf("BLK FAIL %u failures\n", fail_count() - failed_before);
		return;
	}

	for (i = 0; i < ndev; i++) {
		struct blk_dev *d = &devs[i];
		char tag = i < ntags ? tags[i] : '?';

		if (!dev_init(d))
			continue;
		kprintf("INFO vd%c: capacity %lu sectors\n", 'a' + i, d->capacity);
		if (i == 0)
			test_first_disk(d, tag);
		else
			read_check(d, tag, 0, 1, 1, false, "blk-read-other-disk");
	}
	if (cmdline_num("blk_abuse", 0))
		abuse(&devs[0], ntags ? tags[0] : '?');

	if (fail_count() == failed_before)
		kprintf("BLK PASS %u\n", ndev);
	else
		kprintf("BLK FAIL %u failures\n", fail_count() - failed_before);
}
