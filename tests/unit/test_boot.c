/* SPDX-License-Identifier: Apache-2.0 */
/* E820 map, zero page, MP table and CPUID adjustment. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/bootparams.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "core/memory.h"
#include "arch/x86/mptable.h"
#include "unit.h"

#define E820_RAM        1
#define E820_RESERVED   2

/* ---------------------------------------------------------------- E820 */

/* A guest_mem laid out like guest_mem_setup() does, without mappings
 * (e820_build() only looks at the regions). */
static void mem_layout(struct guest_mem *mem, uint64_t ram)
{
	uint64_t low = ram < MMIO_GAP_START ? ram : MMIO_GAP_START;

	memset(mem, 0, sizeof(*mem));
	mem->region[0].gpa = 0;
	mem->region[0].size = low;
	mem->nregions = 1;
	if (ram > low) {
		mem->region[1].gpa = MMIO_GAP_END;
		mem->region[1].size = ram - low;
		mem->nregions = 2;
	}
	mem->ram_size = ram;
}

/* Checks every property of a map built for @ram bytes. */
static void check_e820(const struct boot_e820_entry *t, int n, uint64_t ram)
{
	uint64_t sum = 0, low = ram < MMIO_GAP_START ? ram : MMIO_GAP_START;
	int i, high = 0;

	ck_assert_int_eq(n, ram > MMIO_GAP_START ? 4 : 3);
	for (i = 0; i < n; i++) {
		uint64_t end = t[i].addr + t[i].size;

		ck_assert_uint_gt(t[i].size, 0);
		sum += t[i].size;
		if (i > 0)
			ck_assert_uint_ge(t[i].addr, t[i - 1].addr + t[i - 1].size);
		/* Nothing in the MMIO gap. */
		ck_assert(end <= MMIO_GAP_START || t[i].addr >= MMIO_GAP_END);
		ck_assert(t[i].type == E820_RAM || t[i].type == E820_RESERVED);
		if (t[i].addr >= MMIO_GAP_END) {
			high++;
			ck_assert_uint_eq(t[i].addr, SZ_4G);
			ck_assert_uint_eq(t[i].size, ram - MMIO_GAP_START);
			ck_assert_uint_eq(t[i].type, E820_RAM);
		}
	}
	ck_assert_uint_eq(sum, ram);
	ck_assert_int_eq(high, ram > MMIO_GAP_START);

	/* Base memory, the BIOS hole, extended memory up to the gap. */
	ck_assert_uint_eq(t[0].addr, 0);
	ck_assert_uint_eq(t[0].size, EBDA_START);
	ck_assert_uint_eq(t[0].type, E820_RAM);
	ck_assert_uint_eq(t[1].addr, EBDA_START);
	ck_assert_uint_eq(t[1].addr + t[1].size, HIMEM_START);
	ck_assert_uint_eq(t[1].type, E820_RESERVED);
	ck_assert(t[1].addr <= MPTABLE_ADDR &&
		  MPTABLE_ADDR + MPTABLE_MAX_SIZE <= t[1].addr + t[1].size);
	ck_assert_uint_eq(t[2].addr, HIMEM_START);
	ck_assert_uint_eq(t[2].addr + t[2].size, low);
	ck_assert_uint_eq(t[2].type, E820_RAM);
}

static const uint64_t e820_sizes_mib[] = { 128, 3327, 3328, 3329, 4096 };

START_TEST(test_e820_sizes)
{
	uint64_t ram = e820_sizes_mib[_i] * SZ_1M;
	struct boot_e820_entry t[8];
	struct guest_mem mem;
	int n;

	mem_layout(&mem, ram);
	memset(t, 0xee, sizeof(t));
	n = e820_build(&mem, t, 8);
	check_e820(t, n, ram);
	/* Nothing written past the returned entries. */
	for (size_t b = n * sizeof(t[0]); b < sizeof(t); b++)
		ck_assert_uint_eq(((uint8_t *)t)[b], 0xee);
}
END_TEST

/* The real allocator's layout gives the same map. */
START_TEST(test_e820_guest_mem_setup)
{
	static const uint64_t sizes[] = { 128 * SZ_1M, 4096 * SZ_1M };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct boot_e820_entry t[E820_MAX_ENTRIES_ZEROPAGE];
		struct guest_mem mem;
		int n;

		ck_assert_int_eq(guest_mem_setup(&mem, sizes[i]), 0);
		n = e820_build(&mem, t, E820_MAX_ENTRIES_ZEROPAGE);
		check_e820(t, n, sizes[i]);
		guest_mem_release(&mem);
	}
}
END_TEST

