// SPDX-License-Identifier: Apache-2.0
/*
 * blk guest: a minimal virtio-mmio (version 2, "modern") virtio-blk driver
 * that exercises the VMM's block devices.
 *
 * Devices are found by probing the 4 KiB windows from 0xd0000000 for the
 * virtio magic; window i uses IOAPIC pin 5 + i. Each device is initialised
 * as the virtio 1.x spec says (reset, ACKNOWLEDGE, DRIVER, features with
 * VIRTIO_F_VERSION_1, FEATURES_OK, one split virtqueue, DRIVER_OK), then
 * requests are submitted one at a time and the used ring is polled (one
 * request waits for the interrupt instead).
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
 * It also checks the "virtio_mmio.device=SIZE@BASE:IRQ" parameters the VMM
 * adds to the command line for Linux against what the probe found.
 * Prints "BLK 0 ID[<serial>]", "PASS ..."/"FAIL ...", "BLK PASS <disks>".
 */
#include "guest.h"

#define VIRTIO_MMIO_BASE        0xd0000000ul
#define VIRTIO_MMIO_WINDOW      0x1000ul
#define VIRTIO_MAX_DEVS         8
#define VIRTIO_IRQ_BASE         5
#define BLK_VECTOR_BASE         0x30
#define WATCHDOG_VECTOR         0x40

/* virtio-mmio registers */
#define VM_MAGIC                0x000
#define VM_VERSION              0x004
#define VM_DEVICE_ID            0x008
#define VM_VENDOR_ID            0x00c
#define VM_DEVICE_FEATURES      0x010
#define VM_DEVICE_FEATURES_SEL  0x014
#define VM_DRIVER_FEATURES      0x020
#define VM_DRIVER_FEATURES_SEL  0x024
#define VM_QUEUE_SEL            0x030
#define VM_QUEUE_NUM_MAX        0x034
#define VM_QUEUE_NUM            0x038
#define VM_QUEUE_READY          0x044
#define VM_QUEUE_NOTIFY         0x050
#define VM_INTERRUPT_STATUS     0x060
#define VM_INTERRUPT_ACK        0x064
#define VM_STATUS               0x070
#define VM_QUEUE_DESC_LOW       0x080
#define VM_QUEUE_DESC_HIGH      0x084
#define VM_QUEUE_DRIVER_LOW     0x090
#define VM_QUEUE_DRIVER_HIGH    0x094
#define VM_QUEUE_DEVICE_LOW     0x0a0
#define VM_QUEUE_DEVICE_HIGH    0x0a4
#define VM_CONFIG_GENERATION    0x0fc
#define VM_CONFIG               0x100

#define VIRTIO_MAGIC            0x74726976u
#define S_ACKNOWLEDGE           1
#define S_DRIVER                2
#define S_DRIVER_OK             4
#define S_FEATURES_OK           8
#define S_NEEDS_RESET           64
#define S_FAILED                128

#define F_BLK_SIZE_MAX          1
#define F_BLK_SEG_MAX           2
#define F_BLK_RO                5
#define F_BLK_BLK_SIZE          6
#define F_BLK_FLUSH             9
#define F_BLK_DISCARD           13
#define F_BLK_WRITE_ZEROES      14
#define F_VERSION_1             32

#define T_IN                    0
#define T_OUT                   1
#define T_FLUSH                 4
#define T_GET_ID                8
#define T_WRITE_ZEROES          13
#define BLK_S_OK                0
#define BLK_S_IOERR             1
#define BLK_S_UNSUPP            2
#define BLK_S_NONE              0xff    /* never written by the device */

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2

