// SPDX-License-Identifier: Apache-2.0
/*
 * rng guest: a minimal virtio-mmio (version 2) virtio-rng driver (virtio
 * 1.x, 5.4) that exercises the VMM's entropy device (--rng).
 *
 * Devices are found through the "virtio_mmio.device=SIZE@BASE:IRQ"
 * parameters the VMM appends to the command line, in slot order; the rng
 * is the first with the virtio magic, version 2 and device ID 4. It is
 * initialised as blk.c does (reset, ACKNOWLEDGE, DRIVER, features, one
 * split virtqueue, DRIVER_OK), then requests go one at a time, the used
 * ring polled (one request waits for the interrupt instead).
 *
 * The checks, in this order: with a file source (--rng source=FILE) the
 * device hands out the file's bytes in order, so the first two requests
 * are the two 4 KiB reads (file offsets 0 and 4096), then the scattered
 * chain (8192 + 1000 k) and the indirect table (11192 + 1000 k):
 *   rng-read-0, rng-read-1  4 KiB each, read 1 by interrupt; used length
 *                           4096, not all zero, the two differ
 *   rng-scatter             one chain of 3 x 1000 writable bytes
 *   rng-indirect            the same through an indirect table
 *   rng-oversize            a 128 KiB buffer: 0 < used length <= 65536 and
 *                           nothing written past the used length
 *   rng-readable            chains with a device-readable descriptor
 *                           come back with used length 0, untouched
 *   rng-after-error         a read still works
 *   rng-reset-recovery      a read still works after a device reset
 * and on the way rng-cmdline (the entries in slot order: 0xd0000000 +
 * 4 KiB each, IRQ 5 on), rng-probe (vendor "QEMU"), rng-features (exactly
 * VERSION_1, INDIRECT_DESC, EVENT_IDX offered), rng-queue-max (FAILs
 * unless QueueNumMax is 256), rng-irq (read 1 raised its interrupt) and
 * rng-reads-differ.
 * Command line:
 *   expect_rng=0            instead: check that no device has ID 4
 *   rng_event_idx=1         negotiate VIRTIO_RING_F_EVENT_IDX too
 * Prints "INFO cmdline: <command line>", "RNG DEVICES <n>",
 * "RNG FOUND <slot> <base> <irq>", "RNG READ <i> <first 32 bytes, hex>",
 * "RNG SUM <i> <sum of (j + 1) * byte[j] mod 2^32 over the 4 KiB>",
 * "RNG SCATTER <k> <hex>" and "RNG INDIRECT <k> <hex>" (first 16 bytes of
 * part k), then the usual PASS/FAIL lines and finish().
 */
#include "guest.h"

#define VIRTIO_MMIO_BASE        0xd0000000ul
#define VIRTIO_MMIO_WINDOW      0x1000ul
#define VIRTIO_MAX_DEVS         8
#define VIRTIO_IRQ_BASE         5
#define IOAPIC_PINS             24
#define RNG_VECTOR              0x30
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

#define VIRTIO_MAGIC            0x74726976u
#define VIRTIO_VENDOR_QEMU      0x554d4551u
#define VIRTIO_ID_RNG           4
#define S_ACKNOWLEDGE           1
#define S_DRIVER                2
#define S_DRIVER_OK             4
#define S_FEATURES_OK           8
#define S_NEEDS_RESET           64
#define S_FAILED                128

#define F_INDIRECT_DESC         28
#define F_EVENT_IDX             29
#define F_VERSION_1             32
/* What the device offers: no rng-specific bits exist. */
#define RNG_FEATURES            (1ul << F_VERSION_1 | 1ul << F_INDIRECT_DESC | \
				 1ul << F_EVENT_IDX)
#define RNG_QUEUE_MAX           256
#define RNG_REQ_MAX             65536u  /* bytes the device fills per request */

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2
#define VRING_DESC_F_INDIRECT   4

#define QSIZE                   32      /* ring entries we use */
#define REQ_TIMEOUT_MS          3000
#define READ_SIZE               4096u
#define SHOW_READ               32      /* bytes of a read printed in hex */
#define SHOW_PART               16
#define NPARTS                  3
#define PART_LEN                1000u
#define PART_STRIDE             1024u   /* the gap between parts is a guard */
#define BIG_SIZE                (128u << 10)
#define RO_LEN                  512u
#define GUARD                   0xa5
#define RO_FILL                 0x5a

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* ring[qsize] is followed by used_event (avail) / avail_event (used). */
struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[];
};

