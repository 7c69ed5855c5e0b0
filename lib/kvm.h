/* SPDX-License-Identifier: Apache-2.0 */
/* VM-level KVM set-up (the device-facing calls are in vmm-priv.h). */
#ifndef VMM_KVM_H
#define VMM_KVM_H

struct vmm;

/* Open /dev/kvm, check the API version and capabilities, create the VM. */
int kvm_open(struct vmm *vm);
/* TSS and identity-map pages, in-kernel irqchip, PIT2 with dummy speaker. */
int kvm_setup_irqchip(struct vmm *vm);
/* Register vm->mem's regions as KVM memory slots. */
int kvm_register_memory(struct vmm *vm);
void kvm_close(struct vmm *vm);

#endif
