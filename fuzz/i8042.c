/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the i8042 keyboard controller, as a guest's sequence of
 * port accesses through the port I/O bus. The input is up to 4096
 * records of 2 bytes, an op and a value. Op bits 0: a write (of the
 * value), else a read; bits 1-2: port 0x60, 0x61, 0x64 or 0x62; bits
 * 3-4: the width, 1, 2, 4 or 1 byte; bits 5-7 all set: save and restore
 * the device, 6: reset it.
 */
#include <string.h>

#include "arch/x86/layout.h"
#include "env.h"
#include "fuzz.h"

#define MAX_RECS 4096u

static const uint16_t ports[] = { I8042_DATA_PORT, 0x61, I8042_CMD_PORT, 0x62 };

static void apply(struct fuzz_env *f, void *dev, uint8_t op, uint8_t val)
{
	uint8_t buf[4] = { val, val, val, val };
	uint32_t len = 1u << ((op >> 3) & 3);

	if (op >> 5 == 7) {
		fuzz_device_save_restore("i8042", dev);
		return;
	}
	if (op >> 5 == 6) {
		fuzz_device_reset("i8042", dev);
		return;
	}
	bus_access(&f->pio, ports[(op >> 1) & 3], buf, len == 8 ? 1 : len, op & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env f;
	void *dev;

	if (fuzz_env_init(&f))
		return 0;
	if (fuzz_device_create(&f, "i8042", NULL, NULL, &dev) == 0) {
		for (size_t i = 0; i < MAX_RECS && 2 * i + 1 < size; i++)
			apply(&f, dev, data[2 * i], data[2 * i + 1]);
		fuzz_device_save_restore("i8042", dev);
		fuzz_device_destroy("i8042", dev);
	}
	fuzz_env_release(&f);
	return 0;
}
