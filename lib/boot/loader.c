/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel, initrd and command line loading. The image is untrusted input:
 * every offset, size and address is checked (without overflow) before any
 * byte is copied, and guest memory is only reached through guest_mem_ptr().
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "boot/loader.h"

#define PAGE_SIZE               0x1000ull

/* ELF vmlinux limits (the kernel's COMMAND_LINE_SIZE is 2048). */
#define ELF_CMDLINE_MAX         2047u
#define ELF_INITRD_ADDR_MAX     0x7fffffffull
#define ELF_MAX_PHNUM           256u

/* bzImage setup header (Documentation/arch/x86/boot.rst). */
#define BZ_SETUP_HDR_OFFSET     0x1f1
#define BZ_JUMP_OFFSET          0x201   /* end of header = 0x202 + this byte */
#define BZ_MIN_SIZE             1024
#define BZ_BOOT_FLAG            0xaa55
#define BZ_HDR_MAGIC            0x53726448u     /* "HdrS" */
#define BZ_MIN_VERSION          0x020c
#define BZ_DEFAULT_SETUP_SECTS  4
#define BZ_SECTOR               512
#define BZ_ENTRY_64             0x200
#define BZ_OLD_CMDLINE_MAX      255u
#define BZ_OLD_INITRD_ADDR_MAX  0x37ffffffull
/* The header must reach at least init_size (protocol 2.10). */
#define BZ_HDR_MIN_END          (BZ_SETUP_HDR_OFFSET + offsetof(struct setup_header, init_size) + \
				 sizeof(uint32_t))

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* End of the RAM region at guest address 0 (below the MMIO gap). */
static uint64_t low_ram_end(const struct guest_mem *mem)
{
	unsigned int i;

	for (i = 0; i < mem->nregions && i < GUEST_MEM_MAX_REGIONS; i++) {
		const struct guest_region *r = &mem->region[i];

		if (r->gpa == 0)
			return r->size < MMIO_GAP_START ? r->size : MMIO_GAP_START;
	}
	return 0;
}

/* How to make room for what ends at @end: more guest memory, unless
 * even the most below the MMIO gap would not hold it. */
static const char *room_hint(uint64_t end)
{
	return end <= MMIO_GAP_START ? ": give the guest more memory (--memory)" :
	       ": no --memory gives RAM there, in or past the MMIO gap";
}

/* ---------------------------------------------------------------- ELF */

