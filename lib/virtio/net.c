/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.x, 5.1) over a TAP device, on the virtio-mmio
 * transport: the device "net".
 *
 * The TAP must exist; the device attaches to it with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, so that every frame carries a 12-byte virtio_net_hdr_v1
 * both ways and offloads pass through untouched: the checksum and
 * segmentation offloads the TAP accepts are offered to the guest, and
 * those the driver takes are set on the TAP (TUNSETOFFLOAD) when it sets
 * DRIVER_OK.
 *
 * Queues: 0 receive, 1 transmit; both served by the device's I/O thread,
 * with the TAP descriptor (never blocking) watched by the same loop.
 *
 * Receive: frames are read straight into the guest's buffers, one readv()
 * a frame, so none waits in VMM memory. With MRG_RXBUF a frame spans as
 * many buffers as it needs (num_buffers); without, it must fit one. A
 * frame larger than the buffers is dropped and counted (a spill buffer
 * after the guest's tells how long it was), its buffers taken again for
 * the next one. When the guest has no buffer posted the TAP is not
 * watched until it posts one: no busy loop, and the frames wait in the
 * TAP's own queue (which drops when full, as a NIC does).
 *
 * Transmit: a chain of device-readable buffers, header first. The header
 * is copied and checked (offload flags only as negotiated, checksum
 * offsets inside the frame); a bad one, or a TAP write error, drops the
 * frame and counts it, never more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>

#include "config/keys.h"
#include "devices/device.h"
#include "virtio/mmio.h"
#include "virtio/net.h"

#define NET_QUEUE_SIZE  256u
#define NET_RXQ         0u
#define NET_TXQ         1u
#define NET_RX_BUDGET   256u            /* frames per TAP event */
#define NET_TX_BATCH    256u            /* frames per notification */
#define NET_TX_BUDGET   (16u << 20)     /* bytes per notification */
#define NET_RX_CHAINS   64u             /* buffers one frame may span */
#define NET_IOV_MAX     1024u           /* IOV_MAX */
#define NET_CONFIG_LEN  10u             /* mac, status, max_virtqueue_pairs */
#define NET_FRAME_MIN   (1500u + NET_ETH_HLEN + 4u)

#define F(bit) (1ull << VIRTIO_NET_F_##bit)
#define NET_GUEST_GSO   (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_UFO))

struct net_config {
	char *tap;
	char *mac;
	char *id;
};

static int net_check(const void *rec, const char *option, char *err, size_t errlen);

static const struct key_desc net_keys[] = {
	KEY_NONEMPTY("tap", struct net_config, tap, IFNAMSIZ - 1, true, "NAME",
		     "an existing TAP device to attach to"),
	KEY_NONEMPTY("mac", struct net_config, mac, 17, false, "xx:xx:xx:xx:xx:xx",
		     "the guest's MAC address (default: derived from the TAP)"),
	KEY_NONEMPTY("id", struct net_config, id, 32, false, "NAME",
		     "a name for messages (default: the TAP's)"),
	KEY_END,
};

/* Host-side counters: nothing a guest sees, not saved. */
struct net_stats {
	uint64_t rx_frames, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_frames, tx_bytes, tx_dropped, tx_errors;
};

struct virtio_net {
	struct virtio_mmio t;           /* first: a virtio device is its transport */
	char *name;
	int tap;
	bool t_ready;
	bool tap_watched;               /* registered with the loop */
	bool rx_paused;                 /* ... but not for input: no buffers */
	bool tap_gone;                  /* the TAP failed: never read again */
	bool tx_warned;
	unsigned int tun_offloads;      /* TUN_F_* the TAP accepts */
	uint32_t frame_max;             /* without segmentation offloads */
	uint8_t config[NET_CONFIG_LEN];
	struct net_stats st;
	struct virtq_chain chain;
	uint16_t rx_head[NET_RX_CHAINS];
	uint64_t rx_cap[NET_RX_CHAINS];
	uint32_t rx_used[NET_RX_CHAINS];
	struct iovec iov[NET_IOV_MAX];
	uint8_t spill[NET_HDR_SIZE + NET_GSO_FRAME_MAX];
};

/* ------------------------------------------------------------------ */
/* The rules (net.h). */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *text, uint8_t mac[6])
{
	uint8_t m[6];

	if (strlen(text) != 17)
		return -EINVAL;
	for (unsigned int i = 0; i < 6; i++) {
		const char *p = text + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, 6);
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EADDRNOTAVAIL;
	return 0;
}

