// SPDX-License-Identifier: Apache-2.0
/*
 * boot guest: checks, from inside the VM, what the VMM promised at entry.
 *
 * Expectations come from the command line (all optional; a check without its
 * expectation prints SKIP):
 *   expect_mem_mib=N         --memory size_mib
 *   expect_cpus=N            --vcpu num
 *   expect_load=ADDR         where the image was entered minus 0x200
 *   expect_initrd_size=N     initrd size in bytes (0 or absent: no initrd)
 *   expect_initrd_sum=N      sum over i of (i + 1) * byte[i], modulo 2^32
 * Output: "CMDLINE[<the command line>]", INFO lines, one "PASS name" or
 * "FAIL name: why" per check, then "RESULT PASS" / "RESULT FAIL n", then an
 * i8042 reset.
 */
#include "guest.h"

#define MIB(x)  ((u64)(x) << 20)

static void skip(const char *name, const char *why)
{
	kprintf("SKIP %s: %s\n", name, why);
}

/* --------------------------------------------------------------- entry state */

static void check_entry_state(void)
{
	const struct boot_state *b = &boot_state;
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) gdtr, idtr;
	unsigned int bad = 0;

	__asm__ __volatile__("sgdt %0" : "=m"(gdtr));
	__asm__ __volatile__("sidt %0" : "=m"(idtr));
	kprintf("INFO entry: rip 0x%lx rsi 0x%lx rsp 0x%lx rflags 0x%lx cs 0x%x ds 0x%x "
		"es 0x%x ss 0x%x\n", b->load_addr + 0x200, b->rsi, b->rsp, b->rflags,
		b->cs, b->ds, b->es, b->ss);
	kprintf("INFO entry: cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx gdt 0x%lx/%u "
		"idt 0x%lx/%u\n", b->cr0, b->cr3, b->cr4, b->efer, gdtr.base, gdtr.limit,
		idtr.base, idtr.limit);

	if (b->rsi != ZERO_PAGE_ADDR) {
		fail("entry-rsi", "rsi 0x%lx, expected the zero page at 0x%lx", b->rsi,
		     ZERO_PAGE_ADDR);
		bad++;
	}
	if (b->rsp != BOOT_STACK_POINTER) {
		fail("entry-rsp", "rsp 0x%lx, expected 0x%lx", b->rsp, BOOT_STACK_POINTER);
		bad++;
	}
	if (b->rflags & 0x200) {
		fail("entry-flags", "interrupts enabled at entry (rflags 0x%lx)", b->rflags);
		bad++;
	}
	if (b->cs != 0x08 || b->ds != 0x10 || b->es != 0x10 || b->ss != 0x10) {
		fail("entry-segments", "cs 0x%x ds 0x%x es 0x%x ss 0x%x, expected 0x08/0x10",
		     b->cs, b->ds, b->es, b->ss);
		bad++;
	}
	if ((b->cr0 & 0x80000001ul) != 0x80000001ul || !(b->cr4 & 0x20) ||
	    (b->efer & 0x500) != 0x500) {
		fail("entry-long-mode", "cr0 0x%lx cr4 0x%lx efer 0x%lx", b->cr0, b->cr4, b->efer);
		bad++;
	}
	if ((b->cr3 & ~0xffful) != PML4_ADDR) {
		fail("entry-cr3", "cr3 0x%lx, expected 0x%lx", b->cr3, PML4_ADDR);
		bad++;
	}
	if (gdtr.base != 0x500) {
		fail("entry-gdt", "gdt base 0x%lx, expected 0x500", gdtr.base);
		bad++;
	}
	if (!bad)
		pass("entry-state");
}

/* ---------------------------------------------------------------- zero page */

static void check_zero_page(void)
{
	const u8 *zp = zero_page();
	u16 flag = (u16)(zp[BP_BOOT_FLAG] | zp[BP_BOOT_FLAG + 1] << 8);
	u16 version = (u16)(zp[BP_VERSION] | zp[BP_VERSION + 1] << 8);

	kprintf("INFO zero page: boot_flag 0x%x version 0x%x type_of_loader 0x%x "
		"loadflags 0x%x e820_entries %u\n", flag, version, zp[BP_TYPE_OF_LOADER],
		zp[BP_LOADFLAGS], zp[BP_E820_ENTRIES]);
	if (flag != 0xaa55)
		fail("zero-page", "boot_flag 0x%x, expected 0xaa55", flag);
	else if (memcmp(zp + BP_HEADER, "HdrS", 4))
		fail("zero-page", "setup header magic is not HdrS");
	else if (zp[BP_E820_ENTRIES] == 0 || zp[BP_E820_ENTRIES] > E820_MAX_ENTRIES)
		fail("zero-page", "e820_entries %u", zp[BP_E820_ENTRIES]);
	else
		pass("zero-page");
}