/* One virtio_mmio.device= entry. */
struct vdev {
	u64 base;
	u64 irq;
	u32 id;                         /* device ID, 0 when no virtio device */
};

struct rng_dev {
	u64 base;
	unsigned int slot;
	unsigned int pin;
	u64 features;                   /* negotiated */
	unsigned int qsize;
	u16 avail_idx;
	u16 used_seen;
	volatile u32 irqs;
	u32 irq_mark;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static u8 ring_mem[3][4096] __attribute__((aligned(4096)));
static struct vring_desc ind_table[NPARTS] __attribute__((aligned(16)));
static u8 rd_buf[2][READ_SIZE] __attribute__((aligned(4096)));
static u8 parts[NPARTS * PART_STRIDE] __attribute__((aligned(4096)));
static u8 big[BIG_SIZE] __attribute__((aligned(4096)));
static u8 ro_buf[RO_LEN] __attribute__((aligned(64)));
static u8 wr_buf[RO_LEN] __attribute__((aligned(64)));
static struct vdev vdevs[VIRTIO_MAX_DEVS];
static struct rng_dev rng;
static volatile bool watchdog_fired;

static u32 rd(struct rng_dev *d, u32 reg)
{
	return mmio_read32(d->base + reg);
}

static void wr(struct rng_dev *d, u32 reg, u32 v)
{
	mmio_write32(d->base + reg, v);
}

static bool has(struct rng_dev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}

static bool all_bytes(const u8 *p, u32 n, u8 v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

/* "RNG <what> <i> <hex of the first n bytes>" */
static void show_hex(const char *what, unsigned int i, const u8 *p, unsigned int n)
{
	lock_console();
	kprintf("RNG %s %u ", what, i);
	while (n--)
		kprintf("%02x", *p++);
	con_putc('\n');
	unlock_console();
}

/* Sum of (j + 1) * p[j] modulo 2^32, as tests/guest-rng.sh computes it. */
static u32 weighted_sum(const u8 *p, u32 n)
{
	u32 s = 0, j;

	for (j = 0; j < n; j++)
		s += (j + 1) * p[j];
	return s;
}

/* ------------------------------------------------------------ interrupts */

static void rng_irq(unsigned int vector)
{
	u32 isr = rd(&rng, VM_INTERRUPT_STATUS);

	wr(&rng, VM_INTERRUPT_ACK, isr);
	rng.irqs++;
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
static void irq_mask(struct rng_dev *d, bool masked)
{
	ioapic_write(0x10 + 2 * d->pin + 1, (lapic_read(LAPIC_ID) >> 24) << 24);
	ioapic_write(0x10 + 2 * d->pin, RNG_VECTOR | (masked ? 1u << 16 : 0));
}

/* ------------------------------------------------------------ discovery */

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

/* Parses "SIZE@BASE:IRQ" at @q into @v; false when malformed. */
static bool parse_entry(const char *q, struct vdev *v)
{
	u64 size = 0;

	q = scan_num(q, &size);
	if (!q || *q != '@')
		return false;
	q = scan_num(q + 1, &v->base);
	if (!q || *q != ':')
		return false;
	q = scan_num(q + 1, &v->irq);
	return q && size >= 0x200;
}

/* Identifies the device behind entry @v (number @slot); false when the
 * entry is not where the slot order puts it or holds no virtio device. */
static bool probe_entry(struct vdev *v, unsigned int slot)
{
	u32 magic, version;

	if (v->base != VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_WINDOW ||
	    v->irq != VIRTIO_IRQ_BASE + slot) {
		fail("rng-cmdline", "virtio_mmio.device #%u: base 0x%lx irq %lu, expected "
		     "0x%lx irq %u", slot, v->base, v->irq,
		     VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_WINDOW, VIRTIO_IRQ_BASE + slot);
		return false;
	}
	magic = mmio_read32(v->base + VM_MAGIC);
	version = mmio_read32(v->base + VM_VERSION);
	v->id = mmio_read32(v->base + VM_DEVICE_ID);
	kprintf("INFO virtio-mmio #%u at 0x%lx irq %lu: magic 0x%x version %u device %u "
		"vendor 0x%x\n", slot, v->base, v->irq, magic, version, v->id,
		mmio_read32(v->base + VM_VENDOR_ID));
	if (magic != VIRTIO_MAGIC || version != 2) {
		fail("rng-cmdline", "virtio_mmio.device #%u: magic 0x%x version %u", slot,
		     magic, version);
		v->id = 0;
		return false;
	}
	return true;
}

/* Reads the virtio_mmio.device= entries into vdevs[]; returns their count. */
static unsigned int find_devices(void)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline();
	unsigned int n = 0;
	bool bad = false;

	kprintf("INFO cmdline: %s\n", p);
	while ((p = str_find(p, key)) != NULL) {
		p += sizeof(key) - 1;
		if (n == VIRTIO_MAX_DEVS) {
			fail("rng-cmdline", "more than %u virtio_mmio.device entries",
			     VIRTIO_MAX_DEVS);
			bad = true;
			break;
		}
		if (!parse_entry(p, &vdevs[n])) {
			fail("rng-cmdline", "cannot parse virtio_mmio.device #%u", n);
			bad = true;
		} else if (!probe_entry(&vdevs[n], n)) {
			bad = true;
		}
		n++;
	}
	kprintf("RNG DEVICES %u\n", n);
	if (!bad)
		pass("rng-cmdline");
	return n;
}

/* ------------------------------------------------------------ device */

static bool dev_init(struct rng_dev *d, bool event_idx)
{
	u32 max, st;
	u64 dfeat, want;
	unsigned int i;
	const char *fn = "rng-init";

	wr(d, VM_STATUS, 0);
	for (i = 0; i < 1000 && rd(d, VM_STATUS) != 0; i++)
		cpu_relax();
	if (rd(d, VM_STATUS) != 0) {
		fail(fn, "status does not read 0 after reset");
		return false;
	}
	wr(d, VM_STATUS, S_ACKNOWLEDGE);
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(d, VM_DEVICE_FEATURES_SEL, 0);
	dfeat = rd(d, VM_DEVICE_FEATURES);
	wr(d, VM_DEVICE_FEATURES_SEL, 1);
	dfeat |= (u64)rd(d, VM_DEVICE_FEATURES) << 32;
	kprintf("INFO rng: device features 0x%lx\n", dfeat);
	if (!((dfeat >> F_VERSION_1) & 1)) {
		fail(fn, "VIRTIO_F_VERSION_1 not offered");
		return false;
	}
	/* INDIRECT_DESC for rng-indirect; EVENT_IDX changes when interrupts
	 * come, so only on request. */
	want = 1ul << F_VERSION_1 | 1ul << F_INDIRECT_DESC | (event_idx ? 1ul << F_EVENT_IDX : 0);
	d->features = dfeat & want;
	wr(d, VM_DRIVER_FEATURES_SEL, 0);
	wr(d, VM_DRIVER_FEATURES, (u32)d->features);
	wr(d, VM_DRIVER_FEATURES_SEL, 1);
	wr(d, VM_DRIVER_FEATURES, (u32)(d->features >> 32));
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	st = rd(d, VM_STATUS);
	if (!(st & S_FEATURES_OK)) {
		fail(fn, "FEATURES_OK not accepted (status 0x%x)", st);
		return false;
	}

	wr(d, VM_QUEUE_SEL, 0);
	max = rd(d, VM_QUEUE_NUM_MAX);
	if (max == 0 || rd(d, VM_QUEUE_READY) != 0) {
		fail(fn, "queue 0 max %u ready %u", max, rd(d, VM_QUEUE_READY));
		return false;
	}
	if (max != RNG_QUEUE_MAX)
		fail("rng-queue-max", "QueueNumMax %u, expected %u", max, RNG_QUEUE_MAX);
	d->qsize = max < QSIZE ? max : QSIZE;
	memset(ring_mem, 0, sizeof(ring_mem));
	d->desc = (struct vring_desc *)ring_mem[0];
	d->avail = (struct vring_avail *)ring_mem[1];
	d->used = (struct vring_used *)ring_mem[2];
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
		fail(fn, "QueueReady does not read back 1");
		return false;
	}
	wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(d, VM_STATUS);
	if ((st & (S_DRIVER_OK | S_FAILED | S_NEEDS_RESET)) != S_DRIVER_OK) {
		fail(fn, "status 0x%x after DRIVER_OK", st);
		return false;
	}
	return true;
}

/* Publishes descriptor chain @head and notifies. With EVENT_IDX,
 * used_event asks for an interrupt on the very next used element. */
static void submit(struct rng_dev *d, u16 head)
{
	d->avail->ring[d->avail_idx % d->qsize] = head;
	*(volatile u16 *)&d->avail->ring[d->qsize] = d->used_seen;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->avail_idx++;
	*(volatile u16 *)&d->avail->idx = d->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(d, VM_QUEUE_NOTIFY, 0);
}

/* Waits for the used element of chain @head; with @use_irq, sleeps in hlt
 * until the interrupt (a LAPIC timer watchdog bounds the wait). */
static bool wait_used(struct rng_dev *d, u16 head, bool use_irq, u32 *len, const char *name)
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
		if (rdtsc() - start > limit) {
			fail(name, "no completion within %u ms (device status 0x%x)",
			     REQ_TIMEOUT_MS, rd(d, VM_STATUS));
			return false;
		}
		cpu_relax();
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	e = *(volatile struct vring_used_elem *)&d->used->ring[d->used_seen % d->qsize];
	d->used_seen++;
	if (!use_irq) {
		/* Polling: acknowledge what the device raised meanwhile. */
		u32 isr = rd(d, VM_INTERRUPT_STATUS);

		if (isr)
			wr(d, VM_INTERRUPT_ACK, isr);
	}
	if (e.id != head) {
		fail(name, "used element for chain %u, expected %u", e.id, head);
		return false;
	}
	*len = e.len;
	return true;
}

