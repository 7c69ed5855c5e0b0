/* SPDX-License-Identifier: Apache-2.0 */
/* How a VM stops: the first stopper's reason is kept. */
#ifndef VMM_CORE_STOP_H
#define VMM_CORE_STOP_H

#include "vmmcore/vmm.h"

/* Stop the VM with @info (the first caller wins). Any thread. */
void vm_request_stop(struct vmm *vm, const struct vmm_exit_info *info);

#endif