START_TEST(test_e820_errors)
{
	struct boot_e820_entry t[8];
	struct guest_mem mem;

	mem_layout(&mem, 4096 * SZ_1M);
	ck_assert_int_eq(e820_build(&mem, t, 3), -ENOSPC);
	ck_assert_int_eq(e820_build(&mem, t, 0), -ENOSPC);
	ck_assert_int_eq(e820_build(&mem, t, 4), 4);
	ck_assert_int_eq(e820_build(NULL, t, 8), -EINVAL);
	ck_assert_int_eq(e820_build(&mem, NULL, 8), -EINVAL);

	/* RAM in the MMIO gap. */
	mem_layout(&mem, 128 * SZ_1M);
	mem.region[0].size = MMIO_GAP_START + SZ_1M;
	ck_assert_int_eq(e820_build(&mem, t, 8), -EINVAL);
	/* No region at 0, or too small for the boot area. */
	mem_layout(&mem, 128 * SZ_1M);
	mem.region[0].gpa = SZ_1M;
	ck_assert_int_eq(e820_build(&mem, t, 8), -EINVAL);
	mem_layout(&mem, HIMEM_START);
	ck_assert_int_eq(e820_build(&mem, t, 8), -EINVAL);
	/* No regions at all, wrapping region. */
	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(e820_build(&mem, t, 8), -EINVAL);
	mem_layout(&mem, 4096 * SZ_1M);
	mem.region[1].size = UINT64_MAX;
	ck_assert_int_eq(e820_build(&mem, t, 8), -EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- zero page */

#define ZP_RAM          (4 * SZ_1M)

START_TEST(test_zero_page_elf)
{
	uint8_t *ram = calloc(1, ZP_RAM);
	struct boot_e820_entry t[8];
	struct guest_mem mem;
	struct boot_params *bp = malloc(sizeof(*bp));
	struct bootparams_info info = {
		.hdr = NULL,
		.cmdline_gpa = CMDLINE_ADDR,
		.cmdline_len = 17,
		.initrd_gpa = 2 * SZ_1M,
		.initrd_size = 12345,
	};
	int n;

	ck_assert_ptr_nonnull(ram);
	ck_assert_ptr_nonnull(bp);
	guest_mem_init_fake(&mem, 0, ram, ZP_RAM);
	memset(bp, 0x5a, sizeof(*bp));
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), 0);

	ck_assert_uint_eq(bp->hdr.boot_flag, 0xaa55);
	ck_assert_mem_eq(&bp->hdr.header, "HdrS", 4);
	ck_assert_uint_ge(bp->hdr.version, 0x020a);
	ck_assert_uint_ne(bp->hdr.kernel_alignment, 0);
	ck_assert_uint_eq(bp->hdr.kernel_alignment & (bp->hdr.kernel_alignment - 1), 0);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, CMDLINE_ADDR);
	ck_assert_uint_eq(bp->ext_cmd_line_ptr, 0);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, info.initrd_gpa);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, info.initrd_size);
	ck_assert_uint_eq(bp->ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp->ext_ramdisk_size, 0);
	/* Zeroed elsewhere: the kernel sanitizes boot_params if sentinel != 0. */
	ck_assert_uint_eq(bp->sentinel, 0);
	ck_assert_uint_eq(bp->hdr.setup_data, 0);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, 0);

	n = e820_build(&mem, t, 8);
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(bp->e820_entries, n);
	ck_assert_mem_eq(bp->e820_table, t, n * sizeof(t[0]));
	check_e820(bp->e820_table, bp->e820_entries, ZP_RAM);

	/* No initrd: ramdisk fields stay 0. */
	info.initrd_gpa = 0;
	info.initrd_size = 0;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), 0);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, 0);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 0);
	free(bp);
	free(ram);
}
END_TEST

