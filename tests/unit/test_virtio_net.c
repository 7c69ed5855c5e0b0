/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net: the rules (MAC parsing, the default MAC, offload
 * negotiation, the transmit header check, how a frame spreads over
 * receive buffers), then the device itself over fake guest memory and a
 * real TAP in a network namespace of the test's own (root only: as
 * another user those tests check nothing and say so).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "devices/registry.h"
#include "driver.h"
#include "env.h"
#include "unit.h"
#include "core/state.h"
#include "virtio/net.h"

#define F(bit) (1ull << VIRTIO_NET_F_##bit)

START_TEST(test_parse_mac)
{
	uint8_t mac[6];

	ck_assert_int_eq(net_parse_mac("52:54:00:Ab:cD:ef", mac), 0);
	ck_assert_mem_eq(mac, "\x52\x54\x00\xab\xcd\xef", 6);
	ck_assert_int_eq(net_parse_mac("02:00:00:00:00:01", mac), 0);
	ck_assert_int_eq(net_parse_mac("01:00:5e:00:00:01", mac), -EADDRNOTAVAIL);
	ck_assert_int_eq(mac[0], 0x01);         /* kept, for the message */
	ck_assert_int_eq(net_parse_mac("ff:ff:ff:ff:ff:ff", mac), -EADDRNOTAVAIL);
	ck_assert_int_eq(net_parse_mac("00:00:00:00:00:00", mac), -EADDRNOTAVAIL);
	ck_assert_int_eq(net_parse_mac("52:54:00:12:34", mac), -EINVAL);
	ck_assert_int_eq(net_parse_mac("52:54:00:12:34:567", mac), -EINVAL);
	ck_assert_int_eq(net_parse_mac("52-54-00-12-34-56", mac), -EINVAL);
	ck_assert_int_eq(net_parse_mac("5g:54:00:12:34:56", mac), -EINVAL);
	ck_assert_int_eq(net_parse_mac("", mac), -EINVAL);
}
END_TEST

/* Locally administered unicast; distinct for every interface index of a
 * namespace and for namespaces that differ in their low 16 bits. */
START_TEST(test_default_mac)
{
	uint8_t a[6], b[6];

	net_default_mac(0x12345678, 2, a);
	ck_assert_mem_eq(a, "\x06\x56\x78\x00\x00\x02", 6);
	ck_assert_int_eq(a[0] & 3, 2);
	net_default_mac(0x12345678, 3, b);
	ck_assert_mem_ne(a, b, 6);
	net_default_mac(0x12345679, 2, b);
	ck_assert_mem_ne(a, b, 6);
	net_default_mac(0, 0xabcdef, b);
	ck_assert_mem_eq(b, "\x06\x00\x00\xab\xcd\xef", 6);
}
END_TEST

START_TEST(test_offloads)
{
	uint64_t base = F(MAC) | F(STATUS) | F(MRG_RXBUF);
	uint64_t all = net_offered_features(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO);

	/* What the TAP accepts, both ways. */
	ck_assert_uint_eq(net_offered_features(0), base);
	ck_assert_uint_eq(net_offered_features(TUN_F_TSO4), base);      /* no CSUM: none */
	ck_assert_uint_eq(net_offered_features(TUN_F_CSUM), base | F(CSUM) | F(GUEST_CSUM));
	ck_assert_uint_eq(all, base | F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(GUEST_TSO4) |
			       F(HOST_TSO6) | F(GUEST_TSO6) | F(HOST_UFO) | F(GUEST_UFO));
	/* What the guest takes, set on the TAP: receive offloads only. */
	ck_assert_uint_eq(net_tun_offloads(all), TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO);
	ck_assert_uint_eq(net_tun_offloads(F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6)), 0);
	ck_assert_uint_eq(net_tun_offloads(F(GUEST_TSO4)), 0);  /* no GUEST_CSUM */
	ck_assert_uint_eq(net_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO6)),
			  TUN_F_CSUM | TUN_F_TSO6);
}
END_TEST

