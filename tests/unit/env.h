/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device environment without a VM, for the unit tests: fake guest
 * memory, real buses (and an event loop on request), and services that
 * record what devices ask of them.
 */
#ifndef VMM_TESTS_UNIT_ENV_H
#define VMM_TESTS_UNIT_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

struct test_env {
	struct device_env env;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct event_loop loop;         /* nobody runs it unless the test does */
	int irq_level[24];
	unsigned int irq_edges[24];     /* rising edges per IOAPIC pin */
	void (*irq_hook)(void *opaque, unsigned int irq, int level);
	void *irq_opaque;
	char cmdline[4096];
	char log[4096];                 /* what was logged up to log_priority */
	int log_priority;
	unsigned int resets;            /* request_reset() calls */
	unsigned int boot_marks;        /* boot_marker() calls */
	bool stopping;
};

/* Guest memory @buf of @size bytes at @gpa; console fds -1. */
void test_env_init(struct test_env *t, void *buf, uint64_t gpa, uint64_t size);
void test_env_release(struct test_env *t);

/* Create a device of @type from the key=value text @config (NULL: none)
 * at @res, through the registry and the type's key table, as the VM core
 * does. Returns: the key table's refusal (its message in t->log) or what
 * create() returned. */
int test_device_create(struct test_env *t, const char *type, const char *config,
		       const struct device_resources *res, void **dev);

/* The resources the core would give the first device of its kind. */
extern const struct device_resources test_virtio_res;   /* 0xd0000000, IRQ 5 */

#endif