void net_default_mac(uint64_t netns_inode, uint32_t ifindex, uint8_t mac[6])
{
	mac[0] = 0x06;                  /* locally administered, unicast */
	mac[1] = (uint8_t)(netns_inode >> 8);
	mac[2] = (uint8_t)netns_inode;
	mac[3] = (uint8_t)(ifindex >> 16);
	mac[4] = (uint8_t)(ifindex >> 8);
	mac[5] = (uint8_t)ifindex;
}

uint64_t net_offered_features(unsigned int tun)
{
	uint64_t f = F(MAC) | F(STATUS) | F(MRG_RXBUF);

	if (!(tun & TUN_F_CSUM))
		return f;
	f |= F(CSUM) | F(GUEST_CSUM);
	if (tun & TUN_F_TSO4)
		f |= F(HOST_TSO4) | F(GUEST_TSO4);
	if (tun & TUN_F_TSO6)
		f |= F(HOST_TSO6) | F(GUEST_TSO6);
	if (tun & TUN_F_UFO)
		f |= F(HOST_UFO) | F(GUEST_UFO);
	return f;
}

unsigned int net_tun_offloads(uint64_t f)
{
	unsigned int tun;

	/* Segments the guest cannot checksum are no use to it. */
	if (!(f & F(GUEST_CSUM)))
		return 0;
	tun = TUN_F_CSUM;
	if (f & F(GUEST_TSO4))
		tun |= TUN_F_TSO4;
	if (f & F(GUEST_TSO6))
		tun |= TUN_F_TSO6;
	if (f & F(GUEST_UFO))
		tun |= TUN_F_UFO;
	return tun;
}

bool net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t f, uint64_t frame_len)
{
	if (frame_len < NET_ETH_HLEN || frame_len > NET_GSO_FRAME_MAX)
		return false;
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;           /* DATA_VALID and RSC_INFO are for receive */
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (!(f & F(CSUM)) || (uint32_t)h->csum_start + h->csum_offset + 2u > frame_len))
		return false;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		f &= F(HOST_TSO4);
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		f &= F(HOST_TSO6);
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		f &= F(HOST_UFO);
		break;
	default:
		return false;           /* ECN is not offered */
	}
	return f && h->gso_size && h->hdr_len <= frame_len;
}

unsigned int net_rx_spread(const uint64_t *cap, unsigned int n, uint64_t len, uint32_t *used)
{
	unsigned int i;

	for (i = 0; i < n && len; i++) {
		used[i] = (uint32_t)(cap[i] < len ? cap[i] : len);
		len -= used[i];
	}
	return len || !i ? 0 : i;
}