/* ----------------------------------------------------------------- cmdline */

static void check_cmdline(void)
{
	const char *c = cmdline();
	const u8 *zp = zero_page();
	u64 p = (u64)c;

	/* Printed verbatim: the host compares it with what it passed. */
	lock_console();
	con_puts("CMDLINE[");
	con_puts(c);
	con_puts("]\n");
	unlock_console();
	if (!*c && !(zp[BP_CMD_LINE_PTR] | zp[BP_CMD_LINE_PTR + 1] | zp[BP_CMD_LINE_PTR + 2] |
		     zp[BP_CMD_LINE_PTR + 3])) {
		skip("cmdline", "no command line");
		return;
	}
	if (!e820_is_ram(p, strlen(c) + 1))
		fail("cmdline", "command line at 0x%lx is not in E820 RAM", p);
	else if (p < (u64)_end && p + strlen(c) + 1 > (u64)_start_image)
		fail("cmdline", "command line at 0x%lx overlaps the kernel image", p);
	else if (p < ZERO_PAGE_ADDR + 0x1000 && p + strlen(c) + 1 > ZERO_PAGE_ADDR)
		fail("cmdline", "command line at 0x%lx overlaps the zero page", p);
	else
		pass("cmdline");
}

/* -------------------------------------------------------------------- E820 */

static u64 pattern_for(u64 addr)
{
	return addr * 0x9e3779b97f4a7c15ul ^ 0x5a5aa5a5c3c33c3cul;
}

/* Writes, reads back and restores 8 bytes: the address must be real RAM. */
static bool probe_ram(u64 addr)
{
	volatile u64 *p = (volatile u64 *)addr;
	u64 old = *p, pat = pattern_for(addr), got;

	*p = pat;
	got = *p;
	*p = ~pat;
	if (*p != ~pat)
		got = 0;
	*p = old;
	if (got != pat) {
		fail("e820-ram-probe", "0x%lx: wrote 0x%lx, read 0x%lx", addr, pat, got);
		return false;
	}
	return true;
}

/* Maps the 2 MiB page holding @addr (>= 4 GiB, < 512 GiB) into the
 * identity map the VMM built, using a page directory of our own. */
static u64 high_pd[4][512] __attribute__((aligned(4096)));
static unsigned int high_pd_used;

static bool map_high(u64 addr)
{
	u64 *pml4 = (u64 *)(boot_state.cr3 & ~0xffful);
	u64 *pdpt, *pd;
	unsigned int i3 = (unsigned int)(addr >> 30) & 511;
	unsigned int i2 = (unsigned int)(addr >> 21) & 511;

	if (addr >> 39) {
		fail("e820-ram-probe", "cannot map 0x%lx (above 512 GiB)", addr);
		return false;
	}
	if (!(pml4[0] & 1)) {
		fail("e820-ram-probe", "PML4[0] not present");
		return false;
	}
	pdpt = (u64 *)(pml4[0] & 0x000ffffffffff000ul);
	if (!(pdpt[i3] & 1)) {
		if (high_pd_used >= ARRAY_SIZE(high_pd)) {
			fail("e820-ram-probe", "out of page directories for 0x%lx", addr);
			return false;
		}
		pdpt[i3] = (u64)high_pd[high_pd_used++] | 0x3;
	}
	if (pdpt[i3] & 0x80)    /* 1 GiB page: already mapped */
		goto flush;
	pd = (u64 *)(pdpt[i3] & 0x000ffffffffff000ul);
	if (!(pd[i2] & 1))
		pd[i2] = (addr & ~0x1ffffful) | 0x83;   /* present, writable, 2 MiB */
flush:
	__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	return true;
}

