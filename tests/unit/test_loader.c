/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel, initrd and command line loading from synthetic (and, when
 * present, the real) images. Images are copied into exactly-sized heap
 * buffers so that ASan catches any read past their end. */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "boot/loader.h"
#include "core/memory.h"
#include "unit.h"

#define RAM_SIZE        (8 * SZ_1M)
#define RAM_FILL        0xaa
#define ERRLEN          256

struct fake_vm {
	uint8_t *ram;
	struct guest_mem mem;
	char err[ERRLEN];
};

static void vm_init(struct fake_vm *vm)
{
	vm->ram = malloc(RAM_SIZE);
	ck_assert_ptr_nonnull(vm->ram);
	memset(vm->ram, RAM_FILL, RAM_SIZE);
	guest_mem_init_fake(&vm->mem, 0, vm->ram, RAM_SIZE);
	vm->err[0] = 0;
}

static void vm_fini(struct fake_vm *vm)
{
	free(vm->ram);
}

static int ram_untouched(const struct fake_vm *vm)
{
	for (size_t i = 0; i < RAM_SIZE; i++)
		if (vm->ram[i] != RAM_FILL)
			return 0;
	return 1;
}

/* Load @len bytes of @image from an exactly-sized copy. */
static int load(struct fake_vm *vm, const void *image, size_t len, uint64_t load_addr,
		struct kernel_image *k)
{
	void *copy = malloc(len ? len : 1);
	int ret;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, image, len);
	vm->err[0] = 0;
	ret = loader_load_kernel(&vm->mem, copy, len, load_addr, k, vm->err, sizeof(vm->err));
	free(copy);
	return ret;
}

/* ---------------------------------------------------------------- ELF */

#define ELF_TEXT_PADDR  (2 * SZ_1M)
#define ELF_TEXT_VADDR  (0xffffffff80000000ull + ELF_TEXT_PADDR)
#define ELF_TEXT_SIZE   0x3000u
#define ELF_DATA_PADDR  (3 * SZ_1M)
#define ELF_DATA_FILESZ 0x800u
#define ELF_DATA_MEMSZ  0x2000u         /* the rest is bss */
#define ELF_TEXT_OFF    0x1000u
#define ELF_DATA_OFF    (ELF_TEXT_OFF + ELF_TEXT_SIZE)
#define ELF_SIZE        (ELF_DATA_OFF + ELF_DATA_FILESZ)
#define ELF_NPHDR       3

struct elf_image {
	uint8_t b[ELF_SIZE];
};

static Elf64_Ehdr *elf_ehdr(struct elf_image *img)
{
	return (Elf64_Ehdr *)img->b;
}

static Elf64_Phdr *elf_phdr(struct elf_image *img, unsigned int i)
{
	return (Elf64_Phdr *)(img->b + sizeof(Elf64_Ehdr)) + i;
}