START_TEST(test_zero_page_bzimage)
{
	uint8_t *ram = calloc(1, ZP_RAM);
	struct boot_params *bp = malloc(sizeof(*bp));
	struct setup_header hdr;
	struct guest_mem mem;
	struct bootparams_info info = {
		.hdr = &hdr,
		.cmdline_gpa = CMDLINE_ADDR,
		.cmdline_len = 0,
	};

	ck_assert_ptr_nonnull(ram);
	ck_assert_ptr_nonnull(bp);
	guest_mem_init_fake(&mem, 0, ram, ZP_RAM);
	memset(&hdr, 0, sizeof(hdr));
	hdr.setup_sects = 27;
	hdr.boot_flag = 0xaa55;
	hdr.header = 0x53726448;
	hdr.version = 0x020d;
	hdr.loadflags = LOADED_HIGH;
	hdr.xloadflags = XLF_KERNEL_64;
	hdr.init_size = 0x123000;
	hdr.kernel_alignment = 0x200000;
	hdr.cmdline_size = 0x7ff;
	hdr.pref_address = 0x1000000;
	hdr.type_of_loader = 0x12;

	ck_assert_int_eq(bootparams_build(bp, &mem, &info), 0);
	ck_assert_uint_eq(bp->hdr.setup_sects, hdr.setup_sects);
	ck_assert_uint_eq(bp->hdr.version, hdr.version);
	ck_assert_uint_eq(bp->hdr.init_size, hdr.init_size);
	ck_assert_uint_eq(bp->hdr.kernel_alignment, hdr.kernel_alignment);
	ck_assert_uint_eq(bp->hdr.pref_address, hdr.pref_address);
	ck_assert_uint_eq(bp->hdr.xloadflags, hdr.xloadflags);
	ck_assert_uint_eq(bp->hdr.cmdline_size, hdr.cmdline_size);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, CMDLINE_ADDR);
	ck_assert_uint_gt(bp->e820_entries, 0);
	free(bp);
	free(ram);
}
END_TEST

START_TEST(test_zero_page_errors)
{
	uint8_t *ram = calloc(1, ZP_RAM);
	struct boot_params *bp = malloc(sizeof(*bp));
	struct guest_mem mem;
	struct bootparams_info info = { .cmdline_gpa = CMDLINE_ADDR, .cmdline_len = 10 };

	ck_assert_ptr_nonnull(ram);
	ck_assert_ptr_nonnull(bp);
	guest_mem_init_fake(&mem, 0, ram, ZP_RAM);
	ck_assert_int_eq(bootparams_build(NULL, &mem, &info), -EINVAL);
	ck_assert_int_eq(bootparams_build(bp, NULL, &info), -EINVAL);
	ck_assert_int_eq(bootparams_build(bp, &mem, NULL), -EINVAL);
	/* Command line (with its NUL) or initrd outside RAM. */
	info.cmdline_gpa = ZP_RAM - 10;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), -EFAULT);
	info.cmdline_gpa = ZP_RAM - 11;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), 0);
	info.cmdline_gpa = UINT64_MAX - 5;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), -EFAULT);
	info.cmdline_gpa = CMDLINE_ADDR;
	info.initrd_gpa = ZP_RAM - 4096;
	info.initrd_size = 4097;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), -EFAULT);
	info.initrd_size = 4096;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), 0);
	/* Memory the E820 builder rejects. */
	guest_mem_init_fake(&mem, 0, ram, SZ_1M);
	info.initrd_size = 0;
	ck_assert_int_eq(bootparams_build(bp, &mem, &info), -EINVAL);
	free(bp);
	free(ram);
}
END_TEST

/* ---------------------------------------------------------------- MP table */

