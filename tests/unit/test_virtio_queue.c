/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueue (lib/virtio_queue.c) on a fake guest memory: well-formed
 * chains, indirect tables, index wrap-around, interrupt suppression, and
 * malicious rings and descriptors, each of which must be rejected without
 * touching memory outside the guest and leave the queue usable.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "virtio/queue.h"

#define MEM_GPA    0x10000ull
#define MEM_SIZE   0x40000ull          /* 256 KiB */
#define DESC_GPA   0x10000ull
#define AVAIL_GPA  0x11000ull
#define USED_GPA   0x12000ull
#define INDIR_GPA  0x13000ull
#define INDIR2_GPA 0x14000ull
#define DATA_GPA   0x20000ull
#define MEM_END    (MEM_GPA + MEM_SIZE)
#define QSIZE      8u

static uint8_t *buf;
static struct guest_mem mem;
static struct virtq q;
static struct virtq_chain chain;
static uint16_t avail_idx;             /* the driver's next avail index */
static uint16_t used_seen;             /* the driver's last seen used index */

static void *hva(uint64_t gpa)
{
	/* (Not ck_assert: hva() is called in loops, and ck_assert is slow.) */
	if (gpa < MEM_GPA || gpa >= MEM_END)
		ck_abort_msg("test bug: gpa 0x%llx outside guest memory", (unsigned long long)gpa);
	return buf + (gpa - MEM_GPA);
}

static struct vring_desc *desc_at(uint64_t table_gpa, unsigned int i)
{
	return (struct vring_desc *)hva(table_gpa + 16ull * i);
}

static void set_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc *d = desc_at(table, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static struct vring_avail *avail(void)
{
	return hva(AVAIL_GPA);
}

static struct vring_used *used(void)
{
	return hva(USED_GPA);
}

static uint16_t *used_event(void)
{
	return (uint16_t *)hva(AVAIL_GPA + 4 + 2 * QSIZE);
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)hva(USED_GPA + 4 + 8 * QSIZE);
}

static void publish(uint16_t head)
{
	avail()->ring[avail_idx % QSIZE] = head;
	avail_idx++;
	avail()->idx = avail_idx;
}

static void enable(bool event_idx, bool indirect)
{
	ck_assert_int_eq(virtq_enable(&q, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA,
				      event_idx, indirect), 0);
}

static void setup(void)
{
	buf = calloc(1, MEM_SIZE);
	ck_assert_ptr_nonnull(buf);
	guest_mem_init_fake(&mem, MEM_GPA, buf, MEM_SIZE);
	avail_idx = 0;
	used_seen = 0;
	memset(&q, 0, sizeof(q));
	enable(false, true);
}

static void teardown(void)
{
	free(buf);
	buf = NULL;
}

/* The driver's view: the next used element must be @head with @len. */
static void expect_used(uint16_t head, uint32_t len)
{
	struct vring_used_elem *e;

	ck_assert_uint_eq(used()->idx, (uint16_t)(used_seen + 1));
	e = &used()->ring[used_seen % QSIZE];
	ck_assert_uint_eq(e->id, head);
	ck_assert_uint_eq(e->len, len);
	used_seen++;
}

/* A typical block request: header (r), data (w), status (w). */
static void good_chain(uint64_t table, uint16_t first)
{
	set_desc(table, first, DATA_GPA, 16, VRING_DESC_F_NEXT, first + 1);
	set_desc(table, first + 1, DATA_GPA + 0x100, 512,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, first + 2);
	set_desc(table, first + 2, DATA_GPA + 0x400, 1, VRING_DESC_F_WRITE, 0);
}

static void check_good_chain(const struct virtq_chain *c, uint16_t head)
{
	ck_assert_uint_eq(c->head, head);
	ck_assert_uint_eq(c->nseg, 3);
	ck_assert_uint_eq(c->nreadable, 1);
	ck_assert_uint_eq(c->readable_len, 16);
	ck_assert_uint_eq(c->writable_len, 513);
	ck_assert_ptr_eq(c->seg[0].hva, hva(DATA_GPA));
	ck_assert_uint_eq(c->seg[0].len, 16);
	ck_assert(!c->seg[0].writable);
	ck_assert_ptr_eq(c->seg[1].hva, hva(DATA_GPA + 0x100));
	ck_assert_uint_eq(c->seg[1].gpa, DATA_GPA + 0x100);
	ck_assert_uint_eq(c->seg[1].len, 512);
	ck_assert(c->seg[1].writable);
	ck_assert_ptr_eq(c->seg[2].hva, hva(DATA_GPA + 0x400));
	ck_assert(c->seg[2].writable);
}