/* Runs the chain built at descriptor 0; false (after a FAIL) on timeout. */
static bool request(struct rng_dev *d, bool use_irq, u32 *len, const char *name)
{
	d->irq_mark = d->irqs;
	submit(d, 0);
	return wait_used(d, 0, use_irq, len, name);
}

static void set_desc(struct rng_dev *d, unsigned int i, const void *buf, u32 len, u16 flags)
{
	d->desc[i] = (struct vring_desc){ (u64)buf, len, flags, (u16)(i + 1) };
}

/* One writable buffer of @len bytes at @buf. */
static bool read_into(struct rng_dev *d, u8 *buf, u32 len, bool use_irq, u32 *used,
		      const char *name)
{
	set_desc(d, 0, buf, len, VRING_DESC_F_WRITE);
	return request(d, use_irq, used, name);
}

/* ------------------------------------------------------------ checks */

/* A 4 KiB read into a zeroed buffer, filled completely. */
static bool read_4k(struct rng_dev *d, u8 *buf, bool use_irq, const char *name)
{
	u32 len = 0;

	memset(buf, 0, READ_SIZE);
	if (!read_into(d, buf, READ_SIZE, use_irq, &len, name))
		return false;
	if (len != READ_SIZE) {
		fail(name, "used length %u for a %u-byte buffer", len, READ_SIZE);
		return false;
	}
	if (all_bytes(buf, READ_SIZE, 0)) {
		fail(name, "%u bytes, all zero", READ_SIZE);
		return false;
	}
	return true;
}

