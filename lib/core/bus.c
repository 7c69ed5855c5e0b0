/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O-trap bus shared by port I/O and MMIO. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_release(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nranges = bus->cap = 0;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_io_fn fn, void *opaque)
{
	unsigned int i;

	if (!len || !fn || base + len - 1 < base)
		return -EINVAL;
	/* Keep the ranges sorted by base; find the insertion point. */
	for (i = 0; i < bus->nranges && bus->ranges[i].base < base; i++)
		;
	if (i > 0) {
		const struct bus_range *prev = &bus->ranges[i - 1];

		if (prev->base + prev->len - 1 >= base)
			return -EEXIST;
	}
	if (i < bus->nranges && base + len - 1 >= bus->ranges[i].base)
		return -EEXIST;
	if (bus->nranges == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 8;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nranges - i) * sizeof(*bus->ranges));
	bus->ranges[i] = (struct bus_range){ base, len, fn, opaque, 0 };
	bus->nranges++;
	return 0;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	for (unsigned int i = 0; i < bus->nranges; i++) {
		if (bus->ranges[i].base != base || bus->ranges[i].opaque != opaque)
			continue;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nranges - i - 1) * sizeof(*bus->ranges));
		bus->nranges--;
		return 0;
	}
	return -ENOENT;
}

static struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nranges;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool bus_access(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct bus_range *r = bus_find(bus, addr);

	/* The whole access must fall inside one device's range. */
	if (r && len && len <= 8 && len <= r->len && addr - r->base <= r->len - len) {
		__atomic_fetch_add(&r->hits, 1, __ATOMIC_RELAXED);
		r->fn(r->opaque, addr - r->base, data, len, is_write);
		return true;
	}
	__atomic_fetch_add(&bus->misses, 1, __ATOMIC_RELAXED);
	if (!is_write)
		memset(data, 0xff, len > 8 ? 8 : len);
	return false;
}

uint64_t bus_hits(const struct bus *bus, uint64_t base)
{
	const struct bus_range *r = bus_find(bus, base);

	return r && r->base == base ? __atomic_load_n(&r->hits, __ATOMIC_RELAXED) : 0;
}
