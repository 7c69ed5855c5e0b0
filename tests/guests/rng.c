// SPDX-License-Identifier: Apache-2.0
/*
 * rng guest: a minimal virtio-mmio (version 2) virtio-rng driver (virtio
 * 1.x, 5.4) that exercises the VMM's entropy device (--rng).
 *
 * Devices are found through the "virtio_mmio.device=SIZE@BASE:IRQ"
 * parameters the VMM appends to the command line, in slot order; the rng
 * is the first with the virtio magic, version 2 and device ID 4. It is
 * initialised by virtio.c (reset, ACKNOWLEDGE, DRIVER, features, one split
 * virtqueue, DRIVER_OK), then requests go one at a time, the used ring
 * polled (one request waits for the interrupt instead).
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
#include "virtio.h"

#define IOAPIC_PINS             24
#define VIRTIO_VENDOR_QEMU      0x554d4551u
#define VIRTIO_ID_RNG           4
/* What the device offers: no rng-specific bits exist. */
#define RNG_FEATURES            (1ul << F_VERSION_1 | 1ul << F_INDIRECT_DESC | \
				 1ul << F_EVENT_IDX)
#define RNG_QUEUE_MAX           256
#define RNG_REQ_MAX             65536u  /* bytes the device fills per request */

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

/* One virtio_mmio.device= entry. */
struct vdev {
	struct virtio_entry e;
	u32 id;                         /* device ID, 0 when no virtio device */
};

static struct vring_desc ind_table[NPARTS] __attribute__((aligned(16)));
static u8 rd_buf[2][READ_SIZE] __attribute__((aligned(4096)));
static u8 parts[NPARTS * PART_STRIDE] __attribute__((aligned(4096)));
static u8 big[BIG_SIZE] __attribute__((aligned(4096)));
static u8 ro_buf[RO_LEN] __attribute__((aligned(64)));
static u8 wr_buf[RO_LEN] __attribute__((aligned(64)));
static struct vdev vdevs[VIRTIO_MAX_DEVS];
static struct virtio_dev rng;

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

/* ------------------------------------------------------------ discovery */

/* Identifies the device behind entry @v (number @slot); false when the
 * entry is not where the slot order puts it or holds no virtio device. */
static bool probe_entry(struct vdev *v, unsigned int slot)
{
	struct virtio_ident id;

	if (v->e.base != VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_WINDOW ||
	    v->e.irq != VIRTIO_IRQ_BASE + slot) {
		fail("rng-cmdline", "virtio_mmio.device #%u: base 0x%lx irq %lu, expected "
		     "0x%lx irq %u", slot, v->e.base, v->e.irq,
		     VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_WINDOW, VIRTIO_IRQ_BASE + slot);
		return false;
	}
	virtio_ident(v->e.base, &id);
	kprintf("INFO virtio-mmio #%u at 0x%lx irq %lu: magic 0x%x version %u device %u "
		"vendor 0x%x\n", slot, v->e.base, v->e.irq, id.magic, id.version, id.device,
		id.vendor);
	if (id.magic != VIRTIO_MAGIC || id.version != 2) {
		fail("rng-cmdline", "virtio_mmio.device #%u: magic 0x%x version %u", slot,
		     id.magic, id.version);
		return false;
	}
	v->id = id.device;
	return true;
}

