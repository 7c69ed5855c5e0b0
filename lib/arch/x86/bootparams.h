/* SPDX-License-Identifier: Apache-2.0 */
/* Linux x86 boot protocol: E820 map and zero page (struct boot_params). */
#ifndef VMM_BOOTPARAMS_H
#define VMM_BOOTPARAMS_H
#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>
#include "core/memory.h"

/* Fill @table with the guest's E820 map:
 *   [0, EBDA_START) RAM, [EBDA_START, HIMEM_START) reserved,
 *   [HIMEM_START, end of low RAM) RAM, [4 GiB, 4 GiB + rest) RAM if any.
 * Returns: the number of entries or a negative errno (-ENOSPC, -EINVAL). */
int e820_build(const struct guest_mem *mem, struct boot_e820_entry *table, unsigned int max);

struct bootparams_info {
	const struct setup_header *hdr;  /* the image's setup header (bzImage), NULL for ELF */
	uint64_t cmdline_gpa;
	uint32_t cmdline_len;            /* without the NUL */
	uint64_t initrd_gpa;             /* 0: none */
	uint64_t initrd_size;
};

/* Build the zero page: the image's setup header (or, for ELF, the fields a
 * 64-bit kernel reads: boot_flag, header magic, version, kernel_alignment),
 * type_of_loader 0xff, cmd_line_ptr, ramdisk fields, the E820 map.
 * Returns: 0 or a negative errno. */
int bootparams_build(struct boot_params *bp, const struct guest_mem *mem,
		     const struct bootparams_info *info);

#endif
