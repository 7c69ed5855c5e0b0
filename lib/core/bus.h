/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One I/O-trap bus implementation, instantiated for port I/O and for MMIO.
 * Devices register [base, base + len) with a callback; a vCPU exit is routed
 * to the device owning the address. Registration happens while the VM is
 * built (single-threaded); lookups afterwards take no lock, so callbacks do
 * their own locking.
 */
#ifndef VMM_CORE_BUS_H
#define VMM_CORE_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* @offset is relative to the registered base; @data holds @len bytes
 * (1, 2, 4 or 8), little endian. For reads, the callback fills @data. */
typedef void (*bus_io_fn)(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_io_fn fn;
	void *opaque;
	uint64_t hits;          /* accesses routed here */
};

struct bus {
	const char *name;      /* "pio" or "mmio" for messages */
	struct bus_range *ranges;
	unsigned int nranges;
	unsigned int cap;
	uint64_t misses;        /* accesses no device took */
};

void bus_init(struct bus *bus, const char *name);
void bus_release(struct bus *bus);

/* Returns: 0, -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque);

/* Remove the range registered at @base for @opaque. Returns: 0 or -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/* Route an access, and count it. Returns true if a device handled it;
 * otherwise reads are filled with all-ones and writes are dropped, and
 * false is returned. */
bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* Accesses routed to the range registered at @base (0 if none). */
uint64_t bus_hits(const struct bus *bus, uint64_t base);

#endif
