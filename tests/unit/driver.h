/* SPDX-License-Identifier: Apache-2.0 */
/* The driver's side of a virtio-mmio transport, for the unit tests. */
#ifndef VMM_TESTS_UNIT_DRIVER_H
#define VMM_TESTS_UNIT_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/mmio.h"

uint32_t drv_rd(struct virtio_mmio *t, uint32_t off);
void drv_wr(struct virtio_mmio *t, uint32_t off, uint32_t v);
/* Status reset, ACKNOWLEDGE, DRIVER, @features, FEATURES_OK; returns
 * whether FEATURES_OK stuck. */
bool drv_negotiate(struct virtio_mmio *t, uint64_t features);
/* Queue @index: size and ring addresses, then QueueReady. */
void drv_setup_queue(struct virtio_mmio *t, unsigned int index, uint32_t num,
		     uint64_t desc, uint64_t avail, uint64_t used);
/* DRIVER_OK on top of FEATURES_OK. */
void drv_driver_ok(struct virtio_mmio *t);

#endif
