/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device model: the registry, and every device's state through its
 * save() into a fresh device's restore() -- the UART, the i8042, and the
 * virtio-mmio transport with two queues in use, virtio-rng -- compared
 * field by field and by saving it again; newer versions and truncated
 * records refused with the device unchanged. And virtio-rng's requests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "arch/x86/layout.h"
#include "devices/registry.h"
#include "driver.h"
#include "env.h"
#include "unit.h"

START_TEST(test_registry)
{
	unsigned int n = 0;
	bool builtins_done = false;

	for (const struct device_ops *const *t = device_types; *t; t++, n++) {
		const struct device_ops *d = *t;

		ck_assert(d->name && d->summary && d->create && d->reset && d->save &&
			  d->restore && d->destroy);
		ck_assert_ptr_eq(device_type_find(d->name), d);
		/* Built-in types first: the VM creates them in this order. */
		if (d->keys)
			builtins_done = true;
		else
			ck_assert(!builtins_done);
		ck_assert(!d->keys || (d->config_size && d->max));
		ck_assert(d->wants.irq == DEVICE_IRQ_ANY || d->wants.irq <= IRQ_MAX);
	}
	ck_assert_uint_ge(n, 3);
	ck_assert_ptr_null(device_type_find("nonesuch"));
}
END_TEST

/* ------------------------------------------------------------------ */

static void save(const char *type, void *dev, struct state_writer *w)
{
	state_writer_init(w);
	ck_assert_int_eq(device_type_find(type)->save(dev, w), 0);
}

static int restore(const char *type, void *dev, const void *buf, size_t len)
{
	struct state_reader r;

	state_reader_init(&r, buf, len);
	return device_type_find(type)->restore(dev, &r);
}

/* @dev saves exactly as @want. */
static void expect_saves_as(const char *type, void *dev, const struct state_writer *want)
{
	struct state_writer w;

	save(type, dev, &w);
	ck_assert_uint_eq(w.len, want->len);
	ck_assert_mem_eq(w.buf, want->buf, w.len);
	state_writer_release(&w);
}

/* Truncated anywhere, or one version newer: refused, @dev unchanged. */
static void expect_refusals(const char *type, void *dev, struct state_writer *saved,
			    size_t name_len)
{
	struct state_writer before;

	save(type, dev, &before);
	for (size_t len = 0; len < saved->len; len++) {
		ck_assert_int_eq(restore(type, dev, saved->buf, len), -EBADMSG);
		expect_saves_as(type, dev, &before);
	}
	saved->buf[name_len]++;
	ck_assert_int_eq(restore(type, dev, saved->buf, saved->len), -EPROTONOSUPPORT);
	saved->buf[name_len]--;
	expect_saves_as(type, dev, &before);
	state_writer_release(&before);
}

static void pio_wr(struct test_env *t, uint16_t port, uint8_t v)
{
	ck_assert(bus_access(&t->pio, port, &v, 1, true));
}

static uint8_t pio_rd(struct test_env *t, uint16_t port)
{
	uint8_t v = 0;

	ck_assert(bus_access(&t->pio, port, &v, 1, false));
	return v;
}