/* A vmlinux-like image: text, data + bss, and a PT_NOTE. */
static void elf_make(struct elf_image *img)
{
	Elf64_Ehdr *eh = elf_ehdr(img);
	Elf64_Phdr *ph;

	memset(img, 0, sizeof(*img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = ELF_TEXT_PADDR + 0x40;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = ELF_NPHDR;

	ph = elf_phdr(img, 0);
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_offset = ELF_TEXT_OFF;
	ph->p_vaddr = ELF_TEXT_VADDR;
	ph->p_paddr = ELF_TEXT_PADDR;
	ph->p_filesz = ELF_TEXT_SIZE;
	ph->p_memsz = ELF_TEXT_SIZE;
	ph->p_align = 0x1000;

	ph = elf_phdr(img, 1);
	ph->p_type = PT_NOTE;
	ph->p_offset = ELF_TEXT_OFF;
	ph->p_filesz = 0x10;
	ph->p_memsz = 0x10;

	ph = elf_phdr(img, 2);
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_W;
	ph->p_offset = ELF_DATA_OFF;
	ph->p_vaddr = ELF_TEXT_VADDR + (ELF_DATA_PADDR - ELF_TEXT_PADDR);
	ph->p_paddr = ELF_DATA_PADDR;
	ph->p_filesz = ELF_DATA_FILESZ;
	ph->p_memsz = ELF_DATA_MEMSZ;
	ph->p_align = 0x1000;

	for (size_t i = ELF_TEXT_OFF; i < ELF_SIZE; i++)
		img->b[i] = (uint8_t)(i * 7 + 3);
}

static void check_elf_loaded(const struct fake_vm *vm, const struct elf_image *img,
			     const struct kernel_image *k)
{
	ck_assert_int_eq(k->format, KERNEL_ELF);
	ck_assert_uint_eq(k->load_start, ELF_TEXT_PADDR);
	ck_assert_uint_eq(k->load_end, ELF_DATA_PADDR + ELF_DATA_MEMSZ);
	ck_assert_uint_eq(k->cmdline_max, 2047);
	ck_assert_uint_eq(k->initrd_addr_max, 0x7fffffff);
	ck_assert_mem_eq(vm->ram + ELF_TEXT_PADDR, img->b + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	ck_assert_mem_eq(vm->ram + ELF_DATA_PADDR, img->b + ELF_DATA_OFF, ELF_DATA_FILESZ);
	for (size_t i = ELF_DATA_FILESZ; i < ELF_DATA_MEMSZ; i++)
		ck_assert_uint_eq(vm->ram[ELF_DATA_PADDR + i], 0);
	/* Nothing written around the segments. */
	ck_assert_uint_eq(vm->ram[ELF_TEXT_PADDR - 1], RAM_FILL);
	ck_assert_uint_eq(vm->ram[ELF_TEXT_PADDR + ELF_TEXT_SIZE], RAM_FILL);
	ck_assert_uint_eq(vm->ram[ELF_DATA_PADDR - 1], RAM_FILL);
	ck_assert_uint_eq(vm->ram[ELF_DATA_PADDR + ELF_DATA_MEMSZ], RAM_FILL);
	ck_assert_uint_eq(vm->ram[0], RAM_FILL);
}

START_TEST(test_elf_valid)
{
	static struct elf_image img;
	struct kernel_image k;
	struct fake_vm vm;

	vm_init(&vm);
	elf_make(&img);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	check_elf_loaded(&vm, &img, &k);
	ck_assert_uint_eq(k.entry, ELF_TEXT_PADDR + 0x40);
	ck_assert_uint_eq(k.hdr.version, 0);

	/* A virtual entry point is translated through its segment. */
	elf_ehdr(&img)->e_entry = ELF_TEXT_VADDR + 0x80;
	memset(vm.ram, RAM_FILL, RAM_SIZE);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	check_elf_loaded(&vm, &img, &k);
	ck_assert_uint_eq(k.entry, ELF_TEXT_PADDR + 0x80);

	/* The load address only matters to bzImages; err may be NULL. */
	memset(vm.ram, RAM_FILL, RAM_SIZE);
	ck_assert_int_eq(loader_load_kernel(&vm.mem, &img, sizeof(img), 0, &k, NULL, 0), 0);
	check_elf_loaded(&vm, &img, &k);
	vm_fini(&vm);
}
END_TEST

struct elf_bad {
	const char *what;
	void (*mutate)(struct elf_image *img, size_t *len);
	int ret;
};

static void eb_trunc_header(struct elf_image *img, size_t *len) { *len = sizeof(Elf64_Ehdr) - 1; }
static void eb_only_magic(struct elf_image *img, size_t *len) { *len = SELFMAG; }
static void eb_class32(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_ident[EI_CLASS] = ELFCLASS32; }
static void eb_big_endian(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_ident[EI_DATA] = ELFDATA2MSB; }
static void eb_machine(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_machine = EM_AARCH64; }
static void eb_dyn(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_type = ET_DYN; }
static void eb_phentsize(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_phentsize = 32; }
static void eb_phnum0(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_phnum = 0; }
static void eb_phnum_max(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_phnum = 0xffff; }
static void eb_phoff_out(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_phoff = ELF_SIZE - sizeof(Elf64_Phdr); }
static void eb_phoff_wrap(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_phoff = UINT64_MAX - 8; }
static void eb_phdrs_cut(struct elf_image *img, size_t *len) { *len = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr); }
static void eb_seg_out(struct elf_image *img, size_t *len) { elf_phdr(img, 2)->p_offset = ELF_SIZE - 0x10; }
static void eb_seg_off_wrap(struct elf_image *img, size_t *len) { elf_phdr(img, 2)->p_offset = UINT64_MAX - 0x10; }
static void eb_data_cut(struct elf_image *img, size_t *len) { *len = ELF_SIZE - 1; }
static void eb_filesz(struct elf_image *img, size_t *len) { elf_phdr(img, 0)->p_memsz = ELF_TEXT_SIZE - 1; }
static void eb_paddr_wrap(struct elf_image *img, size_t *len)
{
	elf_phdr(img, 2)->p_paddr = UINT64_MAX - 0x100;
}
static void eb_memsz_wrap(struct elf_image *img, size_t *len)
{
	elf_phdr(img, 2)->p_memsz = UINT64_MAX - ELF_DATA_PADDR + 2;
}
static void eb_beyond_ram(struct elf_image *img, size_t *len) { elf_phdr(img, 2)->p_paddr = RAM_SIZE - 0x1000; }
static void eb_far_away(struct elf_image *img, size_t *len) { elf_phdr(img, 2)->p_paddr = 0x100000000ull; }
static void eb_huge_bss(struct elf_image *img, size_t *len) { elf_phdr(img, 2)->p_memsz = 0x40000000ull; }
static void eb_low(struct elf_image *img, size_t *len) { elf_phdr(img, 0)->p_paddr = 0x7000; }
static void eb_no_load(struct elf_image *img, size_t *len)
{
	elf_phdr(img, 0)->p_type = PT_NOTE;
	elf_phdr(img, 2)->p_type = PT_NOTE;
}
static void eb_entry(struct elf_image *img, size_t *len) { elf_ehdr(img)->e_entry = 0x12345678; }
static void eb_entry_end(struct elf_image *img, size_t *len)
{
	elf_ehdr(img)->e_entry = ELF_DATA_PADDR + ELF_DATA_MEMSZ;
}

static const struct elf_bad elf_bad[] = {
	{ "truncated header", eb_trunc_header, -ENOEXEC },
	{ "magic only", eb_only_magic, -ENOEXEC },
	{ "32-bit class", eb_class32, -ENOEXEC },
	{ "big endian", eb_big_endian, -ENOEXEC },
	{ "wrong machine", eb_machine, -ENOEXEC },
	{ "not ET_EXEC", eb_dyn, -ENOEXEC },
	{ "bad phentsize", eb_phentsize, -ENOEXEC },
	{ "no phdrs", eb_phnum0, -ENOEXEC },
	{ "PN_XNUM phdrs", eb_phnum_max, -ENOEXEC },
	{ "phdrs outside the file", eb_phoff_out, -ENOEXEC },
	{ "phoff overflow", eb_phoff_wrap, -ENOEXEC },
	{ "phdrs cut", eb_phdrs_cut, -ENOEXEC },
	{ "segment data outside the file", eb_seg_out, -ENOEXEC },
	{ "segment offset overflow", eb_seg_off_wrap, -ENOEXEC },
	{ "segment data cut", eb_data_cut, -ENOEXEC },
	{ "p_filesz > p_memsz", eb_filesz, -ENOEXEC },
	{ "p_paddr overflow", eb_paddr_wrap, -ENOEXEC },
	{ "p_memsz overflow", eb_memsz_wrap, -ENOEXEC },
	{ "segment past RAM end", eb_beyond_ram, -ENOMEM },
	{ "segment above 4 GiB", eb_far_away, -ENOMEM },
	{ "bss past RAM end", eb_huge_bss, -ENOMEM },
	{ "segment in the boot area", eb_low, -EINVAL },
	{ "no PT_LOAD", eb_no_load, -ENOEXEC },
	{ "entry outside segments", eb_entry, -ENOEXEC },
	{ "entry at segment end", eb_entry_end, -ENOEXEC },
};

START_TEST(test_elf_malformed)
{
	const struct elf_bad *c = &elf_bad[_i];
	static struct elf_image img;
	struct kernel_image k;
	struct fake_vm vm;
	size_t len = sizeof(img);
	int ret;

	vm_init(&vm);
	elf_make(&img);
	c->mutate(&img, &len);
	memset(&k, 0x77, sizeof(k));
	ret = load(&vm, &img, len, HIMEM_START, &k);
	ck_assert_msg(ret == c->ret, "%s: got %d, expected %d (%s)", c->what, ret, c->ret, vm.err);
	ck_assert_msg(vm.err[0] != 0 && strchr(vm.err, '\n') == NULL, "%s: no reason", c->what);
	/* Validation comes before any copy. */
	ck_assert_msg(ram_untouched(&vm), "%s: guest RAM written", c->what);
	ck_assert_int_eq(k.format, 0);
	ck_assert_uint_eq(k.entry, 0);
	vm_fini(&vm);
}
END_TEST

/* Every truncation of a valid image fails cleanly. */
START_TEST(test_elf_truncated)
{
	static struct elf_image img;
	struct kernel_image k;
	struct fake_vm vm;

	vm_init(&vm);
	elf_make(&img);
	for (size_t len = 0; len < sizeof(img); len++)
		ck_assert_int_eq(load(&vm, &img, len, HIMEM_START, &k), -ENOEXEC);
	ck_assert(ram_untouched(&vm));
	vm_fini(&vm);
}
END_TEST

/* ---------------------------------------------------------------- bzImage */

#define BZ_SETUP_SECTS  3
#define BZ_SETUP_SIZE   ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD      0x3000u
#define BZ_SIZE         (BZ_SETUP_SIZE + BZ_PAYLOAD)
#define BZ_PREF         (4 * SZ_1M)
#define BZ_INIT_SIZE    0x200000u

struct bz_image {
	uint8_t b[BZ_SIZE];
};

static struct setup_header *bz_hdr(struct bz_image *img)
{
	return (struct setup_header *)(img->b + 0x1f1);
}

/* Protocol 2.15, not relocatable, like the shipped bzImage. */
static void bz_make(struct bz_image *img)
{
	struct setup_header *h = bz_hdr(img);

	memset(img, 0, sizeof(*img));
	h->setup_sects = BZ_SETUP_SECTS;
	h->syssize = BZ_PAYLOAD / 16;
	h->boot_flag = 0xaa55;
	h->jump = 0x6aeb;               /* jmp to 0x26c: header ends there */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->code32_start = 0x100000;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 0;
	h->min_alignment = 21;
	h->xloadflags = XLF_KERNEL_64;
	h->cmdline_size = 0x7ff;
	h->pref_address = BZ_PREF;
	h->init_size = BZ_INIT_SIZE;
	for (size_t i = BZ_SETUP_SIZE; i < BZ_SIZE; i++)
		img->b[i] = (uint8_t)(i * 13 + 1);
	/* Bytes after the header end must not reach the zero page. */
	img->b[0x26c] = 0x99;
}

static void bz_relocatable(struct bz_image *img)
{
	bz_hdr(img)->relocatable_kernel = 1;
}

START_TEST(test_bzimage_valid)
{
	static struct bz_image img;
	struct kernel_image k;
	struct fake_vm vm;

	vm_init(&vm);
	bz_make(&img);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	ck_assert_int_eq(k.format, KERNEL_BZIMAGE);
	ck_assert_uint_eq(k.entry, HIMEM_START + 0x200);
	ck_assert_uint_eq(k.load_start, HIMEM_START);
	/* Not relocatable: the kernel runs at pref_address, init_size long. */
	ck_assert_uint_eq(k.load_end, BZ_PREF + BZ_INIT_SIZE);
	ck_assert_uint_eq(k.cmdline_max, 0x7ff);
	ck_assert_uint_eq(k.initrd_addr_max, 0x7fffffff);
	ck_assert_mem_eq(&k.hdr, bz_hdr(&img), 0x26c - 0x1f1);
	ck_assert_uint_eq(k.hdr.kernel_info_offset, 0);         /* past the header end */
	ck_assert_mem_eq(vm.ram + HIMEM_START, img.b + BZ_SETUP_SIZE, BZ_PAYLOAD);
	ck_assert_uint_eq(vm.ram[HIMEM_START - 1], RAM_FILL);
	ck_assert_uint_eq(vm.ram[HIMEM_START + BZ_PAYLOAD], RAM_FILL);

	/* setup_sects 0 means 4. */
	bz_make(&img);
	bz_hdr(&img)->setup_sects = 0;
	bz_hdr(&img)->syssize = (BZ_SIZE - 5 * 512) / 16;
	memset(vm.ram, RAM_FILL, RAM_SIZE);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	ck_assert_mem_eq(vm.ram + HIMEM_START, img.b + 5 * 512, BZ_SIZE - 5 * 512);

	/* Relocatable: runs at the aligned load address if above pref_address. */
	bz_make(&img);
	bz_relocatable(&img);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), 6 * SZ_1M, &k), 0);
	ck_assert_uint_eq(k.entry, 6 * SZ_1M + 0x200);
	ck_assert_uint_eq(k.load_end, 6 * SZ_1M + BZ_INIT_SIZE);
	/* ... else at pref_address; any page-aligned load address will do. */
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	ck_assert_uint_eq(k.entry, HIMEM_START + 0x200);
	ck_assert_uint_eq(k.load_end, BZ_PREF + BZ_INIT_SIZE);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START + 0x1000, &k), 0);
	ck_assert_uint_eq(k.entry, HIMEM_START + 0x1200);
	ck_assert_uint_eq(k.load_end, BZ_PREF + BZ_INIT_SIZE);
	ck_assert_mem_eq(vm.ram + HIMEM_START + 0x1000, img.b + BZ_SETUP_SIZE, BZ_PAYLOAD);
	/* Above pref_address but not kernel_alignment-aligned: aligned up. */
	ck_assert_int_eq(load(&vm, &img, sizeof(img), 5 * SZ_1M, &k), 0);
	ck_assert_uint_eq(k.load_end, 6 * SZ_1M + BZ_INIT_SIZE);

	/* Old protocol limits: cmdline_size only since 2.06 (not reachable:
	 * 2.12 is required), a 0 initrd_addr_max means the historic one. */
	bz_make(&img);
	bz_hdr(&img)->initrd_addr_max = 0;
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	ck_assert_uint_eq(k.initrd_addr_max, 0x37ffffff);
	vm_fini(&vm);
}
END_TEST

