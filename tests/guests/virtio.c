// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio driver code shared by the blk, rng and net guests: discovery
 * (window registers, the command-line entries), initialisation as the
 * virtio 1.x spec says (reset, ACKNOWLEDGE, DRIVER, features with
 * VIRTIO_F_VERSION_1, FEATURES_OK, a split virtqueue per queue used,
 * DRIVER_OK), and requests: publish, notify, take the used element, polled
 * or by interrupt (a LAPIC timer watchdog bounds the wait).
 */
#include "virtio.h"

/* Rings: one page per device, queue and ring part, far more than needed. */
static u8 ring_mem[VIRTIO_MAX_DEVS][VIRTIO_MAX_QUEUES][3][4096] __attribute__((aligned(4096)));
static struct virtio_dev *attached[VIRTIO_MAX_DEVS];
static unsigned int nattached;
static volatile bool watchdog_fired;

/* ------------------------------------------------------------ interrupts */

static void virtio_irq(unsigned int vector)
{
	unsigned int i = vector - VIRTIO_VECTOR_BASE;

	if (i < nattached) {
		struct virtio_dev *d = attached[i];
		u32 isr = virtio_rd(d, VM_INTERRUPT_STATUS);

		virtio_wr(d, VM_INTERRUPT_ACK, isr);
		d->irqs++;
	}
	lapic_write(LAPIC_EOI, 0);
}

static void watchdog_irq(unsigned int vector)
{
	watchdog_fired = true;
	lapic_write(LAPIC_EOI, 0);
}

static void watchdog_arm(void)
{
	watchdog_fired = false;
	lapic_write(LAPIC_TIMER_DCR, 0xa);                      /* divide by 128 */
	lapic_write(LAPIC_LVT_TIMER, VIRTIO_WATCHDOG_VECTOR);   /* one-shot */
	lapic_write(LAPIC_TIMER_ICR, 20000000);                 /* 2.56 s at KVM's 1 GHz */
}

static void watchdog_disarm(void)
{
	lapic_write(LAPIC_TIMER_ICR, 0);
}

void virtio_irq_init(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, 1u << 16);
	lapic_write(LAPIC_SVR, 0x1ff);
	idt_set_handler(VIRTIO_WATCHDOG_VECTOR, watchdog_irq);
}

void virtio_attach(struct virtio_dev *d, u64 base, unsigned int pin)
{
	d->base = base;
	d->index = nattached;
	d->pin = pin;
	d->vector = VIRTIO_VECTOR_BASE + d->index;
	attached[nattached++] = d;
	idt_set_handler(d->vector, virtio_irq);
	virtio_irq_mask(d, true);
}

void virtio_irq_mask(struct virtio_dev *d, bool masked)
{
	ioapic_write(0x10 + 2 * d->pin + 1, (lapic_read(LAPIC_ID) >> 24) << 24);
	ioapic_write(0x10 + 2 * d->pin, d->vector | (masked ? 1u << 16 : 0));
}

/* ------------------------------------------------------------ discovery */

void virtio_ident(u64 base, struct virtio_ident *id)
{
	id->magic = mmio_read32(base + VM_MAGIC);
	id->version = mmio_read32(base + VM_VERSION);
	id->device = mmio_read32(base + VM_DEVICE_ID);
	id->vendor = mmio_read32(base + VM_VENDOR_ID);
}

