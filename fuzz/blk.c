/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the virtio-blk request path, over a 64 KiB image in
 * memory (a memfd, so discard and write-zeroes reach the host file
 * calls). Byte 0 chooses EVENT_IDX (bit 0), indirect descriptors (bit 1),
 * a read-only disk (bit 2) and a second notification after the first
 * batch (bit 3); byte 1 the queue size (a power of 2, 1..256); the rest
 * fills the 64 KiB of guest RAM after the driver set the device up, its
 * queue's descriptor table at 0, available ring at 0x1000 and used ring
 * at 0x2000 (RAM at 0x10000). The device serves what the ring holds on
 * QueueNotify, from its event loop as its I/O thread would, then saves
 * and restores itself. Every request is bounded by the image and the
 * queue size.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "env.h"
#include "fuzz.h"

#define IMG_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = 0;
	struct fuzz_env f;
	char cfg[64];
	void *dev;
	int img;

	if (size < 2 || fuzz_env_init(&f))
		return 0;
	img = memfd_create("fuzz-blk", MFD_CLOEXEC);
	if (img < 0 || ftruncate(img, IMG_SIZE) < 0)
		goto out;
	snprintf(cfg, sizeof(cfg), "path=/proc/self/fd/%d,read_only=%s,id=fuzz", img,
		 data[0] & 4 ? "on" : "off");
	if (fuzz_device_create(&f, "block", cfg, &fuzz_virtio_res, &dev))
		goto out;
	if (data[0] & 1)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (data[0] & 2)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (fuzz_virtio_start(&f, features, 1, 1u << (data[1] % 9))) {
		memcpy(f.ram, data + 2, size - 2 < FUZZ_MEM_SIZE ? size - 2 : FUZZ_MEM_SIZE);
		for (int i = 0; i < (data[0] & 8 ? 2 : 1); i++) {
			fuzz_virtio_wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
			fuzz_env_run(&f, 4);
		}
		fuzz_device_save_restore("block", dev);
	}
	fuzz_device_destroy("block", dev);
out:
	if (img >= 0)
		close(img);
	fuzz_env_release(&f);
	return 0;
}
