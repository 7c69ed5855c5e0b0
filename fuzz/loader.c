/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the kernel loader (ELF and bzImage), then the initrd and
 * the command line placed after it, into 32 MiB of guest RAM. The input
 * is the kernel image; its first half serves as the initrd and its first
 * bytes, up to a NUL, as the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/loader.h"
#include "fuzz.h"

#define MEM_SIZE (32ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct guest_mem mem;
	struct kernel_image k;
	char err[256], cmdline[256];
	uint64_t gpa;

	if (!ram && !(ram = malloc(MEM_SIZE)))
		return 0;
	guest_mem_init_fake(&mem, 0, ram, MEM_SIZE);
	if (loader_load_kernel(&mem, data, size, 0, &k, err, sizeof(err)))
		return 0;
	loader_load_initrd(&mem, &k, data, size / 2, &gpa, err, sizeof(err));
	memcpy(cmdline, data, size < sizeof(cmdline) ? size : sizeof(cmdline));
	cmdline[sizeof(cmdline) - 1] = '\0';
	if (size < sizeof(cmdline))
		cmdline[size] = '\0';
	loader_load_cmdline(&mem, &k, 0x20000, cmdline, err, sizeof(err));
	return 0;
}
