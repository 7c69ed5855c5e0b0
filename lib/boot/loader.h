/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel and initrd loading: pure functions over an image in host memory and
 * a guest memory description, so that they can be unit-tested and fuzzed.
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H
#include <stddef.h>
#include <stdint.h>
#include <asm/bootparam.h>
#include "core/memory.h"

enum kernel_format { KERNEL_ELF = 1, KERNEL_BZIMAGE = 2 };

struct kernel_image {
	enum kernel_format format;
	uint64_t entry;               /* 64-bit entry point (guest physical) */
	uint64_t load_start;          /* lowest guest address written */
	uint64_t load_end;            /* end of the kernel's footprint (bzImage: + init_size) */
	uint32_t cmdline_max;         /* longest cmdline the kernel takes, without NUL */
	uint64_t initrd_addr_max;     /* highest address for the initrd's last byte */
	struct setup_header hdr;      /* bzImage: the image's setup header; ELF: zeroed */
};

/* Detect the format by content and copy the kernel into guest memory.
 * ELF: every PT_LOAD segment at its physical address (p_paddr), entry e_entry.
 * bzImage: setup header validated (boot flag 0xAA55, "HdrS", protocol >= 2.12,
 * XLF_KERNEL_64, LOADED_HIGH), protected-mode part at @load_addr (aligned to
 * kernel_alignment unless relocatable says otherwise), entry load_addr + 0x200.
 * Per boot.rst a non-relocatable bzImage must be loaded at HIMEM_START
 * (0x100000) and runs at pref_address; a relocatable one may be loaded at any
 * page-aligned address >= HIMEM_START and realigns itself to kernel_alignment
 * (at least pref_address). load_end covers the payload and init_size bytes
 * from the kernel's runtime start address.
 * Returns: 0, -ENOEXEC (not a kernel / malformed), -EINVAL (bad load address),
 * -ENOMEM (does not fit in guest RAM); a one-line reason in @err. */
int loader_load_kernel(const struct guest_mem *mem, const void *image, size_t size,
		       uint64_t load_addr, struct kernel_image *k, char *err, size_t errlen);

/* Place an initrd as high as allowed below min(initrd_addr_max, end of low
 * RAM), page-aligned, above the kernel's footprint. Returns: 0 and the guest
 * address in @gpa, or -ENOMEM (does not fit) with a reason in @err. */
int loader_load_initrd(const struct guest_mem *mem, const struct kernel_image *k,
		       const void *data, size_t size, uint64_t *gpa, char *err, size_t errlen);

/* Copy the command line to @gpa with its NUL. Returns: 0, -E2BIG (longer than
 * k->cmdline_max) or -EFAULT. */
int loader_load_cmdline(const struct guest_mem *mem, const struct kernel_image *k,
			uint64_t gpa, const char *cmdline, char *err, size_t errlen);

#endif