static int net_check(const void *rec, const char *option, char *err, size_t errlen)
{
	const struct net_config *c = rec;
	uint8_t mac[6];
	int r = c->mac ? net_parse_mac(c->mac, mac) : 0;

	if (r == -EINVAL)
		snprintf(err, errlen, "--%s: key 'mac': '%s' is not a MAC address "
			 "(xx:xx:xx:xx:xx:xx)", option, c->mac);
	else if (r)
		snprintf(err, errlen, "--%s: key 'mac': %s is %s, not an interface address",
			 option, c->mac, mac[0] & 1 ? "multicast" : "all zero");
	return r ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* Receive. */

static uint64_t features(const struct virtio_net *n)
{
	return n->t.r.driver_features;
}

/* Watch the TAP for input, or only for its failure. */
static void rx_watch(struct virtio_net *n, bool input)
{
	if (!n->tap_watched || n->tap_gone || n->rx_paused == !input)
		return;
	if (event_loop_mod(n->t.loop, n->tap, input ? EPOLLIN : 0) == 0)
		n->rx_paused = !input;
}

/* Give buffers back: taken again for the next frame, or -- when a bad
 * chain came after them and unpopping would take it again -- returned
 * empty. */
static void rx_give_back(struct virtio_net *n, struct virtq *q, unsigned int from,
			 unsigned int k, bool clean)
{
	if (clean) {
		virtq_unpop(q, k - from);
		return;
	}
	for (unsigned int i = from; i < k; i++)
		virtq_push(q, n->rx_head[i], 0);
}

/* Lock held. Take buffers for one frame of up to @need bytes into n->iov.
 * Returns: how many; *niov the iovec entries; *clean false when a bad
 * chain was met (and given back empty). */
static unsigned int rx_gather(struct virtio_net *n, struct virtq *q, uint64_t need,
			      unsigned int *niov, bool *clean)
{
	bool mrg = features(n) & F(MRG_RXBUF);
	unsigned int k = 0, cnt = 0;
	uint64_t cap = 0;

	*clean = true;
	while (k < NET_RX_CHAINS && cap < need && (k == 0 || mrg) &&
	       cnt + VIRTQ_MAX_SIZE < NET_IOV_MAX) {
		struct virtq_chain *c = &n->chain;
		int r = virtq_pop(q, c);

		if (r == 0)
			break;
		if (r < 0 || c->nreadable || c->writable_len < (k ? 1 : NET_HDR_SIZE)) {
			if (r == -EPROTO)
				virtio_mmio_needs_reset(&n->t, "malformed available ring");
			else if (r < 0)
				virtio_mmio_guest_error(&n->t, "malformed receive chain: %s",
							strerror(-r));
			else {
				virtio_mmio_guest_error(&n->t, "receive buffer readable or shorter "
							"than the header");
				virtq_push(q, c->head, 0);
			}
			*clean = false;
			break;
		}
		n->rx_head[k] = c->head;
		n->rx_cap[k++] = c->writable_len;
		cap += c->writable_len;
		for (unsigned int i = 0; i < c->nseg; i++)
			n->iov[cnt++] = (struct iovec){ c->seg[i].hva, c->seg[i].len };
	}
	*niov = cnt;
	return k;
}

/* Write @len bytes at offset @off of the stream @iov[0..cnt). */
static void iov_write(const struct iovec *iov, unsigned int cnt, size_t off, const void *src,
		      size_t len)
{
	const uint8_t *s = src;

	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy((uint8_t *)iov[i].iov_base + off, s, chunk);
		s += chunk;
		len -= chunk;
		off = 0;
	}
}

/* The header fields the device owns: num_buffers, and no checksum flags
 * for a driver that cannot take them. */
static void rx_fix_header(struct virtio_net *n, unsigned int cnt, uint16_t nbuf)
{
	static const uint8_t no_flags;

	if (!(features(n) & F(GUEST_CSUM)))
		iov_write(n->iov, cnt, offsetof(struct virtio_net_hdr_v1, flags), &no_flags, 1);
	iov_write(n->iov, cnt, offsetof(struct virtio_net_hdr_v1, num_buffers), &nbuf, 2);
}

/* Lock held, any thread: stop reading a TAP that failed. Only the loop's
 * own thread drops the descriptor from the loop (tap_event). */
static void tap_failed(struct virtio_net *n, const char *why)
{
	device_count(&n->st.rx_errors, 1);
	if (n->tap_gone)
		return;
	env_err(n->t.env, "%s: the TAP failed (%s): the guest receives nothing more",
		n->name, why);
	rx_watch(n, false);
	n->tap_gone = true;
}

/* Lock held. Move one frame from the TAP to the guest.
 * Returns: true to go on, false when the TAP or the buffers ran out. */
static bool rx_frame(struct virtio_net *n, struct virtq *q)
{
	uint64_t need = NET_HDR_SIZE + (features(n) & NET_GUEST_GSO ? NET_GSO_FRAME_MAX :
								     n->frame_max);
	unsigned int cnt, k, used;
	bool clean;
	ssize_t len;

	k = rx_gather(n, q, need, &cnt, &clean);
	if (!k) {
		if (clean)
			rx_watch(n, false);
		return !clean;
	}
	n->iov[cnt] = (struct iovec){ n->spill, sizeof(n->spill) };
	len = readv(n->tap, n->iov, (int)cnt + 1);
	if (len < (ssize_t)NET_HDR_SIZE) {
		rx_give_back(n, q, 0, k, clean);
		if (len >= 0 || (errno != EAGAIN && errno != EINTR))
			tap_failed(n, len < 0 ? strerror(errno) : "short read");
		return false;
	}
	used = net_rx_spread(n->rx_cap, k, (uint64_t)len, n->rx_used);
	if (!used) {
		device_count(&n->st.rx_dropped, 1); /* larger than the guest's buffers */
		rx_give_back(n, q, 0, k, clean);
		return clean;
	}
	rx_fix_header(n, cnt, (uint16_t)used);
	for (unsigned int i = 0; i < used; i++)
		virtq_push(q, n->rx_head[i], n->rx_used[i]);
	rx_give_back(n, q, used, k, clean);
	device_count(&n->st.rx_frames, 1);
	device_count(&n->st.rx_bytes, (uint64_t)len - NET_HDR_SIZE);
	return true;
}

