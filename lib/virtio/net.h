/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net over a TAP device: the rules of net.c that need no TAP and
 * no VM -- MAC addresses, offloads, the transmit header check and how a
 * received frame is spread over the guest's buffers -- apart, so that
 * the unit tests reach them.
 */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "devices/device.h"

#define NET_MAX_DEVICES   8u
#define NET_HDR_SIZE      ((uint32_t)sizeof(struct virtio_net_hdr_v1))  /* 12 */
#define NET_ETH_HLEN      14u
/* Largest frame a TAP hands over with segmentation offloads: a 64 KiB
 * IP packet, an Ethernet header and a VLAN tag. */
#define NET_GSO_FRAME_MAX (65535u + NET_ETH_HLEN + 4u)

/*
 * "xx:xx:xx:xx:xx:xx" (hex digits, either case) into @mac.
 * Returns: 0, -EINVAL (not a MAC address) or -EADDRNOTAVAIL (multicast or
 * all-zero: no address for a network interface; @mac holds it).
 */
int net_parse_mac(const char *text, uint8_t mac[6]);

/*
 * The MAC address of a device without mac=: locally administered unicast
 * 06:NN:NN:II:II:II, NN the low 16 bits of the inode of the network
 * namespace the TAP is in, II the TAP's interface index there (low 24
 * bits). Interface indices are unique in a namespace, so two devices of
 * one VM, or two VMs with TAPs in one namespace, never get the same one.
 */
void net_default_mac(uint64_t netns_inode, uint32_t ifindex, uint8_t mac[6]);

/* The device features a TAP accepting TUN_F_* offloads @tun_offloads
 * lets us offer (VIRTIO_NET_F_*). */
uint64_t net_offered_features(unsigned int tun_offloads);

/* The TUN_F_* offloads to set on the TAP for the driver features @f: what
 * the guest can receive. */
unsigned int net_tun_offloads(uint64_t f);

/* Whether a transmit header is one the driver may send with features
 * @f for a frame of @frame_len bytes (after the header). */
bool net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t f, uint64_t frame_len);

/*
 * A received frame of @len bytes (header included) over buffers of
 * @cap[0..n) bytes, filled in order: the used length of each in
 * @used[0..n). Returns: how many buffers it takes, or 0 when it does not
 * fit in all of them.
 */
unsigned int net_rx_spread(const uint64_t *cap, unsigned int n, uint64_t len, uint32_t *used);

/*
 * The device "net" at @res over @fd instead of a TAP it attaches to: any
 * non-blocking descriptor that carries one frame, after its
 * virtio_net_hdr_v1, a read and a write (a SOCK_SEQPACKET socket: the
 * fuzz target). It offers the offloads of @tun_offloads (TUN_F_*), shows
 * MAC @mac and owns @fd from now on, whatever happens. As create()
 * otherwise: returns 0 and the device in *@dev, or a negative errno.
 */
int net_create_on_fd(const struct device_env *env, const struct device_resources *res, int fd,
		     unsigned int tun_offloads, const uint8_t mac[6], void **dev);

#endif
