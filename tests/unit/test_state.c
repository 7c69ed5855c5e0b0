/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Versioned state records, and the plain state structs of the UART, the
 * i8042 and a virtqueue through them: every field set, saved, loaded into
 * a fresh struct and compared; newer versions, truncated records and
 * impossible values refused with nothing changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"
#include "devices/i8042.h"
#include "devices/serial.h"
#include "unit.h"
#include "virtio/queue.h"

START_TEST(test_records)
{
	struct state_writer w;
	struct state_reader r;
	uint16_t version;
	uint8_t bytes[3];

	state_writer_init(&w);
	state_begin(&w, "outer", 3);
	state_put_u8(&w, 0xab);
	state_put_u16(&w, 0x1234);
	state_begin(&w, "inner", 1);
	state_put_u32(&w, 0xdeadbeef);
	state_put_u64(&w, 0x0102030405060708ull);
	state_end(&w);
	state_put_bool(&w, true);
	state_put_bytes(&w, "xyz", 3);
	state_end(&w);
	ck_assert_int_eq(state_writer_error(&w), 0);
	/* name + NUL, u16 version, u32 length: little endian on the wire */
	ck_assert_mem_eq(w.buf, "outer\0\3\0", 8);
	ck_assert_uint_eq(w.buf[12], 0xab);
	ck_assert_uint_eq(w.buf[13], 0x34);

	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "outer", 3, &version), 0);
	ck_assert_uint_eq(version, 3);
	ck_assert_uint_eq(state_get_u8(&r), 0xab);
	ck_assert_uint_eq(state_get_u16(&r), 0x1234);
	ck_assert_int_eq(state_open(&r, "inner", 1, &version), 0);
	ck_assert_uint_eq(state_get_u32(&r), 0xdeadbeef);
	ck_assert_uint_eq(state_get_u64(&r), 0x0102030405060708ull);
	ck_assert_int_eq(state_close(&r), 0);
	ck_assert(state_get_bool(&r));
	state_get_bytes(&r, bytes, 3);
	ck_assert_mem_eq(bytes, "xyz", 3);
	ck_assert_int_eq(state_close(&r), 0);
	ck_assert_int_eq(state_reader_error(&r), 0);
	state_writer_release(&w);
}
END_TEST

static void one_record(struct state_writer *w, const char *name, uint16_t version)
{
	state_writer_init(w);
	state_begin(w, name, version);
	state_put_u32(w, 7);
	state_end(w);
	ck_assert_int_eq(state_writer_error(w), 0);
}