/* Lock held. */
static void rx_process(struct virtio_net *n)
{
	struct virtq *q = virtio_mmio_queue(&n->t, NET_RXQ);

	if (!q) {
		rx_watch(n, false);     /* until DRIVER_OK notifies the queue */
		return;
	}
	for (unsigned int i = 0; i < NET_RX_BUDGET && rx_frame(n, q); i++)
		;
	virtio_mmio_queue_done(&n->t, q);
}

/* The device's loop: input on the TAP (or its failure). */
static void tap_event(void *opaque, int fd, uint32_t events)
{
	struct virtio_net *n = opaque;

	(void)fd;
	virtio_mmio_lock(&n->t);
	if (events & (EPOLLERR | EPOLLHUP))
		tap_failed(n, "error or hang-up on its descriptor");
	else
		rx_process(n);
	if (n->tap_gone && n->tap_watched) {
		/* Errors are reported whatever is watched: no more of them. */
		event_loop_del(n->t.loop, n->tap);
		n->tap_watched = false;
	}
	virtio_mmio_unlock(&n->t);
}

/* ------------------------------------------------------------------ */
/* Transmit. */

static void tx_drop(struct virtio_net *n, const char *why)
{
	device_count(&n->st.tx_dropped, 1);
	virtio_mmio_guest_error(&n->t, "frame dropped: %s", why);
}

