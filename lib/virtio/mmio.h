/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport (virtio 1.x, register layout version 2), shared by
 * every virtio device.
 *
 * A device (virtio-blk, virtio-rng) starts its state with a struct
 * virtio_mmio -- so that a virtio device pointer is a struct virtio_mmio
 * pointer -- fills a struct virtio_mmio_desc and calls virtio_mmio_init().
 * The transport implements the register file, the status state machine,
 * feature negotiation and queue setup, and calls the device back through
 * struct virtio_mmio_ops when a queue is notified.
 *
 * virtio_mmio_attach() puts the device where the VM core placed it: its
 * MMIO window on the MMIO bus, an irqfd for its IRQ, an eventfd per queue
 * watched by the event loop (and made an ioeventfd for QueueNotify), and
 * a virtio_mmio.device= kernel parameter. Where the environment has no
 * irqfd (unit tests) the IRQ line is pulsed instead; without ioeventfds
 * QueueNotify traps to the register file.
 *
 * Threads: every device has an event loop of its own (env_io_loop()),
 * run by its own device I/O thread: its queues' notifications, and
 * whatever host descriptor it watches (a TAP), are served there, so that
 * a device waiting for its host I/O delays nobody else.
 *
 * Locking: one mutex per device (t->lock) protects the transport and
 * device state. MMIO accesses come from vCPU threads, notifications from
 * the device's I/O thread. Every ops callback is called with the lock
 * held; the virtio_mmio_*() helpers marked "lock held" must be called
 * with it held (i.e. from a callback, or between virtio_mmio_lock() and
 * unlock()). A device whose requests block (a disk) serves them with the
 * lock dropped (virtio_mmio_budget.blocking): one thread serves at a time,
 * a notification meanwhile is served after it, and reset, queue disable,
 * save and restore wait until the chain in flight is done, so that no
 * guest buffer is written after the driver took it back.
 */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/state.h"
#include "devices/device.h"
#include "virtio/queue.h"

struct virtio_mmio;

#define VIRTIO_MMIO_MAGIC        0x74726976u      /* "virt" */
#define VIRTIO_MMIO_VERSION_2    2u
#define VIRTIO_MMIO_VENDOR       0x554d4551u      /* "QEMU", what guests expect */
#define VIRTIO_MMIO_WINDOW       0x1000ull
#define VIRTIO_MMIO_MAX_QUEUES   8u
#define VIRTIO_MMIO_CONFIG_MAX   (0x1000u - 0x100u)

/* What every virtio-mmio device asks the VM core for. */
#define VIRTIO_MMIO_WANTS { .mmio_size = VIRTIO_MMIO_WINDOW, .irq = DEVICE_IRQ_ANY }

struct virtio_mmio_ops {
	/* Queue @index was notified while the device is live (DRIVER_OK,
	 * queue ready, not failed or needing reset). Lock held. */
	void (*queue_notify)(struct virtio_mmio *t, unsigned int index);
	/* The driver set DRIVER_OK: the features are final. Optional.
	 * Lock held. */
	void (*driver_ok)(struct virtio_mmio *t);
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

/* The transport's guest-visible registers (what save and restore carry,
 * with each queue's registers and virtq state). */
struct virtio_mmio_regs {
	uint32_t status;
	uint64_t driver_features;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t interrupt_status;
	uint32_t queue_sel;
	uint32_t config_generation;
};

/* A queue's registers as the driver wrote them (checked at QueueReady). */
struct virtio_mmio_queue_regs {
	uint32_t num;
	uint64_t desc, avail, used;
};

struct virtio_mmio_queue {
	struct virtio_mmio *t;
	unsigned int index;
	struct virtio_mmio_queue_regs r;
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
	const struct device_env *env;

	void *config;
	uint32_t config_len;
	uint64_t device_features;
	unsigned int num_queues;
	uint16_t queue_size_max;

	struct virtio_mmio_regs r;
	struct virtio_mmio_queue queues[VIRTIO_MMIO_MAX_QUEUES];

	struct device_resources res;    /* where the VM core placed us */
	struct event_loop *loop;        /* the device's I/O thread's */
	pthread_cond_t idle;            /* signalled when serving ends */
	bool serving;                   /* a blocking serve is in flight */
	bool on_loop;                   /* the I/O thread is serving */
	uint32_t rerun;                 /* queues notified meanwhile */
	int irqfd;
	bool attached;                  /* window registered on the MMIO bus */
	bool warned;                    /* a guest error was already logged */
};

/* The transport state of a restore, read and checked, not yet applied. */
struct virtio_mmio_saved {
	struct virtio_mmio_regs r;
	struct virtio_mmio_queue_regs q[VIRTIO_MMIO_MAX_QUEUES];
	struct virtq_state vq[VIRTIO_MMIO_MAX_QUEUES];
};

/*
 * Set up @t for the device described by @d, in environment @env (for
 * guest memory, logging and, at attach, the VM's services).
 * Returns: 0 on success or a negative errno (-EINVAL for a bad @d).
 */
int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_mmio_desc *d,
		     const struct device_env *env);

