/* SPDX-License-Identifier: Apache-2.0 */
/* The registry: every device type the library has. */
#ifndef VMM_DEVICES_REGISTRY_H
#define VMM_DEVICES_REGISTRY_H

#include "devices/device.h"

/* NULL-terminated. Built-in types (keys NULL) come first: the VM creates
 * them in this order before the configured devices. */
extern const struct device_ops *const device_types[];

/* The type named @name, or NULL. */
const struct device_ops *device_type_find(const char *name);

#endif
