/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test guests: the virtio-mmio (version 2, "modern") driver code that
 * blk.c, rng.c and net.c share. A split virtqueue for each queue a device
 * uses (blk and rng: queue 0, net: 0 and 1); requests are polled, or wait
 * for the device's interrupt.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include "guest.h"

/* Where the VMM puts the devices: 4 KiB windows from 0xd0000000, window i
 * on IOAPIC pin 5 + i. */
#define VIRTIO_MMIO_BASE        0xd0000000ul
#define VIRTIO_MMIO_WINDOW      0x1000ul
#define VIRTIO_MAX_DEVS         8
#define VIRTIO_IRQ_BASE         5
#define VIRTIO_VECTOR_BASE      0x30    /* + the order of virtio_attach() */
#define VIRTIO_WATCHDOG_VECTOR  0x40
#define VIRTIO_MAX_QUEUES       2
#define VIRTIO_QSIZE            32      /* ring entries we use (device max is more) */
#define VIRTIO_TIMEOUT_MS       3000

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

/* Feature bits of any device type. */
#define F_INDIRECT_DESC         28
#define F_EVENT_IDX             29
#define F_VERSION_1             32

#define VRING_DESC_F_NEXT       1
#define VRING_DESC_F_WRITE      2
#define VRING_DESC_F_INDIRECT   4

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

/* One split virtqueue of a device. */
struct virtqueue {
	struct virtio_dev *dev;
	unsigned int num;               /* queue index */
	unsigned int qsize;
	u16 avail_idx;
	u16 used_seen;
	u32 last_id;                    /* head of the last used element */
	u32 irq_mark;                   /* dev->irqs when the last chain was published */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* One device and the queues it uses. */
struct virtio_dev {
	u64 base;
	unsigned int index;             /* order of virtio_attach() */
	unsigned int pin;               /* IOAPIC pin */
	u32 vector;
	/* What the setup steps print: FAIL <fn>: <tag><why>, INFO <name>: ... */
	const char *fn;                 /* "blk-init" */
	const char *tag;                /* "vda: ", or "" */
	const char *name;               /* "vda" */
	u64 features;                   /* negotiated */
	volatile u32 irqs;
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
};

/* The identification registers of a window. */
struct virtio_ident {
	u32 magic;
	u32 version;
	u32 device;
	u32 vendor;
};

/* One "virtio_mmio.device=SIZE@BASE:IRQ" command-line entry. */
struct virtio_entry {
	u64 size;
	u64 base;
	u64 irq;
};

static inline u32 virtio_rd(struct virtio_dev *d, u32 reg)
{
	return mmio_read32(d->base + reg);
}

static inline void virtio_wr(struct virtio_dev *d, u32 reg, u32 v)
{
	mmio_write32(d->base + reg, v);
}

static inline bool virtio_has(struct virtio_dev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}

/* PICs masked, LAPIC on, the watchdog's handler installed. */
void virtio_irq_init(void);
/* Takes the device at @base on IOAPIC @pin: the next index, vector and
 * ring memory (at most VIRTIO_MAX_DEVS devices), its handler, pin masked.
 * The name fields are the caller's. */
void virtio_attach(struct virtio_dev *d, u64 base, unsigned int pin);
/* Redirection entry of the device's pin: edge, fixed, to the BSP. */
void virtio_irq_mask(struct virtio_dev *d, bool masked);

/* Reads all four, whatever the magic: a bad one is worth printing. */
void virtio_ident(u64 base, struct virtio_ident *id);
/* The text after the next "virtio_mmio.device=" in @p, or NULL. */
const char *virtio_cmdline_next(const char *p);
/* Parses "SIZE@BASE:IRQ" at @p; false when malformed. */
bool virtio_parse_entry(const char *p, struct virtio_entry *e);

u64 virtio_device_features(struct virtio_dev *d);
/* Device initialisation in steps, each false after a FAIL: reset,
 * ACKNOWLEDGE, DRIVER and features (@want & offered, FEATURES_OK); queue
 * @n's maximum size (0 on failure); its rings; DRIVER_OK. virtio_init()
 * does them all for queues 0 to @nqueues - 1. */
bool virtio_negotiate(struct virtio_dev *d, u64 want);
u32 virtio_queue_max(struct virtio_dev *d, unsigned int n);
bool virtio_queue_start(struct virtio_dev *d, unsigned int n, u32 max);
bool virtio_driver_ok(struct virtio_dev *d);
bool virtio_init(struct virtio_dev *d, u64 want, unsigned int nqueues);

/* Makes chain @head available; _submit() also notifies. */
void virtio_publish(struct virtqueue *q, u16 head);
void virtio_notify(struct virtqueue *q);
void virtio_submit(struct virtqueue *q, u16 head);
/* Takes the next used element if there is one: its head in last_id, its
 * length in *len when @len. Never waits. */
bool virtio_next_used(struct virtqueue *q, u32 *len);
/* The same, waiting for it; with @use_irq, sleeps in hlt until the
 * interrupt first. False after VIRTIO_TIMEOUT_MS without one. */
bool virtio_wait_used(struct virtqueue *q, bool use_irq, u32 *len);

#endif