struct mp_walk {
	unsigned int cpus, bsp, buses, ioapics, intsrcs, lints, entries;
	uint8_t ioapic_id;
	uint8_t apic_seen[256];
};

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Parse the table the way Linux does (arch/x86/kernel/mpparse.c). */
static void mp_parse(const uint8_t *buf, int len, uint64_t gpa, struct mp_walk *w)
{
	const uint8_t *cfg, *p, *end;
	uint16_t cfg_len;

	memset(w, 0, sizeof(*w));
	ck_assert_int_gt(len, 16 + 44);
	ck_assert_mem_eq(buf, "_MP_", 4);
	ck_assert_uint_eq(sum8(buf, 16), 0);
	ck_assert_uint_eq(buf[8], 1);                   /* length in paragraphs */
	ck_assert_uint_eq(buf[9], 4);                   /* spec 1.4 */
	ck_assert_uint_eq(buf[11], 0);                  /* config table present */
	ck_assert_uint_ge(rd32(buf + 4), gpa);
	ck_assert_uint_lt(rd32(buf + 4) - gpa, (uint64_t)len);

	cfg = buf + (rd32(buf + 4) - gpa);
	ck_assert_mem_eq(cfg, "PCMP", 4);
	cfg_len = rd16(cfg + 4);
	ck_assert_int_eq((cfg - buf) + cfg_len, len);
	ck_assert_uint_eq(cfg[6], 4);
	ck_assert_uint_eq(sum8(cfg, cfg_len), 0);
	ck_assert_uint_eq(rd32(cfg + 36), LAPIC_ADDR);

	p = cfg + 44;
	end = cfg + cfg_len;
	while (p < end) {
		w->entries++;
		switch (p[0]) {
		case 0:
			ck_assert(p + 20 <= end);
			ck_assert_uint_eq(p[3] & 1, 1);         /* enabled */
			ck_assert_uint_eq(p[2], 0x14);
			ck_assert_uint_eq(w->apic_seen[p[1]], 0);
			w->apic_seen[p[1]] = 1;
			if (p[3] & 2) {
				w->bsp++;
				ck_assert_uint_eq(p[1], 0);
			}
			w->cpus++;
			p += 20;
			break;
		case 1:
			ck_assert(p + 8 <= end);
			ck_assert_mem_eq(p + 2, "ISA   ", 6);
			ck_assert_uint_eq(p[1], 0);
			w->buses++;
			p += 8;
			break;
		case 2:
			ck_assert(p + 8 <= end);
			w->ioapic_id = p[1];
			ck_assert_uint_eq(p[2], 0x11);
			ck_assert_uint_eq(p[3] & 1, 1);
			ck_assert_uint_eq(rd32(p + 4), IOAPIC_ADDR);
			w->ioapics++;
			p += 8;
			break;
		case 3:
			ck_assert(p + 8 <= end);
			ck_assert_uint_eq(w->ioapics, 1);       /* IOAPIC defined first */
			ck_assert_uint_eq(p[1], 0);             /* mp_INT */
			ck_assert_uint_eq(p[4], 0);             /* ISA bus */
			ck_assert_uint_eq(p[5], w->intsrcs);    /* IRQ n ... */
			ck_assert_uint_eq(p[7], w->intsrcs);    /* ... -> pin n */
			ck_assert_uint_eq(p[6], w->ioapic_id);
			w->intsrcs++;
			p += 8;
			break;
		case 4:
			ck_assert(p + 8 <= end);
			ck_assert_uint_eq(p[6], 0xff);          /* all local APICs */
			ck_assert_uint_eq(p[7], w->lints);      /* LINT0, LINT1 */
			ck_assert_uint_eq(p[1], w->lints == 0 ? 3 : 1);  /* ExtINT, NMI */
			w->lints++;
			p += 8;
			break;
		default:
			ck_abort_msg("unknown MP entry type %u", p[0]);
		}
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(rd16(cfg + 34), w->entries);
}

static const unsigned int mp_ncpus[] = { 1, 2, 4, 254 };

START_TEST(test_mptable_cpus)
{
	unsigned int ncpus = mp_ncpus[_i];
	uint8_t *buf = malloc(MPTABLE_MAX_SIZE);
	struct mp_walk w;
	int len;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0xcc, MPTABLE_MAX_SIZE);
	len = mptable_build(buf, MPTABLE_MAX_SIZE, MPTABLE_ADDR, ncpus);
	ck_assert_int_gt(len, 0);
	ck_assert_int_le(len, MPTABLE_MAX_SIZE);
	for (size_t i = len; i < MPTABLE_MAX_SIZE; i++)
		ck_assert_uint_eq(buf[i], 0xcc);
	mp_parse(buf, len, MPTABLE_ADDR, &w);
	ck_assert_uint_eq(w.cpus, ncpus);
	ck_assert_uint_eq(w.bsp, 1);
	for (unsigned int i = 0; i < ncpus; i++)
		ck_assert_uint_eq(w.apic_seen[i], 1);
	ck_assert_uint_eq(w.buses, 1);
	ck_assert_uint_eq(w.ioapics, 1);
	ck_assert_uint_eq(w.ioapic_id, ncpus);
	ck_assert_uint_eq(w.apic_seen[w.ioapic_id], 0);
	ck_assert_uint_eq(w.intsrcs, IRQ_MAX + 1);
	ck_assert_uint_eq(w.lints, 2);

	/* One byte short: -ENOSPC, and nothing written. */
	memset(buf, 0xcc, MPTABLE_MAX_SIZE);
	ck_assert_int_eq(mptable_build(buf, len - 1, MPTABLE_ADDR, ncpus), -ENOSPC);
	for (size_t i = 0; i < MPTABLE_MAX_SIZE; i++)
		ck_assert_uint_eq(buf[i], 0xcc);
	ck_assert_int_eq(mptable_build(buf, len, MPTABLE_ADDR, ncpus), len);
	free(buf);
}
END_TEST