struct bz_bad {
	const char *what;
	void (*mutate)(struct bz_image *img, size_t *len, uint64_t *load_addr);
	int ret;
};

static void bb_short(struct bz_image *img, size_t *len, uint64_t *la) { *len = 1023; }
static void bb_flag(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->boot_flag = 0x55aa; }
static void bb_magic(struct bz_image *img, size_t *len, uint64_t *la) { memcpy(&bz_hdr(img)->header, "HdrZ", 4); }
static void bb_old(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->version = 0x020b; }
static void bb_no64(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G; }
static void bb_zimage(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->loadflags = 0; }
static void bb_short_hdr(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->jump = 0x50eb; }
static void bb_sects(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->setup_sects = 200; }
static void bb_sects_all(struct bz_image *img, size_t *len, uint64_t *la) { *len = BZ_SETUP_SIZE; }
static void bb_tiny(struct bz_image *img, size_t *len, uint64_t *la)
{
	*len = BZ_SETUP_SIZE + 0x200;
	bz_hdr(img)->syssize = 0x200 / 16;
}
static void bb_syssize(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->syssize++; }
static void bb_init_size(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->init_size = 0xffffffff; }
static void bb_pref(struct bz_image *img, size_t *len, uint64_t *la) { bz_hdr(img)->pref_address = UINT64_MAX - 0x1000; }
static void bb_pref_reloc(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	bz_hdr(img)->pref_address = UINT64_MAX - 0x1000;
}
static void bb_low(struct bz_image *img, size_t *len, uint64_t *la) { *la = 0x10000; }
static void bb_not_at_1m(struct bz_image *img, size_t *len, uint64_t *la) { *la = 4 * SZ_1M; }
static void bb_past_ram(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	*la = RAM_SIZE - 0x1000;
}
static void bb_wrap(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	*la = UINT64_MAX & ~0xfffull;
}
static void bb_misaligned(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	*la = HIMEM_START + 0x800;
}
static void bb_align(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	bz_hdr(img)->kernel_alignment = 0x300000;
}
static void bb_align0(struct bz_image *img, size_t *len, uint64_t *la)
{
	bz_relocatable(img);
	bz_hdr(img)->kernel_alignment = 0;
}

