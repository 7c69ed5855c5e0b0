/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst): the E820 map
 * and the zero page a 64-bit boot loader hands the kernel in %rsi.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/bootparams.h"
#include "arch/x86/layout.h"

#define E820_TYPE_RAM           1
#define E820_TYPE_RESERVED      2

#define BOOT_FLAG_MAGIC         0xaa55
#define SETUP_HDR_MAGIC         0x53726448u     /* "HdrS" */
#define BOOT_PROTOCOL_VERSION   0x020f
#define ELF_KERNEL_ALIGNMENT    0x1000000       /* as Firecracker sets it for vmlinux */
#define LOADER_TYPE_UNDEFINED   0xff

static int e820_add(struct boot_e820_entry *table, unsigned int max, unsigned int *n,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0)
		return 0;
	if (*n >= max)
		return -ENOSPC;
	table[*n].addr = addr;
	table[*n].size = size;
	table[*n].type = type;
	(*n)++;
	return 0;
}

/* A region must not wrap, must not touch the MMIO gap, and region 0 must
 * start at 0 and hold the boot area below HIMEM_START. */
static int check_regions(const struct guest_mem *mem)
{
	unsigned int i;

	if (mem->nregions == 0 || mem->nregions > GUEST_MEM_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->region[i];

		if (r->size == 0 || r->gpa > UINT64_MAX - r->size)
			return -EINVAL;
		if (r->gpa < MMIO_GAP_END && r->gpa + r->size > MMIO_GAP_START)
			return -EINVAL;
		if (i > 0 && r->gpa < mem->region[i - 1].gpa + mem->region[i - 1].size)
			return -EINVAL;
	}
	if (mem->region[0].gpa != 0 || mem->region[0].size <= HIMEM_START)
		return -EINVAL;
	return 0;
}

int e820_build(const struct guest_mem *mem, struct boot_e820_entry *table, unsigned int max)
{
	unsigned int i, n = 0;
	int ret;

	if (!mem || !table)
		return -EINVAL;
	ret = check_regions(mem);
	if (ret)
		return ret;

	ret = e820_add(table, max, &n, 0, EBDA_START, E820_TYPE_RAM);
	if (!ret)
		ret = e820_add(table, max, &n, EBDA_START, HIMEM_START - EBDA_START,
			       E820_TYPE_RESERVED);
	if (!ret)
		ret = e820_add(table, max, &n, HIMEM_START,
			       mem->region[0].size - HIMEM_START, E820_TYPE_RAM);
	for (i = 1; !ret && i < mem->nregions; i++)
		ret = e820_add(table, max, &n, mem->region[i].gpa, mem->region[i].size,
			       E820_TYPE_RAM);
	return ret ? ret : (int)n;
}

/* [gpa, gpa + len) must be guest RAM. */
static int check_range(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(mem, gpa, len) ? 0 : -EFAULT;
}

int bootparams_build(struct boot_params *bp, const struct guest_mem *mem,
		     const struct bootparams_info *info)
{
	int n, ret;

	if (!bp || !mem || !info)
		return -EINVAL;

	/* The command line must be in RAM with its NUL, the initrd too. */
	if (info->cmdline_gpa == 0)
		return -EINVAL;
	ret = check_range(mem, info->cmdline_gpa, (uint64_t)info->cmdline_len + 1);
	if (ret)
		return ret;
	if (info->initrd_size) {
		if (info->initrd_gpa == 0)
			return -EINVAL;
		ret = check_range(mem, info->initrd_gpa, info->initrd_size);
		if (ret)
			return ret;
	}

	memset(bp, 0, sizeof(*bp));
	if (info->hdr) {
		bp->hdr = *info->hdr;
	} else {
		bp->hdr.boot_flag = BOOT_FLAG_MAGIC;
		bp->hdr.header = SETUP_HDR_MAGIC;
		bp->hdr.version = BOOT_PROTOCOL_VERSION;
		bp->hdr.kernel_alignment = ELF_KERNEL_ALIGNMENT;
	}
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;

	bp->hdr.cmd_line_ptr = (uint32_t)info->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(info->cmdline_gpa >> 32);

	if (info->initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)info->initrd_gpa;
		bp->ext_ramdisk_image = (uint32_t)(info->initrd_gpa >> 32);
		bp->hdr.ramdisk_size = (uint32_t)info->initrd_size;
		bp->ext_ramdisk_size = (uint32_t)(info->initrd_size >> 32);
	}

	n = e820_build(mem, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return n;
	bp->e820_entries = (uint8_t)n;
	return 0;
}