START_TEST(test_tx_header)
{
	uint64_t csum = F(CSUM), tso = F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_UFO);
	struct virtio_net_hdr_v1 h = { .flags = 0 };

	ck_assert(net_tx_hdr_ok(&h, 0, 60));
	ck_assert(!net_tx_hdr_ok(&h, 0, 13));                   /* no Ethernet header */
	ck_assert(!net_tx_hdr_ok(&h, 0, NET_GSO_FRAME_MAX + 1));
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;                  /* receive only */
	ck_assert(!net_tx_hdr_ok(&h, csum, 60));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	ck_assert(!net_tx_hdr_ok(&h, 0, 60));                   /* CSUM not negotiated */
	ck_assert(net_tx_hdr_ok(&h, csum, 60));
	ck_assert(net_tx_hdr_ok(&h, csum, 42));                 /* field ends at 42 */
	ck_assert(!net_tx_hdr_ok(&h, csum, 41));
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	ck_assert(!net_tx_hdr_ok(&h, csum, NET_GSO_FRAME_MAX));
	h.csum_start = 34;
	h.csum_offset = 16;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	h.hdr_len = 66;
	ck_assert(!net_tx_hdr_ok(&h, csum, 9000));              /* HOST_TSO4 not taken */
	ck_assert(net_tx_hdr_ok(&h, tso, 9000));
	ck_assert(!net_tx_hdr_ok(&h, tso, 60));                 /* hdr_len past the end */
	h.gso_size = 0;
	ck_assert(!net_tx_hdr_ok(&h, tso, 9000));
	h.gso_size = 1448;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	ck_assert(!net_tx_hdr_ok(&h, tso, 9000));               /* HOST_ECN not offered */
	h.gso_type = 2;                                         /* no such type */
	ck_assert(!net_tx_hdr_ok(&h, tso, 9000));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert(net_tx_hdr_ok(&h, tso, 9000));
	ck_assert(!net_tx_hdr_ok(&h, F(CSUM) | F(HOST_TSO4), 9000));
}
END_TEST

START_TEST(test_rx_spread)
{
	const uint64_t cap[] = { 512, 512, 512, 100 };
	uint32_t used[4];

	ck_assert_uint_eq(net_rx_spread(cap, 4, 12 + 60, used), 1);
	ck_assert_uint_eq(used[0], 72);
	ck_assert_uint_eq(net_rx_spread(cap, 4, 512, used), 1);
	ck_assert_uint_eq(net_rx_spread(cap, 4, 513, used), 2);
	ck_assert_uint_eq(used[0], 512);
	ck_assert_uint_eq(used[1], 1);
	ck_assert_uint_eq(net_rx_spread(cap, 4, 1636, used), 4);
	ck_assert_uint_eq(used[3], 100);
	ck_assert_uint_eq(net_rx_spread(cap, 4, 1637, used), 0);        /* too large */
	ck_assert_uint_eq(net_rx_spread(cap, 1, 1526, used), 0);        /* one buffer only */
	ck_assert_uint_eq(net_rx_spread(cap, 4, 0, used), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The device on a TAP. */

#define MEM_GPA   0x100000ull
#define MEM_SIZE  0x40000u
#define RX_DESC   0x0000u               /* queue 0's rings */
#define RX_AVAIL  0x1000u
#define RX_USED   0x2000u
#define TX_DESC   0x3000u               /* queue 1's */
#define TX_AVAIL  0x4000u
#define TX_USED   0x5000u
#define BUFS      0x10000u              /* buffers from here, 4 KiB apart */
#define QSIZE     16u
#define TAP_NAME  "vmmunit0"

struct net_fixture {
	struct test_env te;
	uint8_t *buf;
	struct virtio_mmio *t;
	void *dev;
	int pkt;                        /* AF_PACKET socket on the TAP */
	int ifindex;
	uint16_t rx_avail, tx_avail;
};

/* A TAP of our own, up, in a namespace of our own. False: not root. */
static bool make_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	int fd, s;

	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "# virtio-net device tests skipped: no network namespace (%s)\n",
			strerror(errno));
		return false;
	}
	/* No IPv6 autoconfiguration: the host sends only the test's frames. */
	fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ck_assert_int_eq(write(fd, "1", 1), 1);
		close(fd);
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP_NAME);
	ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
	ck_assert_int_eq(ioctl(fd, TUNSETPERSIST, 1), 0);
	close(fd);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	return true;
}

