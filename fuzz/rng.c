/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the virtio-rng request path. Byte 0 chooses EVENT_IDX
 * (bit 0), indirect descriptors (bit 1) and the source (bits 2-3): a
 * pipe holding byte 2's count times 16 bytes, an empty pipe, a 4 KiB
 * file, getrandom(); byte 1 the queue size (a power of 2, 1..256); the
 * rest fills the 64 KiB of guest RAM after the driver set the device up,
 * as for blk. The device serves the ring on QueueNotify, twice (the
 * second finds the source drained), then saves and restores itself.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "env.h"
#include "fuzz.h"

/* The source, its fds in @fd (-1: none); the device's option in @cfg. */
static void make_source(const uint8_t *data, int fd[2], char *cfg, size_t len)
{
	static const uint8_t fill[255 * 16];
	unsigned int kind = (data[0] >> 2) & 3;

	fd[0] = fd[1] = -1;
	if (kind == 3) {
		snprintf(cfg, len, "%s", "");
		return;
	}
	if (kind == 2) {
		fd[0] = memfd_create("fuzz-rng", MFD_CLOEXEC);
		if (fd[0] >= 0 && ftruncate(fd[0], 4096) < 0) {
			close(fd[0]);
			fd[0] = -1;
		}
	} else if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) == 0 && kind == 0) {
		/* A pipe holds 64 KiB: this never falls short. */
		if (write(fd[1], fill, data[2] * 16u) != (ssize_t)(data[2] * 16u))
			abort();
	}
	snprintf(cfg, len, "source=/proc/self/fd/%d", fd[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = 0;
	struct fuzz_env f;
	char cfg[64];
	void *dev;
	int fd[2];

	if (size < 3 || fuzz_env_init(&f))
		return 0;
	make_source(data, fd, cfg, sizeof(cfg));
	if (fuzz_device_create(&f, "rng", cfg[0] ? cfg : NULL, &fuzz_virtio_res, &dev))
		goto out;
	if (data[0] & 1)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (data[0] & 2)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (fuzz_virtio_start(&f, features, 1, 1u << (data[1] % 9))) {
		memcpy(f.ram, data + 3, size - 3 < FUZZ_MEM_SIZE ? size - 3 : FUZZ_MEM_SIZE);
		for (int i = 0; i < 2; i++) {
			fuzz_virtio_wr(&f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
			fuzz_env_run(&f, 4);
		}
		fuzz_device_save_restore("rng", dev);
	}
	fuzz_device_destroy("rng", dev);
out:
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	fuzz_env_release(&f);
	return 0;
}