static const struct bz_bad bz_bad[] = {
	{ "shorter than 1024 bytes", bb_short, -ENOEXEC },
	{ "bad boot flag", bb_flag, -ENOEXEC },
	{ "bad HdrS magic", bb_magic, -ENOEXEC },
	{ "protocol 2.11", bb_old, -ENOEXEC },
	{ "no XLF_KERNEL_64", bb_no64, -ENOEXEC },
	{ "not LOADED_HIGH", bb_zimage, -ENOEXEC },
	{ "header ends before init_size", bb_short_hdr, -ENOEXEC },
	{ "setup_sects past the end", bb_sects, -ENOEXEC },
	{ "nothing after setup", bb_sects_all, -ENOEXEC },
	{ "payload without the 64-bit entry", bb_tiny, -ENOEXEC },
	{ "payload shorter than syssize", bb_syssize, -ENOEXEC },
	{ "init_size too big", bb_init_size, -ENOMEM },
	{ "pref_address too high", bb_pref, -ENOMEM },
	{ "pref_address overflow", bb_pref_reloc, -ENOEXEC },
	{ "load address below 1 MiB", bb_low, -EINVAL },
	{ "non-relocatable not at 1 MiB", bb_not_at_1m, -EINVAL },
	{ "payload past RAM end", bb_past_ram, -ENOMEM },
	{ "load address overflow", bb_wrap, -ENOMEM },
	{ "relocatable not page-aligned", bb_misaligned, -EINVAL },
	{ "kernel_alignment not a power of two", bb_align, -ENOEXEC },
	{ "kernel_alignment 0", bb_align0, -ENOEXEC },
};

