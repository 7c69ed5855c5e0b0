/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device environment without a VM for the fuzz targets (the unit
 * tests' asserts with Check; this one aborts, which libFuzzer reports):
 * fake guest memory, real buses, an event loop the target runs itself,
 * and services that only count what devices ask of them.
 */
#ifndef VMM_FUZZ_ENV_H
#define VMM_FUZZ_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define FUZZ_MEM_GPA  0x10000ull
#define FUZZ_MEM_SIZE 0x10000ull

struct fuzz_env {
	struct device_env env;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct event_loop loop;
	uint8_t *ram;                   /* FUZZ_MEM_SIZE bytes at FUZZ_MEM_GPA */
	unsigned int irq_edges, resets;
};

/* Zeroed guest RAM, buses and a loop. Returns: 0 or a negative errno. */
int fuzz_env_init(struct fuzz_env *f);
void fuzz_env_release(struct fuzz_env *f);

/* Create a device of @type from the key=value text @config (NULL: none)
 * at @res (NULL: where the type asks to be), as the VM core does.
 * Returns: 0 or the key table's or create()'s error. */
int fuzz_device_create(struct fuzz_env *f, const char *type, const char *config,
		       const struct device_resources *res, void **dev);
void fuzz_device_destroy(const char *type, void *dev);
void fuzz_device_reset(const char *type, void *dev);

/* Save the device and restore it from what it saved: a device that
 * refuses its own state aborts. */
void fuzz_device_save_restore(const char *type, void *dev);

/* What the device's I/O thread would do meanwhile: at most @max rounds
 * of the events already pending. */
void fuzz_env_run(struct fuzz_env *f, unsigned int max);

/* Where the first virtio device sits, and its register file. */
extern const struct device_resources fuzz_virtio_res;
uint32_t fuzz_virtio_rd(struct fuzz_env *f, uint32_t off);
void fuzz_virtio_wr(struct fuzz_env *f, uint32_t off, uint32_t v);

/* A driver's initialisation up to DRIVER_OK with @features (VERSION_1
 * added), queues 0..@nq-1 of @qsize entries with their rings at
 * FUZZ_MEM_GPA + 0x3000 * i: descriptors, then available ring 0x1000
 * after, used ring 0x2000 after. Returns: whether the device went live. */
bool fuzz_virtio_start(struct fuzz_env *f, uint64_t features, unsigned int nq, uint32_t qsize);

#endif
