/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by trampoline.S and smp.c. */
#ifndef GUEST_TRAMPOLINE_H
#define GUEST_TRAMPOLINE_H

/* Page the AP code runs from: below 1 MiB, 4 KiB aligned, outside the
 * VMM's boot areas (zero page, stack, page tables 0x7000-0xefff, command
 * line 0x20000). */
#define TRAMP_BASE      0x10000
#define AP_STACK_SHIFT  12              /* 4 KiB stacks */
#define AP_MAX_STACKS   64

#endif