START_TEST(test_bzimage_malformed)
{
	const struct bz_bad *c = &bz_bad[_i];
	static struct bz_image img;
	uint64_t load_addr = HIMEM_START;
	struct kernel_image k;
	struct fake_vm vm;
	size_t len = sizeof(img);
	int ret;

	vm_init(&vm);
	bz_make(&img);
	c->mutate(&img, &len, &load_addr);
	memset(&k, 0x77, sizeof(k));
	ret = load(&vm, &img, len, load_addr, &k);
	ck_assert_msg(ret == c->ret, "%s: got %d, expected %d (%s)", c->what, ret, c->ret, vm.err);
	ck_assert_msg(vm.err[0] != 0 && strchr(vm.err, '\n') == NULL, "%s: no reason", c->what);
	ck_assert_msg(ram_untouched(&vm), "%s: guest RAM written", c->what);
	ck_assert_int_eq(k.format, 0);
	vm_fini(&vm);
}
END_TEST

START_TEST(test_bzimage_truncated)
{
	static struct bz_image img;
	struct kernel_image k;
	struct fake_vm vm;

	vm_init(&vm);
	bz_make(&img);
	for (size_t len = 0; len < sizeof(img); len++)
		ck_assert_int_eq(load(&vm, &img, len, HIMEM_START, &k), -ENOEXEC);
	ck_assert(ram_untouched(&vm));
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	vm_fini(&vm);
}
END_TEST

