/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues: see queue.h.
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

#include "virtio/queue.h"

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
	return avail_ring_entry(q, q->s.size);
}

/* avail_event lives right after the used ring entries. */
static inline void *avail_event_ptr(const struct virtq *q)
{
	return (uint8_t *)q->used + 4 + 8 * (unsigned int)q->s.size;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

/* Check @s's ring (size, alignment, inside @mem) and map it into @q. */
static int map_rings(struct virtq *q, const struct guest_mem *mem, const struct virtq_state *s)
{
	void *desc, *avail, *used;
	uint32_t size = s->size;

	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if ((s->desc & 15) || (s->avail & 1) || (s->used & 3))
		return -EINVAL;
	desc = guest_mem_ptr(mem, s->desc, virtq_desc_bytes(size));
	avail = guest_mem_ptr(mem, s->avail, virtq_avail_bytes(size));
	used = guest_mem_ptr(mem, s->used, virtq_used_bytes(size));
	if (!desc || !avail || !used)
		return -EFAULT;
	q->mem = mem;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	return 0;
}

int virtq_enable(struct virtq *q, const struct guest_mem *mem, uint32_t size,
		 uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
		 bool event_idx, bool indirect)
{
	struct virtq_state s = {
		.size = (uint16_t)size, .desc = desc_gpa, .avail = avail_gpa, .used = used_gpa,
		.ready = true, .event_idx = event_idx, .indirect = indirect,
	};
	int r;

	virtq_reset(q);
	if (size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	r = virtq_restore(q, mem, &s);
	if (r)
		return r;
	/* We never ask the driver to hold back notifications through the
	 * flags (EVENT_IDX does it when negotiated). */
	store16(&q->used->flags, 0);
	return 0;
}

int virtq_restore(struct virtq *q, const struct guest_mem *mem, const struct virtq_state *s)
{
	struct virtq n = { .s = *s };
	int r = s->ready ? map_rings(&n, mem, s) : 0;

	if (r)
		return r;
	*q = n;
	return 0;
}

#define VIRTQ_STATE_VERSION 1

int virtq_state_save(const struct virtq_state *s, struct state_writer *w)
{
	state_begin(w, "virtq", VIRTQ_STATE_VERSION);
	state_put_u16(w, s->size);
	state_put_u64(w, s->desc);
	state_put_u64(w, s->avail);
	state_put_u64(w, s->used);
	state_put_u16(w, s->last_avail_idx);
	state_put_u16(w, s->used_idx);
	state_put_u16(w, s->signalled_used);
	state_put_bool(w, s->ready);
	state_put_bool(w, s->event_idx);
	state_put_bool(w, s->indirect);
	state_put_bool(w, s->broken);
	state_end(w);
	return state_writer_error(w);
}

int virtq_state_load(struct virtq_state *s, struct state_reader *r)
{
	struct virtq_state n;
	uint16_t version;

	if (state_open(r, "virtq", VIRTQ_STATE_VERSION, &version))
		return state_reader_error(r);
	n.size = state_get_u16(r);
	n.desc = state_get_u64(r);
	n.avail = state_get_u64(r);
	n.used = state_get_u64(r);
	n.last_avail_idx = state_get_u16(r);
	n.used_idx = state_get_u16(r);
	n.signalled_used = state_get_u16(r);
	n.ready = state_get_bool(r);
	n.event_idx = state_get_bool(r);
	n.indirect = state_get_bool(r);
	n.broken = state_get_bool(r);
	if (state_close(r))
		return state_reader_error(r);
	*s = n;
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

/* Walk and validate the chain starting at @head (already < q->s.size). */
static int walk_chain(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
	const uint8_t *table = (const uint8_t *)q->desc;
	uint32_t table_size = q->s.size;
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
			if (!q->s.indirect || in_indirect || (d.flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > q->s.size)
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
		if (++count > q->s.size)
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

	if (!q->s.ready || q->s.broken)
		return -EPROTO;

	avail_idx = load16_acquire(&q->avail->idx);
	if (avail_idx == q->s.last_avail_idx) {
		if (!q->s.event_idx)
			return 0;
		/* Ask for a notification of the next buffer, then look again
		 * in case the driver added one before seeing avail_event. */
		store16(avail_event_ptr(q), q->s.last_avail_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16_acquire(&q->avail->idx);
		if (avail_idx == q->s.last_avail_idx)
			return 0;
	}

	if ((uint16_t)(avail_idx - q->s.last_avail_idx) > q->s.size) {
		q->s.broken = true;
		return -EPROTO;
	}

	head = load16(avail_ring_entry(q, q->s.last_avail_idx & (q->s.size - 1u)));
	if (head >= q->s.size) {
		q->s.broken = true;
		return -EPROTO;
	}
	q->s.last_avail_idx++;

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

	if (!q->s.ready || head >= q->s.size)
		return -EINVAL;
	e = &q->used->ring[q->s.used_idx & (q->s.size - 1u)];
	store32(&e->id, head);
	store32(&e->len, len);
	q->s.used_idx++;
	__atomic_store_n(&q->used->idx, q->s.used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool virtq_needs_interrupt(struct virtq *q)
{
	uint16_t old = q->s.signalled_used, new_idx = q->s.used_idx;

	if (!q->s.ready)
		return false;
	q->s.signalled_used = new_idx;
	if (old == new_idx)
		return false;
	/* used->idx must be visible before we read the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->s.event_idx)
		return !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	return need_event(load16(used_event_ptr(q)), new_idx, old);
}

void virtq_unpop(struct virtq *q, unsigned int n)
{
	q->s.last_avail_idx = (uint16_t)(q->s.last_avail_idx - n);
}

unsigned int virtq_pending(const struct virtq *q)
{
	uint16_t n;

	if (!q->s.ready || q->s.broken)
		return 0;
	n = (uint16_t)(load16_acquire(&q->avail->idx) - q->s.last_avail_idx);
	return n > q->s.size ? 0 : n;
}

/* ------------------------------------------------------------------ */
/* Chains as byte streams. */

void virtq_cursor_init(struct virtq_cursor *c, const struct virtq_seg *seg, unsigned int n)
{
	c->seg = seg;
	c->n = n;
	c->off = 0;
}

bool virtq_cursor_read(struct virtq_cursor *c, void *dst, size_t len)
{
	uint8_t *d = dst;

	while (len) {
		size_t chunk;

		if (!c->n)
			return false;
		chunk = c->seg->len - c->off;
		if (chunk > len)
			chunk = len;
		memcpy(d, (uint8_t *)c->seg->hva + c->off, chunk);
		d += chunk;
		len -= chunk;
		c->off += (uint32_t)chunk;
		if (c->off == c->seg->len) {
			c->seg++;
			c->n--;
			c->off = 0;
		}
	}
	return true;
}

int virtq_cursor_iov(const struct virtq_cursor *c, uint64_t limit, struct iovec *iov)
{
	int cnt = 0;

	for (unsigned int i = 0; i < c->n && limit; i++) {
		uint32_t off = i ? 0 : c->off;
		uint64_t len = c->seg[i].len - off;

		if (len > limit)
			len = limit;
		if (!len)
			continue;
		iov[cnt].iov_base = (uint8_t *)c->seg[i].hva + off;
		iov[cnt].iov_len = len;
		cnt++;
		limit -= len;
	}
	return cnt;
}