/* Reads 0 and 1 must be the first two requests (see the top). */
static void test_reads(struct rng_dev *d)
{
	bool ok[2];
	unsigned int i;
	u32 irqs;

	ok[0] = read_4k(d, rd_buf[0], false, "rng-read-0");
	/* The second by interrupt: the pin is unmasked for it only. */
	irq_mask(d, false);
	irqs = d->irqs;
	ok[1] = read_4k(d, rd_buf[1], true, "rng-read-1");
	irq_mask(d, true);
	for (i = 0; i < 2; i++) {
		show_hex("READ", i, rd_buf[i], SHOW_READ);
		kprintf("RNG SUM %u %u\n", i, weighted_sum(rd_buf[i], READ_SIZE));
		if (ok[i])
			pass(i ? "rng-read-1" : "rng-read-0");
	}
	if (ok[1] && d->irqs == irqs)
		fail("rng-irq", "request completed but no interrupt arrived");
	else if (d->irqs != irqs)
		pass("rng-irq");
	if (ok[0] && ok[1] && !memcmp(rd_buf[0], rd_buf[1], READ_SIZE))
		fail("rng-reads-differ", "two reads of %u bytes are equal", READ_SIZE);
	else if (ok[0] && ok[1])
		pass("rng-reads-differ");
}

/* Checks the NPARTS parts after a scattered request of used length @len:
 * each written, the guard gaps between them untouched. */