START_TEST(test_mptable_errors)
{
	uint8_t *buf = malloc(MPTABLE_MAX_SIZE);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, MPTABLE_ADDR, 0), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, MPTABLE_ADDR, 255), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, MPTABLE_ADDR, 1000), -EINVAL);
	ck_assert_int_eq(mptable_build(NULL, MPTABLE_MAX_SIZE, MPTABLE_ADDR, 1), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, 0, MPTABLE_ADDR, 1), -ENOSPC);
	ck_assert_int_eq(mptable_build(buf, 16, MPTABLE_ADDR, 1), -ENOSPC);
	/* Not on a 16-byte boundary, or beyond 32-bit physical pointers. */
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, MPTABLE_ADDR + 8, 1), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, SZ_4G, 1), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, MPTABLE_MAX_SIZE, UINT64_MAX - 15, 1), -EINVAL);
	free(buf);
}
END_TEST

/* ---------------------------------------------------------------- CPUID */

#define VENDOR_INTEL { 0x756e6547, 0x6c65746e, 0x49656e69 }     /* ebx, ecx, edx */
#define VENDOR_AMD   { 0x68747541, 0x444d4163, 0x69746e65 }

struct cpuid_table {
	struct kvm_cpuid2 hdr;
	struct kvm_cpuid_entry2 e[32];
};

