/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86_64 state a vCPU starts in: the MSRs every vCPU is given, the FPU,
 * the local APIC's LINT pins, and the boot CPU's 64-bit mode with a GDT and
 * an identity map of the first 4 GiB in guest memory. Pure functions: the
 * vCPU code hands the results to KVM.
 */
#ifndef VMM_ARCH_X86_REGS_H
#define VMM_ARCH_X86_REGS_H

#include <linux/kvm.h>
#include <stdint.h>

#include "core/memory.h"

#define REGS_BOOT_MSRS 11u      /* entries regs_boot_msrs() fills */

/* The MSRs set on every vCPU: the SYSENTER/SYSCALL ones and the TSC at 0,
 * fast strings on, MTRRs on with write-back as the default type. */
void regs_boot_msrs(struct kvm_msr_entry e[REGS_BOOT_MSRS]);

/* An FPU as after FNINIT, MXCSR at its reset value. */
void regs_boot_fpu(struct kvm_fpu *fpu);

/* LINT0 delivers ExtINT (the PIC), LINT1 NMI, as the MP table says. */
void regs_lapic_lint(struct kvm_lapic_state *lapic);

/* Write the GDT, an empty IDT and the identity page tables into guest
 * memory. Returns: 0 or -ENOMEM (memory too small). */
int regs_write_boot_tables(const struct guest_mem *mem);

/* 64-bit mode on those tables; @sregs comes from KVM_GET_SREGS. */
void regs_boot_sregs(struct kvm_sregs *sregs);

/* RIP = @entry, RSI = the zero page, a stack below it. */
void regs_boot_regs(struct kvm_regs *regs, uint64_t entry);

#endif