START_TEST(test_uart_round_trip)
{
	struct test_env a, b;
	struct state_writer w;
	void *d1, *d2, *d3;
	const uint16_t com1 = SERIAL_COM1_PORT;

	test_env_init(&a, NULL, 0, 0);
	test_env_init(&b, NULL, 0, 0);
	ck_assert_int_eq(test_device_create(&a, "serial", NULL, NULL, &d1), 0);
	/* Every register away from its reset value; bytes received in loopback. */
	pio_wr(&a, com1 + 3, 0x80);             /* DLAB */
	pio_wr(&a, com1 + 0, 0x03);
	pio_wr(&a, com1 + 1, 0x01);
	pio_wr(&a, com1 + 3, 0x1b);
	pio_wr(&a, com1 + 4, 0x1b);             /* loop, OUT2, RTS, DTR */
	for (const char *p = "hello"; *p; p++)
		pio_wr(&a, com1, (uint8_t)*p);
	ck_assert_uint_eq(pio_rd(&a, com1), 'h');
	pio_wr(&a, com1 + 1, 0x0f);             /* every interrupt */
	pio_wr(&a, com1 + 2, 0xc1);             /* FIFO */
	pio_wr(&a, com1 + 7, 0x5a);
	ck_assert_int_eq(a.irq_level[SERIAL_COM1_IRQ], 1);
	save("serial", d1, &w);

	ck_assert_int_eq(test_device_create(&b, "serial", NULL, NULL, &d2), 0);
	ck_assert_int_eq(b.irq_level[SERIAL_COM1_IRQ], 0);
	ck_assert_int_eq(restore("serial", d2, w.buf, w.len), 0);
	expect_saves_as("serial", d2, &w);
	/* The IRQ line follows the restored registers. */
	ck_assert_int_eq(b.irq_level[SERIAL_COM1_IRQ], 1);
	ck_assert_uint_eq(pio_rd(&b, com1 + 3), 0x1b);
	ck_assert_uint_eq(pio_rd(&b, com1 + 4), 0x1b);
	ck_assert_uint_eq(pio_rd(&b, com1 + 7), 0x5a);
	ck_assert_uint_eq(pio_rd(&b, com1 + 2) & 0xc0, 0xc0);
	for (const char *p = "ello"; *p; p++)
		ck_assert_uint_eq(pio_rd(&b, com1), (uint8_t)*p);
	ck_assert_uint_eq(pio_rd(&b, com1 + 5) & 0x01, 0);     /* all read */
	pio_wr(&b, com1 + 3, 0x9b);
	ck_assert_uint_eq(pio_rd(&b, com1 + 0), 0x03);           /* divisor */
	ck_assert_uint_eq(pio_rd(&b, com1 + 1), 0x01);

	device_type_find("serial")->destroy(d2);
	ck_assert_int_eq(test_device_create(&b, "serial", NULL, NULL, &d3), 0);
	expect_refusals("serial", d3, &w, sizeof("serial"));
	/* Reset: back to what a fresh device saves. */
	ck_assert_int_eq(restore("serial", d3, w.buf, w.len), 0);
	device_type_find("serial")->reset(d3);
	ck_assert_int_eq(b.irq_level[SERIAL_COM1_IRQ], 0);
	ck_assert_uint_eq(pio_rd(&b, com1 + 7), 0);
	state_writer_release(&w);
	device_type_find("serial")->destroy(d1);
	device_type_find("serial")->destroy(d3);
	test_env_release(&a);
	test_env_release(&b);
}
END_TEST