static void check_e820(void)
{
	unsigned int i, j, n = e820_count();
	u64 expect = MIB(cmdline_num("expect_mem_mib", 0));
	u64 total = 0, ram = 0, high_ram = 0, low_end = 0;
	unsigned int bad = 0, probes = 0;

	for (i = 0; i < n; i++) {
		const struct e820_entry *e = e820_get(i);

		kprintf("INFO e820 %u: [0x%lx, 0x%lx) type %u\n", i, e->addr, e->addr + e->size,
			e->type);
		total += e->size;
		if (e->type == E820_RAM) {
			ram += e->size;
			if (e->addr >= SZ_4G)
				high_ram += e->size;
			else if (e->addr + e->size > low_end)
				low_end = e->addr + e->size;
		}
		if (e->size == 0 || e->addr + e->size < e->addr) {
			fail("e820-sane", "entry %u: empty or wrapping", i);
			bad++;
		}
		for (j = 0; j < i; j++) {
			const struct e820_entry *f = e820_get(j);

			if (e->addr < f->addr + f->size && f->addr < e->addr + e->size) {
				fail("e820-sane", "entries %u and %u overlap", j, i);
				bad++;
			}
		}
		if (e->type == E820_RAM && e->addr < SZ_4G && e->addr + e->size > MMIO_GAP_START) {
			fail("e820-gap", "RAM entry %u [0x%lx, 0x%lx) overlaps the MMIO gap "
			     "[0xd0000000, 4G)", i, e->addr, e->addr + e->size);
			bad++;
		}
		if (e->type == E820_RAM && e->addr < HIMEM_START && e->addr + e->size > EBDA_START) {
			fail("e820-bios-area", "RAM entry %u covers the BIOS area [0x9fc00, 1M)", i);
			bad++;
		}
	}
	kprintf("INFO e820 total 0x%lx (%lu MiB) ram 0x%lx high ram 0x%lx\n", total,
		total >> 20, ram, high_ram);
	if (!bad)
		pass("e820-sane");

	/* What the guest needs lies in RAM. */
	if (!e820_is_ram(0, EBDA_START) || !e820_is_ram((u64)_start_image,
							(u64)_end - (u64)_start_image) ||
	    !e820_is_ram(ZERO_PAGE_ADDR, 0x1000) || !e820_is_ram(0x1000, BOOT_STACK_POINTER - 0x1000))
		fail("e820-boot-areas", "base memory, the zero page, the stack or the image is "
		     "not in E820 RAM");
	else
		pass("e820-boot-areas");

	if (!expect) {
		skip("e820-total", "no expect_mem_mib");
		skip("e820-high", "no expect_mem_mib");
	} else {
		u64 low_expect = expect < MMIO_GAP_START ? expect : MMIO_GAP_START;
		u64 high_expect = expect > MMIO_GAP_START ? expect - MMIO_GAP_START : 0;

		if (total != expect)
			fail("e820-total", "entries sum to 0x%lx (%lu MiB), expected %lu MiB",
			     total, total >> 20, expect >> 20);
		else if (low_end != low_expect)
			fail("e820-total", "RAM below 4G ends at 0x%lx, expected 0x%lx", low_end,
			     low_expect);
		else
			pass("e820-total");
		if (high_ram != high_expect)
			fail("e820-high", "RAM above 4G 0x%lx, expected 0x%lx", high_ram,
			     high_expect);
		else if (high_expect && !e820_is_ram(SZ_4G, high_expect))
			fail("e820-high", "no RAM entry covers [4G, 4G + 0x%lx)", high_expect);
		else
			pass("e820-high");
	}

	/* The first and last 8 bytes of every RAM entry are real memory. */
	bad = fail_count();
	for (i = 0; i < n; i++) {
		const struct e820_entry *e = e820_get(i);
		u64 first = e->addr, last = e->addr + e->size - 8;

		if (e->type != E820_RAM || e->size < 8)
			continue;
		if (first >= SZ_4G && !map_high(first))
			continue;
		if (last >= SZ_4G && !map_high(last))
			continue;
		probe_ram(first);
		probe_ram(last);
		probes += 2;
	}
	if (fail_count() == bad)
		kprintf("PASS e820-ram-probe (%u addresses)\n", probes);
}

/* -------------------------------------------------------------------- load */