/* Serve one good request at head 0 (descriptors 0..2): the queue works. */
static void serve_good_request(void)
{
	good_chain(DESC_GPA, 0);
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	check_good_chain(&chain, 0);
	ck_assert_int_eq(virtq_push(&q, chain.head, 513), 0);
	expect_used(0, 513);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
}

START_TEST(enable_checks)
{
	static const struct {
		uint32_t size;
		uint64_t desc, avail, used;
		int err;
	} cases[] = {
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA, -EINVAL },
		{ 3, DESC_GPA, AVAIL_GPA, USED_GPA, -EINVAL },
		{ 512, DESC_GPA, AVAIL_GPA, USED_GPA, -EINVAL },
		{ 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, -EINVAL },
		{ 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, -EINVAL },
		{ 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, -EINVAL },
		{ 8, 0, AVAIL_GPA, USED_GPA, -EFAULT },
		{ 8, MEM_END - 16 * 8 + 16, AVAIL_GPA, USED_GPA, -EFAULT },
		{ 8, DESC_GPA, MEM_END - (6 + 2 * 8) + 2, USED_GPA, -EFAULT },
		{ 8, DESC_GPA, AVAIL_GPA, MEM_END - (8 + 8 * 8) + 4, -EFAULT },
		{ 8, DESC_GPA, AVAIL_GPA, 0xfffffffffffffffcull, -EFAULT },
		/* Rings ending exactly at the end of memory. */
		{ 256, MEM_END - 16 * 256, MEM_END - (6 + 2 * 256), MEM_END - (8 + 8 * 256) + 2,
		  -EINVAL },
		{ 256, MEM_END - 16 * 256, MEM_END - 0x1000 - (6 + 2 * 256),
		  (MEM_END - 0x2000 - (6 + 8 * 256)) & ~3ull, 0 },
		{ 8, MEM_END - 16 * 8, MEM_END - 0x1000 - (6 + 2 * 8),
		  (MEM_END - 0x2000 - (6 + 8 * 8)) & ~3ull, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = virtq_enable(&q, &mem, cases[i].size, cases[i].desc, cases[i].avail,
				     cases[i].used, false, false);

		ck_assert_msg(r == cases[i].err, "case %zu: %d", i, r);
		ck_assert(q.s.ready == (r == 0));
		ck_assert_int_eq(virtq_pop(&q, &chain), r == 0 ? 0 : -EPROTO);
	}
}
END_TEST

