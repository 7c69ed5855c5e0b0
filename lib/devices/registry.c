/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry: one line per device type. An explicit table, so that a
 * static link keeps every device (nothing registers itself).
 */
#include <string.h>

#include "devices/registry.h"

#define DEVICE_TYPES(X) \
	X(serial_device) \
	X(i8042_device) \
	X(boot_marker_device) \
	X(virtio_blk_device) \
	X(virtio_rng_device) \
	X(virtio_net_device) \
	/* a line per device type, above this one */

#define DECLARE(ops) extern const struct device_ops ops;
#define LIST(ops) &ops,

DEVICE_TYPES(DECLARE)

const struct device_ops *const device_types[] = { DEVICE_TYPES(LIST) NULL };

const struct device_ops *device_type_find(const char *name)
{
	for (const struct device_ops *const *t = device_types; *t; t++)
		if (!strcmp((*t)->name, name))
			return *t;
	return NULL;
}
