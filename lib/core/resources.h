/* SPDX-License-Identifier: Apache-2.0 */
/* The devices of a VM and the resources the core hands out to them. */
#ifndef VMM_CORE_RESOURCES_H
#define VMM_CORE_RESOURCES_H

#include "devices/device.h"

struct vmm;

/* Create a device of type @ops from its configuration record @config
 * (NULL for a built-in type). The core hands out the resources the type
 * wants -- or exactly @at, when given (a restore) -- and records them.
 * Returns: 0 or a negative errno (-ENOSPC: none left, -EBUSY: taken,
 * -EINVAL: @at does not fit the type). */
int vm_device_add(struct vmm *vm, const struct device_ops *ops, const void *config,
		  const struct device_resources *at);

#endif