static void check_parts(u32 len, const char *what, const char *name)
{
	unsigned int k;
	bool good = true;

	for (k = 0; k < NPARTS; k++) {
		const u8 *p = parts + k * PART_STRIDE;

		show_hex(what, k, p, SHOW_PART);
		if (all_bytes(p, PART_LEN, 0)) {
			fail(name, "part %u (%u bytes) is all zero", k, PART_LEN);
			good = false;
		}
		if (!all_bytes(p + PART_LEN, PART_STRIDE - PART_LEN, GUARD)) {
			fail(name, "bytes written after part %u", k);
			good = false;
		}
	}
	if (len != NPARTS * PART_LEN) {
		fail(name, "used length %u for %u descriptors of %u bytes", len, NPARTS, PART_LEN);
		good = false;
	}
	if (good)
		pass(name);
}

static void parts_reset(void)
{
	unsigned int k;

	memset(parts, GUARD, sizeof(parts));
	for (k = 0; k < NPARTS; k++)
		memset(parts + k * PART_STRIDE, 0, PART_LEN);
}

/* One chain of NPARTS writable descriptors. */
static void test_scatter(struct rng_dev *d)
{
	unsigned int k;
	u32 len = 0;

	parts_reset();
	for (k = 0; k < NPARTS; k++)
		set_desc(d, k, parts + k * PART_STRIDE, PART_LEN,
			 VRING_DESC_F_WRITE | (k + 1 < NPARTS ? VRING_DESC_F_NEXT : 0));
	if (request(d, false, &len, "rng-scatter"))
		check_parts(len, "SCATTER", "rng-scatter");
}

/* The same parts through an indirect table. The ring descriptor has only
 * VRING_DESC_F_INDIRECT: the spec has the device ignore its WRITE flag. */
static void test_indirect(struct rng_dev *d)
{
	unsigned int k;
	u32 len = 0;

	if (!has(d, F_INDIRECT_DESC)) {
		fail("rng-indirect", "VIRTIO_RING_F_INDIRECT_DESC not offered");
		return;
	}
	parts_reset();
	for (k = 0; k < NPARTS; k++)
		ind_table[k] = (struct vring_desc){
			(u64)(parts + k * PART_STRIDE), PART_LEN,
			VRING_DESC_F_WRITE | (k + 1 < NPARTS ? VRING_DESC_F_NEXT : 0), (u16)(k + 1) };
	d->desc[0] = (struct vring_desc){ (u64)ind_table, sizeof(ind_table),
					  VRING_DESC_F_INDIRECT, 0 };
	if (request(d, false, &len, "rng-indirect"))
		check_parts(len, "INDIRECT", "rng-indirect");
}

/* A buffer larger than the device fills: a short fill, reported exactly. */
static void test_oversize(struct rng_dev *d)
{
	const char *name = "rng-oversize";
	u32 len = 0, i;

	memset(big, GUARD, sizeof(big));
	if (!read_into(d, big, BIG_SIZE, false, &len, name))
		return;
	kprintf("INFO rng: used length %u for a %u-byte buffer\n", len, BIG_SIZE);
	if (len == 0 || len > RNG_REQ_MAX) {
		fail(name, "used length %u, expected 1..%u", len, RNG_REQ_MAX);
		return;
	}
	for (i = len; i < BIG_SIZE; i++)
		if (big[i] != GUARD)
			break;
	if (i < BIG_SIZE)
		fail(name, "byte %u written, past the used length %u", i, len);
	else if (len >= 64 && all_bytes(big, len, GUARD))
		fail(name, "used length %u but nothing written", len);
	else
		pass(name);
}

/*
 * A chain with a device-readable descriptor is a driver error: used
 * length 0, the readable buffer untouched. Readable alone, first and
 * last (a readable descriptor after a writable one is malformed for any
 * virtio device).
 */