START_TEST(test_refusals)
{
	struct state_writer w;
	struct state_reader r;
	uint16_t version;

	one_record(&w, "thing", 2);
	/* A newer version than the reader knows. */
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "thing", 1, &version), -EPROTONOSUPPORT);
	ck_assert_uint_eq(state_get_u32(&r), 0);        /* errors stick */
	ck_assert_int_eq(state_close(&r), -EPROTONOSUPPORT);
	/* Another record. */
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "other", 2, &version), -EBADMSG);
	/* Version 0, which nothing writes. */
	w.buf[sizeof("thing")] = 0;
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "thing", 2, &version), -EBADMSG);
	w.buf[sizeof("thing")] = 2;
	/* Not read to its end. */
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "thing", 2, &version), 0);
	ck_assert_uint_eq(state_get_u16(&r), 7);
	ck_assert_int_eq(state_close(&r), -EBADMSG);
	/* Read past its end. */
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "thing", 2, &version), 0);
	ck_assert_uint_eq(state_get_u64(&r), 0);
	ck_assert_int_eq(state_reader_error(&r), -EBADMSG);
	/* Truncated anywhere. */
	for (size_t len = 0; len < w.len; len++) {
		state_reader_init(&r, w.buf, len);
		state_open(&r, "thing", 2, &version);
		state_get_u32(&r);
		ck_assert_int_eq(state_close(&r), -EBADMSG);
	}
	/* A length beyond what contains the record. */
	w.buf[w.len - 5]++;
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(state_open(&r, "thing", 2, &version), -EBADMSG);
	state_writer_release(&w);

	/* A bool is 0 or 1. */
	state_writer_init(&w);
	state_put_u8(&w, 2);
	state_reader_init(&r, w.buf, w.len);
	state_get_bool(&r);
	ck_assert_int_eq(state_reader_error(&r), -EBADMSG);
	state_writer_release(&w);

	/* The writer: a record left open, one closed twice, too deep. */
	state_writer_init(&w);
	state_begin(&w, "open", 1);
	ck_assert_int_eq(state_writer_error(&w), -EINVAL);
	state_end(&w);
	ck_assert_int_eq(state_writer_error(&w), 0);
	state_end(&w);
	ck_assert_int_eq(state_writer_error(&w), -EINVAL);
	state_writer_release(&w);
	state_writer_init(&w);
	for (unsigned int i = 0; i <= STATE_DEPTH; i++)
		state_begin(&w, "deep", 1);
	ck_assert_int_eq(state_writer_error(&w), -EINVAL);
	state_writer_release(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The UART's registers. */

static void distinct_serial(struct serial_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->ier = 0x0f;
	r->lcr = 0x83;
	r->mcr = 0x1b;
	r->lsr = 0x61;
	r->msr = 0xb0;
	r->scr = 0x5a;
	r->dll = 0x01;
	r->dlm = 0x02;
	r->fcr = 0xc1;
	r->thr_pending = 1;
	r->rx_head = 1000;
	r->rx_count = 50;
	for (unsigned int i = 0; i < SERIAL_RX_BUF; i++)
		r->rx[i] = (uint8_t)(i * 13 + 1);
}

static void expect_serial_eq(const struct serial_regs *a, const struct serial_regs *b)
{
	ck_assert_uint_eq(a->ier, b->ier);
	ck_assert_uint_eq(a->lcr, b->lcr);
	ck_assert_uint_eq(a->mcr, b->mcr);
	ck_assert_uint_eq(a->lsr, b->lsr);
	ck_assert_uint_eq(a->msr, b->msr);
	ck_assert_uint_eq(a->scr, b->scr);
	ck_assert_uint_eq(a->dll, b->dll);
	ck_assert_uint_eq(a->dlm, b->dlm);
	ck_assert_uint_eq(a->fcr, b->fcr);
	ck_assert_uint_eq(a->thr_pending, b->thr_pending);
	ck_assert_uint_eq(a->rx_head, b->rx_head);
	ck_assert_uint_eq(a->rx_count, b->rx_count);
	ck_assert_mem_eq(a->rx, b->rx, sizeof(a->rx));
}

START_TEST(test_serial_regs)
{
	struct serial_regs a, b, fresh;
	struct state_writer w;
	struct state_reader r;

	distinct_serial(&a);
	state_writer_init(&w);
	ck_assert_int_eq(serial_regs_save(&a, &w), 0);
	serial_regs_reset(&b);
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(serial_regs_load(&b, &r), 0);
	expect_serial_eq(&a, &b);
	/* Truncated or newer: refused, nothing changed. */
	serial_regs_reset(&fresh);
	for (size_t len = 0; len < w.len; len += 7) {
		b = fresh;
		state_reader_init(&r, w.buf, len);
		ck_assert_int_eq(serial_regs_load(&b, &r), -EBADMSG);
		expect_serial_eq(&b, &fresh);
	}
	w.buf[sizeof("serial")]++;              /* the version */
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(serial_regs_load(&b, &r), -EPROTONOSUPPORT);
	expect_serial_eq(&b, &fresh);
	state_writer_release(&w);
	/* What no register write can produce. */
	a.rx_head = SERIAL_RX_BUF;
	state_writer_init(&w);
	ck_assert_int_eq(serial_regs_save(&a, &w), 0);
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(serial_regs_load(&b, &r), -EBADMSG);
	expect_serial_eq(&b, &fresh);
	state_writer_release(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The i8042's registers. */

static void expect_i8042_eq(const struct i8042_regs *a, const struct i8042_regs *b)
{
	ck_assert_uint_eq(a->status, b->status);
	ck_assert_uint_eq(a->ctr, b->ctr);
	ck_assert_uint_eq(a->outp, b->outp);
	ck_assert_uint_eq(a->cmd, b->cmd);
	ck_assert_mem_eq(a->queue, b->queue, sizeof(a->queue));
	ck_assert_uint_eq(a->qhead, b->qhead);
	ck_assert_uint_eq(a->qcount, b->qcount);
}

START_TEST(test_i8042_regs)
{
	struct i8042_regs a = { .status = 0x1d, .ctr = 0x47, .outp = 0x03, .cmd = 0xd1,
				.qhead = 15, .qcount = 3 };
	struct i8042_regs b, fresh;
	struct state_writer w;
	struct state_reader r;

	for (unsigned int i = 0; i < sizeof(a.queue); i++)
		a.queue[i] = (uint8_t)(0xa0 + i);
	state_writer_init(&w);
	ck_assert_int_eq(i8042_regs_save(&a, &w), 0);
	i8042_regs_reset(&b);
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(i8042_regs_load(&b, &r), 0);
	expect_i8042_eq(&a, &b);
	i8042_regs_reset(&fresh);
	for (size_t len = 0; len < w.len; len++) {
		b = fresh;
		state_reader_init(&r, w.buf, len);
		ck_assert_int_eq(i8042_regs_load(&b, &r), -EBADMSG);
		expect_i8042_eq(&b, &fresh);
	}
	w.buf[sizeof("i8042")]++;
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(i8042_regs_load(&b, &r), -EPROTONOSUPPORT);
	expect_i8042_eq(&b, &fresh);
	state_writer_release(&w);
	a.qcount = 17;
	state_writer_init(&w);
	ck_assert_int_eq(i8042_regs_save(&a, &w), 0);
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(i8042_regs_load(&b, &r), -EBADMSG);
	state_writer_release(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A virtqueue's state: guest addresses and indices, no host pointer. */

static void expect_virtq_eq(const struct virtq_state *a, const struct virtq_state *b)
{
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->desc, b->desc);
	ck_assert_uint_eq(a->avail, b->avail);
	ck_assert_uint_eq(a->used, b->used);
	ck_assert_uint_eq(a->last_avail_idx, b->last_avail_idx);
	ck_assert_uint_eq(a->used_idx, b->used_idx);
	ck_assert_uint_eq(a->signalled_used, b->signalled_used);
	ck_assert_int_eq(a->ready, b->ready);
	ck_assert_int_eq(a->event_idx, b->event_idx);
	ck_assert_int_eq(a->indirect, b->indirect);
	ck_assert_int_eq(a->broken, b->broken);
}

START_TEST(test_virtq_state)
{
	static uint8_t mem_buf[0x4000];
	struct virtq_state a = {
		.size = 64, .desc = 0x1000, .avail = 0x2000, .used = 0x3000,
		.last_avail_idx = 0xfff0, .used_idx = 0xffee, .signalled_used = 0xffe0,
		.ready = true, .event_idx = true, .indirect = true, .broken = false,
	};
	struct virtq_state b;
	struct guest_mem mem;
	struct state_writer w;
	struct state_reader r;
	struct virtq q;

	state_writer_init(&w);
	ck_assert_int_eq(virtq_state_save(&a, &w), 0);
	memset(&b, 0, sizeof(b));
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(virtq_state_load(&b, &r), 0);
	expect_virtq_eq(&a, &b);
	for (size_t len = 0; len < w.len; len++) {
		memset(&b, 0, sizeof(b));
		state_reader_init(&r, w.buf, len);
		ck_assert_int_eq(virtq_state_load(&b, &r), -EBADMSG);
		ck_assert_uint_eq(b.size, 0);
	}
	state_writer_release(&w);

	/* Restored into a queue: the host views follow from the addresses,
	 * and guest memory is not written. */
	guest_mem_init_fake(&mem, 0, mem_buf, sizeof(mem_buf));
	memset(mem_buf, 0x77, sizeof(mem_buf));
	virtq_reset(&q);
	ck_assert_int_eq(virtq_restore(&q, &mem, &a), 0);
	ck_assert_ptr_eq(q.desc, mem_buf + 0x1000);
	ck_assert_ptr_eq(q.avail, mem_buf + 0x2000);
	ck_assert_ptr_eq(q.used, mem_buf + 0x3000);
	expect_virtq_eq(&q.s, &a);
	for (size_t i = 0; i < sizeof(mem_buf); i++)
		ck_assert_uint_eq(mem_buf[i], 0x77);
	/* A ring outside guest memory, a size no queue has: refused. */
	a.used = 0x3f00;
	ck_assert_int_eq(virtq_restore(&q, &mem, &a), -EFAULT);
	ck_assert_uint_eq(q.s.used, 0x3000);
	a.used = 0x3000;
	a.size = 48;
	ck_assert_int_eq(virtq_restore(&q, &mem, &a), -EINVAL);
	ck_assert_uint_eq(q.s.size, 64);
	/* A queue that is not ready has nothing to map. */
	a.ready = false;
	a.desc = 0xffffffff0ull;
	ck_assert_int_eq(virtq_restore(&q, &mem, &a), 0);
	ck_assert(!q.s.ready);
}
END_TEST

Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, test_records);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_serial_regs);
	tcase_add_test(tc, test_i8042_regs);
	tcase_add_test(tc, test_virtq_state);
	suite_add_tcase(s, tc);
	return s;
}