static void cpuid_add(struct cpuid_table *t, uint32_t fn, uint32_t idx, uint32_t flags,
		      uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct kvm_cpuid_entry2 *e;

	ck_assert_uint_lt(t->hdr.nent, 32);
	e = &t->e[t->hdr.nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
}

static void cpuid_fill(struct cpuid_table *t, int amd)
{
	const uint32_t intel[3] = VENDOR_INTEL, amdv[3] = VENDOR_AMD;
	const uint32_t *v = amd ? amdv : intel;
	const uint32_t sig = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

	memset(t, 0, sizeof(*t));
	cpuid_add(t, 0, 0, 0, 0x1f, v[0], v[1], v[2]);
	/* Leaf 1 as a host with 16 threads and APIC ID 7 would report it. */
	cpuid_add(t, 1, 0, 0, 0x000906ea, (7u << 24) | (16u << 16) | 0x0800,
		  0x7ffafbff & ~(1u << 31), 0xbfebfbff & ~(1u << 28));
	/* Deterministic cache parameters: L1d, L1i, L2, L3, end. */
	cpuid_add(t, 4, 0, sig, 0x1c004121 | (7u << 26), 0x01c0003f, 0x3f, 0);
	cpuid_add(t, 4, 1, sig, 0x1c004122 | (7u << 26), 0x01c0003f, 0x3f, 0);
	cpuid_add(t, 4, 2, sig, 0x1c004143 | (7u << 26), 0x00c0003f, 0x3ff, 0);
	cpuid_add(t, 4, 3, sig, 0x1c03c163 | (7u << 26), 0x03c0003f, 0x2fff, 6);
	cpuid_add(t, 4, 4, sig, 0, 0, 0, 0);
	cpuid_add(t, 6, 0, 0, 0x4, 0, 0x9, 0);
	cpuid_add(t, 7, 0, sig, 0, 0x029c6fbf, 0x40000000, 0xbc000400);
	cpuid_add(t, 0xa, 0, 0, 0x07300404, 0, 0, 0x603);
	cpuid_add(t, 0xb, 0, sig, 1, 2, 0x100, 7);
	cpuid_add(t, 0xb, 1, sig, 4, 16, 0x201, 7);
	cpuid_add(t, 0xb, 2, sig, 0, 0, 2, 7);
	cpuid_add(t, 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	cpuid_add(t, 0x80000001, 0, 0, 0, 0, 0x121 | (amd ? 1u << 22 : 0), 0x2c100800);
	cpuid_add(t, 0x80000008, 0, 0, 0x3027, 0, amd ? 0x400f : 0, 0);
	if (amd) {
		cpuid_add(t, 0x8000001d, 0, sig, 0x121, 0x01c0003f, 0x3f, 0);
		cpuid_add(t, 0x8000001d, 1, sig, 0x143, 0x01c0003f, 0x3ff, 0);
		cpuid_add(t, 0x8000001d, 2, sig, 0x163 | (15u << 14), 0x03c0003f, 0x2fff, 0);
		cpuid_add(t, 0x8000001e, 0, 0, 7, 0x103, 0, 0);
	}
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct cpuid_table *t, uint32_t fn,
						 uint32_t idx)
{
	for (uint32_t i = 0; i < t->hdr.nent; i++)
		if (t->e[i].function == fn && t->e[i].index == idx)
			return &t->e[i];
	ck_abort_msg("leaf %#x.%u missing", fn, idx);
	return NULL;
}

static unsigned int pow2_ge(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct cpuid_case {
	unsigned int index, ncpus;
	int amd;
};

static const struct cpuid_case cpuid_cases[] = {
	{ 0, 1, 0 }, { 1, 2, 0 }, { 3, 4, 0 }, { 4, 5, 0 }, { 63, 64, 0 }, { 100, 254, 0 },
	{ 0, 1, 1 }, { 2, 3, 1 }, { 253, 254, 1 },
};

START_TEST(test_cpuid_adjust)
{
	const struct cpuid_case *c = &cpuid_cases[_i];
	struct cpuid_table orig, t;
	const struct kvm_cpuid_entry2 *e, *o;
	unsigned int logical, shift;

	cpuid_fill(&orig, c->amd);
	t = orig;
	ck_assert_int_eq(cpuid_adjust(&t.hdr, c->index, c->ncpus), 0);
	ck_assert_uint_eq(t.hdr.nent, orig.hdr.nent);

	/* Leaf 1: APIC ID, logical count, HTT, hypervisor; other bits kept. */
	e = cpuid_find(&t, 1, 0);
	o = cpuid_find(&orig, 1, 0);
	ck_assert_uint_eq(e->ebx >> 24, c->index);
	logical = (e->ebx >> 16) & 0xff;
	ck_assert_uint_ge(logical, c->ncpus);
	ck_assert_uint_eq(logical, c->ncpus > 128 ? 255 : pow2_ge(c->ncpus));
	ck_assert_uint_eq(e->ebx & 0xffff, o->ebx & 0xffff);
	ck_assert_uint_eq(e->ecx, o->ecx | (1u << 31));
	ck_assert_uint_eq(e->edx, o->edx | (c->ncpus > 1 ? 1u << 28 : 0));
	ck_assert_uint_eq(e->eax, o->eax);

	/* Leaf 0xb: 1 thread per core, ncpus cores, x2APIC ID = index. */
	e = cpuid_find(&t, 0xb, 0);
	ck_assert_uint_eq(e->eax & 0x1f, 0);
	ck_assert_uint_eq(e->ebx & 0xffff, 1);
	ck_assert_uint_eq(e->ecx & 0xffff, 0x100);
	ck_assert_uint_eq(e->edx, c->index);
	e = cpuid_find(&t, 0xb, 1);
	shift = e->eax & 0x1f;
	ck_assert_uint_ge(1u << shift, c->ncpus);
	ck_assert(shift == 0 || (1u << (shift - 1)) < c->ncpus);
	ck_assert_uint_eq(e->ebx & 0xffff, c->ncpus);
	ck_assert_uint_eq(e->ecx & 0xffff, 0x201);
	ck_assert_uint_eq(e->edx, c->index);
	e = cpuid_find(&t, 0xb, 2);
	ck_assert_uint_eq(e->ebx & 0xffff, 0);
	ck_assert_uint_eq((e->ecx >> 8) & 0xff, 0);
	ck_assert_uint_eq(e->ecx & 0xff, 2);
	ck_assert_uint_eq(e->edx, c->index);
	/* The package-level ID space agrees between leaf 1 and leaf 0xb. */
	if (c->ncpus <= 128)
		ck_assert_uint_eq(logical, 1u << shift);

	/* Leaf 4: cores per package and cache sharing, the rest kept. */
	for (uint32_t sub = 0; sub < 4; sub++) {
		unsigned int level;

		e = cpuid_find(&t, 4, sub);
		o = cpuid_find(&orig, 4, sub);
		level = (e->eax >> 5) & 7;
		ck_assert_uint_eq(e->eax >> 26, c->ncpus > 64 ? 63 : c->ncpus - 1);
		ck_assert_uint_eq((e->eax >> 14) & 0xfff, level <= 2 ? 0 : c->ncpus - 1);
		ck_assert_uint_eq(e->eax & 0x3fff, o->eax & 0x3fff);
		ck_assert_uint_eq(e->ebx, o->ebx);
		ck_assert_uint_eq(e->ecx, o->ecx);
		ck_assert_uint_eq(e->edx, o->edx);
	}
	ck_assert_mem_eq(cpuid_find(&t, 4, 4), cpuid_find(&orig, 4, 4), sizeof(*e));

	/* Leaf 6: no APERF/MPERF, the rest kept. Leaf 0xa: no PMU. */
	e = cpuid_find(&t, 6, 0);
	o = cpuid_find(&orig, 6, 0);
	ck_assert_uint_eq(e->ecx, o->ecx & ~1u);
	ck_assert_uint_eq(e->eax, o->eax);
	e = cpuid_find(&t, 0xa, 0);
	ck_assert_uint_eq(e->eax | e->ebx | e->ecx | e->edx, 0);

	/* Features the user masks with clearcpuid= are untouched. */
	ck_assert_mem_eq(cpuid_find(&t, 0, 0), cpuid_find(&orig, 0, 0), sizeof(*e));
	ck_assert_mem_eq(cpuid_find(&t, 7, 0), cpuid_find(&orig, 7, 0), sizeof(*e));
	ck_assert_mem_eq(cpuid_find(&t, 0x80000000, 0), cpuid_find(&orig, 0x80000000, 0),
			 sizeof(*e));

	e = cpuid_find(&t, 0x80000001, 0);
	o = cpuid_find(&orig, 0x80000001, 0);
	ck_assert_uint_eq(e->edx, o->edx);
	e = cpuid_find(&t, 0x80000008, 0);
	o = cpuid_find(&orig, 0x80000008, 0);
	ck_assert_uint_eq(e->eax, o->eax);
	if (!c->amd) {
		/* Intel: the AMD topology fields are reserved, left alone. */
		ck_assert_mem_eq(cpuid_find(&t, 0x80000001, 0), cpuid_find(&orig, 0x80000001, 0),
				 sizeof(*e));
		ck_assert_mem_eq(e, o, sizeof(*e));
		return;
	}
	ck_assert_uint_eq(e->ecx & 0xff, c->ncpus - 1);
	ck_assert_uint_eq((e->ecx >> 12) & 0xf, shift);
	ck_assert_uint_eq(e->ecx & ~0xf0ffu, o->ecx & ~0xf0ffu);
	e = cpuid_find(&t, 0x80000001, 0);
	o = cpuid_find(&orig, 0x80000001, 0);
	ck_assert_uint_eq(e->ecx, (o->ecx & ~2u) | (c->ncpus > 1 ? 2u : 0));
	e = cpuid_find(&t, 0x8000001e, 0);
	ck_assert_uint_eq(e->eax, c->index);
	ck_assert_uint_eq(e->ebx & 0xff, c->index & 0xff);
	ck_assert_uint_eq((e->ebx >> 8) & 0xff, 0);
	ck_assert_uint_eq(e->ecx & 0x7ff, 0);
	for (uint32_t sub = 0; sub < 3; sub++) {
		unsigned int level;

		e = cpuid_find(&t, 0x8000001d, sub);
		o = cpuid_find(&orig, 0x8000001d, sub);
		level = (e->eax >> 5) & 7;
		ck_assert_uint_eq((e->eax >> 14) & 0xfff, level <= 2 ? 0 : c->ncpus - 1);
		ck_assert_uint_eq(e->eax & 0x3fff, o->eax & 0x3fff);
		ck_assert_uint_eq(e->ebx, o->ebx);
	}
}
END_TEST

/* Each vCPU gets its own APIC ID from the same host table. */
START_TEST(test_cpuid_per_vcpu)
{
	struct cpuid_table orig, t;
	uint8_t seen[8] = { 0 };

	cpuid_fill(&orig, 0);
	for (unsigned int i = 0; i < 8; i++) {
		t = orig;
		ck_assert_int_eq(cpuid_adjust(&t.hdr, i, 8), 0);
		ck_assert_uint_eq(seen[cpuid_find(&t, 1, 0)->ebx >> 24], 0);
		seen[cpuid_find(&t, 1, 0)->ebx >> 24] = 1;
		ck_assert_uint_eq(cpuid_find(&t, 0xb, 0)->edx, i);
	}
}
END_TEST

START_TEST(test_cpuid_errors)
{
	struct cpuid_table orig, t;

	cpuid_fill(&orig, 0);
	t = orig;
	ck_assert_int_eq(cpuid_adjust(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(cpuid_adjust(&t.hdr, 0, 0), -EINVAL);
	ck_assert_int_eq(cpuid_adjust(&t.hdr, 1, 1), -EINVAL);
	ck_assert_int_eq(cpuid_adjust(&t.hdr, 0, 255), -EINVAL);
	ck_assert_int_eq(cpuid_adjust(&t.hdr, 300, 400), -EINVAL);
	ck_assert_mem_eq(&t, &orig, sizeof(t));
	/* An empty table is fine. */
	t.hdr.nent = 0;
	ck_assert_int_eq(cpuid_adjust(&t.hdr, 0, 1), 0);
}
END_TEST

/* KVM on some AMD hosts lists only subleaf 0 of leaf 0xb: cpuid_prepare()
 * adds the core level, so that every vCPU lands in one package. */
START_TEST(test_cpuid_prepare_topology)
{
	struct cpuid_table in;
	struct kvm_cpuid2 *c;
	struct cpuid_table view;
	const struct kvm_cpuid_entry2 *smt, *core;

	memset(&in, 0, sizeof(in));
	cpuid_add(&in, 0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
	cpuid_add(&in, 1, 0, 0, 0xa00f11, 0x800, 0, 0);
	cpuid_add(&in, 0xb, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 1);
	c = cpuid_prepare(&in.hdr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nent, 4);
	ck_assert_int_eq(cpuid_adjust(c, 1, 2), 0);
	memset(&view, 0, sizeof(view));
	view.hdr.nent = c->nent;
	memcpy(view.e, c->entries, c->nent * sizeof(c->entries[0]));
	smt = cpuid_find(&view, 0xb, 0);
	core = cpuid_find(&view, 0xb, 1);
	ck_assert_uint_eq(smt->ecx >> 8 & 0xff, 1);     /* SMT level */
	ck_assert_uint_eq(smt->ebx, 1);
	ck_assert_uint_eq(core->ecx >> 8 & 0xff, 2);    /* core level */
	ck_assert_uint_eq(core->ecx & 0xff, 1);
	ck_assert_uint_eq(core->ebx, 2);                /* both vCPUs in it */
	ck_assert_uint_eq(core->eax, 1);                /* shift to the package ID */
	ck_assert_uint_eq(core->edx, 1);                /* x2APIC ID */
	ck_assert(core->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	free(c);

	/* No leaf 0xb at all: nothing is invented. */
	in.hdr.nent = 2;
	c = cpuid_prepare(&in.hdr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nent, 2);
	free(c);

	/* Both subleaves already there: nothing added. */
	in.hdr.nent = 3;
	cpuid_add(&in, 0xb, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 0, 1);
	c = cpuid_prepare(&in.hdr);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nent, 4);
	free(c);
}
END_TEST

Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *tc;

	tc = tcase_create("e820");
	tcase_add_loop_test(tc, test_e820_sizes, 0,
			    sizeof(e820_sizes_mib) / sizeof(e820_sizes_mib[0]));
	tcase_add_test(tc, test_e820_guest_mem_setup);
	tcase_add_test(tc, test_e820_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("zero_page");
	tcase_add_test(tc, test_zero_page_elf);
	tcase_add_test(tc, test_zero_page_bzimage);
	tcase_add_test(tc, test_zero_page_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("mptable");
	tcase_add_loop_test(tc, test_mptable_cpus, 0, sizeof(mp_ncpus) / sizeof(mp_ncpus[0]));
	tcase_add_test(tc, test_mptable_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("cpuid");
	tcase_add_loop_test(tc, test_cpuid_adjust, 0, sizeof(cpuid_cases) / sizeof(cpuid_cases[0]));
	tcase_add_test(tc, test_cpuid_per_vcpu);
	tcase_add_test(tc, test_cpuid_errors);
	tcase_add_test(tc, test_cpuid_prepare_topology);
	suite_add_tcase(s, tc);
	return s;
}