static int elf_check_phdr(const struct guest_mem *mem, const Elf64_Phdr *ph, unsigned int i,
			  size_t size, uint64_t low_end, char *err, size_t errlen)
{
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz) {
		set_err(err, errlen, "ELF segment %u: file size %#" PRIx64 " > memory size %#" PRIx64,
			i, (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
		return -ENOEXEC;
	}
	if (add_overflows(ph->p_offset, ph->p_filesz, &end) || end > size) {
		set_err(err, errlen, "ELF segment %u: file data outside the image", i);
		return -ENOEXEC;
	}
	if (add_overflows(ph->p_paddr, ph->p_memsz, &end)) {
		set_err(err, errlen, "ELF segment %u: address %#" PRIx64 " + %#" PRIx64 " overflows",
			i, (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz);
		return -ENOEXEC;
	}
	if (ph->p_paddr < HIMEM_START) {
		set_err(err, errlen, "ELF segment %u at %#" PRIx64 " overlaps the boot area below 1 MiB",
			i, (uint64_t)ph->p_paddr);
		return -EINVAL;
	}
	if (end > low_end || !guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz)) {
		set_err(err, errlen, "ELF segment %u [%#" PRIx64 ", %#" PRIx64 ") does not fit in "
			"guest RAM below %#" PRIx64 "%s", i, (uint64_t)ph->p_paddr, end, low_end,
			room_hint(end));
		return -ENOMEM;
	}
	return 0;
}

static int load_elf(const struct guest_mem *mem, const uint8_t *image, size_t size,
		    struct kernel_image *k, char *err, size_t errlen)
{
	uint64_t low_end = low_ram_end(mem), phdrs_end, entry = 0;
	uint64_t load_start = UINT64_MAX, load_end = 0;
	int have_entry = 0, nload = 0, ret;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned int i;

	if (size < sizeof(eh)) {
		set_err(err, errlen, "ELF image truncated: %zu bytes", size);
		return -ENOEXEC;
	}
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT) {
		set_err(err, errlen, "ELF image is not 64-bit little-endian (an i386 or big-endian "
			"build?): give an x86_64 vmlinux or bzImage");
		return -ENOEXEC;
	}
	if (eh.e_machine != EM_X86_64) {
		set_err(err, errlen, "ELF image is for another machine (e_machine %u, not x86_64's "
			"%u): give an x86_64 vmlinux or bzImage", eh.e_machine, EM_X86_64);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC) {
		set_err(err, errlen, "ELF image is %s, not a kernel: give a vmlinux or a bzImage",
			eh.e_type == ET_DYN ? "a shared object or a position-independent program" :
			eh.e_type == ET_REL ? "an object file" : "not an executable");
		return -ENOEXEC;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_MAX_PHNUM) {
		set_err(err, errlen, "ELF image has bad program headers (%u of %u bytes)",
			eh.e_phnum, eh.e_phentsize);
		return -ENOEXEC;
	}
	if (add_overflows(eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize, &phdrs_end) ||
	    phdrs_end > size) {
		set_err(err, errlen, "ELF program headers outside the image");
		return -ENOEXEC;
	}

	/* Validate everything before writing anything. */
	for (i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		ret = elf_check_phdr(mem, &ph, i, size, low_end, err, errlen);
		if (ret)
			return ret;
		nload++;
		if (ph.p_paddr < load_start)
			load_start = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > load_end)
			load_end = ph.p_paddr + ph.p_memsz;
		/* The entry is physical (inside [p_paddr, +memsz)) or virtual
		 * (inside [p_vaddr, +memsz), translated to physical). */
		if (!have_entry && eh.e_entry - ph.p_paddr < ph.p_memsz) {
			entry = eh.e_entry;
			have_entry = 1;
		}
	}
	if (nload == 0) {
		set_err(err, errlen, "ELF image has no loadable segment");
		return -ENOEXEC;
	}
	for (i = 0; !have_entry && i < eh.e_phnum; i++) {
		memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && eh.e_entry - ph.p_vaddr < ph.p_memsz) {
			entry = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
			have_entry = 1;
		}
	}
	if (!have_entry) {
		set_err(err, errlen, "ELF entry point %#" PRIx64 " is outside the loaded segments",
			(uint64_t)eh.e_entry);
		return -ENOEXEC;
	}

	for (i = 0; i < eh.e_phnum; i++) {
		uint8_t *dst;

		memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = guest_mem_ptr(mem, ph.p_paddr, ph.p_memsz);
		if (!dst) {     /* checked above */
			set_err(err, errlen, "ELF segment %u does not fit in guest RAM", i);
			return -ENOMEM;
		}
		memcpy(dst, image + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}

	k->format = KERNEL_ELF;
	k->entry = entry;
	k->load_start = load_start;
	k->load_end = load_end;
	k->cmdline_max = ELF_CMDLINE_MAX;
	k->initrd_addr_max = ELF_INITRD_ADDR_MAX;
	return 0;
}

/* ---------------------------------------------------------------- bzImage */

static int is_bzimage(const uint8_t *image, size_t size)
{
	uint16_t flag;
	uint32_t magic;

	if (size < BZ_SETUP_HDR_OFFSET + sizeof(struct setup_header))
		return 0;
	memcpy(&flag, image + BZ_SETUP_HDR_OFFSET + offsetof(struct setup_header, boot_flag),
	       sizeof(flag));
	memcpy(&magic, image + BZ_SETUP_HDR_OFFSET + offsetof(struct setup_header, header),
	       sizeof(magic));
	return flag == BZ_BOOT_FLAG && magic == BZ_HDR_MAGIC;
}

