/* SPDX-License-Identifier: Apache-2.0 */
/* Guest physical memory: up to two regions around the 32-bit MMIO gap. */
#ifndef VMM_CORE_MEMORY_H
#define VMM_CORE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2

struct guest_region {
	uint64_t gpa;          /* guest physical start */
	uint64_t size;         /* bytes */
	uint8_t *hva;          /* host mapping */
};

struct guest_mem {
	struct guest_region region[GUEST_MEM_MAX_REGIONS];
	unsigned int nregions;
	uint64_t ram_size;     /* sum of region sizes */
	int owned;             /* hva mappings were created by guest_mem_setup() */
};

/* Map @ram_size bytes of anonymous memory laid out below and above the MMIO
 * gap. Returns: 0 on success or a negative errno. */
int guest_mem_setup(struct guest_mem *mem, uint64_t ram_size);
void guest_mem_release(struct guest_mem *mem);

/* Describe caller-provided memory (tests, fuzzers): one region at @gpa. */
void guest_mem_init_fake(struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t size);

/* Host pointer for [gpa, gpa + len) if that whole range lies inside one
 * region (len may be 0: then gpa must be inside or at the end of a region),
 * NULL otherwise, including on overflow of gpa + len. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy to and from guest memory; ranges may not cross a region end.
 * Returns: 0 or -EFAULT. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len);

/* End of RAM below the MMIO gap (exclusive). */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

/* The host's available memory (MemAvailable), MiB; 0 when unknown. */
uint64_t host_mem_available_mib(void);

#endif