START_TEST(test_not_a_kernel)
{
	static uint8_t junk[4096];
	struct kernel_image k;
	struct fake_vm vm;

	vm_init(&vm);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	ck_assert_int_eq(load(&vm, junk, sizeof(junk), HIMEM_START, &k), -ENOEXEC);
	ck_assert_str_eq(vm.err, "not an ELF vmlinux or bzImage");
	ck_assert_int_eq(load(&vm, junk, 0, HIMEM_START, &k), -ENOEXEC);
	ck_assert_int_eq(loader_load_kernel(&vm.mem, NULL, 0, HIMEM_START, &k, NULL, 0), -ENOEXEC);
	ck_assert_int_eq(loader_load_kernel(&vm.mem, NULL, 10, HIMEM_START, &k, vm.err, 4),
			 -EINVAL);
	ck_assert_uint_lt(strlen(vm.err), 4);           /* truncated, NUL-terminated */
	ck_assert(ram_untouched(&vm));
	vm_fini(&vm);
}
END_TEST

/* ---------------------------------------------------------------- cmdline */

START_TEST(test_cmdline)
{
	static struct elf_image img;
	struct kernel_image k;
	struct fake_vm vm;
	char *line;

	vm_init(&vm);
	elf_make(&img);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);

	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, CMDLINE_ADDR, "console=ttyS0 x=y",
					     vm.err, sizeof(vm.err)), 0);
	ck_assert_str_eq((char *)vm.ram + CMDLINE_ADDR, "console=ttyS0 x=y");
	ck_assert_uint_eq(vm.ram[CMDLINE_ADDR + 18], RAM_FILL);

	line = malloc(k.cmdline_max + 2);
	ck_assert_ptr_nonnull(line);
	memset(line, 'a', k.cmdline_max + 1);
	line[k.cmdline_max + 1] = 0;
	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, CMDLINE_ADDR, line, vm.err,
					     sizeof(vm.err)), -E2BIG);
	ck_assert_str_ne(vm.err, "");
	line[k.cmdline_max] = 0;
	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, CMDLINE_ADDR, line, NULL, 0), 0);
	ck_assert_uint_eq(strlen((char *)vm.ram + CMDLINE_ADDR), k.cmdline_max);

	/* The NUL must fit too. */
	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, RAM_SIZE - 3, "abc", vm.err,
					     sizeof(vm.err)), -EFAULT);
	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, RAM_SIZE - 4, "abc", vm.err,
					     sizeof(vm.err)), 0);
	ck_assert_int_eq(loader_load_cmdline(&vm.mem, &k, UINT64_MAX - 1, "abc", vm.err,
					     sizeof(vm.err)), -EFAULT);
	free(line);
	vm_fini(&vm);
}
END_TEST

/* ---------------------------------------------------------------- initrd */

static void check_initrd(const struct fake_vm *vm, const struct kernel_image *k, uint64_t gpa,
			 const uint8_t *data, size_t size)
{
	uint64_t limit = RAM_SIZE;

	if (k->initrd_addr_max < limit)
		limit = k->initrd_addr_max + 1;
	ck_assert_uint_eq(gpa % 4096, 0);
	ck_assert_uint_le(gpa + size, limit);
	ck_assert_uint_gt(gpa + 4096 + size, limit);           /* as high as possible */
	ck_assert_uint_ge(gpa, k->load_end);
	ck_assert_mem_eq(vm->ram + gpa, data, size);
}

