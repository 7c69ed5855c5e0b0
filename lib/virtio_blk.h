/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-blk over virtio-mmio, backed by a raw image file or block device. */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include "vmmcore/vmm.h"
#include "memory.h"

struct virtio_blk;
struct virtio_mmio;

/* Sectors are 512 bytes, whatever the host's block size. */
#define VIRTIO_BLK_SECTOR_SIZE   512u
/* Request limits advertised in the config space. */
#define VIRTIO_BLK_QUEUE_SIZE    256u
#define VIRTIO_BLK_SIZE_MAX      (1u << 20)        /* bytes per segment */
#define VIRTIO_BLK_SEG_MAX       (VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_MAX_DISCARD_SECTORS  (1u << 22) /* 2 GiB per range */
#define VIRTIO_BLK_MAX_DISCARD_SEG      32u

/*
 * Add a virtio-blk device for @cfg to @vm in the next virtio-mmio slot
 * (the first call is the guest's vda, the second vdb, ...). The image is
 * opened (read-only if cfg->read_only) and locked with an OFD lock (write
 * lock, or read lock for read-only), so that two VMMs cannot both write it.
 * The device is destroyed with the VM.
 * Returns: 0 on success or a negative errno (-EBUSY: image locked by
 * someone else, -EISDIR, -EINVAL: not a usable image, -ENOSPC: no slot);
 * the reason is logged with the image's name.
 */
int virtio_blk_add(struct vmm *vm, const struct vmm_block_config *cfg);

/*
 * Internal, for virtio_blk_add() and unit tests: open @cfg's image and set
 * up the device and its transport on guest memory @mem without placing it
 * in a VM (@vm may be NULL: then nothing is logged and it cannot be
 * attached). Returns: 0 on success or a negative errno.
 */
int virtio_blk_create(struct vmm *vm, const struct guest_mem *mem,
		      const struct vmm_block_config *cfg, struct virtio_blk **out);

/* The device's transport (register file, interrupts). */
struct virtio_mmio *virtio_blk_transport(struct virtio_blk *blk);

/* Close the image and free the device (@opaque: struct virtio_blk *). */
void virtio_blk_destroy(void *opaque);

#endif
