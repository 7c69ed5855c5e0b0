/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.x, section 2.7), shared by every virtio device.
 *
 * Pure functions over guest memory: no locking, no file descriptors, no
 * logging, so that they can be unit-tested and fuzzed with a fake guest
 * memory (guest_mem_init_fake()). The caller (the transport) serialises all
 * calls on one queue.
 *
 * Everything read from the rings is guest-controlled and validated:
 * descriptor addresses and lengths must lie inside guest RAM, chains are
 * at most the queue size long (so loops end), indirect tables are well
 * formed, device-writable descriptors follow the device-readable ones, and
 * the available ring never runs more than the queue size ahead.
 *
 * Errors:
 *  - a malformed chain is consumed, returned to the used ring with length 0
 *    and reported as -EINVAL (or -EFAULT for an address outside guest RAM);
 *    the queue keeps working;
 *  - a malformed available ring (index running ahead by more than the queue
 *    size, head index >= queue size) breaks the queue: virtq_pop() returns
 *    -EPROTO from then on, and the device must set DEVICE_NEEDS_RESET.
 *
 * The host is x86_64 (little endian), so ring fields are used as they are.
 */
#ifndef VMM_VIRTIO_QUEUE_H
#define VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "core/memory.h"
#include "core/state.h"

/* Largest queue size a device offers (QueueNumMax). */
#define VIRTQ_MAX_SIZE 256u

/* One guest buffer of a chain; host pointer valid for @len bytes. */
struct virtq_seg {
	void *hva;
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/*
 * A validated descriptor chain: seg[0, nreadable) are device-readable,
 * seg[nreadable, nseg) device-writable. Zero-length descriptors are
 * validated but not listed.
 */
struct virtq_chain {
	uint16_t head;
	unsigned int nseg;
	unsigned int nreadable;
	uint64_t readable_len;          /* bytes in the readable segments */
	uint64_t writable_len;          /* bytes in the writable segments */
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/* A queue's state: guest addresses and indices, no host pointer. */
struct virtq_state {
	uint16_t size;                  /* power of 2, 1..VIRTQ_MAX_SIZE, when ready */
	uint64_t desc, avail, used;     /* guest physical ring addresses */
	uint16_t last_avail_idx;        /* next available entry to consume */
	uint16_t used_idx;              /* our copy of used->idx */
	uint16_t signalled_used;        /* used_idx at the last interrupt check */
	bool ready;
	bool event_idx;                 /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;                  /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;                    /* ring protocol violated: needs reset */
};

struct virtq {
	struct virtq_state s;
	/* Host views of the rings, valid while s.ready. */
	const struct guest_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* Bytes of the three ring parts for a queue of @size entries (the event
 * fields included, as the virtio 1.x layout always has them). */
static inline uint64_t virtq_desc_bytes(uint32_t size)  { return 16ull * size; }
static inline uint64_t virtq_avail_bytes(uint32_t size) { return 6ull + 2ull * size; }
static inline uint64_t virtq_used_bytes(uint32_t size)  { return 6ull + 8ull * size; }

/*
 * Check the ring addresses the driver configured and start using the
 * queue at index 0. @size must be a power of 2 in 1..VIRTQ_MAX_SIZE, the
 * descriptor table 16-byte aligned, the available ring 2-byte aligned and
 * the used ring 4-byte aligned, and each part must lie inside guest memory.
 * Returns: 0 on success or a negative errno (-EINVAL for a bad size or
 * alignment, -EFAULT for a range outside guest memory); the queue is left
 * disabled on failure.
 */
int virtq_enable(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		 uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		 bool event_idx, bool indirect);

/*
 * Put @q in state @s (a restore): when @s is ready its ring is checked as
 * virtq_enable() checks it and mapped; guest memory is not written.
 * Returns: 0 or -EINVAL/-EFAULT, leaving @q unchanged.
 */
int virtq_restore(struct virtq *q, const struct guest_mem *mem, const struct virtq_state *s);

/* @s as a record "virtq", and back (virtq_restore() checks the values).
 * Returns: 0 or the writer's/reader's error. */
int virtq_state_save(const struct virtq_state *s, struct state_writer *w);
int virtq_state_load(struct virtq_state *s, struct state_reader *r);

/* Stop using the queue and forget all its state (device reset). */
void virtq_reset(struct virtq *q);

/*
 * Take the next available chain into @chain.
 * Returns: 1 when a chain was taken, 0 when the queue is empty (with
 * EVENT_IDX, avail_event has then been updated so that the driver notifies
 * the next buffer), -EINVAL or -EFAULT when a malformed chain was consumed
 * and returned to the driver with length 0 (the caller goes on; an
 * interrupt may be due), -EPROTO when the ring itself is broken or the
 * queue is not ready.
 */
int virtq_pop(struct virtq *q, struct virtq_chain *chain);

/*
 * Return chain @head to the driver with @len bytes written into its
 * writable buffers. Returns: 0 or -EINVAL (@head out of range, queue not
 * ready).
 */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/*
 * Whether the driver wants an interrupt for the buffers pushed since the
 * previous call (VRING_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX).
 * Call once after a batch of virtq_push().
 */
bool virtq_needs_interrupt(struct virtq *q);

/* Give back the last @n chains virtq_pop() took and that were neither
 * pushed nor followed by a malformed one: the next pops take them again. */
void virtq_unpop(struct virtq *q, unsigned int n);

/* Walks a chain's segments as one byte stream. */
struct virtq_cursor {
	const struct virtq_seg *seg;
	unsigned int n;
	uint32_t off;                   /* in seg[0] */
};

/* Over @seg[0..n) (the readable or the writable part of a chain). */
void virtq_cursor_init(struct virtq_cursor *c, const struct virtq_seg *seg, unsigned int n);
/* Copy @len bytes out of the stream; false if it is shorter. */
bool virtq_cursor_read(struct virtq_cursor *c, void *dst, size_t len);
/* The rest of the stream, at most @limit bytes, into @iov (room for the
 * cursor's segments). Returns: the number of entries. */
int virtq_cursor_iov(const struct virtq_cursor *c, uint64_t limit, struct iovec *iov);

/* Number of available entries not yet consumed (0 if broken). */
unsigned int virtq_pending(const struct virtq *q);

#endif