#define QSIZE                   32      /* ring entries we use (device max is more) */
#define SECTOR                  512u
#define REQ_TIMEOUT_MS          3000

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[QSIZE];
	u16 used_event;
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[QSIZE];
	u16 avail_event;
};

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct blk_dev {
	unsigned int index;
	u64 base;
	u64 features;
	u64 capacity;
	unsigned int qsize;
	u16 avail_idx;
	u16 used_seen;
	u32 last_id;                    /* head of the last used element */
	unsigned int pin;
	u32 vector;
	volatile u32 irqs;
	u32 irq_mark;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* Rings: one page per device and ring part, far more than needed. */
static u8 ring_mem[VIRTIO_MAX_DEVS][3][4096] __attribute__((aligned(4096)));
static struct blk_req_hdr req_hdr __attribute__((aligned(16)));
static volatile u8 req_status;
static u8 data[16384] __attribute__((aligned(4096)));
static u8 expect[SECTOR];
static struct blk_dev devs[VIRTIO_MAX_DEVS];
static volatile bool watchdog_fired;

static u32 rd(struct blk_dev *d, u32 reg)
{
	return mmio_read32(d->base + reg);
}

static void wr(struct blk_dev *d, u32 reg, u32 v)
{
	mmio_write32(d->base + reg, v);
}

static u32 cfg32(struct blk_dev *d, u32 off)
{
	return mmio_read32(d->base + VM_CONFIG + off);
}

static u64 cfg64(struct blk_dev *d, u32 off)
{
	u32 gen, lo, hi;
	unsigned int tries = 0;

	do {
		gen = rd(d, VM_CONFIG_GENERATION);
		lo = cfg32(d, off);
		hi = cfg32(d, off + 4);
	} while (gen != rd(d, VM_CONFIG_GENERATION) && ++tries < 100);
	return (u64)hi << 32 | lo;
}

static bool has(struct blk_dev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
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

/* ------------------------------------------------------------ interrupts */

static void blk_irq(unsigned int vector)
{
	unsigned int i = vector - BLK_VECTOR_BASE;

	if (i < VIRTIO_MAX_DEVS && devs[i].base) {
		u32 isr = rd(&devs[i], VM_INTERRUPT_STATUS);

		wr(&devs[i], VM_INTERRUPT_ACK, isr);
		devs[i].irqs++;
	}
	lapic_write(LAPIC_EOI, 0);
}

static void watchdog_irq(unsigned int vector)
{
	watchdog_fired = true;
	lapic_write(LAPIC_EOI, 0);
}

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3e0

static void watchdog_arm(void)
{
	watchdog_fired = false;
	lapic_write(LAPIC_TIMER_DCR, 0xa);              /* divide by 128 */
	lapic_write(LAPIC_LVT_TIMER, WATCHDOG_VECTOR);  /* one-shot */
	lapic_write(LAPIC_TIMER_ICR, 20000000);         /* 2.56 s at KVM's 1 GHz */
}

static void watchdog_disarm(void)
{
	lapic_write(LAPIC_TIMER_ICR, 0);
}

/* Redirection entry of the device's pin: edge, fixed, to the BSP. */
static void irq_mask(struct blk_dev *d, bool masked)
{
	ioapic_write(0x10 + 2 * d->pin + 1, (lapic_read(LAPIC_ID) >> 24) << 24);
	ioapic_write(0x10 + 2 * d->pin, d->vector | (masked ? 1u << 16 : 0));
}

/* ------------------------------------------------------------ device */

static bool dev_init(struct blk_dev *d)
{
	u32 max, st;
	u64 dfeat, want;
	unsigned int i;
	const char *fn = "blk-init";

	wr(d, VM_STATUS, 0);
	for (i = 0; i < 1000 && rd(d, VM_STATUS) != 0; i++)
		cpu_relax();
	if (rd(d, VM_STATUS) != 0) {
		fail(fn, "vd%c: status does not read 0 after reset", 'a' + d->index);
		return false;
	}
	wr(d, VM_STATUS, S_ACKNOWLEDGE);
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(d, VM_DEVICE_FEATURES_SEL, 0);
	dfeat = rd(d, VM_DEVICE_FEATURES);
	wr(d, VM_DEVICE_FEATURES_SEL, 1);
	dfeat |= (u64)rd(d, VM_DEVICE_FEATURES) << 32;
	kprintf("INFO vd%c: device features 0x%lx\n", 'a' + d->index, dfeat);
	if (!((dfeat >> F_VERSION_1) & 1)) {
		fail(fn, "vd%c: VIRTIO_F_VERSION_1 not offered", 'a' + d->index);
		return false;
	}
	want = 1ul << F_VERSION_1 | 1ul << F_BLK_RO | 1ul << F_BLK_FLUSH |
	       1ul << F_BLK_BLK_SIZE | 1ul << F_BLK_SEG_MAX | 1ul << F_BLK_SIZE_MAX |
	       1ul << F_BLK_WRITE_ZEROES;
	d->features = dfeat & want;
	wr(d, VM_DRIVER_FEATURES_SEL, 0);
	wr(d, VM_DRIVER_FEATURES, (u32)d->features);
	wr(d, VM_DRIVER_FEATURES_SEL, 1);
	wr(d, VM_DRIVER_FEATURES, (u32)(d->features >> 32));
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	st = rd(d, VM_STATUS);
	if (!(st & S_FEATURES_OK)) {
		fail(fn, "vd%c: FEATURES_OK not accepted (status 0x%x)", 'a' + d->index, st);
		return false;
	}

	wr(d, VM_QUEUE_SEL, 0);
	max = rd(d, VM_QUEUE_NUM_MAX);
	if (max == 0 || rd(d, VM_QUEUE_READY) != 0) {
		fail(fn, "vd%c: queue 0 max %u ready %u", 'a' + d->index, max,
		     rd(d, VM_QUEUE_READY));
		return false;
	}
	d->qsize = max < QSIZE ? max : QSIZE;
	d->desc = (struct vring_desc *)ring_mem[d->index][0];
	d->avail = (struct vring_avail *)ring_mem[d->index][1];
	d->used = (struct vring_used *)ring_mem[d->index][2];
	memset(ring_mem[d->index], 0, sizeof(ring_mem[0]));
	d->avail_idx = 0;
	d->used_seen = 0;
	wr(d, VM_QUEUE_NUM, d->qsize);
	wr(d, VM_QUEUE_DESC_LOW, (u32)(u64)d->desc);
	wr(d, VM_QUEUE_DESC_HIGH, (u32)((u64)d->desc >> 32));
	wr(d, VM_QUEUE_DRIVER_LOW, (u32)(u64)d->avail);
	wr(d, VM_QUEUE_DRIVER_HIGH, (u32)((u64)d->avail >> 32));
	wr(d, VM_QUEUE_DEVICE_LOW, (u32)(u64)d->used);
	wr(d, VM_QUEUE_DEVICE_HIGH, (u32)((u64)d->used >> 32));
	wr(d, VM_QUEUE_READY, 1);
	if (rd(d, VM_QUEUE_READY) != 1) {
		fail(fn, "vd%c: QueueReady does not read back 1", 'a' + d->index);
		return false;
	}
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(d, VM_STATUS);
	if ((st & (S_DRIVER_OK | S_FAILED | S_NEEDS_RESET)) != S_DRIVER_OK) {
		fail(fn, "vd%c: status 0x%x after DRIVER_OK", 'a' + d->index, st);
		return false;
	}
	d->capacity = cfg64(d, 0);
	return true;
}

/* Publishes descriptor chain @head and notifies. */
static void submit(struct blk_dev *d, u16 head)
{
	d->avail->ring[d->avail_idx % d->qsize] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->avail_idx++;
	*(volatile u16 *)&d->avail->idx = d->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(d, VM_QUEUE_NOTIFY, 0);
}

/* Waits for the next used element; with @use_irq, sleeps in hlt until the
 * interrupt (a LAPIC timer watchdog bounds the wait). */
static bool wait_used(struct blk_dev *d, bool use_irq, u32 *len)
{
	u64 start = rdtsc(), limit = tsc_per_ms() * REQ_TIMEOUT_MS;
	struct vring_used_elem e;

	if (use_irq) {
		/* Until the interrupt came: it may already be pending. */
		watchdog_arm();
		while (d->irqs == d->irq_mark && !watchdog_fired)
			__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		watchdog_disarm();
	}
	while (*(volatile u16 *)&d->used->idx == d->used_seen) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	e = *(volatile struct vring_used_elem *)&d->used->ring[d->used_seen % d->qsize];
	d->used_seen++;
	d->last_id = e.id;
	if (len)
		*len = e.len;
	if (!use_irq) {
		/* Polling: acknowledge what the device raised meanwhile. */
		u32 isr = rd(d, VM_INTERRUPT_STATUS);

		if (isr)
			wr(d, VM_INTERRUPT_ACK, isr);
	}
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
	unsigned int i, n = 0;
	bool dev_writes = type == T_IN || type == T_GET_ID;
	u32 len = 0;

	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = BLK_S_NONE;
	d->desc[n].addr = (u64)&req_hdr;
	d->desc[n].len = sizeof(req_hdr);
	d->desc[n].flags = VRING_DESC_F_NEXT;
	d->desc[n].next = (u16)(n + 1);
	n++;
	for (i = 0; i < nseg; i++, n++) {
		d->desc[n].addr = (u64)buf + (u64)i * seglen;
		d->desc[n].len = seglen;
		d->desc[n].flags = VRING_DESC_F_NEXT | (dev_writes ? VRING_DESC_F_WRITE : 0);
		d->desc[n].next = (u16)(n + 1);
	}
	d->desc[n].addr = (u64)&req_status;
	d->desc[n].len = 1;
	d->desc[n].flags = VRING_DESC_F_WRITE;
	d->desc[n].next = 0;
	d->irq_mark = d->irqs;
	submit(d, 0);
	if (!wait_used(d, use_irq, &len))
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
		fail(name, "vd%c: read of %u sectors at %lu: status %s", 'a' + d->index, count,
		     first, status_name(s));
		return false;
	}
	if (used_len < count * SECTOR || used_len > count * SECTOR + 1)
		kprintf("INFO vd%c: used length %u for a %u-byte read\n", 'a' + d->index,
			used_len, count * SECTOR);
	for (i = 0; i < count; i++) {
		fill_expect(expect, tag, first + i, NULL);
		if (memcmp(data + i * SECTOR, expect, SECTOR)) {
			lock_console();
			fail(name, "vd%c: sector %lu holds the wrong data", 'a' + d->index,
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
	irq_mask(d, false);
	i = d->irqs;
	if (read_check(d, tag, 1, 1, 1, true, "blk-read-irq") && d->irqs == i)
		fail("blk-irq", "vda: request completed but no interrupt arrived");
	else if (d->irqs != i)
		pass("blk-irq");
	irq_mask(d, true);

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
	int s;
	u32 st;

	/* Data buffer in the MMIO gap: no guest memory there. */
	d->desc[0] = (struct vring_desc){ (u64)&req_hdr, sizeof(req_hdr), VRING_DESC_F_NEXT, 1 };
	d->desc[1] = (struct vring_desc){ 0xe0000000ul, SECTOR,
					  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d->desc[2] = (struct vring_desc){ (u64)&req_status, 1, VRING_DESC_F_WRITE, 0 };
	req_hdr.type = T_IN;
	req_hdr.sector = 0;
	req_status = BLK_S_NONE;
	submit(d, 0);
	s = wait_used(d, false, NULL) ? req_status : -1;
	kprintf("INFO abuse: buffer outside RAM: status %s, device status 0x%x\n",
		status_name(s), rd(d, VM_STATUS));

	/* A descriptor chain that loops. */
	if (!(rd(d, VM_STATUS) & S_NEEDS_RESET)) {
		d->desc[0] = (struct vring_desc){ (u64)&req_hdr, sizeof(req_hdr),
						  VRING_DESC_F_NEXT, 1 };
		d->desc[1] = (struct vring_desc){ (u64)data, SECTOR,
						  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0 };
		req_status = BLK_S_NONE;
		submit(d, 0);
		s = wait_used(d, false, NULL) ? req_status : -1;
		kprintf("INFO abuse: looping chain: status %s, device status 0x%x\n",
			status_name(s), rd(d, VM_STATUS));
	}

	/* The avail index runs far ahead of the ring. */
	if (!(rd(d, VM_STATUS) & S_NEEDS_RESET)) {
		d->avail_idx = (u16)(d->avail_idx + 1000);
		*(volatile u16 *)&d->avail->idx = d->avail_idx;
		wr(d, VM_QUEUE_NOTIFY, 0);
		delay_us(100000);
		kprintf("INFO abuse: avail index +1000: used idx %u, device status 0x%x\n",
			*(volatile u16 *)&d->used->idx, rd(d, VM_STATUS));
	}
	/* A notification for a queue that does not exist. */
	wr(d, VM_QUEUE_NOTIFY, 7);
	/* Config space writes and reads past the end of the window. */
	(void)rd(d, 0xffc);
	wr(d, VM_CONFIG + 0x200, 0x12345678);

	st = rd(d, VM_STATUS);
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
	unsigned int i, n = first;
	u16 dflag = type == T_IN || type == T_GET_ID ? VRING_DESC_F_WRITE : 0;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*status = BLK_S_NONE;
	d->desc[n] = (struct vring_desc){ (u64)h, sizeof(*h), VRING_DESC_F_NEXT, (u16)(n + 1) };
	n++;
	for (i = 0; i < nseg; i++, n++) {
		d->desc[n] = (struct vring_desc){ (u64)buf, seg[i], VRING_DESC_F_NEXT | dflag,
						  (u16)(n + 1) };
		buf += seg[i];
	}
	d->desc[n] = (struct vring_desc){ (u64)status, 1, VRING_DESC_F_WRITE, 0 };
	return n + 1 - first;
}

/* Makes chain @head available without notifying. */
static void publish(struct blk_dev *d, u16 head)
{
	d->avail->ring[d->avail_idx % d->qsize] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->avail_idx++;
	*(volatile u16 *)&d->avail->idx = d->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Waits for the next used element and matches it with one of the @n
 * outstanding chains in @head (not yet @done). Returns its index or -1. */
static int durable_reap(struct blk_dev *d, const u16 *head, bool *done, unsigned int n,
			const char *what)
{
	unsigned int i;

	if (!wait_used(d, false, NULL)) {
		fail("blk-durable", "%s: no completion within %u ms", what, REQ_TIMEOUT_MS);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!done[i] && head[i] == d->last_id)
			break;
	if (i == n) {
		fail("blk-durable", "%s: used element with unexpected id %u", what, d->last_id);
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
	if (ndesc > d->qsize || p > data + sizeof(data)) {
		fail("blk-durable", "%u descriptors for a queue of %u", ndesc, d->qsize);
		return;
	}

	/* The writes; every one must complete OK before the flush goes out. */
	for (i = 0; i < DUR_REGIONS; i++) {
		publish(d, head[i]);
		if (!together) {
			wr(d, VM_QUEUE_NOTIFY, 0);
			if (durable_reap(d, head, done, DUR_REGIONS, "write") < 0)
				return;
		}
	}
	if (together) {
		wr(d, VM_QUEUE_NOTIFY, 0);
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
	if (*(volatile u16 *)&d->used->idx != d->used_seen) {
		fail("blk-durable", "more used elements than requests");
		return;
	}
	pass("blk-durable-writes");

	/* The flush, alone in flight: every write above has completed. */
	publish(d, head[DUR_REGIONS]);
	wr(d, VM_QUEUE_NOTIFY, 0);
	j = durable_reap(d, head, done, DUR_REGIONS + 1, "flush");
	if (j < 0)
		return;
	if (j != DUR_REGIONS || dur_status[DUR_REGIONS] != BLK_S_OK) {
		fail("blk-durable", "flush: used id %u, status %s", d->last_id,
		     status_name(dur_status[DUR_REGIONS]));
		return;
	}
	pass("blk-durable-flush");
	kprintf("DURABLE %lu\n", seed);
	halt_forever();
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
	if ((size_max && seglen > size_max) || nseg > seg_max || nseg + 2 > d->qsize) {
		fail("blk-bench", "%s: %u-byte requests do not fit size_max %lu, seg_max %lu, "
		     "queue %u", name, reqsize, size_max, seg_max, d->qsize);
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

/* Parses a number (decimal or 0x hex) with an optional K/M suffix;
 * returns the text after it, or NULL. */
static const char *scan_num(const char *p, u64 *v)
{
	char buf[24];
	unsigned int n = 0;

	while (n + 1 < sizeof(buf) && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				       (*p >= 'A' && *p <= 'F') || *p == 'x' || *p == 'X'))
		buf[n++] = *p++;
	buf[n] = '\0';
	if (!n || parse_num(buf, v))
		return NULL;
	if (*p == 'K' || *p == 'k') {
		*v <<= 10;
		p++;
	} else if (*p == 'M' || *p == 'm') {
		*v <<= 20;
		p++;
	}
	return p;
}

/* Linux finds virtio-mmio devices through "virtio_mmio.device=SIZE@BASE:IRQ"
 * on its command line: one per device, matching what the probe found. */
static void check_cmdline_devices(unsigned int ndev)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline();
	unsigned int found = 0;
	bool bad = false;

	while ((p = str_find(p, key)) != NULL) {
		u64 size = 0, base = 0, irq = 0;
		const char *q = p + sizeof(key) - 1;

		q = scan_num(q, &size);
		if (q && *q == '@')
			q = scan_num(q + 1, &base);
		else
			q = NULL;
		if (q && *q == ':')
			q = scan_num(q + 1, &irq);
		else
			q = NULL;
		if (!q) {
			fail("blk-cmdline", "cannot parse the virtio_mmio.device parameter #%u", found);
			bad = true;
		} else if (base != VIRTIO_MMIO_BASE + found * VIRTIO_MMIO_WINDOW ||
			   irq != VIRTIO_IRQ_BASE + found || size < 0x200) {
			fail("blk-cmdline", "virtio_mmio.device #%u: size 0x%lx base 0x%lx irq %lu",
			     found, size, base, irq);
			bad = true;
		}
		found++;
		p += sizeof(key) - 1;
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

	/* Interrupt plumbing: PICs masked, LAPIC on, one IOAPIC pin per device. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, 1u << 16);
	lapic_write(LAPIC_SVR, 0x1ff);
	idt_set_handler(WATCHDOG_VECTOR, watchdog_irq);

	for (i = 0; i < VIRTIO_MAX_DEVS; i++) {
		struct blk_dev *d = &devs[ndev];
		u64 base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_WINDOW;
		u32 magic = mmio_read32(base + VM_MAGIC);

		if (magic != VIRTIO_MAGIC)
			break;
		kprintf("INFO virtio-mmio at 0x%lx: version %u device %u vendor 0x%x\n", base,
			mmio_read32(base + VM_VERSION), mmio_read32(base + VM_DEVICE_ID),
			mmio_read32(base + VM_VENDOR_ID));
		if (mmio_read32(base + VM_VERSION) != 2) {
			fail("blk-probe", "0x%lx: version %u, expected 2", base,
			     mmio_read32(base + VM_VERSION));
			continue;
		}
		if (mmio_read32(base + VM_DEVICE_ID) != 2)
			continue;
		d->index = ndev;
		d->base = base;
		d->pin = VIRTIO_IRQ_BASE + i;
		d->vector = BLK_VECTOR_BASE + ndev;
		idt_set_handler(d->vector, blk_irq);
		irq_mask(d, true);
		ndev++;
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
	if (cmdline_has("blk_durable") || cmdline_has("blk_bench")) {
		u64 seed = cmdline_num("blk_durable", ~0ul);

		if (dev_init(&devs[0])) {
			if (!cmdline_has("blk_durable"))
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