static void test_readable(struct rng_dev *d)
{
	static const char *const shape[] = { "readable only", "readable, writable",
					     "writable, readable" };
	const char *name = "rng-readable";
	unsigned int v;
	bool good = true;
	u32 len;

	for (v = 0; v < ARRAY_SIZE(shape); v++) {
		memset(ro_buf, RO_FILL, sizeof(ro_buf));
		memset(wr_buf, 0, sizeof(wr_buf));
		if (v == 0) {
			set_desc(d, 0, ro_buf, RO_LEN, 0);
		} else if (v == 1) {
			set_desc(d, 0, ro_buf, RO_LEN, VRING_DESC_F_NEXT);
			set_desc(d, 1, wr_buf, RO_LEN, VRING_DESC_F_WRITE);
		} else {
			set_desc(d, 0, wr_buf, RO_LEN, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
			set_desc(d, 1, ro_buf, RO_LEN, 0);
		}
		len = ~0u;
		if (!request(d, false, &len, name))
			return;
		if (len != 0) {
			fail(name, "%s: used length %u, expected 0", shape[v], len);
			good = false;
		}
		if (!all_bytes(ro_buf, RO_LEN, RO_FILL)) {
			fail(name, "%s: the device wrote into the readable buffer", shape[v]);
			good = false;
		}
	}
	if (rd(d, VM_STATUS) & S_NEEDS_RESET) {
		fail(name, "device status 0x%x: DEVICE_NEEDS_RESET", rd(d, VM_STATUS));
		good = false;
	}
	if (good)
		pass(name);
}

static void test_after_error(struct rng_dev *d)
{
	if (read_4k(d, rd_buf[0], false, "rng-after-error"))
		pass("rng-after-error");
}

static void test_reset(struct rng_dev *d, bool event_idx)
{
	if (!dev_init(d, event_idx)) {
		fail("rng-reset-recovery", "device did not come back after a reset");
		return;
	}
	if (read_4k(d, rd_buf[1], false, "rng-reset-recovery"))
		pass("rng-reset-recovery");
}

/* ------------------------------------------------------------ main */

static void interrupts_init(void)
{
	/* PICs masked, LAPIC on; the device pin stays masked but for one
	 * request. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, 1u << 16);
	lapic_write(LAPIC_SVR, 0x1ff);
	idt_set_handler(WATCHDOG_VECTOR, watchdog_irq);
	idt_set_handler(RNG_VECTOR, rng_irq);
}

/* The first entry with device ID 4, or -1. */
static int find_rng(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vdevs[i].id == VIRTIO_ID_RNG)
			return (int)i;
	return -1;
}

static void expect_absent(unsigned int n)
{
	int i = find_rng(n);

	if (i >= 0)
		fail("rng-absent", "virtio_mmio.device #%d at 0x%lx has device ID %u", i,
		     vdevs[i].base, VIRTIO_ID_RNG);
	else
		pass("rng-absent");
}

/* Sets up the rng found in slot @slot; false (after a FAIL) if unusable. */
static bool rng_probe(unsigned int slot, bool event_idx)
{
	struct rng_dev *d = &rng;
	u32 vendor;

	d->base = vdevs[slot].base;
	d->slot = slot;
	d->pin = (unsigned int)vdevs[slot].irq;
	kprintf("RNG FOUND %u 0x%lx %u\n", slot, d->base, d->pin);
	vendor = rd(d, VM_VENDOR_ID);
	if (vendor != VIRTIO_VENDOR_QEMU)
		fail("rng-probe", "vendor 0x%x, expected 0x%x", vendor, VIRTIO_VENDOR_QEMU);
	else
		pass("rng-probe");
	if (d->pin >= IOAPIC_PINS) {
		fail("rng-probe", "IRQ %u is not an IOAPIC pin", d->pin);
		return false;
	}
	irq_mask(d, true);
	if (!dev_init(d, event_idx))
		return false;
	kprintf("INFO rng: negotiated features 0x%lx, queue size %u\n", d->features, d->qsize);
	return true;
}

static void check_features(struct rng_dev *d)
{
	u64 dfeat;

	wr(d, VM_DEVICE_FEATURES_SEL, 0);
	dfeat = rd(d, VM_DEVICE_FEATURES);
	wr(d, VM_DEVICE_FEATURES_SEL, 1);
	dfeat |= (u64)rd(d, VM_DEVICE_FEATURES) << 32;
	if (dfeat != RNG_FEATURES)
		fail("rng-features", "device features 0x%lx, expected 0x%lx", dfeat,
		     RNG_FEATURES);
	else
		pass("rng-features");
}

void guest_main(void)
{
	bool event_idx = cmdline_num("rng_event_idx", 0) != 0;
	unsigned int n;
	int slot;

	idt_init();
	interrupts_init();
	n = find_devices();
	if (cmdline_num("expect_rng", 1) == 0) {
		expect_absent(n);
		finish();
	}
	slot = find_rng(n);
	if (slot < 0) {
		fail("rng-probe", "no virtio-rng device among %u virtio-mmio devices", n);
		finish();
	}
	if (!rng_probe((unsigned int)slot, event_idx))
		finish();
	check_features(&rng);
	test_reads(&rng);
	test_scatter(&rng);
	test_indirect(&rng);
	test_oversize(&rng);
	test_readable(&rng);
	test_after_error(&rng);
	test_reset(&rng, event_idx);
	finish();
}
