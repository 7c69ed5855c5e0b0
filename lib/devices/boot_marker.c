/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot marker: a guest that writes VMM_BOOT_MARKER_MAGIC to port
 * VMM_BOOT_MARKER_PORT says "booted"; the VM logs the process's wall and
 * CPU time at that moment (at info level) and keeps them in its counters.
 * Any other value is ignored; reads return all-ones, as for no device.
 * Nothing here is guest state: the saved record is empty.
 */
#include <stdlib.h>

#include "devices/device.h"

struct boot_marker {
	const struct device_env *env;
	struct device_resources res;
	uint64_t marks;                 /* magic writes seen */
};

static void marker_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct boot_marker *m = opaque;

	(void)offset;
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff;
		return;
	}
	if (len == 1 && data[0] == VMM_BOOT_MARKER_MAGIC) {
		device_count(&m->marks, 1);
		env_boot_marker(m->env);
	}
}

static int marker_create(const struct device_env *env, const struct device_resources *res,
			 const void *config, void **dev)
{
	struct boot_marker *m = calloc(1, sizeof(*m));
	int ret;

	(void)config;
	if (!m)
		return -ENOMEM;
	m->env = env;
	m->res = *res;
	ret = bus_register(env->pio_bus, res->pio_base, res->pio_size, marker_io, m);
	if (ret) {
		free(m);
		return ret;
	}
	*dev = m;
	return 0;
}

static void marker_destroy(void *dev)
{
	struct boot_marker *m = dev;

	bus_unregister(m->env->pio_bus, m->res.pio_base, m);
	free(m);
}

static void marker_reset(void *dev)
{
	(void)dev;
}

static int marker_save(void *dev, struct state_writer *w)
{
	(void)dev;
	state_begin(w, "boot_marker", 1);
	state_end(w);
	return state_writer_error(w);
}

static int marker_restore(void *dev, struct state_reader *r)
{
	uint16_t version;

	(void)dev;
	if (state_open(r, "boot_marker", 1, &version))
		return state_reader_error(r);
	return state_close(r);
}

static int marker_stats(void *dev, device_stat_fn put, void *data)
{
	struct boot_marker *m = dev;

	return put(data, "marks", __atomic_load_n(&m->marks, __ATOMIC_RELAXED));
}

const struct device_ops boot_marker_device = {
	.name = "boot_marker",
	.summary = "the guest's boot marker: the time at its write is logged",
	.wants = { .pio_base = VMM_BOOT_MARKER_PORT, .pio_size = 1 },
	.create = marker_create,
	.reset = marker_reset,
	.save = marker_save,
	.restore = marker_restore,
	.destroy = marker_destroy,
	.stats = marker_stats,
};
