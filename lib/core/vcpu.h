/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: creation, boot state, one thread each, exit handling. */
#ifndef VMM_CORE_VCPU_H
#define VMM_CORE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/stats.h"

struct vmm;

struct vcpu {
	struct vmm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	uint64_t exits[EXIT_KINDS];     /* by kind, for the VM's counters */
};

/* Create every vCPU with CPUID, MSRs, FPU and LAPIC set. */
int vcpu_create_all(struct vmm *vm);
/* Write the GDT and identity page tables to guest memory and put the BSP in
 * 64-bit mode at @entry with RSI = the zero page. */
int vcpu_setup_boot(struct vmm *vm, uint64_t entry);
/* Start one thread per vCPU. */
int vcpu_start_all(struct vmm *vm);
/* Make every vCPU leave KVM_RUN and its loop; then join the threads. */
void vcpu_stop_all(struct vmm *vm);
void vcpu_destroy_all(struct vmm *vm);

#endif