static int load_bzimage(const struct guest_mem *mem, const uint8_t *image, size_t size,
			uint64_t load_addr, struct kernel_image *k, char *err, size_t errlen)
{
	uint64_t low_end = low_ram_end(mem), setup_size, payload, runtime_start, end;
	struct setup_header hdr;
	size_t hdr_end;
	uint8_t *dst;

	if (size < BZ_MIN_SIZE) {
		set_err(err, errlen, "bzImage truncated: %zu bytes", size);
		return -ENOEXEC;
	}
	/* Only the bytes up to the end the image declares are header. */
	hdr_end = 0x202 + (size_t)image[BZ_JUMP_OFFSET];
	memset(&hdr, 0, sizeof(hdr));
	memcpy(&hdr, image + BZ_SETUP_HDR_OFFSET,
	       (hdr_end < BZ_SETUP_HDR_OFFSET + sizeof(hdr) ? hdr_end : BZ_SETUP_HDR_OFFSET +
		sizeof(hdr)) - BZ_SETUP_HDR_OFFSET);

	/* First: a short header has no version field to judge by. */
	if (hdr_end < BZ_HDR_MIN_END) {
		set_err(err, errlen, "bzImage setup header ends too early (at %#zx, byte 0x201 "
			"is %u): not a kernel of boot protocol 2.12 or later", hdr_end,
			image[BZ_JUMP_OFFSET]);
		return -ENOEXEC;
	}
	if (hdr.version < BZ_MIN_VERSION) {
		set_err(err, errlen, "bzImage boot protocol %u.%02u is too old (2.12 needed)",
			hdr.version >> 8, hdr.version & 0xff);
		return -ENOEXEC;
	}
	if (!(hdr.xloadflags & XLF_KERNEL_64)) {
		set_err(err, errlen, "bzImage has no 64-bit entry point (XLF_KERNEL_64)");
		return -ENOEXEC;
	}
	if (!(hdr.loadflags & LOADED_HIGH)) {
		set_err(err, errlen, "bzImage is not loaded high (zImage)");
		return -ENOEXEC;
	}
	setup_size = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : BZ_DEFAULT_SETUP_SECTS) + 1) *
		     BZ_SECTOR;
	if (setup_size >= size || size - setup_size <= BZ_ENTRY_64 || hdr_end > setup_size) {
		set_err(err, errlen, "bzImage setup (%" PRIu64 " bytes) reaches past the image end "
			"(%zu bytes)", setup_size, size);
		return -ENOEXEC;
	}
	payload = size - setup_size;
	/* syssize is 32 bits wide (and so reliable) since protocol 2.04. */
	if ((uint64_t)hdr.syssize * 16 > payload) {
		set_err(err, errlen, "bzImage truncated: %" PRIu64 " bytes of protected-mode code, "
			"header says %" PRIu64, payload, (uint64_t)hdr.syssize * 16);
		return -ENOEXEC;
	}

	/* Load address and the kernel's runtime footprint (boot.rst, init_size):
	 * a relocatable kernel runs at its load address (at least pref_address)
	 * rounded up to kernel_alignment; a non-relocatable one must be loaded
	 * at 0x100000 and runs at pref_address. */
	if (load_addr < HIMEM_START) {
		set_err(err, errlen, "bzImage load address %#" PRIx64 " is below 1 MiB: give "
			"kernel_load_addr=%#llx or more", load_addr, HIMEM_START);
		return -EINVAL;
	}
	if (add_overflows(load_addr, payload, &k->load_end) || k->load_end > low_end) {
		set_err(err, errlen, "bzImage (%" PRIu64 " bytes at %#" PRIx64 ") does not fit in "
			"guest RAM below %#" PRIx64 "%s", payload, load_addr, low_end,
			room_hint(k->load_end < load_addr ? UINT64_MAX : k->load_end));
		return -ENOMEM;
	}
	if (hdr.relocatable_kernel) {
		if (hdr.kernel_alignment == 0 ||
		    (hdr.kernel_alignment & (hdr.kernel_alignment - 1))) {
			set_err(err, errlen, "bzImage kernel_alignment %#x is not a power of two",
				hdr.kernel_alignment);
			return -ENOEXEC;
		}
		/* The kernel realigns itself to kernel_alignment (boot.rst):
		 * only ask for a page-aligned load address. */
		if (load_addr & (PAGE_SIZE - 1)) {
			set_err(err, errlen, "bzImage load address %#" PRIx64 " is not page-aligned",
				load_addr);
			return -EINVAL;
		}
		runtime_start = load_addr > hdr.pref_address ? load_addr : hdr.pref_address;
		if (runtime_start > UINT64_MAX - hdr.kernel_alignment) {
			set_err(err, errlen, "bzImage preferred address %#" PRIx64 " is invalid",
				(uint64_t)hdr.pref_address);
			return -ENOEXEC;
		}
		runtime_start = align_up(runtime_start, hdr.kernel_alignment);
	} else {
		if (load_addr != HIMEM_START) {
			set_err(err, errlen, "bzImage is not relocatable: load address must be %#llx",
				HIMEM_START);
			return -EINVAL;
		}
		runtime_start = hdr.pref_address ? hdr.pref_address : load_addr;
	}
	if (add_overflows(runtime_start, hdr.init_size, &end) || end > low_end) {
		set_err(err, errlen, "bzImage needs %#x bytes (init_size) at %#" PRIx64
			", more than guest RAM below %#" PRIx64 "%s", hdr.init_size, runtime_start,
			low_end, room_hint(end));
		return -ENOMEM;
	}
	if (end > k->load_end)
		k->load_end = end;
	dst = guest_mem_ptr(mem, load_addr, payload);
	if (!dst) {
		set_err(err, errlen, "bzImage does not fit in guest RAM at %#" PRIx64, load_addr);
		return -ENOMEM;
	}
	memcpy(dst, image + setup_size, payload);

	k->format = KERNEL_BZIMAGE;
	k->entry = load_addr + BZ_ENTRY_64;
	k->load_start = load_addr;
	k->cmdline_max = hdr.version >= 0x0206 ? hdr.cmdline_size : BZ_OLD_CMDLINE_MAX;
	if (k->cmdline_max > CMDLINE_MAX_SIZE - 1)
		k->cmdline_max = CMDLINE_MAX_SIZE - 1;
	k->initrd_addr_max = hdr.initrd_addr_max ? hdr.initrd_addr_max : BZ_OLD_INITRD_ADDR_MAX;
	k->hdr = hdr;
	return 0;
}