static void check_load(void)
{
	char buf[32];
	u64 want;

	kprintf("INFO image entered at 0x%lx (load address 0x%lx), linked at 0x%lx, "
		"footprint 0x%lx bytes\n", boot_state.load_addr + 0x200, boot_state.load_addr,
		(u64)_start_image, (u64)_end - (u64)_start_image);
	if (cmdline_get("expect_load", buf, sizeof(buf))) {
		skip("load-address", "no expect_load");
		return;
	}
	if (parse_num(buf, &want))
		fail("load-address", "bad expect_load '%s'", buf);
	else if (boot_state.load_addr != want)
		fail("load-address", "entered at 0x%lx, expected 0x%lx + 0x200",
		     boot_state.load_addr + 0x200, want);
	else
		pass("load-address");
}

/* ------------------------------------------------------------------ initrd */

static void check_initrd(void)
{
	const u8 *zp = zero_page();
	u64 addr = (u64)zp[BP_RAMDISK_IMAGE] | (u64)zp[BP_RAMDISK_IMAGE + 1] << 8 |
		   (u64)zp[BP_RAMDISK_IMAGE + 2] << 16 | (u64)zp[BP_RAMDISK_IMAGE + 3] << 24;
	u64 size = (u64)zp[BP_RAMDISK_SIZE] | (u64)zp[BP_RAMDISK_SIZE + 1] << 8 |
		   (u64)zp[BP_RAMDISK_SIZE + 2] << 16 | (u64)zp[BP_RAMDISK_SIZE + 3] << 24;
	u64 want_size = cmdline_num("expect_initrd_size", 0);
	u64 want_sum = cmdline_num("expect_initrd_sum", ~0ul);
	u64 cl = (u64)cmdline();
	const u8 *p;
	u32 sum = 0;
	u64 i;

	addr |= (u64)(zp[BP_EXT_RAMDISK_IMAGE] | zp[BP_EXT_RAMDISK_IMAGE + 1] << 8 |
		      zp[BP_EXT_RAMDISK_IMAGE + 2] << 16 |
		      (u32)zp[BP_EXT_RAMDISK_IMAGE + 3] << 24) << 32;
	size |= (u64)(zp[BP_EXT_RAMDISK_SIZE] | zp[BP_EXT_RAMDISK_SIZE + 1] << 8 |
		      zp[BP_EXT_RAMDISK_SIZE + 2] << 16 |
		      (u32)zp[BP_EXT_RAMDISK_SIZE + 3] << 24) << 32;
	kprintf("INFO initrd: addr 0x%lx size 0x%lx\n", addr, size);
	if (!want_size) {
		if (size || (addr && cmdline_has("expect_initrd_size")))
			fail("initrd", "no initrd expected, the zero page names 0x%lx bytes at "
			     "0x%lx", size, addr);
		else
			pass("initrd-none");
		return;
	}
	if (size != want_size) {
		fail("initrd", "size %lu, expected %lu", size, want_size);
		return;
	}
	if (addr & 0xfff) {
		fail("initrd", "address 0x%lx is not page aligned", addr);
		return;
	}
	if (addr + size > SZ_4G || !e820_is_ram(addr, size)) {
		fail("initrd", "[0x%lx, 0x%lx) is not in E820 RAM below 4G", addr, addr + size);
		return;
	}
	if (addr < (u64)_end && addr + size > (u64)_start_image) {
		fail("initrd", "[0x%lx, 0x%lx) overlaps the kernel image", addr, addr + size);
		return;
	}
	if (addr < boot_state.load_addr + ((u64)_end - (u64)_start_image) &&
	    addr + size > boot_state.load_addr) {
		fail("initrd", "[0x%lx, 0x%lx) overlaps the loaded kernel", addr, addr + size);
		return;
	}
	if (addr < cl + strlen((const char *)cl) + 1 && addr + size > cl) {
		fail("initrd", "[0x%lx, 0x%lx) overlaps the command line", addr, addr + size);
		return;
	}
	p = (const u8 *)addr;
	for (i = 0; i < size; i++)
		sum += (u32)(i + 1) * p[i];
	kprintf("INFO initrd sum %u\n", sum);
	if (want_sum != ~0ul && sum != (u32)want_sum)
		fail("initrd", "content sum %u, expected %lu", sum, want_sum);
	else
		pass("initrd");
}

/* ---------------------------------------------------------------- MP table */