START_TEST(test_initrd)
{
	static struct elf_image img;
	struct kernel_image k;
	struct fake_vm vm;
	uint8_t *data;
	uint64_t gpa, room;
	size_t size = 10000;

	vm_init(&vm);
	elf_make(&img);
	ck_assert_int_eq(load(&vm, &img, sizeof(img), HIMEM_START, &k), 0);
	data = malloc(RAM_SIZE);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < RAM_SIZE; i++)
		data[i] = (uint8_t)(i * 5 + 1);

	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, size, &gpa, vm.err,
					    sizeof(vm.err)), 0);
	check_initrd(&vm, &k, gpa, data, size);
	ck_assert_uint_eq(vm.ram[gpa - 1], RAM_FILL);

	/* initrd_addr_max below the end of RAM. */
	k.initrd_addr_max = 6 * SZ_1M - 1;
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, size, &gpa, NULL, 0), 0);
	check_initrd(&vm, &k, gpa, data, size);

	/* The largest initrd that fits above the kernel, and one page more. */
	k.initrd_addr_max = UINT64_MAX;
	room = RAM_SIZE - ((k.load_end + 4095) & ~4095ull);
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, room, &gpa, vm.err,
					    sizeof(vm.err)), 0);
	check_initrd(&vm, &k, gpa, data, room);
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, room + 1, &gpa, vm.err,
					    sizeof(vm.err)), -ENOMEM);
	ck_assert_str_ne(vm.err, "");
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, RAM_SIZE, &gpa, vm.err,
					    sizeof(vm.err)), -ENOMEM);
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, SIZE_MAX, &gpa, vm.err,
					    sizeof(vm.err)), -ENOMEM);

	/* A limit below the kernel leaves no room at all. */
	k.initrd_addr_max = k.load_start;
	memset(vm.ram, RAM_FILL, RAM_SIZE);
	ck_assert_int_eq(loader_load_initrd(&vm.mem, &k, data, 1, &gpa, vm.err,
					    sizeof(vm.err)), -ENOMEM);
	ck_assert(ram_untouched(&vm));
	free(data);
	vm_fini(&vm);
}
END_TEST

/* With two regions the initrd still goes below the MMIO gap. */
START_TEST(test_initrd_two_regions)
{
	struct kernel_image k;
	struct guest_mem mem;
	uint8_t *low = malloc(4 * SZ_1M), *high = malloc(SZ_1M);
	uint8_t data[3000];
	uint64_t gpa;

	ck_assert_ptr_nonnull(low);
	ck_assert_ptr_nonnull(high);
	memset(&mem, 0, sizeof(mem));
	mem.region[0].gpa = 0;
	mem.region[0].size = 4 * SZ_1M;
	mem.region[0].hva = low;
	mem.region[1].gpa = SZ_4G;
	mem.region[1].size = SZ_1M;
	mem.region[1].hva = high;
	mem.nregions = 2;
	mem.ram_size = 5 * SZ_1M;
	memset(&k, 0, sizeof(k));
	k.load_end = 2 * SZ_1M;
	k.initrd_addr_max = UINT64_MAX;
	memset(data, 0x3c, sizeof(data));
	ck_assert_int_eq(loader_load_initrd(&mem, &k, data, sizeof(data), &gpa, NULL, 0), 0);
	ck_assert_uint_eq(gpa, 4 * SZ_1M - 4096);
	ck_assert_mem_eq(low + gpa, data, sizeof(data));
	free(low);
	free(high);
}
END_TEST

/* ---------------------------------------------------------------- real images */

