/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the virtio-mmio register file, as a driver's sequence of
 * accesses to a virtio-blk disk (a 64 KiB image in a memfd) through the
 * MMIO bus. The input is up to 1024 records of 11 bytes: an op, a 16-bit
 * offset and a 64-bit value (little-endian). Op bits 0-1: read, write,
 * poke the value into guest RAM at 8 * offset, or bits 0-1 of the value
 * choose: run the device's event loop, reset the device, save and
 * restore it, a notification of queue offset % 4 as an ioeventfd
 * delivers it. Bits 2-3: the access width, 1, 2, 4 or 8 bytes; bit 4:
 * the offset anywhere in the 4 KiB window, else below 0x200 (registers
 * and config space). After every write the event loop runs, as the
 * device's I/O thread would meanwhile.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env.h"
#include "fuzz.h"
#include "virtio/mmio.h"

#define IMG_SIZE (64 * 1024)
#define REC_SIZE 11u
#define MAX_RECS 1024u

static void special(struct fuzz_env *f, void *dev, uint16_t off, uint64_t val)
{
	switch (val & 3) {
	case 0:
		fuzz_env_run(f, 4);
		break;
	case 1:
		fuzz_device_reset("block", dev);
		break;
	case 2:
		fuzz_device_save_restore("block", dev);
		break;
	default:
		virtio_mmio_notify(dev, off % 4);
		break;
	}
}

static void apply(struct fuzz_env *f, void *dev, const uint8_t *rec)
{
	uint8_t op = rec[0], buf[8];
	uint16_t off;
	uint64_t val;
	uint32_t len = 1u << ((op >> 2) & 3);

	memcpy(&off, rec + 1, 2);
	memcpy(&val, rec + 3, 8);
	switch (op & 3) {
	case 0:
	case 1:
		off &= op & 0x10 ? 0xfff : 0x1ff;
		memcpy(buf, &val, 8);
		bus_access(&f->mmio, fuzz_virtio_res.mmio_base + off, buf, len, op & 1);
		if (op & 1)
			fuzz_env_run(f, 4);
		break;
	case 2:
		memcpy(f->ram + (off * 8u) % FUZZ_MEM_SIZE, &val, 8);
		break;
	default:
		special(f, dev, off, val);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env f;
	char cfg[64];
	void *dev;
	int img;

	if (fuzz_env_init(&f))
		return 0;
	img = memfd_create("fuzz-mmio", MFD_CLOEXEC);
	if (img < 0 || ftruncate(img, IMG_SIZE) < 0)
		goto out;
	snprintf(cfg, sizeof(cfg), "path=/proc/self/fd/%d", img);
	if (fuzz_device_create(&f, "block", cfg, &fuzz_virtio_res, &dev))
		goto out;
	for (size_t i = 0; i < MAX_RECS && (i + 1) * REC_SIZE <= size; i++)
		apply(&f, dev, data + i * REC_SIZE);
	fuzz_env_run(&f, 4);
	fuzz_device_destroy("block", dev);
out:
	if (img >= 0)
		close(img);
	fuzz_env_release(&f);
	return 0;
}
