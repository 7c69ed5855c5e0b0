/* SPDX-License-Identifier: Apache-2.0 */
/* A device environment without a VM, for the fuzz targets: see env.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "arch/x86/layout.h"
#include "config/keys.h"
#include "devices/registry.h"
#include "env.h"

const struct device_resources fuzz_virtio_res = {
	.mmio_base = VIRTIO_MMIO_BASE, .mmio_size = 0x1000, .irq = VIRTIO_IRQ_BASE,
};

static int f_irq_line(void *p, unsigned int irq, int level)
{
	struct fuzz_env *f = p;

	if (irq >= 24)
		abort();
	f->irq_edges += level != 0;
	return 0;
}

static int f_cmdline_append(void *p, const char *param)
{
	(void)p;
	(void)param;
	return 0;
}

static int f_cmdline_default(void *p, const char *name, const char *param)
{
	(void)name;
	return f_cmdline_append(p, param);
}

static void f_log(void *p, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Formatted and dropped: the sanitizers still check the arguments. */
static void f_log(void *p, int prio, const char *fmt, va_list ap)
{
	char msg[512];

	(void)p;
	(void)prio;
	vsnprintf(msg, sizeof(msg), fmt, ap);
}

static void f_request_reset(void *p)
{
	((struct fuzz_env *)p)->resets++;
}

static const struct device_env_ops fuzz_ops = {
	.irq_line = f_irq_line,
	.cmdline_append = f_cmdline_append,
	.cmdline_default = f_cmdline_default,
	.log = f_log,
	.request_reset = f_request_reset,
};

int fuzz_env_init(struct fuzz_env *f)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, FUZZ_MEM_SIZE);
	if (!f->ram)
		return -ENOMEM;
	r = event_loop_init(&f->loop);
	if (r < 0) {
		free(f->ram);
		return r;
	}
	guest_mem_init_fake(&f->mem, FUZZ_MEM_GPA, f->ram, FUZZ_MEM_SIZE);
	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	f->env = (struct device_env){
		.mem = &f->mem, .pio_bus = &f->pio, .mmio_bus = &f->mmio, .events = &f->loop,
		.ops = &fuzz_ops, .vm = f,
	};
	return 0;
}

void fuzz_env_release(struct fuzz_env *f)
{
	event_loop_release(&f->loop);
	bus_release(&f->pio);
	bus_release(&f->mmio);
	free(f->ram);
}

int fuzz_device_create(struct fuzz_env *f, const char *type, const char *config,
		       const struct device_resources *res, void **dev)
{
	const struct device_ops *ops = device_type_find(type);
	void *rec = NULL;
	char err[256];
	int r;

	if (!ops)
		abort();
	if (ops->keys) {
		rec = calloc(1, ops->config_size);
		if (!rec)
			return -ENOMEM;
		r = keys_parse(ops->keys, type, rec, ops->config_size, config, NULL,
			       err, sizeof(err));
		if (r) {
			free(rec);
			return r;
		}
	}
	r = ops->create(&f->env, res ? res : &ops->wants, rec, dev);
	if (rec) {
		keys_release(ops->keys, rec);
		free(rec);
	}
	return r;
}

void fuzz_device_destroy(const char *type, void *dev)
{
	device_type_find(type)->destroy(dev);
}

void fuzz_device_reset(const char *type, void *dev)
{
	device_type_find(type)->reset(dev);
}

void fuzz_device_save_restore(const char *type, void *dev)
{
	const struct device_ops *ops = device_type_find(type);
	struct state_writer w;
	struct state_reader rd;

	state_writer_init(&w);
	if (ops->save(dev, &w) == 0) {
		state_reader_init(&rd, w.buf, w.len);
		if (ops->restore(dev, &rd))
			abort();
	}
	state_writer_release(&w);
}

void fuzz_env_run(struct fuzz_env *f, unsigned int max)
{
	for (unsigned int i = 0; i < max && event_loop_dispatch(&f->loop, 0) > 0; i++)
		;
}

uint32_t fuzz_virtio_rd(struct fuzz_env *f, uint32_t off)
{
	uint8_t data[4];
	uint32_t v;

	bus_access(&f->mmio, fuzz_virtio_res.mmio_base + off, data, 4, false);
	memcpy(&v, data, 4);
	return v;
}

void fuzz_virtio_wr(struct fuzz_env *f, uint32_t off, uint32_t v)
{
	uint8_t data[4];

	memcpy(data, &v, 4);
	bus_access(&f->mmio, fuzz_virtio_res.mmio_base + off, data, 4, true);
}

static void wr64(struct fuzz_env *f, uint32_t lo, uint64_t v)
{
	fuzz_virtio_wr(f, lo, (uint32_t)v);
	fuzz_virtio_wr(f, lo + 4, (uint32_t)(v >> 32));
}

bool fuzz_virtio_start(struct fuzz_env *f, uint64_t features, unsigned int nq, uint32_t qsize)
{
	const uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	features |= 1ull << VIRTIO_F_VERSION_1;
	fuzz_virtio_wr(f, VIRTIO_MMIO_STATUS, 0);
	fuzz_virtio_wr(f, VIRTIO_MMIO_STATUS, s);
	fuzz_virtio_wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fuzz_virtio_wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	fuzz_virtio_wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fuzz_virtio_wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	fuzz_virtio_wr(f, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned int i = 0; i < nq; i++) {
		uint64_t base = FUZZ_MEM_GPA + 0x3000ull * i;

		fuzz_virtio_wr(f, VIRTIO_MMIO_QUEUE_SEL, i);
		fuzz_virtio_wr(f, VIRTIO_MMIO_QUEUE_NUM, qsize);
		wr64(f, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
		wr64(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, base + 0x1000);
		wr64(f, VIRTIO_MMIO_QUEUE_USED_LOW, base + 0x2000);
		fuzz_virtio_wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	fuzz_virtio_wr(f, VIRTIO_MMIO_STATUS, s | VIRTIO_CONFIG_S_FEATURES_OK |
		       VIRTIO_CONFIG_S_DRIVER_OK);
	return fuzz_virtio_rd(f, VIRTIO_MMIO_STATUS) ==
	       (s | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}
