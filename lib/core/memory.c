/* SPDX-License-Identifier: Apache-2.0 */
/* Guest RAM: anonymous mappings around the 32-bit MMIO gap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/layout.h"
#include "core/memory.h"

static int region_map(struct guest_region *r, uint64_t gpa, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	/* Advice only: transparent huge pages cut EPT/NPT misses. */
	(void)madvise(p, size, MADV_HUGEPAGE);
	/* Guest memory is no business of a core dump of the VMM, nor of a
	 * child it forks (a fork would copy its page tables). */
	(void)madvise(p, size, MADV_DONTDUMP);
	(void)madvise(p, size, MADV_DONTFORK);
	r->gpa = gpa;
	r->size = size;
	r->hva = p;
	return 0;
}

int guest_mem_setup(struct guest_mem *mem, uint64_t ram_size)
{
	uint64_t low = ram_size < MMIO_GAP_START ? ram_size : MMIO_GAP_START;
	int ret;

	memset(mem, 0, sizeof(*mem));
	if (ram_size == 0 || ram_size % 4096)
		return -EINVAL;
	mem->owned = 1;
	ret = region_map(&mem->region[0], 0, low);
	if (ret)
		return ret;
	mem->nregions = 1;
	if (ram_size > low) {
		ret = region_map(&mem->region[1], MMIO_GAP_END, ram_size - low);
		if (ret) {
			guest_mem_release(mem);
			return ret;
		}
		mem->nregions = 2;
	}
	mem->ram_size = ram_size;
	return 0;
}

void guest_mem_release(struct guest_mem *mem)
{
	if (mem->owned)
		for (unsigned int i = 0; i < mem->nregions; i++)
			munmap(mem->region[i].hva, mem->region[i].size);
	memset(mem, 0, sizeof(*mem));
}

void guest_mem_init_fake(struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t size)
{
	memset(mem, 0, sizeof(*mem));
	mem->region[0].gpa = gpa;
	mem->region[0].size = size;
	mem->region[0].hva = buf;
	mem->nregions = 1;
	mem->ram_size = size;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->region[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		if (off > r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
	const void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->nregions ? mem->region[0].gpa + mem->region[0].size : 0;
}

/* strtoull, not sscanf: a static build then carries no scanf (9 KiB). */
uint64_t host_mem_available_mib(void)
{
	static const char key[] = "MemAvailable:";
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kib = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, sizeof(key) - 1)) {
			kib = strtoull(line + sizeof(key) - 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib >> 10;
}
