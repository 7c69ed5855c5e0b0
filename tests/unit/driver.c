/* SPDX-License-Identifier: Apache-2.0 */
/* The driver's side of a virtio-mmio transport: see driver.h. */
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "driver.h"
#include "unit.h"

uint32_t drv_rd(struct virtio_mmio *t, uint32_t off)
{
	uint8_t data[4];
	uint32_t v;

	memset(data, 0xee, sizeof(data));
	virtio_mmio_access(t, off, data, 4, false);
	memcpy(&v, data, 4);
	return v;
}

void drv_wr(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	uint8_t data[4];

	memcpy(data, &v, 4);
	virtio_mmio_access(t, off, data, 4, true);
}

bool drv_negotiate(struct virtio_mmio *t, uint64_t features)
{
	drv_wr(t, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(drv_rd(t, VIRTIO_MMIO_STATUS), 0);
	drv_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	drv_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	drv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	drv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	drv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	drv_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	drv_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	       VIRTIO_CONFIG_S_FEATURES_OK);
	return drv_rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

void drv_setup_queue(struct virtio_mmio *t, unsigned int index, uint32_t num,
		     uint64_t desc, uint64_t avail, uint64_t used)
{
	drv_wr(t, VIRTIO_MMIO_QUEUE_SEL, index);
	ck_assert_uint_eq(drv_rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
	drv_wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
	drv_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	drv_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	drv_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	drv_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	drv_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	drv_wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	drv_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

void drv_driver_ok(struct virtio_mmio *t)
{
	drv_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
	       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}
