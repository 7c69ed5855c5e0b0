/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport (virtio 1.x, register layout version 2).
 *
 * A device (virtio-blk, virtio-net) embeds a struct virtio_mmio, fills a
 * struct virtio_mmio_desc and calls virtio_mmio_init(). The transport then
 * implements the register file, the status state machine, feature
 * negotiation and queue setup, and calls the device back through
 * struct virtio_mmio_ops when a queue is notified.
 *
 * virtio_mmio_attach() places the device in the next virtio-mmio slot of a
 * VM: MMIO window on vm->mmio_bus, an irqfd for the interrupt, an ioeventfd
 * per queue watched by the VM's event loop, and a virtio_mmio.device=
 * kernel parameter. Without attach (unit tests) the register file is driven
 * through virtio_mmio_access() and interrupts are reported through the
 * callback set with virtio_mmio_set_irq_fn().
 *
 * Locking: one mutex per device (t->lock) protects the transport and
 * device state. MMIO accesses come from vCPU threads, notifications from
 * the event-loop thread. Every ops callback is called with the lock held;
 * the virtio_mmio_*() helpers marked "lock held" must be called with it
 * held (i.e. from a callback, or between virtio_mmio_lock()/unlock()).
 */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio_queue.h"

struct vmm;
struct virtio_mmio;

#define VIRTIO_MMIO_MAGIC        0x74726976u      /* "virt" */
#define VIRTIO_MMIO_VERSION_2    2u
#define VIRTIO_MMIO_VENDOR       0x554d4551u      /* "QEMU", what guests expect */
#define VIRTIO_MMIO_MAX_QUEUES   8u
#define VIRTIO_MMIO_CONFIG_MAX   (0x1000u - 0x100u)

struct virtio_mmio_ops {
	/* Queue @index was notified while the device is live (DRIVER_OK,
	 * queue ready, not failed or needing reset). Lock held. */
	void (*queue_notify)(struct virtio_mmio *t, unsigned int index);
	/* The driver reset the device (status 0). Optional. Lock held. */
	void (*reset)(struct virtio_mmio *t);
	/* Driver write to the config space, already bounds-checked against
	 * config_len. Optional: without it, config writes are ignored. */
	void (*config_write)(struct virtio_mmio *t, uint32_t offset,
			     const uint8_t *data, uint32_t len);
};

struct virtio_mmio_desc {
	const char *name;               /* for messages, e.g. "virtio-blk" */
	uint32_t device_id;             /* VIRTIO_ID_* */
	/* Device feature bits. The transport always adds VIRTIO_F_VERSION_1,
	 * VIRTIO_RING_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX. */
	uint64_t features;
	unsigned int num_queues;        /* 1..VIRTIO_MMIO_MAX_QUEUES */
	uint16_t queue_size_max;        /* power of 2, 1..VIRTQ_MAX_SIZE */
	void *config;                   /* device config space (stays the device's) */
	uint32_t config_len;            /* <= VIRTIO_MMIO_CONFIG_MAX */
	const struct virtio_mmio_ops *ops;
	void *opaque;                   /* the device, for the callbacks */
};

struct virtio_mmio_queue {
	struct virtio_mmio *t;
	unsigned int index;
	uint32_t num;                   /* QueueNum as written (checked at ready) */
	uint64_t desc, avail, used;     /* ring addresses as written */
	struct virtq vq;
	int notify_fd;                  /* eventfd behind the ioeventfd, or -1 */
	bool ioeventfd;                 /* registered with KVM */
	bool watched;                   /* registered with the event loop */
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const char *name;
	uint32_t device_id;
	const struct virtio_mmio_ops *ops;
	void *opaque;
	struct vmm *vm;                 /* NULL when not attached to a VM */
	const struct guest_mem *mem;

	void *config;
	uint32_t config_len;
	uint32_t config_generation;

	uint64_t device_features;
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t status;
	uint32_t interrupt_status;
	uint32_t queue_sel;

	unsigned int num_queues;
	uint16_t queue_size_max;
	struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];

	/* Interrupt delivery: callback (tests), else irqfd, else irq line. */
	void (*irq_fn)(void *opaque);
	void *irq_opaque;
	int irqfd;
	unsigned int irq;
	uint64_t base;
	bool attached;                  /* window registered on the MMIO bus */
	bool warned;                    /* a guest error was already logged */
};

/*
 * Set up @t for the device described by @d. @vm may be NULL (no logging,
 * no attach); @mem is the guest memory the queues live in.
 * Returns: 0 on success or a negative errno (-EINVAL for a bad @d).
 */
int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_mmio_desc *d,
		     struct vmm *vm, const struct guest_mem *mem);

/*
 * Put the device in the next virtio-mmio slot of t->vm (see above).
 * @t must stay at the same address until virtio_mmio_release().
 * Returns: 0 on success or a negative errno (-ENOSPC: no IRQ left).
 */
int virtio_mmio_attach(struct virtio_mmio *t);

/* Undo attach (eventfds, KVM registrations) and init. The MMIO window
 * stays on the bus: call this only once no vCPU runs any more. */
void virtio_mmio_release(struct virtio_mmio *t);

/* Interrupts through @fn instead of KVM (unit tests). */
void virtio_mmio_set_irq_fn(struct virtio_mmio *t, void (*fn)(void *), void *opaque);

/* The register file; a bus_io_fn (@opaque is the struct virtio_mmio). */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* Process a notification of queue @index as QueueNotify would. Takes the
 * lock. Any thread. */
void virtio_mmio_notify(struct virtio_mmio *t, unsigned int index);

void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);

/* Lock held. The device is live and queue @index can be used: returns its
 * virtq, or NULL. */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned int index);

/* Lock held. Raise a used-buffer interrupt if the driver wants one for
 * the buffers pushed on @q since the last call. */
void virtio_mmio_queue_done(struct virtio_mmio *t, struct virtq *q);

/* Lock held. Have queue @index notified again from the event loop (to
 * yield after a long batch). Returns: false when the queue has no event
 * loop notifier; the caller then goes on itself. */
bool virtio_mmio_defer(struct virtio_mmio *t, unsigned int index);

/* Lock held. Raise a used-buffer interrupt unconditionally. */
void virtio_mmio_signal_used(struct virtio_mmio *t);

/* Lock held. The config space changed: bump ConfigGeneration and raise a
 * configuration-change interrupt (if the device is live). */
void virtio_mmio_config_changed(struct virtio_mmio *t);

/* Lock held. The driver broke the protocol: set DEVICE_NEEDS_RESET and
 * raise a configuration-change interrupt. @why is logged once. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);

/* Lock held. Log a guest error (only the first one per device, at warning
 * level; the following ones at debug level). */
void virtio_mmio_guest_error(struct virtio_mmio *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
