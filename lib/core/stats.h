/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a VM counts and how long its steps take: KVM exits by reason and
 * by device, the devices' own counters, the process's clock at the guest's
 * boot marker. Counting is a relaxed atomic add on the path that exits
 * anyway; reading needs no lock and may run while the VM does.
 */
#ifndef VMM_CORE_STATS_H
#define VMM_CORE_STATS_H

#include <stdint.h>

struct vmm;

/* KVM exits a vCPU counts, by kind. */
enum vm_exit_kind {
	EXIT_IO, EXIT_MMIO, EXIT_HLT, EXIT_IRQ_WINDOW, EXIT_INTR, EXIT_SYSTEM_EVENT,
	EXIT_SHUTDOWN, EXIT_INTERNAL_ERROR, EXIT_FAIL_ENTRY, EXIT_OTHER,
	EXIT_KINDS
};

/* The kind of KVM exit reason @reason. */
enum vm_exit_kind exit_kind(uint32_t reason);

/* Milliseconds since the process started, of wall time and of CPU time
 * (user + system, all threads). */
double process_wall_ms(void);
double process_cpu_ms(void);

/* Call @fn for every counter of @vm, in a fixed order. Returns: the
 * first non-zero return of @fn, or 0. */
typedef int (*vm_stat_fn)(void *data, const char *name, uint64_t value);
int vm_stats_each(const struct vmm *vm, vm_stat_fn fn, void *data);

/* The guest wrote the boot marker: log and keep the time. */
void vm_boot_marker(struct vmm *vm);

#endif
