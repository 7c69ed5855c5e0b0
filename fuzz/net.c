/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: virtio-net's transmit and receive paths, the device on
 * one end of a SOCK_SEQPACKET socket pair instead of a TAP (one frame a
 * message, as a TAP gives them), offering every offload. Byte 0 chooses
 * EVENT_IDX (bit 0), indirect descriptors (bit 1), MRG_RXBUF (bit 2),
 * the checksum offloads (bit 3), the segmentation offloads (bit 4) and
 * whether the host end hangs up after its frames (bit 5); byte 1 the
 * queue size (a power of 2, 1..256); byte 2 how many frames the host
 * sends (0..7), whose 16-bit lengths (below 64 KiB, header included)
 * follow; the rest fills the 64 KiB of guest RAM after the driver set
 * the device up: the receive queue's descriptor table at 0, available
 * ring at 0x1000, used ring at 0x2000, the transmit queue's at 0x3000,
 * 0x4000 and 0x5000 (RAM at 0x10000). The guest notifies the transmit,
 * then the receive queue; the device's event loop runs, then it saves
 * and restores itself.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "env.h"
#include "fuzz.h"
#include "virtio/net.h"

#define F(bit) (1ull << VIRTIO_NET_F_##bit)
#define MAX_FRAMES 7u

static uint64_t features(uint8_t flags)
{
	uint64_t f = F(MAC) | F(STATUS);

	if (flags & 1)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (flags & 2)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (flags & 4)
		f |= F(MRG_RXBUF);
	if (flags & 8)
		f |= F(CSUM) | F(GUEST_CSUM);
	if (flags & 16)
		f |= F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_UFO) | F(GUEST_TSO4) |
		     F(GUEST_TSO6) | F(GUEST_UFO);
	return f;
}

/* The host's frames: @n lengths at @lens, each frame its length's bytes. */
static void host_send(int fd, const uint8_t *lens, unsigned int n)
{
	static uint8_t frame[65536];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t len;

		memcpy(&len, lens + 2 * i, 2);
		memset(frame, (int)i, len);
		if (send(fd, frame, len, MSG_DONTWAIT) < 0)
			return;
	}
}

/* The device on @sv[0], which it owns; the host on @sv[1]. */
static void run(struct fuzz_env *f, const uint8_t *data, size_t size, int sv[2])
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x07 };
	unsigned int nframes = data[2] % (MAX_FRAMES + 1);
	size_t skip = 3 + 2 * nframes;
	void *dev;

	if (size < skip) {
		close(sv[0]);
		return;
	}
	if (net_create_on_fd(&f->env, &fuzz_virtio_res, sv[0], TUN_F_CSUM | TUN_F_TSO4 |
			     TUN_F_TSO6 | TUN_F_UFO, mac, &dev))
		return;
	if (fuzz_virtio_start(f, features(data[0]), 2, 1u << (data[1] % 9))) {
		memcpy(f->ram, data + skip, size - skip < FUZZ_MEM_SIZE ? size - skip :
			FUZZ_MEM_SIZE);
		host_send(sv[1], data + 3, nframes);
		if (data[0] & 32) {
			close(sv[1]);
			sv[1] = -1;
		}
		fuzz_virtio_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
		fuzz_virtio_wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		fuzz_env_run(f, 4);
		fuzz_device_save_restore("net", dev);
	}
	fuzz_device_destroy("net", dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env f;
	int sv[2];

	if (size < 3 || fuzz_env_init(&f))
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0) {
		run(&f, data, size, sv);
		if (sv[1] >= 0)
			close(sv[1]);
	}
	fuzz_env_release(&f);
	return 0;
}
