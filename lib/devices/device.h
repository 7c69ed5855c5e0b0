/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device model.
 *
 * A device type is one struct device_ops, listed in the registry
 * (registry.c). For every device a VM is configured with, the VM core
 * hands out the resources the type asks for (a port range, an MMIO
 * window, an IRQ), records them with the device, and calls create() with
 * them, the device's configuration record (a plain struct its key table
 * describes) and its environment: the few services of the VM a device may
 * use. A device never sees the VM itself.
 *
 * A device keeps its guest-visible state in a plain struct apart from its
 * host resources (descriptors, locks, threads, pointers). save() writes
 * that state as a versioned record (core/state.h); restore() reads one
 * back into a device created with the same configuration and resources,
 * validates it and rebuilds the host side from it. reset() returns the
 * device to its power-on state.
 */
#ifndef VMM_DEVICES_DEVICE_H
#define VMM_DEVICES_DEVICE_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/keys.h"
#include "core/bus.h"
#include "core/console.h"
#include "core/event.h"
#include "core/memory.h"
#include "core/state.h"
#include "vmmcore/vmm.h"

/* What a device occupies. As asked for in device_ops.wants: a port range
 * at a fixed base, an MMIO window of mmio_size anywhere, a fixed IRQ or
 * DEVICE_IRQ_ANY. As handed out: where they are. Size 0 / IRQ 0: none. */
struct device_resources {
	uint16_t pio_base, pio_size;
	uint64_t mmio_base, mmio_size;
	unsigned int irq;
};

#define DEVICE_IRQ_ANY (~0u)

/* The services of the VM, called with device_env.vm. */
struct device_env_ops {
	int (*irq_line)(void *vm, unsigned int irq, int level);
	int (*irqfd)(void *vm, int fd, unsigned int irq, bool assign);
	int (*ioeventfd)(void *vm, int fd, uint64_t addr, uint32_t len, bool datamatch,
			 uint64_t data, bool assign);
	int (*cmdline_append)(void *vm, const char *param);
	/* @param ("root=/dev/vda rw") goes after every device's parameters,
	 * unless the user's command line or an earlier default has @name. */
	int (*cmdline_default)(void *vm, const char *name, const char *param);
	/* An event loop of the device's own, run by a device I/O thread of
	 * its own while the VM runs: where the device does host I/O that
	 * may block. NULL on failure (logged). */
	struct event_loop *(*io_loop)(void *vm, const char *what);
	void (*log)(void *vm, int prio, const char *fmt, va_list ap);
	void (*request_reset)(void *vm);        /* the guest reset the machine */
	bool (*stopping)(void *vm);             /* the VM is being stopped */
	void (*boot_marker)(void *vm);          /* the guest says it booted */
};

/* A device's view of its VM. Unit tests build one of their own; a missing
 * service (NULL) fails with -ENOSYS or does nothing. */
struct device_env {
	const struct guest_mem *mem;
	struct bus *pio_bus;
	struct bus *mmio_bus;
	struct event_loop *events;      /* run by the VM's event thread */
	struct console *console;        /* the VM's console's host side, or NULL */
	const struct device_env_ops *ops;
	void *vm;
};

/* One counter of a device. Returns: non-zero to stop the listing. */
typedef int (*device_stat_fn)(void *data, const char *name, uint64_t value);

/* Count @n more in a device's counter: its stats() may read it from
 * another thread at any time. */
static inline void device_count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* A device's counters for its stats(): @n of them, read atomically. */
struct device_counter {
	const char *name;
	const uint64_t *value;
};

static inline int device_put_counters(device_stat_fn put, void *data,
				      const struct device_counter *c, size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++)
		ret = put(data, c[i].name, __atomic_load_n(c[i].value, __ATOMIC_RELAXED));
	return ret;
}

struct device_ops {
	const char *name;               /* type name, also the CLI option */
	const char *summary;            /* one line for help texts */
	const struct key_desc *keys;    /* NULL: built in, one in every VM */
	keys_check_fn check;            /* of a parsed record, optional */
	size_t config_size;             /* of the record the keys describe */
	unsigned int max;               /* devices of this type per VM */
	struct device_resources wants;

	int (*create)(const struct device_env *env, const struct device_resources *res,
		      const void *config, void **dev);
	void (*reset)(void *dev);
	int (*save)(void *dev, struct state_writer *w);
	int (*restore)(void *dev, struct state_reader *r);
	void (*destroy)(void *dev);     /* once no vCPU runs any more */
	/* Host-side counters ("read_bytes", ...), through @put; optional.
	 * Any thread, while the device runs: reads need no lock. */
	int (*stats)(void *dev, device_stat_fn put, void *data);
};

static inline int env_irq_line(const struct device_env *env, unsigned int irq, int level)
{
	return env->ops && env->ops->irq_line ? env->ops->irq_line(env->vm, irq, level) : -ENOSYS;
}

static inline int env_irqfd(const struct device_env *env, int fd, unsigned int irq, bool assign)
{
	return env->ops && env->ops->irqfd ? env->ops->irqfd(env->vm, fd, irq, assign) : -ENOSYS;
}

static inline int env_ioeventfd(const struct device_env *env, int fd, uint64_t addr,
				uint32_t len, bool datamatch, uint64_t data, bool assign)
{
	return env->ops && env->ops->ioeventfd ?
	       env->ops->ioeventfd(env->vm, fd, addr, len, datamatch, data, assign) : -ENOSYS;
}

static inline int env_cmdline_append(const struct device_env *env, const char *param)
{
	return env->ops && env->ops->cmdline_append ?
	       env->ops->cmdline_append(env->vm, param) : -ENOSYS;
}

static inline int env_cmdline_default(const struct device_env *env, const char *name,
				      const char *param)
{
	return env->ops && env->ops->cmdline_default ?
	       env->ops->cmdline_default(env->vm, name, param) : -ENOSYS;
}

/* Without the service (unit tests), the environment's own loop. */
static inline struct event_loop *env_io_loop(const struct device_env *env, const char *what)
{
	return env->ops && env->ops->io_loop ? env->ops->io_loop(env->vm, what) : env->events;
}

static inline void env_request_reset(const struct device_env *env)
{
	if (env->ops && env->ops->request_reset)
		env->ops->request_reset(env->vm);
}

static inline void env_boot_marker(const struct device_env *env)
{
	if (env->ops && env->ops->boot_marker)
		env->ops->boot_marker(env->vm);
}

static inline bool env_stopping(const struct device_env *env)
{
	return env->ops && env->ops->stopping && env->ops->stopping(env->vm);
}

static inline void env_log(const struct device_env *env, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void env_log(const struct device_env *env, int prio, const char *fmt, ...)
{
	va_list ap;

	if (!env->ops || !env->ops->log)
		return;
	va_start(ap, fmt);
	env->ops->log(env->vm, prio, fmt, ap);
	va_end(ap);
}
#define env_err(env, ...)  env_log(env, VMM_LOG_ERR, __VA_ARGS__)
#define env_warn(env, ...) env_log(env, VMM_LOG_WARNING, __VA_ARGS__)
#define env_info(env, ...) env_log(env, VMM_LOG_INFO, __VA_ARGS__)
#define env_dbg(env, ...)  env_log(env, VMM_LOG_DEBUG, __VA_ARGS__)

#endif
