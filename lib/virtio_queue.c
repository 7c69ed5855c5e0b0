/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues: see virtio_queue.h.
 *
 * Memory ordering: the driver fills descriptors and available ring entries,
 * then publishes them with a store to avail->idx (after a write barrier);
 * we load avail->idx with acquire semantics before reading anything it
 * covers. Symmetrically, used ring entries are written before used->idx is
 * stored with release semantics. The suppression fields (avail->flags,
 * used_event, avail_event) are read/written around full fences, as in the
 * virtio spec's pseudo-code (2.7.7 and 2.7.10).
 *
 * Guest memory can change under our feet at any time (another vCPU):
 * every descriptor is copied once into a local variable, behind a compiler
 * barrier, and only the copy is validated and used.
 */
#include <errno.h>
#include <string.h>

#include "virtio_queue.h"

#define barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static inline uint16_t load16_acquire(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint16_t load16(const void *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static inline void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static inline void store32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* The virtio spec's vring_need_event(): true if @event_idx lies in
 * [old, new_idx) modulo 2^16. */
static inline bool need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

static inline void *avail_ring_entry(const struct virtq *q, unsigned int i)
{
	return (uint8_t *)q->avail + 4 + 2 * i;
}

/* used_event lives right after the available ring entries. */
static inline void *used_event_ptr(const struct virtq *q)
{
	return avail_ring_entry(q, q->size);
}

/* avail_event lives right after the used ring entries. */
static inline void *avail_event_ptr(const struct virtq *q)
{
	return (uint8_t *)q->used + 4 + 8 * (unsigned int)q->size;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		 uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		 bool event_idx, bool indirect)
{
	void *desc, *avail, *used;

	virtq_reset(q);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3))
		return -EINVAL;
	desc = guest_mem_ptr(mem, desc_gpa, virtq_desc_bytes(size));
	avail = guest_mem_ptr(mem, avail_gpa, virtq_avail_bytes(size));
	used = guest_mem_ptr(mem, used_gpa, virtq_used_bytes(size));
	if (!desc || !avail || !used)
		return -EFAULT;

	q->mem = mem;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->size = (uint16_t)size;
	q->event_idx = event_idx;
	q->indirect = indirect;
	/* We never ask the driver to hold back notifications through the
	 * flags (EVENT_IDX does it when negotiated). */
	store16(&q->used->flags, 0);
	q->ready = true;
	return 0;
}

static void add_seg(struct virtq_chain *c, void *hva, uint64_t gpa, uint32_t len,
		    bool writable)
{
	struct virtq_seg *s = &c->seg[c->nseg++];

	s->hva = hva;
	s->gpa = gpa;
	s->len = len;
	s->writable = writable;
	if (writable) {
		c->writable_len += len;
	} else {
		c->readable_len += len;
		c->nreadable++;
	}
}

/* Walk and validate the chain starting at @head (already < q->size). */
static int walk_chain(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const uint8_t *table = (const uint8_t *)q->desc;
	uint32_t table_size = q->size;
	uint32_t idx = head;
	unsigned int count = 0;
	bool in_indirect = false, seen_writable = false;

	c->head = head;
	c->nseg = 0;
	c->nreadable = 0;
	c->readable_len = 0;
	c->writable_len = 0;

	for (;;) {
		struct vring_desc d;
		bool writable;
		void *hva;

		/* A NEXT out of the table (direct or indirect). */
		if (idx >= table_size)
			return -EINVAL;
		memcpy(&d, table + 16 * (size_t)idx, sizeof(d));
		barrier();

		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* Only one table, as the only/last descriptor, and only
			 * when negotiated. */
			if (!q->indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > q->size)
				return -EINVAL;
			table = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!table)
				return -EFAULT;
			table_size = d.len / 16;
			idx = 0;
			in_indirect = true;
			continue;
		}

		/* Also ends descriptor loops: a chain has at most size buffers. */
		if (++count > q->size)
			return -EINVAL;

		writable = d.flags & VRING_DESC_F_WRITE;
		if (!writable && seen_writable)
			return -EINVAL;         /* readable after writable */
		seen_writable |= writable;

		if (d.len) {
			hva = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!hva)
				return -EFAULT;
			add_seg(c, hva, d.addr, d.len, writable);
		} else if (!guest_mem_ptr(q->mem, d.addr, 0)) {
			return -EFAULT;
		}

		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *chain)
{
	uint16_t avail_idx, head;
	int r;

	if (!q->ready || q->broken)
		return -EPROTO;

	avail_idx = load16_acquire(&q->avail->idx);
	if (avail_idx == q->last_avail_idx) {
		if (!q->event_idx)
			return 0;
		/* Ask for a notification of the next buffer, then look again
		 * in case the driver added one before seeing avail_event. */
		store16(avail_event_ptr(q), q->last_avail_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16_acquire(&q->avail->idx);
		if (avail_idx == q->last_avail_idx)
			return 0;
	}

	if ((uint16_t)(avail_idx - q->last_avail_idx) > q->size) {
		q->broken = true;
		return -EPROTO;
	}

	head = load16(avail_ring_entry(q, q->last_avail_idx & (q->size - 1u)));
	if (head >= q->size) {
		q->broken = true;
		return -EPROTO;
	}
	q->last_avail_idx++;

	r = walk_chain(q, head, chain);
	if (r < 0) {
		/* Give the buffers back so that the driver does not leak them. */
		chain->nseg = 0;
		chain->nreadable = 0;
		chain->readable_len = 0;
		chain->writable_len = 0;
		virtq_push(q, head, 0);
		return r;
	}
	return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e;

	if (!q->ready || head >= q->size)
		return -EINVAL;
	e = &q->used->ring[q->used_idx & (q->size - 1u)];
	store32(&e->id, head);
	store32(&e->len, len);
	q->used_idx++;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_needs_interrupt(struct virtq *q)
{
	uint16_t old = q->signalled_used, new_idx = q->used_idx;

	if (!q->ready)
		return false;
	q->signalled_used = new_idx;
	if (old == new_idx)
		return false;
	/* used->idx must be visible before we read the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	return need_event(load16(used_event_ptr(q)), new_idx, old);
}

unsigned int virtq_pending(const struct virtq *q)
{
	uint16_t n;

	if (!q->ready || q->broken)
		return 0;
	n = (uint16_t)(load16_acquire(&q->avail->idx) - q->last_avail_idx);
	return n > q->size ? 0 : n;
}
