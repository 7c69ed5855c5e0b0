/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's counters and the process's clock: see stats.h. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "core/machine.h"
#include "core/stats.h"
#include "core/util.h"
#include "core/vcpu.h"

/* When the process started, as near as a library can tell: its
 * constructors run right after exec (or when a program loads it). Set
 * once, before main(); only read afterwards. */
static struct timespec process_start;

__attribute__((constructor)) static void note_process_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &process_start);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double process_wall_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ms_between(&process_start, &now);
}

double process_cpu_ms(void)
{
	static const struct timespec zero;
	struct timespec cpu;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	return ms_between(&zero, &cpu);
}

enum vm_exit_kind exit_kind(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return EXIT_IO;
	case KVM_EXIT_MMIO: return EXIT_MMIO;
	case KVM_EXIT_HLT: return EXIT_HLT;
	case KVM_EXIT_IRQ_WINDOW_OPEN: return EXIT_IRQ_WINDOW;
	case KVM_EXIT_INTR: return EXIT_INTR;
	case KVM_EXIT_SYSTEM_EVENT: return EXIT_SYSTEM_EVENT;
	case KVM_EXIT_SHUTDOWN: return EXIT_SHUTDOWN;
	case KVM_EXIT_INTERNAL_ERROR: return EXIT_INTERNAL_ERROR;
	case KVM_EXIT_FAIL_ENTRY: return EXIT_FAIL_ENTRY;
	default: return EXIT_OTHER;
	}
}

static const char *const exit_names[EXIT_KINDS] = {
	"exits.io", "exits.mmio", "exits.hlt", "exits.irq_window", "exits.intr",
	"exits.system_event", "exits.shutdown", "exits.internal_error", "exits.fail_entry",
	"exits.other",
};

static uint64_t read_counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* A device's counters under "TYPE.N.": the device reports them bare. */
struct device_put {
	vm_stat_fn fn;
	void *data;
	const char *type;
	unsigned int n;
};

static int put_prefixed(void *opaque, const char *name, uint64_t value)
{
	const struct device_put *p = opaque;
	char full[96];

	snprintf(full, sizeof(full), "%s.%u.%s", p->type, p->n, name);
	return p->fn(p->data, full, value);
}

/* The index of @d among the VM's devices of its type. */
static unsigned int device_number(const struct vmm *vm, const struct vm_device *d)
{
	unsigned int n = 0;

	for (const struct vm_device *o = vm->devices; o < d; o++)
		n += o->ops == d->ops;
	return n;
}

static int device_stats(const struct vmm *vm, const struct vm_device *d, vm_stat_fn fn,
			void *data)
{
	struct device_put p = { fn, data, d->ops->name, device_number(vm, d) };
	uint64_t exits = 0;
	int ret;

	if (d->res.pio_size)
		exits += bus_hits(&vm->pio_bus, d->res.pio_base);
	if (d->res.mmio_size)
		exits += bus_hits(&vm->mmio_bus, d->res.mmio_base);
	ret = put_prefixed(&p, "exits", exits);
	if (!ret && d->ops->stats)
		ret = d->ops->stats(d->dev, put_prefixed, &p);
	return ret;
}

int vm_stats_each(const struct vmm *vm, vm_stat_fn fn, void *data)
{
	int ret = 0;

	for (unsigned int k = 0; !ret && k < EXIT_KINDS; k++) {
		uint64_t sum = 0;

		for (unsigned int i = 0; i < vm->nvcpus; i++)
			sum += read_counter(&vm->vcpus[i].exits[k]);
		ret = fn(data, exit_names[k], sum);
	}
	if (!ret)
		ret = fn(data, "pio.unhandled", read_counter(&vm->pio_bus.misses));
	if (!ret)
		ret = fn(data, "mmio.unhandled", read_counter(&vm->mmio_bus.misses));
	for (unsigned int i = 0; !ret && i < vm->ndevices; i++)
		ret = device_stats(vm, &vm->devices[i], fn, data);
	if (!ret)
		ret = fn(data, "boot_marker.wall_us", read_counter(&vm->boot_marker_wall_us));
	if (!ret)
		ret = fn(data, "boot_marker.cpu_us", read_counter(&vm->boot_marker_cpu_us));
	return ret;
}

void vm_boot_marker(struct vmm *vm)
{
	double wall = process_wall_ms(), cpu = process_cpu_ms();
	int unmarked = 0;

	/* The first marker is the boot's; later ones are only logged. */
	if (__atomic_compare_exchange_n(&vm->boot_marked, &unmarked, 1, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED)) {
		__atomic_store_n(&vm->boot_marker_wall_us, (uint64_t)(wall * 1e3), __ATOMIC_RELAXED);
		__atomic_store_n(&vm->boot_marker_cpu_us, (uint64_t)(cpu * 1e3), __ATOMIC_RELAXED);
	}
	vm_info(vm, "guest boot marker: %.2f ms wall, %.2f ms CPU since the process started",
		wall, cpu);
}

/* ------------------------------------------------------------------ */
/* The public query. */

struct stat_find {
	unsigned int index;
	char *name;
	size_t len;
	uint64_t *value;
	int ret;
};

static int stat_at(void *opaque, const char *name, uint64_t value)
{
	struct stat_find *f = opaque;
	int n;

	if (f->index--)
		return 0;
	n = snprintf(f->name, f->len, "%s", name);
	if (f->value)
		*f->value = value;
	f->ret = n >= 0 && (size_t)n < f->len ? 0 : -ENOSPC;
	return 1;
}

VMM_EXPORT int vmm_stat(const struct vmm *vm, unsigned int index, char *name, size_t len,
			uint64_t *value)
{
	struct stat_find f = { index, name, len, value, -ENOENT };

	if (!vm || !name || !len)
		return -EINVAL;
	vm_stats_each(vm, stat_at, &f);
	return f.ret;
}
