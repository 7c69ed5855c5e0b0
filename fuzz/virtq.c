/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the virtqueue, as every device uses it. The input is a
 * guest's memory: byte 0 chooses EVENT_IDX (bit 0) and indirect
 * descriptors (bit 1), byte 1 the queue size (a power of 2, 1..256), the
 * rest fills 64 KiB of guest RAM holding the descriptor table, the
 * available and the used ring. The target takes chains until the queue
 * is empty or broken, touches both ends of every segment (the sanitizer
 * checks them against the guest RAM it was given), returns each with a
 * length, and asks whether an interrupt is due -- at most twice the queue
 * size plus one pops, which a correct queue never needs more than.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "virtio/queue.h"

#define MEM_GPA   0x10000ull
#define MEM_SIZE  0x10000ull
#define DESC_GPA  MEM_GPA
#define AVAIL_GPA (MEM_GPA + 0x1000)
#define USED_GPA  (MEM_GPA + 0x2000)

static uint8_t touch(const struct virtq_chain *c)
{
	volatile uint8_t sum = 0;

	for (unsigned int i = 0; i < c->nseg; i++) {
		const uint8_t *p = c->seg[i].hva;

		sum ^= p[0] ^ p[c->seg[i].len - 1];
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain chain;
	struct guest_mem mem;
	struct virtq q;
	uint8_t *ram;
	uint32_t qsize;

	if (size < 2 || !(ram = calloc(1, MEM_SIZE)))
		return 0;
	qsize = 1u << (data[1] % 9);
	memcpy(ram, data + 2, size - 2 < MEM_SIZE ? size - 2 : MEM_SIZE);
	guest_mem_init_fake(&mem, MEM_GPA, ram, MEM_SIZE);
	memset(&q, 0, sizeof(q));
	if (virtq_enable(&q, &mem, qsize, DESC_GPA, AVAIL_GPA, USED_GPA, data[0] & 1,
			 data[0] & 2) == 0) {
		for (uint32_t i = 0; i < 2 * qsize + 1; i++) {
			int r = virtq_pop(&q, &chain);

			if (r == 0 || r == -EPROTO)
				break;
			if (r == 1) {
				virtq_push(&q, chain.head, (uint32_t)chain.writable_len ^ touch(&chain));
				if (data[0] & 4)
					virtq_needs_interrupt(&q);
			}
		}
		virtq_needs_interrupt(&q);
		virtq_reset(&q);
	}
	free(ram);
	return 0;
}