const char *virtio_cmdline_next(const char *p)
{
	static const char key[] = "virtio_mmio.device=";

	p = str_find(p, key);
	return p ? p + sizeof(key) - 1 : NULL;
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

bool virtio_parse_entry(const char *p, struct virtio_entry *e)
{
	p = scan_num(p, &e->size);
	if (!p || *p != '@')
		return false;
	p = scan_num(p + 1, &e->base);
	if (!p || *p != ':')
		return false;
	return scan_num(p + 1, &e->irq) != NULL;
}

/* ------------------------------------------------------------ setup */

u64 virtio_device_features(struct virtio_dev *d)
{
	u64 f;

	virtio_wr(d, VM_DEVICE_FEATURES_SEL, 0);
	f = virtio_rd(d, VM_DEVICE_FEATURES);
	virtio_wr(d, VM_DEVICE_FEATURES_SEL, 1);
	return f | (u64)virtio_rd(d, VM_DEVICE_FEATURES) << 32;
}

bool virtio_negotiate(struct virtio_dev *d, u64 want)
{
	unsigned int i;
	u64 dfeat;
	u32 st;

	virtio_wr(d, VM_STATUS, 0);
	for (i = 0; i < 1000 && virtio_rd(d, VM_STATUS) != 0; i++)
		cpu_relax();
	if (virtio_rd(d, VM_STATUS) != 0) {
		fail(d->fn, "%sstatus does not read 0 after reset", d->tag);
		return false;
	}
	virtio_wr(d, VM_STATUS, S_ACKNOWLEDGE);
	virtio_wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	dfeat = virtio_device_features(d);
	kprintf("INFO %s: device features 0x%lx\n", d->name, dfeat);
	if (!((dfeat >> F_VERSION_1) & 1)) {
		fail(d->fn, "%sVIRTIO_F_VERSION_1 not offered", d->tag);
		return false;
	}
	d->features = dfeat & want;
	virtio_wr(d, VM_DRIVER_FEATURES_SEL, 0);
	virtio_wr(d, VM_DRIVER_FEATURES, (u32)d->features);
	virtio_wr(d, VM_DRIVER_FEATURES_SEL, 1);
	virtio_wr(d, VM_DRIVER_FEATURES, (u32)(d->features >> 32));
	virtio_wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	st = virtio_rd(d, VM_STATUS);
	if (!(st & S_FEATURES_OK)) {
		fail(d->fn, "%sFEATURES_OK not accepted (status 0x%x)", d->tag, st);
		return false;
	}
	return true;
}

u32 virtio_queue_max(struct virtio_dev *d, unsigned int n)
{
	u32 max;

	virtio_wr(d, VM_QUEUE_SEL, n);
	max = virtio_rd(d, VM_QUEUE_NUM_MAX);
	if (max == 0 || virtio_rd(d, VM_QUEUE_READY) != 0) {
		fail(d->fn, "%squeue %u max %u ready %u", d->tag, n, max,
		     virtio_rd(d, VM_QUEUE_READY));
		return 0;
	}
	return max;
}

bool virtio_queue_start(struct virtio_dev *d, unsigned int n, u32 max)
{
	u8 (*mem)[4096] = ring_mem[d->index][n];
	struct virtqueue *q = &d->vq[n];

	q->dev = d;
	q->num = n;
	q->qsize = max < VIRTIO_QSIZE ? max : VIRTIO_QSIZE;
	memset(mem, 0, sizeof(ring_mem[0][0]));
	q->desc = (struct vring_desc *)mem[0];
	q->avail = (struct vring_avail *)mem[1];
	q->used = (struct vring_used *)mem[2];
	q->avail_idx = 0;
	q->used_seen = 0;
	virtio_wr(d, VM_QUEUE_SEL, n);
	virtio_wr(d, VM_QUEUE_NUM, q->qsize);
	virtio_wr(d, VM_QUEUE_DESC_LOW, (u32)(u64)q->desc);
	virtio_wr(d, VM_QUEUE_DESC_HIGH, (u32)((u64)q->desc >> 32));
	virtio_wr(d, VM_QUEUE_DRIVER_LOW, (u32)(u64)q->avail);
	virtio_wr(d, VM_QUEUE_DRIVER_HIGH, (u32)((u64)q->avail >> 32));
	virtio_wr(d, VM_QUEUE_DEVICE_LOW, (u32)(u64)q->used);
	virtio_wr(d, VM_QUEUE_DEVICE_HIGH, (u32)((u64)q->used >> 32));
	virtio_wr(d, VM_QUEUE_READY, 1);
	if (virtio_rd(d, VM_QUEUE_READY) != 1) {
		fail(d->fn, "%sQueueReady does not read back 1", d->tag);
		return false;
	}
	return true;
}

bool virtio_driver_ok(struct virtio_dev *d)
{
	u32 st;

	virtio_wr(d, VM_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = virtio_rd(d, VM_STATUS);
	if ((st & (S_DRIVER_OK | S_FAILED | S_NEEDS_RESET)) != S_DRIVER_OK) {
		fail(d->fn, "%sstatus 0x%x after DRIVER_OK", d->tag, st);
		return false;
	}
	return true;
}

bool virtio_init(struct virtio_dev *d, u64 want, unsigned int nqueues)
{
	unsigned int n;
	u32 max;

	if (!virtio_negotiate(d, want))
		return false;
	for (n = 0; n < nqueues; n++) {
		max = virtio_queue_max(d, n);
		if (!max || !virtio_queue_start(d, n, max))
			return false;
	}
	return virtio_driver_ok(d);
}

/* ------------------------------------------------------------ requests */

/* used_event asks for an interrupt on the very next used element; the
 * device reads it only with EVENT_IDX. */
void virtio_publish(struct virtqueue *q, u16 head)
{
	q->irq_mark = q->dev->irqs;
	q->avail->ring[q->avail_idx % q->qsize] = head;
	*(volatile u16 *)&q->avail->ring[q->qsize] = q->used_seen;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->avail_idx++;
	*(volatile u16 *)&q->avail->idx = q->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtio_notify(struct virtqueue *q)
{
	virtio_wr(q->dev, VM_QUEUE_NOTIFY, q->num);
}

void virtio_submit(struct virtqueue *q, u16 head)
{
	virtio_publish(q, head);
	virtio_notify(q);
}

bool virtio_next_used(struct virtqueue *q, u32 *len)
{
	struct vring_used_elem e;

	if (*(volatile u16 *)&q->used->idx == q->used_seen)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	e = *(volatile struct vring_used_elem *)&q->used->ring[q->used_seen % q->qsize];
	q->used_seen++;
	q->last_id = e.id;
	if (len)
		*len = e.len;
	return true;
}

bool virtio_wait_used(struct virtqueue *q, bool use_irq, u32 *len)
{
	u64 start = rdtsc(), limit = tsc_per_ms() * VIRTIO_TIMEOUT_MS;
	struct virtio_dev *d = q->dev;

	if (use_irq) {
		/* Until the interrupt came: it may already be pending. */
		watchdog_arm();
		while (d->irqs == q->irq_mark && !watchdog_fired)
			__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		watchdog_disarm();
	}
	while (!virtio_next_used(q, len)) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	if (!use_irq) {
		/* Polling: acknowledge what the device raised meanwhile. */
		u32 isr = virtio_rd(d, VM_INTERRUPT_STATUS);

		if (isr)
			virtio_wr(d, VM_INTERRUPT_ACK, isr);
	}
	return true;
}