static void check_mptable(void)
{
	struct mp_info mp;
	char err[96];
	u64 want = cmdline_num("expect_cpus", 0);
	u32 me = cpu_apic_id();
	unsigned int i, j, bsps = 0;

	if (mp_parse(&mp, err, sizeof(err))) {
		fail("mptable", "%s", err);
		return;
	}
	kprintf("INFO mptable: floating pointer 0x%lx table 0x%lx cpus %u ioapic id %u "
		"at 0x%x lapic 0x%x irq4->pin %d\n", mp.fp_addr, mp.cfg_addr, mp.ncpus,
		mp.ioapic_id, mp.ioapic_addr, mp.lapic_addr, mp.isa_irq4_pin);
	pass("mptable-checksums");

	if (!want)
		skip("mptable-cpus", "no expect_cpus");
	else if (mp.ncpus != want)
		fail("mptable-cpus", "%u processor entries, expected %lu", mp.ncpus, want);
	else
		pass("mptable-cpus");

	for (i = 0; i < mp.ncpus; i++) {
		if (!(mp.cpu_flags[i] & 1))
			fail("mptable-processors", "APIC ID %u is not enabled", mp.apic_id[i]);
		if (mp.cpu_flags[i] & 2) {
			bsps++;
			if (mp.apic_id[i] != me)
				fail("mptable-processors", "BSP flag on APIC ID %u, the BSP is %u",
				     mp.apic_id[i], me);
		}
		if (mp.apic_id[i] != i)
			fail("mptable-processors", "entry %u has APIC ID %u, expected %u", i,
			     mp.apic_id[i], i);
		for (j = 0; j < i; j++)
			if (mp.apic_id[j] == mp.apic_id[i])
				fail("mptable-processors", "APIC ID %u listed twice", mp.apic_id[i]);
	}
	if (bsps != 1)
		fail("mptable-processors", "%u entries carry the BSP flag", bsps);
	else
		pass("mptable-bsp");

	if (mp.lapic_addr != LAPIC_BASE)
		fail("mptable-lapic", "local APIC at 0x%x", mp.lapic_addr);
	else
		pass("mptable-lapic");
	if (mp.nioapic != 1 || mp.ioapic_addr != IOAPIC_BASE)
		fail("mptable-ioapic", "%u IOAPICs, first at 0x%x", mp.nioapic, mp.ioapic_addr);
	else if (!mp.isa_bus || mp.isa_irq4_pin != 4)
		fail("mptable-ioapic", "ISA IRQ 4 (COM1) routed to pin %d", mp.isa_irq4_pin);
	else
		pass("mptable-ioapic");
}

/* ------------------------------------------------------------- CPU, APICs */

static void check_cpu(void)
{
	u32 a, b, c, d;
	char sig[13];
	u32 lapic_id, ver;

	cpuid(1, 0, &a, &b, &c, &d);
	if (c & (1u << 31))
		pass("cpuid-hypervisor");
	else
		fail("cpuid-hypervisor", "CPUID.1:ECX bit 31 is clear (ecx 0x%x)", c);
	if (!(d & (1u << 9)))
		fail("cpuid-apic", "CPUID.1:EDX APIC bit is clear");
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (a = 0; a < 12; a++)
		if (sig[a] && (sig[a] < ' ' || sig[a] > '~'))
			sig[a] = '?';
	kprintf("INFO hypervisor signature '%s'\n", sig);

	lapic_id = lapic_read(LAPIC_ID) >> 24;
	ver = lapic_read(LAPIC_VER);
	kprintf("INFO local APIC id %u version 0x%x\n", lapic_id, ver);
	if (lapic_id != 0 || cpu_apic_id() != 0)
		fail("bsp-apic-id", "LAPIC ID %u, CPUID APIC ID %u, expected 0", lapic_id,
		     cpu_apic_id());
	else
		pass("bsp-apic-id");

	ver = ioapic_read(1);
	kprintf("INFO IOAPIC id %u version 0x%x\n", ioapic_read(0) >> 24, ver);
	if (((ver >> 16) & 0xff) != 23)
		fail("ioapic", "%u redirection entries, expected 24", ((ver >> 16) & 0xff) + 1);
	else
		pass("ioapic");
}

void guest_main(void)
{
	idt_init();
	kprintf("BOOT guest started\n");
	check_cmdline();
	check_entry_state();
	check_zero_page();
	check_load();
	check_e820();
	check_initrd();
	check_mptable();
	check_cpu();
}