static bool net_setup(struct net_fixture *f, uint64_t features)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_sec = 2 };

	memset(f, 0, sizeof(*f));
	if (!make_tap())
		return false;
	f->buf = calloc(1, MEM_SIZE);
	test_env_init(&f->te, f->buf, MEM_GPA, MEM_SIZE);
	ck_assert_int_eq(test_device_create(&f->te, "net", "tap=" TAP_NAME ",mac=02:00:00:00:00:07",
					    &test_virtio_res, &f->dev), 0);
	f->t = f->dev;
	ck_assert(drv_negotiate(f->t, features | (1ull << VIRTIO_F_VERSION_1)));
	drv_setup_queue(f->t, 0, QSIZE, MEM_GPA + RX_DESC, MEM_GPA + RX_AVAIL, MEM_GPA + RX_USED);
	drv_setup_queue(f->t, 1, QSIZE, MEM_GPA + TX_DESC, MEM_GPA + TX_AVAIL, MEM_GPA + TX_USED);
	drv_driver_ok(f->t);
	f->ifindex = (int)if_nametoindex(TAP_NAME);
	f->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ck_assert_int_ge(f->pkt, 0);
	sll.sll_ifindex = f->ifindex;
	ck_assert_int_eq(bind(f->pkt, (struct sockaddr *)&sll, sizeof(sll)), 0);
	setsockopt(f->pkt, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return true;
}

static void net_teardown(struct net_fixture *f)
{
	if (f->pkt >= 0)
		close(f->pkt);
	device_type_find("net")->destroy(f->dev);
	test_env_release(&f->te);
	free(f->buf);
}

static struct vring_desc *desc(struct net_fixture *f, uint32_t ring, unsigned int i)
{
	return (struct vring_desc *)(f->buf + ring) + i;
}

/* Make descriptor @i (one buffer of @len at BUFS + 4 KiB * @slot) available. */
static void post(struct net_fixture *f, bool rx, unsigned int i, unsigned int slot, uint32_t len)
{
	struct vring_avail *avail = (void *)(f->buf + (rx ? RX_AVAIL : TX_AVAIL));
	uint16_t *idx = rx ? &f->rx_avail : &f->tx_avail;

	*desc(f, rx ? RX_DESC : TX_DESC, i) = (struct vring_desc){
		.addr = MEM_GPA + BUFS + 0x1000ull * slot, .len = len,
		.flags = rx ? VRING_DESC_F_WRITE : 0,
	};
	avail->ring[*idx % QSIZE] = (uint16_t)i;
	__atomic_store_n(&avail->idx, ++*idx, __ATOMIC_RELEASE);
}

static uint8_t *slot_buf(struct net_fixture *f, unsigned int slot)
{
	return f->buf + BUFS + 0x1000u * slot;
}

static struct vring_used *used_ring(struct net_fixture *f, bool rx)
{
	return (void *)(f->buf + (rx ? RX_USED : TX_USED));
}

/* A frame of @len bytes (a broadcast with EtherType 0x88b5, a local
 * experimental one) sent by the host into the TAP. */
static void host_send(struct net_fixture *f, size_t len, uint8_t fill)
{
	uint8_t frame[2048];

	memset(frame, fill, len);
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	ck_assert_int_eq(send(f->pkt, frame, len, 0), (ssize_t)len);
}

/* What the device's I/O thread would do meanwhile. */
static void run_device(struct net_fixture *f)
{
	while (event_loop_dispatch(&f->te.loop, 200) > 0)
		;
}