START_TEST(test_i8042_round_trip)
{
	struct test_env a, b;
	struct state_writer w;
	void *d1, *d2;

	test_env_init(&a, NULL, 0, 0);
	test_env_init(&b, NULL, 0, 0);
	ck_assert_int_eq(test_device_create(&a, "i8042", NULL, NULL, &d1), 0);
	pio_wr(&a, I8042_CMD_PORT, 0x60);       /* write the command byte */
	pio_wr(&a, I8042_DATA_PORT, 0x47);
	pio_wr(&a, I8042_CMD_PORT, 0xaa);       /* self test: 0x55 queued */
	pio_wr(&a, I8042_CMD_PORT, 0x20);       /* command byte queued */
	pio_wr(&a, I8042_CMD_PORT, 0xd1);       /* output port write pending */
	save("i8042", d1, &w);

	ck_assert_int_eq(test_device_create(&b, "i8042", NULL, NULL, &d2), 0);
	ck_assert_int_eq(restore("i8042", d2, w.buf, w.len), 0);
	expect_saves_as("i8042", d2, &w);
	ck_assert_uint_eq(pio_rd(&b, I8042_CMD_PORT), pio_rd(&a, I8042_CMD_PORT));
	ck_assert_uint_eq(pio_rd(&b, I8042_DATA_PORT), 0x55);
	ck_assert_uint_eq(pio_rd(&b, I8042_DATA_PORT), 0x47);
	/* The pending output-port write is still pending: bit 0 low resets. */
	pio_wr(&b, I8042_DATA_PORT, 0x00);
	ck_assert_uint_eq(b.resets, 1);

	expect_refusals("i8042", d2, &w, sizeof("i8042"));
	device_type_find("i8042")->reset(d2);
	pio_wr(&b, I8042_CMD_PORT, 0x20);
	ck_assert_uint_eq(pio_rd(&b, I8042_DATA_PORT), 0x45);   /* power-on command byte */
	state_writer_release(&w);
	device_type_find("i8042")->destroy(d1);
	device_type_find("i8042")->destroy(d2);
	test_env_release(&a);
	test_env_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The virtio-mmio transport with two queues in use, under a device that
 * answers every buffer with one byte. */

#define MEM_GPA 0x100000ull
#define MEM_SIZE 0x10000ull
#define Q_GPA(q, part) (MEM_GPA + (q) * 0x3000ull + (part) * 0x1000ull)

struct two_q {
	struct virtio_mmio t;
	unsigned int served[2];
};

static void two_q_notify(struct virtio_mmio *t, unsigned int index)
{
	struct two_q *d = t->opaque;
	struct virtq *q = virtio_mmio_queue(t, index);
	static struct virtq_chain chain;

	while (q && virtq_pop(q, &chain) > 0) {
		virtq_push(q, chain.head, 1);
		d->served[index]++;
	}
	if (q)
		virtio_mmio_queue_done(t, q);
}

static const struct virtio_mmio_ops two_q_ops = { .queue_notify = two_q_notify };

static void two_q_init(struct two_q *d, struct test_env *te, uint32_t id, bool attach)
{
	const struct virtio_mmio_desc desc = {
		.name = "two-queues", .device_id = id, .num_queues = 2, .queue_size_max = 16,
		.ops = &two_q_ops, .opaque = d,
	};

	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(virtio_mmio_init(&d->t, &desc, &te->env), 0);
	if (attach)
		ck_assert_int_eq(virtio_mmio_attach(&d->t, &test_virtio_res), 0);
}

/* One writable buffer on queue @q, made available and notified. */
static void post(struct test_env *te, struct virtio_mmio *t, unsigned int q, uint16_t n)
{
	struct vring_desc *desc = guest_mem_ptr(&te->mem, Q_GPA(q, 0), 16 * n);
	struct vring_avail *avail = guest_mem_ptr(&te->mem, Q_GPA(q, 1), 6 + 2 * 16);
	uint16_t i = avail->idx;

	desc[i % n] = (struct vring_desc){ .addr = MEM_GPA + 0xf000, .len = 8,
					   .flags = VRING_DESC_F_WRITE };
	avail->ring[i % n] = i % n;
	__atomic_store_n(&avail->idx, (uint16_t)(i + 1), __ATOMIC_RELEASE);
	drv_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static uint16_t used_idx(struct test_env *te, unsigned int q)
{
	return ((struct vring_used *)guest_mem_ptr(&te->mem, Q_GPA(q, 2), 4))->idx;
}

static void expect_same_state(const struct virtio_mmio *a, const struct virtio_mmio *b)
{
	ck_assert_uint_eq(a->r.status, b->r.status);
	ck_assert_uint_eq(a->r.driver_features, b->r.driver_features);
	ck_assert_uint_eq(a->r.device_features_sel, b->r.device_features_sel);
	ck_assert_uint_eq(a->r.driver_features_sel, b->r.driver_features_sel);
	ck_assert_uint_eq(a->r.interrupt_status, b->r.interrupt_status);
	ck_assert_uint_eq(a->r.queue_sel, b->r.queue_sel);
	ck_assert_uint_eq(a->r.config_generation, b->r.config_generation);
	for (unsigned int i = 0; i < 2; i++) {
		const struct virtio_mmio_queue *qa = &a->queues[i], *qb = &b->queues[i];

		ck_assert_uint_eq(qa->r.num, qb->r.num);
		ck_assert_uint_eq(qa->r.desc, qb->r.desc);
		ck_assert_uint_eq(qa->r.avail, qb->r.avail);
		ck_assert_uint_eq(qa->r.used, qb->r.used);
		ck_assert_uint_eq(qa->vq.s.size, qb->vq.s.size);
		ck_assert_uint_eq(qa->vq.s.desc, qb->vq.s.desc);
		ck_assert_uint_eq(qa->vq.s.avail, qb->vq.s.avail);
		ck_assert_uint_eq(qa->vq.s.used, qb->vq.s.used);
		ck_assert_uint_eq(qa->vq.s.last_avail_idx, qb->vq.s.last_avail_idx);
		ck_assert_uint_eq(qa->vq.s.used_idx, qb->vq.s.used_idx);
		ck_assert_uint_eq(qa->vq.s.signalled_used, qb->vq.s.signalled_used);
		ck_assert_int_eq(qa->vq.s.ready, qb->vq.s.ready);
		ck_assert_int_eq(qa->vq.s.event_idx, qb->vq.s.event_idx);
		ck_assert_int_eq(qa->vq.s.indirect, qb->vq.s.indirect);
		ck_assert_int_eq(qa->vq.s.broken, qb->vq.s.broken);
		/* Host views rebuilt from the guest addresses. */
		ck_assert_ptr_eq(qa->vq.desc, qb->vq.desc);
		ck_assert_ptr_eq(qa->vq.used, qb->vq.used);
	}
}

static int load_apply(struct two_q *d, const void *buf, size_t len)
{
	struct virtio_mmio_saved s;
	struct state_reader r;
	int ret;

	state_reader_init(&r, buf, len);
	ret = virtio_mmio_load(&d->t, &r, &s);
	return ret ? ret : virtio_mmio_apply(&d->t, &s);
}

START_TEST(test_transport_round_trip)
{
	uint8_t *buf = calloc(1, MEM_SIZE);
	struct test_env a, b;
	struct two_q d1, d2, d3;
	struct state_writer w, w2;
	struct virtio_mmio_saved s;
	struct state_reader r;

	test_env_init(&a, buf, MEM_GPA, MEM_SIZE);
	test_env_init(&b, buf, MEM_GPA, MEM_SIZE);
	two_q_init(&d1, &a, 42, true);
	ck_assert(drv_negotiate(&d1.t, (1ull << VIRTIO_F_VERSION_1) |
				       (1ull << VIRTIO_RING_F_EVENT_IDX)));
	drv_setup_queue(&d1.t, 0, 16, Q_GPA(0, 0), Q_GPA(0, 1), Q_GPA(0, 2));
	drv_setup_queue(&d1.t, 1, 8, Q_GPA(1, 0), Q_GPA(1, 1), Q_GPA(1, 2));
	drv_driver_ok(&d1.t);
	for (int i = 0; i < 3; i++)
		post(&a, &d1.t, 0, 16);
	for (int i = 0; i < 5; i++)
		post(&a, &d1.t, 1, 8);
	ck_assert_uint_eq(used_idx(&a, 0), 3);
	ck_assert_uint_eq(used_idx(&a, 1), 5);
	drv_wr(&d1.t, VIRTIO_MMIO_QUEUE_SEL, 1);
	drv_wr(&d1.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_ne(d1.t.r.interrupt_status, 0);
	state_writer_init(&w);
	virtio_mmio_lock(&d1.t);
	ck_assert_int_eq(virtio_mmio_save(&d1.t, &w), 0);
	virtio_mmio_unlock(&d1.t);

	two_q_init(&d2, &b, 42, true);
	ck_assert_int_eq(load_apply(&d2, w.buf, w.len), 0);
	expect_same_state(&d1.t, &d2.t);
	state_writer_init(&w2);
	ck_assert_int_eq(virtio_mmio_save(&d2.t, &w2), 0);
	ck_assert_uint_eq(w2.len, w.len);
	ck_assert_mem_eq(w2.buf, w.buf, w.len);
	state_writer_release(&w2);
	/* The restored transport serves queue 1 from where it was. */
	post(&b, &d2.t, 1, 8);
	ck_assert_uint_eq(used_idx(&b, 1), 6);
	ck_assert_uint_eq(d2.served[1], 1);

	/* Another device type, truncated, newer, or impossible: refused. */
	two_q_init(&d3, &b, 43, false);
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(virtio_mmio_load(&d3.t, &r, &s), -EBADMSG);
	virtio_mmio_release(&d3.t);
	two_q_init(&d3, &b, 42, false);
	for (size_t len = 0; len < w.len; len++) {
		state_reader_init(&r, w.buf, len);
		ck_assert_int_eq(virtio_mmio_load(&d3.t, &r, &s), -EBADMSG);
	}
	w.buf[sizeof("virtio-mmio")]++;
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(virtio_mmio_load(&d3.t, &r, &s), -EPROTONOSUPPORT);
	w.buf[sizeof("virtio-mmio")]--;
	/* status (after name, version, length, device id and features):
	 * DRIVER_OK without FEATURES_OK, with queues ready. */
	w.buf[sizeof("virtio-mmio") + 6 + 12] = VIRTIO_CONFIG_S_DRIVER_OK;
	state_reader_init(&r, w.buf, w.len);
	ck_assert_int_eq(virtio_mmio_load(&d3.t, &r, &s), -EBADMSG);

	virtio_mmio_release(&d3.t);

	/* Rings that are not in guest memory: nothing applied. */
	virtio_mmio_release(&d2.t);
	test_env_release(&b);
	test_env_init(&b, buf, MEM_GPA, 0x1000);
	two_q_init(&d3, &b, 42, true);
	ck_assert_int_eq(load_apply(&d3, w.buf, w.len), -EBADMSG);
	w.buf[sizeof("virtio-mmio") + 6 + 12] = (uint8_t)d1.t.r.status;
	ck_assert_int_eq(load_apply(&d3, w.buf, w.len), -EFAULT);
	ck_assert_uint_eq(d3.t.r.status, 0);
	ck_assert(!d3.t.queues[0].vq.s.ready);

	virtio_mmio_release(&d1.t);
	virtio_mmio_release(&d3.t);
	state_writer_release(&w);
	test_env_release(&a);
	test_env_release(&b);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* virtio-rng, the device "rng". */

/* One chain of @n buffers of @len bytes at @gpa.., writable unless
 * @readable, made available on queue 0 and notified.
 * Returns: the used length. */
static uint32_t rng_request(struct test_env *te, struct virtio_mmio *t, unsigned int n,
			    uint32_t len, uint64_t gpa, bool readable)
{
	struct vring_desc *desc = guest_mem_ptr(&te->mem, Q_GPA(0, 0), 16 * 16);
	struct vring_avail *avail = guest_mem_ptr(&te->mem, Q_GPA(0, 1), 6 + 2 * 16);
	struct vring_used *used = guest_mem_ptr(&te->mem, Q_GPA(0, 2), 6 + 8 * 16);
	uint16_t i = avail->idx;

	for (unsigned int k = 0; k < n; k++)
		desc[k] = (struct vring_desc){
			.addr = gpa + k * (uint64_t)len, .len = len, .next = (uint16_t)(k + 1),
			.flags = (uint16_t)((readable && k == 0 ? 0 : VRING_DESC_F_WRITE) |
					    (k + 1 < n ? VRING_DESC_F_NEXT : 0)),
		};
	avail->ring[i % 16] = 0;
	__atomic_store_n(&avail->idx, (uint16_t)(i + 1), __ATOMIC_RELEASE);
	drv_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(used->idx, (uint16_t)(i + 1));
	return used->ring[i % 16].len;
}

static struct virtio_mmio *rng_start(struct test_env *te, const char *config, void **dev)
{
	struct virtio_mmio *t;

	ck_assert_int_eq(test_device_create(te, "rng", config, &test_virtio_res, dev), 0);
	t = *dev;
	ck_assert_uint_eq(drv_rd(t, VIRTIO_MMIO_DEVICE_ID), 4);
	ck_assert(drv_negotiate(t, 1ull << VIRTIO_F_VERSION_1));
	drv_setup_queue(t, 0, 16, Q_GPA(0, 0), Q_GPA(0, 1), Q_GPA(0, 2));
	drv_driver_ok(t);
	return t;
}

static void rng_stop(void *dev)
{
	device_type_find("rng")->destroy(dev);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n && !*p)
		p++, n--;
	return n == 0;
}

START_TEST(test_rng_requests)
{
	uint8_t *buf = calloc(1, MEM_SIZE);
	uint8_t *data = buf + 0x8000;
	struct test_env te;
	struct virtio_mmio *t;
	void *dev;

	test_env_init(&te, buf, MEM_GPA, MEM_SIZE);
	t = rng_start(&te, NULL, &dev);
	ck_assert_ptr_nonnull(strstr(te.cmdline, "virtio_mmio.device=4K@0xd0000000:5"));
	/* Two reads: full, not zero, not equal. */
	ck_assert_uint_eq(rng_request(&te, t, 1, 4096, MEM_GPA + 0x8000, false), 4096);
	ck_assert_uint_eq(rng_request(&te, t, 1, 1024, MEM_GPA + 0x9000, false), 1024);
	ck_assert(!all_zero(data, 4096));
	ck_assert(memcmp(data, data + 0x1000, 1024));
	ck_assert_uint_ge(te.irq_edges[VIRTIO_IRQ_BASE], 1);
	/* Scattered: every buffer filled. */
	memset(data, 0, 0x6000);
	ck_assert_uint_eq(rng_request(&te, t, 3, 1000, MEM_GPA + 0x8000, false), 3000);
	for (int k = 0; k < 3; k++)
		ck_assert(!all_zero(data + 1000 * k, 1000));
	/* A readable buffer breaks the spec: nothing written, length 0. */
	memset(data, 0, 0x6000);
	ck_assert_uint_eq(rng_request(&te, t, 2, 512, MEM_GPA + 0x8000, true), 0);
	ck_assert(all_zero(data, 1024));
	ck_assert_ptr_nonnull(strstr(te.log, "device-readable"));
	/* And the device goes on. */
	ck_assert_uint_eq(rng_request(&te, t, 1, 16, MEM_GPA + 0x8000, false), 16);
	rng_stop(dev);
	test_env_release(&te);
	free(buf);
}
END_TEST

/* More than a request may have: the first 64 KiB, nothing beyond. */
START_TEST(test_rng_request_limit)
{
	uint8_t *buf = calloc(1, 0x40000);
	struct test_env te;
	struct virtio_mmio *t;
	void *dev;

	test_env_init(&te, buf, MEM_GPA, 0x40000);
	t = rng_start(&te, NULL, &dev);
	ck_assert_uint_eq(rng_request(&te, t, 1, 0x20000, MEM_GPA + 0x10000, false), 0x10000);
	ck_assert(!all_zero(buf + 0x10000 + 0xff00, 0x100));
	ck_assert(all_zero(buf + 0x20000, 0x10000));
	ck_assert_uint_eq(rng_request(&te, t, 2, 0x9000, MEM_GPA + 0x10000, false), 0x10000);
	rng_stop(dev);
	test_env_release(&te);
	free(buf);
}
END_TEST

/* source=FILE: the file's bytes in order; at its end, what is left. */
START_TEST(test_rng_source)
{
	uint8_t *buf = calloc(1, MEM_SIZE);
	char path[] = "/tmp/vmm-unit-rng-XXXXXX", config[64];
	uint8_t seed[5000];
	struct test_env te;
	struct virtio_mmio *t;
	void *dev;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 7 + 3);
	ck_assert_int_eq(write(fd, seed, sizeof(seed)), (int)sizeof(seed));
	close(fd);
	test_env_init(&te, buf, MEM_GPA, MEM_SIZE);
	snprintf(config, sizeof(config), "source=%s", path);
	t = rng_start(&te, config, &dev);
	ck_assert_uint_eq(rng_request(&te, t, 1, 4096, MEM_GPA + 0x8000, false), 4096);
	ck_assert_mem_eq(buf + 0x8000, seed, 4096);
	ck_assert_uint_eq(rng_request(&te, t, 2, 600, MEM_GPA + 0x8000, false), 904);
	ck_assert_mem_eq(buf + 0x8000, seed + 4096, 904);
	ck_assert_ptr_nonnull(strstr(te.log, "no more bytes"));
	ck_assert_uint_eq(rng_request(&te, t, 1, 64, MEM_GPA + 0x8000, false), 0);
	rng_stop(dev);

	/* A source that is not there, or a directory. */
	snprintf(config, sizeof(config), "source=%s.none", path);
	te.log[0] = 0;
	ck_assert_int_eq(test_device_create(&te, "rng", config, &test_virtio_res, &dev), -ENOENT);
	ck_assert_ptr_nonnull(strstr(te.log, path));
	ck_assert_int_eq(test_device_create(&te, "rng", "source=/tmp", &test_virtio_res, &dev), -EISDIR);
	ck_assert_int_eq(test_device_create(&te, "rng", "source=", &test_virtio_res, &dev), -EINVAL);
	unlink(path);
	test_env_release(&te);
	free(buf);
}
END_TEST

/* A disk image the user may only read: the message says what to add. */
START_TEST(test_blk_read_only_hint)
{
	struct test_env te;
	uint8_t mem[4096];
	void *dev;

	test_env_init(&te, mem, 0x100000, sizeof(mem));
	ck_assert_int_eq(test_device_create(&te, "block", "path=/sys/kernel/notes",
					    &test_virtio_res, &dev), -EACCES);
	ck_assert_ptr_nonnull(strstr(te.log, "add read_only=on"));
	test_env_release(&te);
}
END_TEST

/* Run @t's event loop for a moment: what the device deferred to it. */
static void *loop_main(void *p)
{
	event_loop_run(p);
	return NULL;
}

static void run_loop(struct test_env *t)
{
	pthread_t th;
	uint64_t v;

	__atomic_store_n(&t->loop.stopping, 0, __ATOMIC_RELEASE);
	while (read(t->loop.stop_fd, &v, sizeof(v)) > 0)
		;
	ck_assert_int_eq(pthread_create(&th, NULL, loop_main, &t->loop), 0);
	usleep(100 * 1000);
	event_loop_stop(&t->loop);
	pthread_join(th, NULL);
}

/* Past its budget a notification leaves the rest to the event loop. */
START_TEST(test_rng_budget)
{
	uint8_t *buf = calloc(1, 0x20000);
	struct vring_desc *desc = (void *)(buf + 0x0000);
	struct vring_avail *avail = (void *)(buf + 0x1000);
	struct vring_used *used = (void *)(buf + 0x2000);
	struct test_env te;
	struct virtio_mmio *t;
	void *dev;

	test_env_init(&te, buf, MEM_GPA, 0x20000);
	ck_assert_int_eq(test_device_create(&te, "rng", NULL, &test_virtio_res, &dev), 0);
	t = dev;
	ck_assert(drv_negotiate(t, 1ull << VIRTIO_F_VERSION_1));
	drv_setup_queue(t, 0, 32, MEM_GPA, MEM_GPA + 0x1000, MEM_GPA + 0x2000);
	drv_driver_ok(t);
	/* 20 requests of 64 KiB (all on the same buffer): 1.25 MiB. */
	for (uint16_t i = 0; i < 20; i++) {
		desc[i] = (struct vring_desc){ .addr = MEM_GPA + 0x10000, .len = 0x10000,
					       .flags = VRING_DESC_F_WRITE };
		avail->ring[i] = i;
	}
	__atomic_store_n(&avail->idx, 20, __ATOMIC_RELEASE);
	drv_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_uint_eq(used->idx, 16);                       /* 1 MiB */
	run_loop(&te);
	ck_assert_uint_eq(used->idx, 20);
	rng_stop(dev);
	test_env_release(&te);
	free(buf);
}
END_TEST

START_TEST(test_rng_round_trip)
{
	uint8_t *buf = calloc(1, MEM_SIZE);
	struct test_env a, b;
	struct virtio_mmio *t1, *t2;
	struct vring_avail *avail;
	struct state_writer w;
	void *d1, *d2;

	test_env_init(&a, buf, MEM_GPA, MEM_SIZE);
	test_env_init(&b, buf, MEM_GPA, MEM_SIZE);
	t1 = rng_start(&a, NULL, &d1);
	for (int i = 0; i < 5; i++)
		rng_request(&a, t1, 1, 64, MEM_GPA + 0x8000, false);
	/* A buffer made available but not yet notified when saved. */
	avail = guest_mem_ptr(&a.mem, Q_GPA(0, 1), 6 + 2 * 16);
	avail->ring[5] = 0;
	__atomic_store_n(&avail->idx, 6, __ATOMIC_RELEASE);
	save("rng", d1, &w);

	ck_assert_int_eq(test_device_create(&b, "rng", NULL, &test_virtio_res, &d2), 0);
	t2 = d2;
	ck_assert_int_eq(restore("rng", d2, w.buf, w.len), 0);
	expect_same_state(t1, t2);
	expect_saves_as("rng", d2, &w);
	/* The restored device looks at it by itself, from the event loop. */
	ck_assert_uint_eq(used_idx(&b, 0), 5);
	run_loop(&b);
	ck_assert_uint_eq(used_idx(&b, 0), 6);
	ck_assert_uint_eq(rng_request(&b, t2, 1, 64, MEM_GPA + 0x8000, false), 64);
	ck_assert_uint_eq(t2->queues[0].vq.s.used_idx, 7);
	expect_refusals("rng", d2, &w, sizeof("virtio-mmio"));
	device_type_find("rng")->reset(d2);
	ck_assert_uint_eq(drv_rd(t2, VIRTIO_MMIO_STATUS), 0);
	ck_assert(!t2->queues[0].vq.s.ready);

	state_writer_release(&w);
	rng_stop(d1);
	rng_stop(d2);
	test_env_release(&a);
	test_env_release(&b);
	free(buf);
}
END_TEST

Suite *devices_suite(void)
{
	Suite *s = suite_create("devices");
	TCase *tc = tcase_create("devices");

	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_blk_read_only_hint);
	tcase_add_test(tc, test_uart_round_trip);
	tcase_add_test(tc, test_i8042_round_trip);
	tcase_add_test(tc, test_transport_round_trip);
	tcase_add_test(tc, test_rng_requests);
	tcase_add_test(tc, test_rng_request_limit);
	tcase_add_test(tc, test_rng_source);
	tcase_add_test(tc, test_rng_budget);
	tcase_add_test(tc, test_rng_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