/*
 * Put the device at @res (an MMIO window and an IRQ): see above.
 * @t must stay at the same address until virtio_mmio_release().
 * Returns: 0 on success or a negative errno.
 */
int virtio_mmio_attach(struct virtio_mmio *t, const struct device_resources *res);

/* Undo attach and init. Only once no vCPU runs any more. */
void virtio_mmio_release(struct virtio_mmio *t);

/* The register file; a bus_io_fn (@opaque is the struct virtio_mmio). */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* Process a notification of queue @index as QueueNotify would. Takes the
 * lock. Any thread. */
void virtio_mmio_notify(struct virtio_mmio *t, unsigned int index);

void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);

/* Lock held. The device reset as by the driver (status 0). */
void virtio_mmio_reset(struct virtio_mmio *t);

/* device_ops.reset, .save and .restore of a virtio device (which starts
 * with its transport: @dev is its struct virtio_mmio) that has no state
 * beyond its transport's. They take the lock. */
void virtio_mmio_dev_reset(void *dev);
int virtio_mmio_dev_save(void *dev, struct state_writer *w);
int virtio_mmio_dev_restore(void *dev, struct state_reader *rd);

/* A device's record beside its transport's: what it shows the guest
 * (config space, identity) and must show again after a restore, since a
 * restored device is built from its configuration. */
struct virtio_mmio_shown {
	const char *record;             /* "virtio-blk" */
	uint16_t version;
	void (*put)(const void *dev, struct state_writer *w);  /* dev: t->opaque */
	const char *differs;            /* logged when a restore finds a change */
};

/* device_ops.save and .restore of such a device. They take the lock.
 * Returns: 0, the writer's or reader's error, or virtio_mmio_apply()'s. */
int virtio_mmio_save_shown(struct virtio_mmio *t, const struct virtio_mmio_shown *sh,
			   struct state_writer *w);
int virtio_mmio_restore_shown(struct virtio_mmio *t, const struct virtio_mmio_shown *sh,
			      struct state_reader *rd);

/* Lock held. The transport state as a record "virtio-mmio" (once no chain
 * is in flight). Returns: 0 or the writer's error. */
int virtio_mmio_save(struct virtio_mmio *t, struct state_writer *w);

/* Read a record "virtio-mmio" into @s and check it against @t (the same
 * device type, features and queues; registers a driver could have set).
 * Nothing of @t changes. Returns: 0 or the reader's error. */
int virtio_mmio_load(const struct virtio_mmio *t, struct state_reader *rd,
		     struct virtio_mmio_saved *s);

/* Lock held. Put @t in state @s: the queues' rings are mapped again from
 * guest memory, and a queue with buffers available is notified from the
 * event loop. Returns: 0, or -EINVAL/-EFAULT (a ring outside guest
 * memory) with @t unchanged. */
int virtio_mmio_apply(struct virtio_mmio *t, const struct virtio_mmio_saved *s);

/* Lock held. The device is live and queue @index can be used: returns its
 * virtq, or NULL. */
struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned int index);

/* Lock held. Raise a used-buffer interrupt if the driver wants one for
 * the buffers pushed on @q since the last call. */
void virtio_mmio_queue_done(struct virtio_mmio *t, struct virtq *q);

/* Lock held. Have queue @index notified again from the device's event
 * loop (to yield after a long batch). Returns: false when the queue has
 * no event loop notifier; the caller then goes on itself. */
bool virtio_mmio_defer(struct virtio_mmio *t, unsigned int index);

/* What serving one notification may cost before the rest is deferred. */
struct virtio_mmio_budget {
	unsigned int chains;
	uint64_t bytes;                 /* read from the guest or written to it */
	/* handle() may block on host I/O: it runs without the lock, and each
	 * chain's interrupt goes as soon as it is used. */
	bool blocking;
};

/* Lock held. Serve queue @index: every available chain is validated into
 * @chain and handed to @handle, which returns the used length; a
 * malformed chain is dropped (logged once), a broken ring sets
 * DEVICE_NEEDS_RESET. Past @budget the rest is left to the event loop.
 * Ends with the used-buffer interrupt the driver asks for. */
void virtio_mmio_serve(struct virtio_mmio *t, unsigned int index, struct virtq_chain *chain,
		       uint32_t (*handle)(struct virtio_mmio *t, struct virtq_chain *chain),
		       const struct virtio_mmio_budget *budget);

/* Lock held. The driver broke the protocol: set DEVICE_NEEDS_RESET and
 * raise a configuration-change interrupt. @why is logged once. */
void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why);

/* Lock held. Log a guest error (only the first one per device, at warning
 * level; the following ones at debug level). */
void virtio_mmio_guest_error(struct virtio_mmio *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
