/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything the guest finds in memory at its first instruction: the
 * kernel and initrd read from their files, the command line, the zero page
 * with the E820 map, and the MP table.
 */
#ifndef VMM_BOOT_BOOT_H
#define VMM_BOOT_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/memory.h"

struct boot_spec {
	const char *kernel;             /* ELF vmlinux or bzImage */
	uint64_t load_addr;             /* bzImage load address */
	const char *initrd;             /* NULL: none */
	const char *cmdline;            /* complete, devices' parameters included */
	size_t added;                   /* bytes of it the VMM added (the devices') */
	unsigned int ncpus;             /* for the MP table */
};

/* Load @spec into @mem and return the 64-bit entry point in *@entry.
 * Returns: 0 or a negative errno with a one-line reason in @err, naming
 * the file. */
int boot_load(const struct guest_mem *mem, const struct boot_spec *spec, uint64_t *entry,
	      char *err, size_t errlen);

#endif