static void notify(struct net_fixture *f, unsigned int q)
{
	drv_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* With MRG_RXBUF a frame spans as many buffers as it needs, and says how
 * many in num_buffers. */
START_TEST(test_rx_merged)
{
	struct net_fixture f;
	struct virtio_net_hdr_v1 h;
	struct vring_used *u;

	if (!net_setup(&f, F(MRG_RXBUF)))
		return;
	for (unsigned int i = 0; i < 4; i++)
		post(&f, true, i, i, 512);
	notify(&f, 0);
	host_send(&f, 1000, 0x5a);
	run_device(&f);
	u = used_ring(&f, true);
	ck_assert_uint_eq(u->idx, 2);
	ck_assert_uint_eq(u->ring[0].id, 0);
	ck_assert_uint_eq(u->ring[0].len, 512);
	ck_assert_uint_eq(u->ring[1].id, 1);
	ck_assert_uint_eq(u->ring[1].len, NET_HDR_SIZE + 1000 - 512);
	memcpy(&h, slot_buf(&f, 0), sizeof(h));
	ck_assert_uint_eq(h.num_buffers, 2);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_eq(slot_buf(&f, 0)[NET_HDR_SIZE + 12], 0x88);
	ck_assert_uint_eq(slot_buf(&f, 1)[NET_HDR_SIZE + 999 - 512], 0x5a);
	/* The next frame takes the next buffer, not the ones given back. */
	host_send(&f, 60, 0x33);
	run_device(&f);
	ck_assert_uint_eq(u->idx, 3);
	ck_assert_uint_eq(u->ring[2].id, 2);
	ck_assert_uint_eq(u->ring[2].len, NET_HDR_SIZE + 60);
	ck_assert_uint_eq(slot_buf(&f, 2)[NET_HDR_SIZE + 59], 0x33);
	net_teardown(&f);
}
END_TEST

/* Without MRG_RXBUF a frame must fit one buffer: one that does not is
 * dropped, and the buffer serves the next frame that fits. */
START_TEST(test_rx_too_small)
{
	struct net_fixture f;
	struct virtio_net_hdr_v1 h;
	struct vring_used *u;

	if (!net_setup(&f, 0))
		return;
	post(&f, true, 5, 0, 200);
	notify(&f, 0);
	host_send(&f, 1000, 0x11);
	run_device(&f);
	u = used_ring(&f, true);
	ck_assert_uint_eq(u->idx, 0);
	host_send(&f, 150, 0x22);
	run_device(&f);
	ck_assert_uint_eq(u->idx, 1);
	ck_assert_uint_eq(u->ring[0].id, 5);
	ck_assert_uint_eq(u->ring[0].len, NET_HDR_SIZE + 150);
	memcpy(&h, slot_buf(&f, 0), sizeof(h));
	ck_assert_uint_eq(h.num_buffers, 1);
	ck_assert_uint_eq(slot_buf(&f, 0)[NET_HDR_SIZE + 149], 0x22);
	net_teardown(&f);
}
END_TEST

/* No buffer posted: the device stops watching the TAP (no wake-ups while
 * frames wait), and reads them once the guest posts one. */
START_TEST(test_rx_no_buffers)
{
	struct net_fixture f;

	if (!net_setup(&f, F(MRG_RXBUF)))
		return;
	host_send(&f, 100, 0x44);
	run_device(&f);
	host_send(&f, 100, 0x45);
	ck_assert_int_eq(event_loop_dispatch(&f.te.loop, 100), 0);
	post(&f, true, 0, 0, 2048);
	post(&f, true, 1, 1, 2048);
	notify(&f, 0);
	run_device(&f);
	ck_assert_uint_eq(used_ring(&f, true)->idx, 2);
	ck_assert_uint_eq(slot_buf(&f, 0)[NET_HDR_SIZE + 99], 0x44);
	ck_assert_uint_eq(slot_buf(&f, 1)[NET_HDR_SIZE + 99], 0x45);
	net_teardown(&f);
}
END_TEST

/* A frame the host receives from the guest, or -1 within 300 ms. */
static ssize_t host_recv(struct net_fixture *f, uint8_t *frame, size_t len)
{
	struct timeval tv = { .tv_usec = 300000 };
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);

	setsockopt(f->pkt, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = recvfrom(f->pkt, frame, len, 0, (struct sockaddr *)&from, &fl);

		/* Our own sends show up as outgoing: not the guest's. */
		if (n < 0 || from.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

/* Transmit: a malformed header drops the frame (used, length 0), a good
 * one reaches the TAP without its header. */
START_TEST(test_tx)
{
	struct virtio_net_hdr_v1 *h;
	struct net_fixture f;
	uint8_t frame[256];

	if (!net_setup(&f, 0))
		return;
	h = (void *)slot_buf(&f, 8);
	memset(slot_buf(&f, 8), 0x66, 200);
	memset(h, 0, sizeof(*h));
	memset(slot_buf(&f, 8) + NET_HDR_SIZE, 0xff, 6);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM; /* CSUM not negotiated */
	post(&f, false, 0, 8, 200);
	notify(&f, 1);
	ck_assert_uint_eq(used_ring(&f, false)->idx, 1);
	ck_assert_uint_eq(used_ring(&f, false)->ring[0].len, 0);
	ck_assert_int_lt(host_recv(&f, frame, sizeof(frame)), 0);
	ck_assert_ptr_nonnull(strstr(f.te.log, "frame dropped"));
	h->flags = 0;
	post(&f, false, 1, 8, 200);
	notify(&f, 1);
	ck_assert_uint_eq(used_ring(&f, false)->idx, 2);
	ck_assert_int_eq(host_recv(&f, frame, sizeof(frame)), 200 - NET_HDR_SIZE);
	ck_assert_uint_eq(frame[0], 0xff);
	ck_assert_uint_eq(frame[199 - NET_HDR_SIZE], 0x66);
	/* Shorter than its header: dropped. */
	post(&f, false, 2, 8, 8);
	notify(&f, 1);
	ck_assert_uint_eq(used_ring(&f, false)->idx, 3);
	ck_assert_int_lt(host_recv(&f, frame, sizeof(frame)), 0);
	net_teardown(&f);
}
END_TEST

/* The state through save and restore: a device built again on the same
 * TAP goes on where the first one stopped; one with another MAC, a
 * truncated record or a newer version is refused. */
START_TEST(test_round_trip)
{
	struct net_fixture f;
	struct virtio_mmio_regs regs;
	struct virtq_state rxq;
	struct state_writer w;
	struct state_reader rd;
	const struct device_ops *net = device_type_find("net");
	void *other;

	if (!net_setup(&f, F(MRG_RXBUF)))
		return;
	post(&f, true, 0, 0, 2048);
	post(&f, true, 1, 1, 2048);
	notify(&f, 0);
	host_send(&f, 100, 0x71);
	run_device(&f);
	ck_assert_uint_eq(used_ring(&f, true)->idx, 1);
	regs = f.t->r;
	rxq = f.t->queues[0].vq.s;
	state_writer_init(&w);
	ck_assert_int_eq(net->save(f.dev, &w), 0);

	net->destroy(f.dev);
	ck_assert_int_eq(test_device_create(&f.te, "net", "tap=" TAP_NAME ",mac=02:00:00:00:00:07",
					    &test_virtio_res, &f.dev), 0);
	f.t = f.dev;
	for (size_t len = 0; len < w.len; len += 7) {
		state_reader_init(&rd, w.buf, len);
		ck_assert_int_lt(net->restore(f.dev, &rd), 0);
		ck_assert_uint_eq(f.t->r.status, 0);
	}
	w.buf[sizeof("virtio-mmio")]++;
	state_reader_init(&rd, w.buf, w.len);
	ck_assert_int_eq(net->restore(f.dev, &rd), -EPROTONOSUPPORT);
	w.buf[sizeof("virtio-mmio")]--;
	state_reader_init(&rd, w.buf, w.len);
	ck_assert_int_eq(net->restore(f.dev, &rd), 0);
	ck_assert_mem_eq(&f.t->r, &regs, sizeof(regs));
	ck_assert_mem_eq(&f.t->queues[0].vq.s, &rxq, sizeof(rxq));
	/* Receiving goes on into the buffer left. */
	host_send(&f, 80, 0x72);
	run_device(&f);
	ck_assert_uint_eq(used_ring(&f, true)->idx, 2);
	ck_assert_uint_eq(used_ring(&f, true)->ring[1].id, 1);
	ck_assert_uint_eq(slot_buf(&f, 1)[NET_HDR_SIZE + 79], 0x72);

	/* Another MAC: the guest would see its interface change. */
	ck_assert_int_eq(test_device_create(&f.te, "net", "tap=vmmunit1,mac=02:00:00:00:00:08",
					    &test_virtio_res, &other), -ENODEV);
	net->destroy(f.dev);
	ck_assert_int_eq(test_device_create(&f.te, "net", "tap=" TAP_NAME ",mac=02:00:00:00:00:08",
					    &test_virtio_res, &f.dev), 0);
	f.te.log[0] = 0;
	state_reader_init(&rd, w.buf, w.len);
	ck_assert_int_eq(net->restore(f.dev, &rd), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(f.te.log, "MAC address differs"));
	state_writer_release(&w);
	net_teardown(&f);
}
END_TEST

/* The TAP deleted under the device: said once, then nothing more to
 * serve (no loop on an error that stays). */
START_TEST(test_tap_gone)
{
	struct net_fixture f;

	if (!net_setup(&f, 0))
		return;
	post(&f, true, 0, 0, 2048);
	notify(&f, 0);
	close(f.pkt);
	ck_assert_int_eq(system("ip link del " TAP_NAME), 0);
	f.te.log[0] = 0;
	run_device(&f);
	ck_assert_ptr_nonnull(strstr(f.te.log, "the TAP failed"));
	ck_assert_int_eq(event_loop_dispatch(&f.te.loop, 100), 0);
	f.pkt = -1;
	net_teardown(&f);
}
END_TEST

/* The config space shows the MAC and the link up. */
START_TEST(test_config_space)
{
	struct net_fixture f;
	uint32_t w0, w1;

	if (!net_setup(&f, 0))
		return;
	w0 = drv_rd(f.t, VIRTIO_MMIO_CONFIG);
	w1 = drv_rd(f.t, VIRTIO_MMIO_CONFIG + 4);
	ck_assert_uint_eq(w0, 0x00000002);              /* 02:00:00:00 */
	ck_assert_uint_eq(w1 & 0xffff, 0x0700);         /* :00:07 */
	ck_assert_uint_eq(w1 >> 16, VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(drv_rd(f.t, VIRTIO_MMIO_DEVICE_ID), 1);
	net_teardown(&f);
}
END_TEST

/* The device on a socket pair instead of a TAP (net_create_on_fd(), what
 * the fuzz target drives; no root needed): a frame each way, the
 * offloads offered as given, their TUNSETOFFLOAD refused but harmless. */
START_TEST(test_on_socket)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	uint8_t frame[256];
	struct net_fixture f;
	int sv[2];

	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
				    sv), 0);
	f.pkt = sv[1];
	f.buf = calloc(1, MEM_SIZE);
	ck_assert_ptr_nonnull(f.buf);
	test_env_init(&f.te, f.buf, MEM_GPA, MEM_SIZE);
	ck_assert_int_eq(net_create_on_fd(&f.te.env, &test_virtio_res, sv[0], TUN_F_CSUM, mac,
					  &f.dev), 0);
	f.t = f.dev;
	drv_wr(f.t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(drv_rd(f.t, VIRTIO_MMIO_DEVICE_FEATURES) & (F(CSUM) | F(HOST_TSO4)),
			  F(CSUM));
	ck_assert_uint_eq(drv_rd(f.t, VIRTIO_MMIO_CONFIG + 4) & 0xffff, 0x0900); /* :00:09 */
	ck_assert(drv_negotiate(f.t, F(CSUM) | F(GUEST_CSUM) | (1ull << VIRTIO_F_VERSION_1)));
	drv_setup_queue(f.t, 0, QSIZE, MEM_GPA + RX_DESC, MEM_GPA + RX_AVAIL, MEM_GPA + RX_USED);
	drv_setup_queue(f.t, 1, QSIZE, MEM_GPA + TX_DESC, MEM_GPA + TX_AVAIL, MEM_GPA + TX_USED);
	drv_driver_ok(f.t);
	ck_assert_uint_eq(drv_rd(f.t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK,
			  VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_ptr_nonnull(strstr(f.te.log, "TUNSETOFFLOAD"));

	memset(slot_buf(&f, 8), 0, NET_HDR_SIZE);
	memset(slot_buf(&f, 8) + NET_HDR_SIZE, 0x77, 60);
	post(&f, false, 0, 8, NET_HDR_SIZE + 60);
	notify(&f, 1);
	ck_assert_uint_eq(used_ring(&f, false)->idx, 1);
	ck_assert_int_eq(recv(f.pkt, frame, sizeof(frame), 0), NET_HDR_SIZE + 60);
	ck_assert_uint_eq(frame[NET_HDR_SIZE + 59], 0x77);

	post(&f, true, 0, 0, 2048);
	notify(&f, 0);
	memset(frame, 0x55, sizeof(frame));
	memset(frame, 0, NET_HDR_SIZE);
	ck_assert_int_eq(send(f.pkt, frame, NET_HDR_SIZE + 100, 0), NET_HDR_SIZE + 100);
	run_device(&f);
	ck_assert_uint_eq(used_ring(&f, true)->idx, 1);
	ck_assert_uint_eq(used_ring(&f, true)->ring[0].len, NET_HDR_SIZE + 100);
	ck_assert_uint_eq(slot_buf(&f, 0)[NET_HDR_SIZE + 99], 0x55);
	net_teardown(&f);
}
END_TEST

Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *rules = tcase_create("rules");
	TCase *dev = tcase_create("device");
	TCase *sock = tcase_create("socket");

	tcase_add_test(rules, test_parse_mac);
	tcase_add_test(rules, test_default_mac);
	tcase_add_test(rules, test_offloads);
	tcase_add_test(rules, test_tx_header);
	tcase_add_test(rules, test_rx_spread);
	suite_add_tcase(s, rules);
	tcase_add_test(dev, test_rx_merged);
	tcase_add_test(dev, test_rx_too_small);
	tcase_add_test(dev, test_rx_no_buffers);
	tcase_add_test(dev, test_tx);
	tcase_add_test(dev, test_config_space);
	tcase_add_test(dev, test_round_trip);
	tcase_add_test(dev, test_tap_gone);
	suite_add_tcase(s, dev);
	tcase_add_test(sock, test_on_socket);
	suite_add_tcase(s, sock);
	return s;
}
