/* SPDX-License-Identifier: Apache-2.0 */
/* The x86_64 state a vCPU starts in: see regs.h. */
#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/regs.h"

#define X86_CR0_PE      0x1ull
#define X86_CR0_ET      0x10ull
#define X86_CR0_NE      0x20ull
#define X86_CR0_PG      0x80000000ull
#define X86_CR4_PAE     0x20ull
#define EFER_LME        0x100ull
#define EFER_LMA        0x400ull

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_MODE_NMI   0x4
#define APIC_MODE_EXTINT 0x7

/* GDT entries: null, 64-bit code, data, TSS. */
#define GDT_CODE64      0xa09b
#define GDT_DATA        0xc093
#define GDT_TSS         0x808b

void regs_boot_msrs(struct kvm_msr_entry e[REGS_BOOT_MSRS])
{
	static const uint32_t zero[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
		MSR_IA32_TSC,
	};
	unsigned int n;

	memset(e, 0, REGS_BOOT_MSRS * sizeof(*e));
	for (n = 0; n < sizeof(zero) / sizeof(zero[0]); n++)
		e[n].index = zero[n];
	e[n].index = MSR_IA32_MISC_ENABLE;
	e[n++].data = 1;                        /* fast string operations */
	e[n].index = MSR_MTRR_DEF_TYPE;
	e[n].data = (1u << 11) | 6;             /* MTRRs on, default write-back */
}

void regs_boot_fpu(struct kvm_fpu *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	fpu->fcw = 0x37f;
	fpu->mxcsr = 0x1f80;
}

static void lapic_set_mode(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t val;

	memcpy(&val, &l->regs[reg], sizeof(val));
	val = (val & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &val, sizeof(val));
}

void regs_lapic_lint(struct kvm_lapic_state *lapic)
{
	lapic_set_mode(lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_mode(lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
}

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

static struct kvm_segment segment_from_gdt(uint64_t e, uint16_t sel)
{
	struct kvm_segment s = {
		.base = (e >> 16 & 0xffffff) | (e >> 32 & 0xff000000),
		.limit = (uint32_t)((e & 0xffff) | (e >> 32 & 0xf0000)),
		.selector = sel,
		.type = (uint8_t)(e >> 40 & 0xf),
		.present = (uint8_t)(e >> 47 & 1),
		.dpl = (uint8_t)(e >> 45 & 3),
		.db = (uint8_t)(e >> 54 & 1),
		.s = (uint8_t)(e >> 44 & 1),
		.l = (uint8_t)(e >> 53 & 1),
		.g = (uint8_t)(e >> 55 & 1),
		.avl = (uint8_t)(e >> 52 & 1),
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

static void boot_gdt(uint64_t gdt[4])
{
	gdt[0] = 0;
	gdt[1] = gdt_entry(GDT_CODE64, 0, 0xfffff);
	gdt[2] = gdt_entry(GDT_DATA, 0, 0xfffff);
	gdt[3] = gdt_entry(GDT_TSS, 0, 0xfffff);
}

int regs_write_boot_tables(const struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(mem, PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(mem, PD_ADDR, 4 * 4096);
	uint64_t gdt[4], idt = 0;

	if (!pml4 || !pdpt || !pd)
		return -ENOMEM;
	boot_gdt(gdt);
	if (guest_mem_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)) ||
	    guest_mem_write(mem, BOOT_IDT_ADDR, &idt, sizeof(idt)))
		return -ENOMEM;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | 0x3;                      /* present, writable */
	for (unsigned int i = 0; i < IDENTITY_MAP_SIZE / SZ_1G; i++)
		pdpt[i] = (PD_ADDR + i * 4096ull) | 0x3;
	for (unsigned int i = 0; i < IDENTITY_MAP_SIZE / (2 * SZ_1M); i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;     /* present, writable, 2 MiB */
	return 0;
}

void regs_boot_sregs(struct kvm_sregs *sregs)
{
	uint64_t gdt[4];

	boot_gdt(gdt);
	sregs->gdt.base = BOOT_GDT_ADDR;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = BOOT_IDT_ADDR;
	sregs->idt.limit = sizeof(uint64_t) - 1;
	sregs->cs = segment_from_gdt(gdt[1], 0x08);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = segment_from_gdt(gdt[2], 0x10);
	sregs->tr = segment_from_gdt(gdt[3], 0x18);
	sregs->cr3 = PML4_ADDR;
	sregs->cr4 = X86_CR4_PAE;
	sregs->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	sregs->efer = EFER_LME | EFER_LMA;
}

void regs_boot_regs(struct kvm_regs *regs, uint64_t entry)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2;
	regs->rip = entry;
	regs->rsp = regs->rbp = BOOT_STACK_POINTER;
	regs->rsi = ZERO_PAGE_ADDR;
}
