/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's life cycle (vm.c): the steps vmm_create() takes. */
#ifndef VMM_CORE_VM_H
#define VMM_CORE_VM_H

#include "vmmcore/vmm.h"

/* A VM with a copy of @cfg, its buses, its event loop and the device
 * environment, and nothing of KVM yet (unit tests stop here and add fake
 * memory). Returns: 0 or a negative errno. */
int vm_new(const struct vmm_config *cfg, struct vmm **out);

#endif