START_TEST(simple_chain)
{
	good_chain(DESC_GPA, 2);
	publish(2);
	ck_assert_uint_eq(virtq_pending(&q), 1);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	check_good_chain(&chain, 2);
	ck_assert_uint_eq(virtq_pending(&q), 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	ck_assert_int_eq(virtq_push(&q, chain.head, 77), 0);
	expect_used(2, 77);
	ck_assert_int_eq(virtq_push(&q, QSIZE, 0), -EINVAL);
}
END_TEST

START_TEST(zero_length_and_single)
{
	/* A zero-length descriptor is validated but not listed. */
	set_desc(DESC_GPA, 0, DATA_GPA, 0, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, DATA_GPA, 8, VRING_DESC_F_WRITE, 0);
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_uint_eq(chain.nseg, 1);
	ck_assert_uint_eq(chain.nreadable, 0);
	ck_assert_uint_eq(chain.writable_len, 8);
}
END_TEST

START_TEST(indirect_chain)
{
	good_chain(INDIR_GPA, 0);
	set_desc(DESC_GPA, 5, INDIR_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	publish(5);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	check_good_chain(&chain, 5);

	/* Direct descriptors followed by an indirect table. */
	set_desc(DESC_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC_GPA, 1, INDIR2_GPA, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(INDIR2_GPA, 0, DATA_GPA + 0x100, 512,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(INDIR2_GPA, 1, DATA_GPA + 0x400, 1, VRING_DESC_F_WRITE, 0);
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	check_good_chain(&chain, 0);

	/* A full table of QSIZE entries is allowed. */
	for (unsigned int i = 0; i < QSIZE; i++)
		set_desc(INDIR2_GPA, i, DATA_GPA + 64 * i, 64,
			 VRING_DESC_F_WRITE | (i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0), i + 1);
	set_desc(DESC_GPA, 3, INDIR2_GPA, QSIZE * 16, VRING_DESC_F_INDIRECT, 0);
	publish(3);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_uint_eq(chain.nseg, QSIZE);
	ck_assert_uint_eq(chain.writable_len, 64 * QSIZE);
}
END_TEST

START_TEST(index_wraparound)
{
	/* More than 2^16 requests: the free-running indexes wrap. */
	unsigned int bad = 0;

	/* (Plain checks in the loop: ck_assert is slow in bulk.) */
	good_chain(DESC_GPA, 0);
	for (unsigned int i = 0; i < 70000; i++) {
		struct vring_used_elem *e = &used()->ring[i % QSIZE];

		publish((uint16_t)(i % 3));
		bad += virtq_pop(&q, &chain) != 1 || chain.head != i % 3;
		bad += virtq_push(&q, chain.head, i & 0xff) != 0;
		bad += used()->idx != (uint16_t)(i + 1) || e->id != i % 3 || e->len != (i & 0xff);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	ck_assert_uint_eq(used()->idx, (uint16_t)70000);
}
END_TEST

START_TEST(batch_full_ring)
{
	/* QSIZE requests in flight at once, completed out of order. */
	for (unsigned int i = 0; i < QSIZE; i++) {
		set_desc(DESC_GPA, i, DATA_GPA + 16 * i, 16, VRING_DESC_F_WRITE, 0);
		publish((uint16_t)(QSIZE - 1 - i));
	}
	ck_assert_uint_eq(virtq_pending(&q), QSIZE);
	for (unsigned int i = 0; i < QSIZE; i++) {
		ck_assert_int_eq(virtq_pop(&q, &chain), 1);
		ck_assert_uint_eq(chain.head, QSIZE - 1 - i);
		ck_assert_ptr_eq(chain.seg[0].hva, hva(DATA_GPA + 16 * (QSIZE - 1 - i)));
	}
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	for (unsigned int i = 0; i < QSIZE; i++) {
		ck_assert_int_eq(virtq_push(&q, (uint16_t)i, i), 0);
		expect_used((uint16_t)i, i);
	}
}
END_TEST

START_TEST(interrupt_flags)
{
	/* Nothing pushed: no interrupt. */
	ck_assert(!virtq_needs_interrupt(&q));
	good_chain(DESC_GPA, 0);
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(virtq_needs_interrupt(&q));
	ck_assert(!virtq_needs_interrupt(&q));

	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(!virtq_needs_interrupt(&q));
	avail()->flags = 0;
	/* Without EVENT_IDX, avail_event is not written. */
	ck_assert_uint_eq(*avail_event(), 0);
}
END_TEST

START_TEST(event_idx)
{
	enable(true, true);
	good_chain(DESC_GPA, 0);

	/* An empty pop asks the driver to notify the next buffer. */
	*avail_event() = 0x5555;
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	ck_assert_uint_eq(*avail_event(), 0);

	/* used_event = 1: no interrupt for the first used buffer (idx 0->1),
	 * one when the second arrives (idx 1->2). */
	*used_event() = 1;
	publish(0);
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(!virtq_needs_interrupt(&q));
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(virtq_needs_interrupt(&q));
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
	ck_assert_uint_eq(*avail_event(), 2);

	/* A batch of 3 crossing used_event = 3 (idx 2->5): one interrupt. */
	*used_event() = 3;
	for (int i = 0; i < 3; i++) {
		publish(0);
		ck_assert_int_eq(virtq_pop(&q, &chain), 1);
		virtq_push(&q, 0, 1);
	}
	ck_assert(virtq_needs_interrupt(&q));

	/* used_event behind the batch (driver has not caught up): none. */
	*used_event() = 4;
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(!virtq_needs_interrupt(&q));

	/* NO_INTERRUPT is ignored with EVENT_IDX; used_event decides. */
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	*used_event() = 6;
	publish(0);
	ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	virtq_push(&q, 0, 1);
	ck_assert(virtq_needs_interrupt(&q));
}
END_TEST

/* Malicious chains: rejected, given back with length 0, queue still works. */
enum bad_kind {
	BAD_ADDR_PAST_END, BAD_ADDR_ZERO, BAD_LEN_OVERFLOW, BAD_LOOP, BAD_SELF_LOOP,
	BAD_NEXT_OUT_OF_RANGE, BAD_READ_AFTER_WRITE, BAD_NESTED_INDIRECT,
	BAD_INDIRECT_LEN_ODD, BAD_INDIRECT_LEN_ZERO, BAD_INDIRECT_TOO_BIG,
	BAD_INDIRECT_OUTSIDE, BAD_INDIRECT_WITH_NEXT, BAD_INDIRECT_NEXT_OUT,
	BAD_INDIRECT_LOOP, BAD_INDIRECT_NOT_NEGOTIATED, BAD_CHAIN_TOO_LONG,
	BAD_ZERO_LEN_OUTSIDE,
};

static const struct {
	enum bad_kind kind;
	const char *name;
	int err;
} bad_cases[] = {
	{ BAD_ADDR_PAST_END, "address past the end of memory", -EFAULT },
	{ BAD_ADDR_ZERO, "address below guest memory", -EFAULT },
	{ BAD_LEN_OVERFLOW, "address + length overflows 64 bits", -EFAULT },
	{ BAD_LOOP, "descriptor loop", -EINVAL },
	{ BAD_SELF_LOOP, "descriptor pointing at itself", -EINVAL },
	{ BAD_NEXT_OUT_OF_RANGE, "next index >= queue size", -EINVAL },
	{ BAD_READ_AFTER_WRITE, "readable after writable", -EINVAL },
	{ BAD_NESTED_INDIRECT, "nested indirect table", -EINVAL },
	{ BAD_INDIRECT_LEN_ODD, "indirect length not a multiple of 16", -EINVAL },
	{ BAD_INDIRECT_LEN_ZERO, "indirect length 0", -EINVAL },
	{ BAD_INDIRECT_TOO_BIG, "indirect table larger than the queue", -EINVAL },
	{ BAD_INDIRECT_OUTSIDE, "indirect table outside memory", -EFAULT },
	{ BAD_INDIRECT_WITH_NEXT, "indirect with NEXT", -EINVAL },
	{ BAD_INDIRECT_NEXT_OUT, "NEXT out of the indirect table", -EINVAL },
	{ BAD_INDIRECT_LOOP, "loop inside the indirect table", -EINVAL },
	{ BAD_INDIRECT_NOT_NEGOTIATED, "indirect without the feature", -EINVAL },
	{ BAD_CHAIN_TOO_LONG, "chain longer than the queue", -EINVAL },
	{ BAD_ZERO_LEN_OUTSIDE, "empty descriptor outside memory", -EFAULT },
};

/* Build bad case @k with its head at descriptor 4 (good requests use 0..2). */
static void build_bad(enum bad_kind k)
{
	const uint16_t N = VRING_DESC_F_NEXT, W = VRING_DESC_F_WRITE, I = VRING_DESC_F_INDIRECT;

	switch (k) {
	case BAD_ADDR_PAST_END:
		set_desc(DESC_GPA, 4, MEM_END - 8, 16, 0, 0);
		break;
	case BAD_ADDR_ZERO:
		set_desc(DESC_GPA, 4, 0, 16, W, 0);
		break;
	case BAD_LEN_OVERFLOW:
		set_desc(DESC_GPA, 4, 0xfffffffffffff000ull, 0x2000, W, 0);
		break;
	case BAD_LOOP:
		set_desc(DESC_GPA, 4, DATA_GPA, 16, N, 5);
		set_desc(DESC_GPA, 5, DATA_GPA, 16, N, 4);
		break;
	case BAD_SELF_LOOP:
		set_desc(DESC_GPA, 4, DATA_GPA, 16, N | W, 4);
		break;
	case BAD_NEXT_OUT_OF_RANGE:
		set_desc(DESC_GPA, 4, DATA_GPA, 16, N, QSIZE);
		break;
	case BAD_READ_AFTER_WRITE:
		set_desc(DESC_GPA, 4, DATA_GPA, 16, N | W, 5);
		set_desc(DESC_GPA, 5, DATA_GPA, 16, 0, 0);
		break;
	case BAD_NESTED_INDIRECT:
		set_desc(DESC_GPA, 4, INDIR_GPA, 32, I, 0);
		set_desc(INDIR_GPA, 0, DATA_GPA, 16, N, 1);
		set_desc(INDIR_GPA, 1, INDIR2_GPA, 16, I, 0);
		set_desc(INDIR2_GPA, 0, DATA_GPA, 16, W, 0);
		break;
	case BAD_INDIRECT_LEN_ODD:
		set_desc(DESC_GPA, 4, INDIR_GPA, 24, I, 0);
		set_desc(INDIR_GPA, 0, DATA_GPA, 16, 0, 0);
		break;
	case BAD_INDIRECT_LEN_ZERO:
		set_desc(DESC_GPA, 4, INDIR_GPA, 0, I, 0);
		break;
	case BAD_INDIRECT_TOO_BIG:
		for (unsigned int i = 0; i <= QSIZE; i++)
			set_desc(INDIR_GPA, i, DATA_GPA, 16, i < QSIZE ? N : 0, i + 1);
		set_desc(DESC_GPA, 4, INDIR_GPA, (QSIZE + 1) * 16, I, 0);
		break;
	case BAD_INDIRECT_OUTSIDE:
		set_desc(DESC_GPA, 4, MEM_END - 16, 32, I, 0);
		break;
	case BAD_INDIRECT_WITH_NEXT:
		good_chain(INDIR_GPA, 0);
		set_desc(DESC_GPA, 4, INDIR_GPA, 48, I | N, 5);
		set_desc(DESC_GPA, 5, DATA_GPA, 16, W, 0);
		break;
	case BAD_INDIRECT_NEXT_OUT:
		set_desc(INDIR_GPA, 0, DATA_GPA, 16, N, 1);
		set_desc(INDIR_GPA, 1, DATA_GPA, 16, N, 5);     /* inside the queue, */
		set_desc(DESC_GPA, 4, INDIR_GPA, 32, I, 0);    /* not the table */
		break;
	case BAD_INDIRECT_LOOP:
		set_desc(INDIR_GPA, 0, DATA_GPA, 16, N, 1);
		set_desc(INDIR_GPA, 1, DATA_GPA, 16, N, 0);
		set_desc(DESC_GPA, 4, INDIR_GPA, 32, I, 0);
		break;
	case BAD_INDIRECT_NOT_NEGOTIATED:
		enable(false, false);
		good_chain(INDIR_GPA, 0);
		set_desc(DESC_GPA, 4, INDIR_GPA, 48, I, 0);
		break;
	case BAD_CHAIN_TOO_LONG:
		/* 4 direct + a full table of QSIZE: QSIZE + 4 buffers. */
		for (unsigned int i = 0; i < QSIZE; i++)
			set_desc(INDIR_GPA, i, DATA_GPA, 16, i + 1 < QSIZE ? N : 0, i + 1);
		set_desc(DESC_GPA, 4, DATA_GPA, 16, N, 5);
		set_desc(DESC_GPA, 5, DATA_GPA, 16, N, 6);
		set_desc(DESC_GPA, 6, DATA_GPA, 16, N, 7);
		set_desc(DESC_GPA, 7, DATA_GPA, 16, N, 3);
		set_desc(DESC_GPA, 3, INDIR_GPA, QSIZE * 16, I, 0);
		break;
	case BAD_ZERO_LEN_OUTSIDE:
		set_desc(DESC_GPA, 4, MEM_END + 0x1000, 0, W, 0);
		break;
	}
}

START_TEST(malicious_chains)
{
	unsigned int i = (unsigned int)_i;

	build_bad(bad_cases[i].kind);
	/* A good request before and after the bad one. */
	serve_good_request();
	publish(4);
	ck_assert_msg(virtq_pop(&q, &chain) == bad_cases[i].err, "%s", bad_cases[i].name);
	ck_assert_uint_eq(chain.nseg, 0);
	expect_used(4, 0);
	ck_assert(!q.s.broken);
	serve_good_request();
}
END_TEST

START_TEST(avail_idx_jump)
{
	serve_good_request();
	/* The driver claims QSIZE + 1 new entries: impossible. */
	avail()->idx = (uint16_t)(avail_idx + QSIZE + 1);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EPROTO);
	ck_assert(q.s.broken);
	ck_assert_uint_eq(virtq_pending(&q), 0);
	/* Broken until reset, even when the index looks fine again. */
	avail()->idx = avail_idx;
	ck_assert_int_eq(virtq_pop(&q, &chain), -EPROTO);
	ck_assert_uint_eq(used()->idx, used_seen);

	/* Reset: the driver re-initialises the rings, all works again. */
	memset(hva(AVAIL_GPA), 0, 0x1000);
	memset(hva(USED_GPA), 0, 0x1000);
	avail_idx = 0;
	used_seen = 0;
	virtq_reset(&q);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EPROTO);
	enable(false, true);
	serve_good_request();

	/* Exactly QSIZE ahead is fine. */
	for (unsigned int i = 0; i < QSIZE; i++)
		publish(0);
	for (unsigned int i = 0; i < QSIZE; i++)
		ck_assert_int_eq(virtq_pop(&q, &chain), 1);
	ck_assert_int_eq(virtq_pop(&q, &chain), 0);
}
END_TEST

START_TEST(head_out_of_range)
{
	good_chain(DESC_GPA, 0);
	publish(QSIZE);
	ck_assert_int_eq(virtq_pop(&q, &chain), -EPROTO);
	ck_assert(q.s.broken);
	ck_assert_uint_eq(used()->idx, 0);
	enable(false, true);
	avail_idx = 0;
	avail()->idx = 0;
	serve_good_request();
}
END_TEST

/* xorshift64*: deterministic pseudo-random guest garbage. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_addr(uint64_t *s)
{
	switch (rnd(s) % 4) {
	case 0:
		return rnd(s);
	case 1:
		return MEM_END - rnd(s) % 64;
	case 2:
		return INDIR_GPA + 16 * (rnd(s) % 4);
	default:
		return MEM_GPA + rnd(s) % MEM_SIZE;
	}
}

START_TEST(random_rings)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned int popped = 0, rejected = 0, broken = 0;

	for (unsigned int round = 0; round < 3000; round++) {
		if (q.s.broken || round % 64 == 0) {
			broken += q.s.broken;
			enable(rnd(&s) & 1, rnd(&s) & 1);
			avail_idx = 0;
			avail()->idx = 0;
		}
		for (unsigned int i = 0; i < QSIZE; i++) {
			uint16_t flags = rnd(&s) & 7;
			uint32_t len = rnd(&s) % 4 ? rnd(&s) % 0x300 : (uint32_t)rnd(&s);

			set_desc(DESC_GPA, i, rnd_addr(&s), len, flags, rnd(&s) % (QSIZE + 2));
			set_desc(INDIR_GPA, i, rnd_addr(&s), len, flags, rnd(&s) % (QSIZE + 2));
		}
		if (rnd(&s) % 16 == 0)
			avail()->idx = (uint16_t)rnd(&s);
		else
			publish((uint16_t)(rnd(&s) % (QSIZE + 1)));
		*used_event() = (uint16_t)rnd(&s);
		for (;;) {
			int r = virtq_pop(&q, &chain);

			if (r == 0 || r == -EPROTO)
				break;
			if (r < 0) {
				ck_assert(r == -EINVAL || r == -EFAULT);
				rejected++;
				continue;
			}
			popped++;
			ck_assert_uint_le(chain.nseg, QSIZE);
			for (unsigned int j = 0; j < chain.nseg; j++) {
				uint8_t *p = chain.seg[j].hva;

				ck_assert(p >= buf && p + chain.seg[j].len <= buf + MEM_SIZE);
				ck_assert(chain.seg[j].writable == (j >= chain.nreadable));
				/* Touch it: ASan would catch a stray pointer. */
				(void)*(volatile uint8_t *)p;
				(void)*(volatile uint8_t *)(p + chain.seg[j].len - 1);
			}
			virtq_push(&q, chain.head, 0);
		}
		virtq_needs_interrupt(&q);
	}
	/* The generator must exercise all outcomes. */
	ck_assert_uint_gt(popped, 50);
	ck_assert_uint_gt(rejected, 50);
	ck_assert_uint_gt(broken, 5);
}
END_TEST

Suite *virtio_queue_suite(void)
{
	Suite *s = suite_create("virtio_queue");
	TCase *tc = tcase_create("virtqueue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, enable_checks);
	tcase_add_test(tc, simple_chain);
	tcase_add_test(tc, zero_length_and_single);
	tcase_add_test(tc, indirect_chain);
	tcase_add_test(tc, index_wraparound);
	tcase_add_test(tc, batch_full_ring);
	tcase_add_test(tc, interrupt_flags);
	tcase_add_test(tc, event_idx);
	tcase_add_loop_test(tc, malicious_chains, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, avail_idx_jump);
	tcase_add_test(tc, head_out_of_range);
	tcase_add_test(tc, random_rings);
	suite_add_tcase(s, tc);
	return s;
}