int loader_load_kernel(const struct guest_mem *mem, const void *image, size_t size,
		       uint64_t load_addr, struct kernel_image *k, char *err, size_t errlen)
{
	const uint8_t *p = image;
	int ret;

	if (!mem || !k || (!image && size)) {
		set_err(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	memset(k, 0, sizeof(*k));
	if (size >= SELFMAG && memcmp(p, ELFMAG, SELFMAG) == 0)
		ret = load_elf(mem, p, size, k, err, errlen);
	else if (is_bzimage(p, size))
		ret = load_bzimage(mem, p, size, load_addr, k, err, errlen);
	else {
		set_err(err, errlen, "not an ELF vmlinux or bzImage");
		ret = -ENOEXEC;
	}
	if (ret)
		memset(k, 0, sizeof(*k));
	return ret;
}

int loader_load_initrd(const struct guest_mem *mem, const struct kernel_image *k,
		       const void *data, size_t size, uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t limit, floor, start;
	uint8_t *dst;

	if (!mem || !k || !gpa || (!data && size)) {
		set_err(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	limit = low_ram_end(mem);
	if (k->initrd_addr_max < limit)
		limit = k->initrd_addr_max + 1;
	if (k->load_end > UINT64_MAX - PAGE_SIZE) {
		set_err(err, errlen, "invalid kernel footprint");
		return -EINVAL;
	}
	floor = align_up(k->load_end, PAGE_SIZE);
	if (floor < HIMEM_START)
		floor = HIMEM_START;
	if (size > limit || ((limit - size) & ~(PAGE_SIZE - 1)) < floor) {
		set_err(err, errlen, "initrd (%zu bytes) does not fit between the kernel (end %#"
			PRIx64 ") and %#" PRIx64 "%s", size, floor, limit,
			limit < low_ram_end(mem) ? ": the kernel cannot reach more: give a smaller one" :
			": give the guest more memory (--memory) or a smaller initrd");
		return -ENOMEM;
	}
	start = (limit - size) & ~(PAGE_SIZE - 1);
	dst = guest_mem_ptr(mem, start, size);
	if (!dst) {
		set_err(err, errlen, "initrd (%zu bytes) at %#" PRIx64 " is outside guest RAM",
			size, start);
		return -ENOMEM;
	}
	if (size)
		memcpy(dst, data, size);
	*gpa = start;
	return 0;
}

int loader_load_cmdline(const struct guest_mem *mem, const struct kernel_image *k,
			uint64_t gpa, const char *cmdline, char *err, size_t errlen)
{
	size_t len;
	char *dst;

	if (!mem || !k || !cmdline) {
		set_err(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	len = strlen(cmdline);
	if (len > k->cmdline_max) {
		set_err(err, errlen, "command line is %zu bytes long, the kernel takes at most %u",
			len, k->cmdline_max);
		return -E2BIG;
	}
	dst = guest_mem_ptr(mem, gpa, (uint64_t)len + 1);
	if (!dst) {
		set_err(err, errlen, "command line at %#" PRIx64 " is outside guest RAM", gpa);
		return -EFAULT;
	}
	memcpy(dst, cmdline, len + 1);
	return 0;
}
