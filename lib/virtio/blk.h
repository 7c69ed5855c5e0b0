/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk over virtio-mmio, backed by a raw image file or block device:
 * the device "block" of blk.c. Its limits, as the config space announces
 * them.
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include <stdint.h>

/* Sectors are 512 bytes, whatever the host's block size. */
#define VIRTIO_BLK_SECTOR_SIZE   512u
#define VIRTIO_BLK_QUEUE_SIZE    256u
#define VIRTIO_BLK_SIZE_MAX      (1u << 20)        /* bytes per segment */
#define VIRTIO_BLK_SEG_MAX       (VIRTIO_BLK_QUEUE_SIZE - 2)
/* What a read or write may carry in all: the segments the config space
 * allows, full. Beyond it a request fails: its work stays bounded even
 * where the guest describes one buffer many times over. */
#define VIRTIO_BLK_REQUEST_MAX   ((uint64_t)VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX)
#define VIRTIO_BLK_MAX_DISCARD_SECTORS  (1u << 22) /* 2 GiB per range */
#define VIRTIO_BLK_MAX_DISCARD_SEG      32u
/* Write-zeroes may fall back to writing the zeroes, on the device's
 * thread: one range of at most 32 MiB keeps each request's work short
 * (a guest splits larger ones; Linux does, by the limit it reads). */
#define VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS (1u << 16)
#define VIRTIO_BLK_MAX_WRITE_ZEROES_SEG     1u
#define VIRTIO_BLK_MAX_DISKS     16u               /* per VM */

#endif