static uint32_t tx_frame(struct virtio_mmio *t, struct virtq_chain *c)
{
	struct virtio_net *n = t->opaque;
	struct virtio_net_hdr_v1 h;
	struct virtq_cursor cur;
	uint64_t len = c->readable_len - NET_HDR_SIZE;
	ssize_t r;
	int cnt;

	if (c->nreadable != c->nseg) {
		tx_drop(n, "a transmit chain with a device-writable buffer");
		return 0;
	}
	virtq_cursor_init(&cur, c->seg, c->nseg);
	if (!virtq_cursor_read(&cur, &h, sizeof(h))) {
		tx_drop(n, "shorter than its header");
		return 0;
	}
	/* Checked on our copy: the guest may change its own meanwhile. */
	if (!net_tx_hdr_ok(&h, features(n), len)) {
		tx_drop(n, "malformed header or frame length");
		return 0;
	}
	h.num_buffers = 0;
	n->iov[0] = (struct iovec){ &h, sizeof(h) };
	cnt = 1 + virtq_cursor_iov(&cur, len, n->iov + 1);
	r = writev(n->tap, n->iov, cnt);
	if (r < 0) {
		device_count(&n->st.tx_errors, 1);
		if (!n->tx_warned)
			env_warn(t->env, "%s: TAP write: %s (frames are dropped)", n->name,
				 strerror(errno));
		n->tx_warned = true;
		return 0;
	}
	device_count(&n->st.tx_frames, 1);
	device_count(&n->st.tx_bytes, len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Transport callbacks. */

static void net_queue_notify(struct virtio_mmio *t, unsigned int index)
{
	static const struct virtio_mmio_budget budget = {
		.chains = NET_TX_BATCH, .bytes = NET_TX_BUDGET,
	};
	struct virtio_net *n = t->opaque;

	if (index == NET_TXQ) {
		virtio_mmio_serve(t, index, &n->chain, tx_frame, &budget);
		return;
	}
	/* Receive buffers posted: read the TAP again. */
	rx_watch(n, true);
	rx_process(n);
}

static void set_offloads(struct virtio_net *n, unsigned int tun)
{
	if (ioctl(n->tap, TUNSETOFFLOAD, tun) < 0)
		env_warn(n->t.env, "%s: TUNSETOFFLOAD 0x%x: %s", n->name, tun, strerror(errno));
}

static void net_driver_ok(struct virtio_mmio *t)
{
	struct virtio_net *n = t->opaque;

	set_offloads(n, net_tun_offloads(features(n)));
}

static void net_reset(struct virtio_mmio *t)
{
	set_offloads(t->opaque, 0);
}

static const struct virtio_mmio_ops net_ops = {
	.queue_notify = net_queue_notify,
	.driver_ok = net_driver_ok,
	.reset = net_reset,
};

/* ------------------------------------------------------------------ */
/* The TAP. */

static int tap_attach_error(const struct device_env *env, const char *tap, int err)
{
	switch (err) {
	case -EBUSY:
		env_err(env, "virtio-net: TAP %s is already attached to another process: "
			"give each --net a TAP of its own", tap);
		break;
	case -EPERM:
	case -EACCES:
		env_err(env, "virtio-net: no permission to attach to TAP %s: it belongs to another "
			"user or group; recreate it with 'ip tuntap add dev %s mode tap user "
			"$(id -un)' or run as its owner", tap, tap);
		break;
	case -EINVAL:
		env_err(env, "virtio-net: %s is not a single-queue TAP device: create one with "
			"'ip tuntap add dev %s mode tap'", tap, tap);
		break;
	default:
		env_err(env, "virtio-net: cannot attach to TAP %s: %s", tap, strerror(-err));
		break;
	}
	return err;
}

/* Attach to the existing TAP @name. Returns: the fd or a negative errno. */
static int tap_open(const struct device_env *env, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr = NET_HDR_SIZE, fd, r;

	/* TUNSETIFF would create a missing one: attach only. */
	if (!if_nametoindex(name)) {
		env_err(env, "virtio-net: no network interface %s: create the TAP with 'ip tuntap "
			"add dev %s mode tap user $(id -un)' and 'ip link set %s up'",
			name, name, name);
		return -ENODEV;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		env_err(env, "virtio-net: cannot open /dev/net/tun for TAP %s: %s (is the tun "
			"module loaded?)", name, strerror(-r));
		return r;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = tap_attach_error(env, name, -errno);
		close(fd);
		return r;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		r = -errno;
		env_err(env, "virtio-net: TAP %s: TUNSETVNETHDRSZ: %s", name, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* The offloads the TAP accepts, most first; none set until DRIVER_OK. */
static unsigned int tap_probe_offloads(int fd)
{
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	unsigned int got = 0;

	for (unsigned int i = 0; i < sizeof(tries) / sizeof(tries[0]) && !got; i++)
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0)
			got = tries[i];
	ioctl(fd, TUNSETOFFLOAD, 0);
	return got;
}

/* The TAP's MTU (its largest frame), and a warning when it is down. */
static void tap_inspect(struct virtio_net *n, const char *tap)
{
	struct ifreq ifr = { .ifr_flags = 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 1500)
		n->frame_max = (uint32_t)ifr.ifr_mtu + NET_ETH_HLEN + 4u;
	if (n->frame_max > NET_GSO_FRAME_MAX)
		n->frame_max = NET_GSO_FRAME_MAX;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		env_warn(n->t.env, "%s: TAP %s is down: the guest's frames are dropped until "
			 "'ip link set %s up'", n->name, tap, tap);
	close(s);
}

static void pick_mac(const struct net_config *cfg, uint8_t mac[6])
{
	struct stat st;

	if (cfg->mac && net_parse_mac(cfg->mac, mac) == 0)
		return;
	net_default_mac(stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0,
			if_nametoindex(cfg->tap), mac);
}

/* ------------------------------------------------------------------ */
/* Life cycle. */

static void net_destroy(void *dev)
{
	struct virtio_net *n = dev;

	if (n->tap_watched)
		event_loop_del(n->t.loop, n->tap);
	if (n->t_ready)
		virtio_mmio_release(&n->t);
	if (n->tap >= 0)
		close(n->tap);
	free(n->name);
	free(n);
}

/* The transport and config space of @n, whose n->tap is open. */
static int net_init(const struct device_env *env, struct virtio_net *n,
		    unsigned int tun_offloads, const uint8_t mac[6])
{
	struct virtio_mmio_desc d = {
		.name = n->name,
		.device_id = VIRTIO_ID_NET,
		.num_queues = 2,
		.queue_size_max = NET_QUEUE_SIZE,
		.features = net_offered_features(tun_offloads),
		.config = n->config,
		.config_len = NET_CONFIG_LEN,
		.ops = &net_ops,
		.opaque = n,
	};
	uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1;
	int r;

	n->tun_offloads = tun_offloads;
	n->frame_max = NET_FRAME_MIN;
	memcpy(n->config, mac, 6);
	memcpy(n->config + 6, &status, 2);
	memcpy(n->config + 8, &pairs, 2);
	r = virtio_mmio_init(&n->t, &d, env);
	n->t_ready = !r;
	return r;
}

static int net_open(const struct device_env *env, const struct net_config *cfg,
		    struct virtio_net *n)
{
	uint8_t mac[6];
	int r;

	if (asprintf(&n->name, "virtio-net %s", cfg->id ? cfg->id : cfg->tap) < 0) {
		n->name = NULL;
		return -ENOMEM;
	}
	r = tap_open(env, cfg->tap);
	if (r < 0)
		return r;
	n->tap = r;
	pick_mac(cfg, mac);
	r = net_init(env, n, tap_probe_offloads(n->tap), mac);
	if (!r)
		tap_inspect(n, cfg->tap);
	return r;
}

/* Attach @n, initialised, at @res and watch its TAP; destroys it on
 * failure. */
static int net_start(const struct device_env *env, const struct device_resources *res,
		     struct virtio_net *n, void **dev)
{
	const uint8_t *m = n->config;
	int r = virtio_mmio_attach(&n->t, res);

	if (!r)
		r = event_loop_add(n->t.loop, n->tap, 0, tap_event, n);
	if (r < 0) {
		net_destroy(n);
		return r;
	}
	n->tap_watched = true;
	n->rx_paused = true;            /* until DRIVER_OK */
	env_info(env, "%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, offloads 0x%x", n->name,
		 m[0], m[1], m[2], m[3], m[4], m[5], n->tun_offloads);
	*dev = n;
	return 0;
}

static int net_create(const struct device_env *env, const struct device_resources *res,
		      const void *config, void **dev)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->tap = -1;
	r = net_open(env, config, n);
	if (r < 0) {
		net_destroy(n);
		return r;
	}
	return net_start(env, res, n, dev);
}

int net_create_on_fd(const struct device_env *env, const struct device_resources *res, int fd,
		     unsigned int tun_offloads, const uint8_t mac[6], void **dev)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	int r;

	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	n->tap = fd;
	if (asprintf(&n->name, "virtio-net fd %d", fd) < 0) {
		n->name = NULL;
		net_destroy(n);
		return -ENOMEM;
	}
	r = net_init(env, n, tun_offloads, mac);
	if (r < 0) {
		net_destroy(n);
		return r;
	}
	return net_start(env, res, n, dev);
}

/* ------------------------------------------------------------------ */
/* Save and restore. */

#define NET_STATE_VERSION 1

/* What the device shows the guest beyond its transport. */
static void net_shown_save(const void *dev, struct state_writer *w)
{
	const struct virtio_net *n = dev;

	state_put_bytes(w, n->config, sizeof(n->config));
}

static const struct virtio_mmio_shown net_shown = {
	.record = "virtio-net",
	.version = NET_STATE_VERSION,
	.put = net_shown_save,
	.differs = "the MAC address differs from the saved one",
};

static int net_save(void *dev, struct state_writer *w)
{
	return virtio_mmio_save_shown(dev, &net_shown, w);
}

static int net_restore(void *dev, struct state_reader *rd)
{
	struct virtio_net *n = dev;
	int r = virtio_mmio_restore_shown(&n->t, &net_shown, rd);

	if (r)
		return r;
	virtio_mmio_lock(&n->t);
	set_offloads(n, n->t.r.status & VIRTIO_CONFIG_S_DRIVER_OK ?
			net_tun_offloads(features(n)) : 0);
	rx_watch(n, true);              /* the TAP may hold frames for the buffers */
	virtio_mmio_unlock(&n->t);
	return 0;
}

static int net_stats(void *dev, device_stat_fn put, void *data)
{
	const struct net_stats *st = &((struct virtio_net *)dev)->st;
	const struct device_counter c[] = {
		{ "rx_frames", &st->rx_frames }, { "rx_bytes", &st->rx_bytes },
		{ "rx_dropped", &st->rx_dropped }, { "rx_errors", &st->rx_errors },
		{ "tx_frames", &st->tx_frames }, { "tx_bytes", &st->tx_bytes },
		{ "tx_dropped", &st->tx_dropped }, { "tx_errors", &st->tx_errors },
	};

	return device_put_counters(put, data, c, sizeof(c) / sizeof(c[0]));
}

const struct device_ops virtio_net_device = {
	.name = "net",
	.summary = "a virtio-net interface on an existing TAP device",
	.keys = net_keys,
	.check = net_check,
	.config_size = sizeof(struct net_config),
	.max = NET_MAX_DEVICES,
	.wants = VIRTIO_MMIO_WANTS,
	.create = net_create,
	.reset = virtio_mmio_dev_reset,
	.save = net_save,
	.restore = net_restore,
	.destroy = net_destroy,
	.stats = net_stats,
};