static char *guest_file(const char *name)
{
	const char *dir = getenv("SHARED_GUEST_DIR");
	const char *top = getenv("top_srcdir");
	char *path;

	if (dir && *dir) {
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return NULL;
	} else if (top && *top) {
		if (asprintf(&path, "%s/../shared/guest/%s", top, name) < 0)
			return NULL;
	} else {
		return NULL;
	}
	if (access(path, R_OK) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long len;
	void *buf;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_gt(len, 0);
	rewind(f);
	buf = malloc((size_t)len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*size = (size_t)len;
	return buf;
}

START_TEST(test_real_vmlinux)
{
	char *path = guest_file("vmlinux"), err[ERRLEN] = "";
	struct kernel_image k;
	struct guest_mem mem;
	const Elf64_Ehdr *eh;
	size_t size;
	uint8_t *img;
	uint64_t gpa;

	ck_assert_ptr_nonnull(path);
	img = read_file(path, &size);
	eh = (const Elf64_Ehdr *)img;
	ck_assert_int_eq(guest_mem_setup(&mem, 128 * SZ_1M), 0);
	ck_assert_msg(loader_load_kernel(&mem, img, size, HIMEM_START, &k, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(k.format, KERNEL_ELF);
	ck_assert_uint_eq(k.entry, eh->e_entry);
	ck_assert_uint_ge(k.load_start, HIMEM_START);
	ck_assert_uint_gt(k.load_end, k.entry);
	/* The entry's bytes are the file's bytes at the first segment. */
	{
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);

		for (unsigned int i = 0; i < eh->e_phnum; i++, ph++) {
			if (ph->p_type != PT_LOAD)
				continue;
			ck_assert_mem_eq(guest_mem_ptr(&mem, ph->p_paddr, ph->p_filesz),
					 img + ph->p_offset, ph->p_filesz > 4096 ? 4096 : ph->p_filesz);
		}
	}
	ck_assert_int_eq(loader_load_cmdline(&mem, &k, CMDLINE_ADDR, "console=ttyS0", err,
					     sizeof(err)), 0);
	ck_assert_int_eq(loader_load_initrd(&mem, &k, img, 1 << 20, &gpa, err, sizeof(err)), 0);
	ck_assert_uint_ge(gpa, k.load_end);
	guest_mem_release(&mem);
	free(img);
	free(path);
}
END_TEST

START_TEST(test_real_bzimage)
{
	char *path = guest_file("bzImage"), err[ERRLEN] = "";
	struct kernel_image k;
	struct guest_mem mem;
	size_t size, setup;
	uint8_t *img;

	ck_assert_ptr_nonnull(path);
	img = read_file(path, &size);
	ck_assert_int_eq(guest_mem_setup(&mem, 128 * SZ_1M), 0);
	ck_assert_msg(loader_load_kernel(&mem, img, size, HIMEM_START, &k, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(k.format, KERNEL_BZIMAGE);
	ck_assert_uint_eq(k.entry, HIMEM_START + 0x200);
	ck_assert_uint_eq(k.hdr.version, img[0x206] | img[0x207] << 8);
	ck_assert_uint_ge(k.hdr.version, 0x020c);
	ck_assert_uint_eq(k.cmdline_max, k.hdr.cmdline_size);
	ck_assert_uint_ge(k.load_end, k.hdr.init_size);
	setup = ((size_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
	ck_assert_mem_eq(guest_mem_ptr(&mem, HIMEM_START, size - setup), img + setup, size - setup);
	/* Too little RAM for init_size. */
	guest_mem_release(&mem);
	ck_assert_int_eq(guest_mem_setup(&mem, 16 * SZ_1M), 0);
	ck_assert_int_eq(loader_load_kernel(&mem, img, size, HIMEM_START, &k, err, sizeof(err)),
			 -ENOMEM);
	guest_mem_release(&mem);
	free(img);
	free(path);
}
END_TEST

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc;
	char *path;

	tc = tcase_create("elf");
	tcase_add_test(tc, test_elf_valid);
	tcase_add_loop_test(tc, test_elf_malformed, 0, sizeof(elf_bad) / sizeof(elf_bad[0]));
	tcase_add_test(tc, test_elf_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("bzimage");
	tcase_add_test(tc, test_bzimage_valid);
	tcase_add_loop_test(tc, test_bzimage_malformed, 0, sizeof(bz_bad) / sizeof(bz_bad[0]));
	tcase_add_test(tc, test_bzimage_truncated);
	tcase_add_test(tc, test_not_a_kernel);
	suite_add_tcase(s, tc);

	tc = tcase_create("cmdline_initrd");
	tcase_add_test(tc, test_cmdline);
	tcase_add_test(tc, test_initrd);
	tcase_add_test(tc, test_initrd_two_regions);
	suite_add_tcase(s, tc);

	/* The shipped guest kernels, only where they exist. */
	tc = tcase_create("real_images");
	tcase_set_timeout(tc, 60);
	path = guest_file("vmlinux");
	if (path)
		tcase_add_test(tc, test_real_vmlinux);
	free(path);
	path = guest_file("bzImage");
	if (path)
		tcase_add_test(tc, test_real_bzimage);
	free(path);
	suite_add_tcase(s, tc);
	return s;
}
