/* SPDX-License-Identifier: Apache-2.0 */
/* A device environment without a VM: see env.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot/cmdline.h"
#include "config/keys.h"
#include "devices/registry.h"
#include "env.h"
#include "unit.h"

const struct device_resources test_virtio_res = {
	.mmio_base = VIRTIO_MMIO_BASE, .mmio_size = 0x1000, .irq = VIRTIO_IRQ_BASE,
};

static int t_irq_line(void *p, unsigned int irq, int level)
{
	struct test_env *t = p;

	ck_assert_uint_lt(irq, 24);
	if (level && !t->irq_level[irq])
		t->irq_edges[irq]++;
	t->irq_level[irq] = level;
	if (t->irq_hook)
		t->irq_hook(t->irq_opaque, irq, level);
	return 0;
}

static int t_cmdline_append(void *p, const char *param)
{
	struct test_env *t = p;
	size_t n = strlen(t->cmdline);

	snprintf(t->cmdline + n, sizeof(t->cmdline) - n, "%s%s", n ? " " : "", param);
	return 0;
}

/* No "after every device" here: a default goes at the end now. */
static int t_cmdline_default(void *p, const char *name, const char *param)
{
	return cmdline_has_param(((struct test_env *)p)->cmdline, name) ? 0 :
	       t_cmdline_append(p, param);
}

static void t_log(void *p, int prio, const char *fmt, va_list ap)
{
	struct test_env *t = p;
	size_t n = strlen(t->log);

	if (prio > t->log_priority || n + 1 >= sizeof(t->log))
		return;
	vsnprintf(t->log + n, sizeof(t->log) - n, fmt, ap);
	n = strlen(t->log);
	if (n + 1 < sizeof(t->log))
		strcpy(t->log + n, "\n");
}

static void t_request_reset(void *p)
{
	((struct test_env *)p)->resets++;
}

static void t_boot_marker(void *p)
{
	((struct test_env *)p)->boot_marks++;
}

static bool t_stopping(void *p)
{
	return __atomic_load_n(&((struct test_env *)p)->stopping, __ATOMIC_ACQUIRE);
}

/* No irqfd and no ioeventfd: interrupts pulse the line, notifications trap. */
static const struct device_env_ops test_ops = {
	.irq_line = t_irq_line,
	.cmdline_append = t_cmdline_append,
	.cmdline_default = t_cmdline_default,
	.log = t_log,
	.request_reset = t_request_reset,
	.stopping = t_stopping,
	.boot_marker = t_boot_marker,
};

void test_env_init(struct test_env *t, void *buf, uint64_t gpa, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	guest_mem_init_fake(&t->mem, gpa, buf, size);
	bus_init(&t->pio, "pio");
	bus_init(&t->mmio, "mmio");
	ck_assert_int_eq(event_loop_init(&t->loop), 0);
	t->log_priority = VMM_LOG_DEBUG;
	t->env = (struct device_env){
		.mem = &t->mem, .pio_bus = &t->pio, .mmio_bus = &t->mmio, .events = &t->loop,
		.ops = &test_ops, .vm = t,
	};
}

void test_env_release(struct test_env *t)
{
	event_loop_release(&t->loop);
	bus_release(&t->pio);
	bus_release(&t->mmio);
}

int test_device_create(struct test_env *t, const char *type, const char *config,
		       const struct device_resources *res, void **dev)
{
	const struct device_ops *ops = device_type_find(type);
	void *rec = NULL;
	char err[256];
	int ret;

	ck_assert_msg(ops != NULL, "no device type %s", type);
	if (ops->keys) {
		rec = calloc(1, ops->config_size);
		ck_assert_ptr_nonnull(rec);
		ret = keys_parse(ops->keys, type, rec, ops->config_size, config, NULL,
				 err, sizeof(err));
		if (ret) {
			snprintf(t->log, sizeof(t->log), "%s\n", err);
			free(rec);
			return ret;
		}
	}
	ret = ops->create(&t->env, res ? res : &ops->wants, rec, dev);
	/* Devices keep nothing of their record (the VM's copy outlives
	 * them, but ASan proves they do not rely on it). */
	if (rec) {
		keys_release(ops->keys, rec);
		free(rec);
	}
	return ret;
}