/* Reads the virtio_mmio.device= entries into vdevs[]; returns their count. */
static unsigned int find_devices(void)
{
	const char *p = cmdline();
	unsigned int n = 0;
	bool bad = false;

	kprintf("INFO cmdline: %s\n", p);
	while ((p = virtio_cmdline_next(p)) != NULL) {
		if (n == VIRTIO_MAX_DEVS) {
			fail("rng-cmdline", "more than %u virtio_mmio.device entries",
			     VIRTIO_MAX_DEVS);
			bad = true;
			break;
		}
		if (!virtio_parse_entry(p, &vdevs[n].e) || vdevs[n].e.size < 0x200) {
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

/* virtio_init() in its steps: rng-queue-max looks at the maximum the
 * device reports before the rings are set up. */
static bool dev_init(struct virtio_dev *d, bool event_idx)
{
	/* INDIRECT_DESC for rng-indirect; EVENT_IDX changes when interrupts
	 * come, so only on request. */
	u64 want = 1ul << F_VERSION_1 | 1ul << F_INDIRECT_DESC |
		   (event_idx ? 1ul << F_EVENT_IDX : 0);
	u32 max;

	if (!virtio_negotiate(d, want))
		return false;
	max = virtio_queue_max(d, 0);
	if (!max)
		return false;
	if (max != RNG_QUEUE_MAX)
		fail("rng-queue-max", "QueueNumMax %u, expected %u", max, RNG_QUEUE_MAX);
	return virtio_queue_start(d, 0, max) && virtio_driver_ok(d);
}

/* Waits for the used element of chain @head (see virtio_wait_used()). */
static bool wait_used(struct virtio_dev *d, u16 head, bool use_irq, u32 *len, const char *name)
{
	if (!virtio_wait_used(&d->vq[0], use_irq, len)) {
		fail(name, "no completion within %u ms (device status 0x%x)", VIRTIO_TIMEOUT_MS,
		     virtio_rd(d, VM_STATUS));
		return false;
	}
	if (d->vq[0].last_id != head) {
		fail(name, "used element for chain %u, expected %u", d->vq[0].last_id, head);
		return false;
	}
	return true;
}

/* Runs the chain built at descriptor 0; false (after a FAIL) on timeout. */
static bool request(struct virtio_dev *d, bool use_irq, u32 *len, const char *name)
{
	virtio_submit(&d->vq[0], 0);
	return wait_used(d, 0, use_irq, len, name);
}

static void set_desc(struct virtio_dev *d, unsigned int i, const void *buf, u32 len, u16 flags)
{
	d->vq[0].desc[i] = (struct vring_desc){ (u64)buf, len, flags, (u16)(i + 1) };
}

/* One writable buffer of @len bytes at @buf. */
static bool read_into(struct virtio_dev *d, u8 *buf, u32 len, bool use_irq, u32 *used,
		      const char *name)
{
	set_desc(d, 0, buf, len, VRING_DESC_F_WRITE);
	return request(d, use_irq, used, name);
}

/* ------------------------------------------------------------ checks */

/* A 4 KiB read into a zeroed buffer, filled completely. */
static bool read_4k(struct virtio_dev *d, u8 *buf, bool use_irq, const char *name)
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
static void test_reads(struct virtio_dev *d)
{
	bool ok[2];
	unsigned int i;
	u32 irqs;

	ok[0] = read_4k(d, rd_buf[0], false, "rng-read-0");
	/* The second by interrupt: the pin is unmasked for it only. */
	virtio_irq_mask(d, false);
	irqs = d->irqs;
	ok[1] = read_4k(d, rd_buf[1], true, "rng-read-1");
	virtio_irq_mask(d, true);
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
static void test_scatter(struct virtio_dev *d)
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
static void test_indirect(struct virtio_dev *d)
{
	unsigned int k;
	u32 len = 0;

	if (!virtio_has(d, F_INDIRECT_DESC)) {
		fail("rng-indirect", "VIRTIO_RING_F_INDIRECT_DESC not offered");
		return;
	}
	parts_reset();
	for (k = 0; k < NPARTS; k++)
		ind_table[k] = (struct vring_desc){
			(u64)(parts + k * PART_STRIDE), PART_LEN,
			VRING_DESC_F_WRITE | (k + 1 < NPARTS ? VRING_DESC_F_NEXT : 0), (u16)(k + 1) };
	d->vq[0].desc[0] = (struct vring_desc){ (u64)ind_table, sizeof(ind_table),
						VRING_DESC_F_INDIRECT, 0 };
	if (request(d, false, &len, "rng-indirect"))
		check_parts(len, "INDIRECT", "rng-indirect");
}

/* A buffer larger than the device fills: a short fill, reported exactly. */
static void test_oversize(struct virtio_dev *d)
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
static void test_readable(struct virtio_dev *d)
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
	if (virtio_rd(d, VM_STATUS) & S_NEEDS_RESET) {
		fail(name, "device status 0x%x: DEVICE_NEEDS_RESET", virtio_rd(d, VM_STATUS));
		good = false;
	}
	if (good)
		pass(name);
}

static void test_after_error(struct virtio_dev *d)
{
	if (read_4k(d, rd_buf[0], false, "rng-after-error"))
		pass("rng-after-error");
}

static void test_reset(struct virtio_dev *d, bool event_idx)
{
	if (!dev_init(d, event_idx)) {
		fail("rng-reset-recovery", "device did not come back after a reset");
		return;
	}
	if (read_4k(d, rd_buf[1], false, "rng-reset-recovery"))
		pass("rng-reset-recovery");
}

/* ------------------------------------------------------------ main */

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
		     vdevs[i].e.base, VIRTIO_ID_RNG);
	else
		pass("rng-absent");
}

/* Sets up the rng found in slot @slot; false (after a FAIL) if unusable. */
static bool rng_probe(unsigned int slot, bool event_idx)
{
	struct virtio_dev *d = &rng;
	u64 base = vdevs[slot].e.base;
	unsigned int pin = (unsigned int)vdevs[slot].e.irq;
	u32 vendor;

	kprintf("RNG FOUND %u 0x%lx %u\n", slot, base, pin);
	vendor = mmio_read32(base + VM_VENDOR_ID);
	if (vendor != VIRTIO_VENDOR_QEMU)
		fail("rng-probe", "vendor 0x%x, expected 0x%x", vendor, VIRTIO_VENDOR_QEMU);
	else
		pass("rng-probe");
	if (pin >= IOAPIC_PINS) {
		fail("rng-probe", "IRQ %u is not an IOAPIC pin", pin);
		return false;
	}
	d->fn = "rng-init";
	d->tag = "";
	d->name = "rng";
	virtio_attach(d, base, pin);
	if (!dev_init(d, event_idx))
		return false;
	kprintf("INFO rng: negotiated features 0x%lx, queue size %u\n", d->features,
		d->vq[0].qsize);
	return true;
}

static void check_features(struct virtio_dev *d)
{
	u64 dfeat = virtio_device_features(d);

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
	/* The device pin stays masked but for one request. */
	virtio_irq_init();
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
