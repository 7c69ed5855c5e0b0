/* SPDX-License-Identifier: Apache-2.0 */
/* KVM: the VM, its irqchip and memory slots, and the interrupt and
 * doorbell calls behind the devices' environment. */
#ifndef VMM_CORE_KVM_H
#define VMM_CORE_KVM_H

#include <stdbool.h>
#include <stdint.h>

struct vmm;

/* Open /dev/kvm, check the API version and capabilities, create the VM. */
int kvm_open(struct vmm *vm);
/* TSS and identity-map pages, in-kernel irqchip, PIT2 with dummy speaker. */
int kvm_setup_irqchip(struct vmm *vm);
/* Register vm->mem's regions as KVM memory slots. */
int kvm_register_memory(struct vmm *vm);
void kvm_close(struct vmm *vm);

/* Interrupts and doorbells on the in-kernel irqchip. Returns: 0 or a
 * negative errno. */
int kvm_irq_line(struct vmm *vm, unsigned int irq, int level);
int kvm_irqfd(struct vmm *vm, int fd, unsigned int gsi, bool assign);
int kvm_ioeventfd(struct vmm *vm, int fd, uint64_t addr, uint32_t len,
		  bool datamatch, uint64_t data, bool assign);

#endif
