// SPDX-License-Identifier: Apache-2.0
/*
 * net guest: a minimal virtio-mmio (version 2) virtio-net driver (virtio
 * 1.x, 5.1) and just enough IPv4 to exercise the VMM's network device
 * (--net tap=NAME) from tests/guest-net.sh,
 * tests/guest-net-blocked-disk.sh and bench/net.
 *
 * Devices are found through the "virtio_mmio.device=SIZE@BASE:IRQ"
 * parameters in slot order; the first with device ID 1 is driven, every
 * other one only has its MAC read. Features: VERSION_1, MAC, STATUS, and
 * with net_mrg=1 MRG_RXBUF; no offloads, so every frame is plain and at
 * most 1514 bytes. Queue 0 (receiveq) gets 16 buffers of two descriptors,
 * the 12-byte header apart from 2036 data bytes, or with MRG_RXBUF 32
 * single-descriptor buffers of 512 bytes (a full frame spans 3). Queue 1
 * (transmitq) sends from 16 slots, alternately one descriptor (header and
 * frame adjacent) and two (header, then the frame 52 bytes further on).
 * Waits are hlt, woken by the devices' interrupts or a 10 ms LAPIC timer
 * tick that is also the clock.
 *
 * Addresses: the guest is 192.0.2.2, the host end of the TAP 192.0.2.1.
 * Default: prints the MACs, checks the link is up, sends an ARP request
 * for the host and checks the reply (net-arp), an ICMP echo request and
 * checks the reply's id, sequence and payload (net-icmp), prints
 * "NET READY", then serves: answers ARP requests for 192.0.2.2 and ICMP
 * echo requests, echoes every UDP datagram to port 7 back to its sender
 * and every byte arriving on COM1 as "CONSOLE <hex>", until a datagram
 * "quit" arrives on port 7 or net_serve seconds have passed. Every frame
 * received is checked on the way: header flags, gso_type and num_buffers,
 * lengths, IPv4 header, ICMP and (non-zero) UDP checksums.
 * Command line:
 *   net_serve=SECONDS   how long to serve at most (default 60)
 *   net_mrg=1           negotiate VIRTIO_NET_F_MRG_RXBUF (512-byte buffers)
 *   net_norx=1          instead: both queues set up, DRIVER_OK, but no
 *                       receive buffer ever posted; "NET READY", then idle
 *                       in hlt for net_serve seconds
 *   net_blk=1           also drive the first virtio-blk device: right after
 *                       "NET READY" submit a 4 KiB write to sector 0 and a
 *                       flush without waiting; print "BLK DONE <status>"
 *                       (0 when both completed OK) once both completed,
 *                       and FAIL net-blk at the end unless they did
 *   net_bench_tx=SECONDS  benchmark (bench/net), right after "NET READY":
 *                       send UDP datagrams to 192.0.2.1 port 9 as fast as
 *                       the transmit slots allow, until the datagram
 *                       "end tx" comes to port 9 or SECONDS have passed
 *   net_bench_rx=SECONDS  then count and discard the datagrams to port 9
 *                       (their UDP checksums unchecked) until "end rx" or
 *                       SECONDS; serving follows both
 *   net_bench_size=BYTES  payload of the datagrams sent (default 1400, at
 *                       most 1472)
 * Prints "NET MAC <n> <mac>" for the n-th virtio-net device, "NET READY",
 * with net_bench_* "BENCH START <phase>" and "BENCH END <phase> <n>
 * datagrams <bytes> bytes[ timeout]" for tx and rx,
 * "NET END quit" or "NET END timeout", "NET COUNTERS ...", with net_mrg=1
 * "NET MRG max buffers <n>", then the usual PASS/FAIL lines and finish().
 */
#include "virtio.h"

#define VIRTIO_ID_NET           1
#define VIRTIO_ID_BLK           2

#define F_NET_MAC               5
#define F_NET_MRG_RXBUF         15
#define F_NET_STATUS            16
#define NET_S_LINK_UP           1
#define NET_QUEUE_MAX           256

#define RXQ                     0
#define TXQ                     1
#define NET_HDR_LEN             12
#define RX_BUF_LEN              2048u   /* header and data, without MRG_RXBUF */
#define RX_DATA_LEN             (RX_BUF_LEN - NET_HDR_LEN)
#define MRG_BUF_LEN             512u
#define TX_BUF_LEN              2048u
#define TX_SPLIT_GAP            52u     /* header to frame, two-descriptor slots */
#define MAX_RX                  VIRTIO_QSIZE
#define MAX_TX                  (VIRTIO_QSIZE / 2)

#define ETH_HLEN                14
#define ETH_FRAME_MAX           1514u
#define ETH_P_IP                0x0800
#define ETH_P_ARP               0x0806
#define IP_PROTO_ICMP           1
#define IP_PROTO_UDP            17
#define ECHO_PORT               7
#define BENCH_PORT              9       /* discard */
#define BENCH_SIZE              1400u
#define UDP_PAYLOAD_MAX         1472u   /* a 1500-byte MTU less IPv4 and UDP */
#define ICMP_ID                 0x4e54
#define ICMP_SEQ                1
#define ICMP_DATA_LEN           56u

#define TICK_VECTOR             0x41
#define TICK_MS                 10
#define TICK_COUNT              10000000u       /* 10 ms at KVM's 1 GHz, divide by 1 */
#define TRIES                   5
#define TRY_TICKS               100             /* 1 s per ARP / ICMP attempt */
#define MAX_BAD_SHOWN           5

#define BLK_T_OUT               1
#define BLK_T_FLUSH             4
#define F_BLK_FLUSH             9
#define BLK_S_NONE              0xff
#define BLK_WRITE_LEN           4096u

struct net_hdr {
	u8 flags;
	u8 gso_type;
	u16 hdr_len;
	u16 gso_size;
	u16 csum_start;
	u16 csum_offset;
	u16 num_buffers;
};

struct blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

/* One virtio_mmio.device= entry. */
struct vdev {
	struct virtio_entry e;
	u32 id;                         /* device ID, 0 when no virtio device */
};

static const u8 my_ip[4] = { 192, 0, 2, 2 };
static const u8 host_ip[4] = { 192, 0, 2, 1 };
static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct vdev vdevs[VIRTIO_MAX_DEVS];
static struct virtio_dev net, blk;
static u8 mac[6], host_mac[6];
static bool mrg;
static unsigned int nrx, ntx;
static u32 rx_len;                      /* bytes per receive buffer */

static u8 rx_hdr[MAX_RX][16] __attribute__((aligned(16)));
static u8 rx_data[MAX_RX][RX_BUF_LEN] __attribute__((aligned(4096)));
static u8 tx_mem[MAX_TX][TX_BUF_LEN] __attribute__((aligned(4096)));
static bool tx_busy[MAX_TX];
static bool tx_bench[MAX_TX];           /* the slot holds the tx phase's frame */
static unsigned int tx_next, tx_inflight;
static u8 pkt[RX_BUF_LEN];              /* a frame gathered from merged buffers */

static volatile u64 ticks;

/* What the frames seen so far proved. */
static bool host_mac_known, icmp_reply_ok, quit;
static struct {
	u64 rx, tx, rx_bytes, tx_bytes, arp, icmp, udp, ignored, tx_dropped, bad;
	u32 mrg_max;
} cnt;

/* net_bench_tx= / net_bench_rx=: the phase running ("tx", "rx" or NULL),
 * whether its "end <phase>" datagram came, what it moved. */
static const char *bench_phase;
static bool bench_end;
static u64 bench_datagrams, bench_bytes;

/* net_blk=1 */
static struct blk_req_hdr blk_hdr[2] __attribute__((aligned(16)));
static volatile u8 blk_status[2];
static u8 blk_data[BLK_WRITE_LEN] __attribute__((aligned(4096)));
static bool blk_flush, blk_busy, blk_done[2];

/* ------------------------------------------------------------ helpers */

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

/* The ones' complement sum of @len bytes, added to @sum. */
static u32 csum_add(u32 sum, const u8 *p, u32 len)
{
	u32 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	return sum;
}

static u16 csum_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

static void print_mac(unsigned int n, const u8 *m)
{
	kprintf("NET MAC %u %02x:%02x:%02x:%02x:%02x:%02x\n", n, m[0], m[1], m[2], m[3], m[4],
		m[5]);
}

/* Counts a malformed frame or header: true for the first few, which FAIL
 * with the details (the count is printed at the end). */
static bool count_bad(void)
{
	return cnt.bad++ < MAX_BAD_SHOWN;
}

/* ------------------------------------------------------------ time */

static void tick_irq(unsigned int vector)
{
	ticks++;
	lapic_write(LAPIC_EOI, 0);
}

static void tick_start(void)
{
	idt_set_handler(TICK_VECTOR, tick_irq);
	lapic_write(LAPIC_TIMER_DCR, 0xb);                      /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, TICK_VECTOR | 1u << 17);   /* periodic */
	lapic_write(LAPIC_TIMER_ICR, TICK_COUNT);
}

/* Until the next interrupt: interrupts are off everywhere else, and one
 * that came since the caller last looked is delivered right after sti. */
static void idle(void)
{
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}

/* ------------------------------------------------------------ transmit */

static void tx_reap(void)
{
	struct virtqueue *q = &net.vq[TXQ];
	u32 slot;

	while (virtio_next_used(q, NULL)) {
		slot = q->last_id / 2;
		if ((q->last_id & 1) || slot >= ntx || !tx_busy[slot]) {
			if (count_bad())
				fail("net-tx", "used element with id %u, not an outstanding chain",
				     q->last_id);
			continue;
		}
		tx_busy[slot] = false;
		tx_inflight--;
	}
}

/* The frame area of slot @s. */
static u8 *tx_frame_at(unsigned int s)
{
	return tx_mem[s] + NET_HDR_LEN + (s & 1 ? TX_SPLIT_GAP : 0);
}

/* Where the next frame goes: the frame area of a free slot, or NULL when
 * every slot stays busy for a second (the frame is then dropped). */
static u8 *tx_begin(void)
{
	u64 until = ticks + TRY_TICKS;

	tx_reap();
	while (tx_busy[tx_next]) {
		if (ticks >= until) {
			cnt.tx_dropped++;
			return NULL;
		}
		idle();
		tx_reap();
	}
	tx_bench[tx_next] = false;
	return tx_frame_at(tx_next);
}

/* Makes the @len-byte frame written at tx_frame_at(tx_next) available,
 * without notifying the device. A slot still holding the tx phase's frame
 * was sent from before: its header and gap are in place. */
static void tx_post(u32 len)
{
	struct virtqueue *q = &net.vq[TXQ];
	unsigned int s = tx_next, d = 2 * s;
	u8 *buf = tx_mem[s];

	if (!tx_bench[s]) {
		memset(buf, 0, NET_HDR_LEN);    /* no offload, GSO_NONE */
		/* What a device reading past the header's descriptor would send. */
		if (s & 1)
			memset(buf + NET_HDR_LEN, 0xee, TX_SPLIT_GAP);
	}
	if (s & 1) {
		q->desc[d] = (struct vring_desc){ (u64)buf, NET_HDR_LEN, VRING_DESC_F_NEXT,
						  (u16)(d + 1) };
		q->desc[d + 1] = (struct vring_desc){ (u64)(buf + NET_HDR_LEN + TX_SPLIT_GAP),
						      len, 0, 0 };
	} else {
		q->desc[d] = (struct vring_desc){ (u64)buf, NET_HDR_LEN + len, 0, 0 };
	}
	tx_busy[s] = true;
	tx_inflight++;
	tx_next = (s + 1) % ntx;
	cnt.tx++;
	cnt.tx_bytes += len;
	virtio_publish(q, (u16)d);
}

/* Sends the @len-byte frame written at what tx_begin() returned. */
static void tx_commit(u32 len)
{
	tx_post(len);
	virtio_notify(&net.vq[TXQ]);
}

/* Ethernet header of a frame from us to @dst. */
static void eth_header(u8 *f, const u8 *dst, u16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	put_be16(f + 12, type);
}

static void arp_send(u16 oper, const u8 *tha, const u8 *tpa, const u8 *dst)
{
	u8 *f = tx_begin();

	if (!f)
		return;
	eth_header(f, dst, ETH_P_ARP);
	put_be16(f + 14, 1);                    /* Ethernet */
	put_be16(f + 16, ETH_P_IP);
	f[18] = 6;
	f[19] = 4;
	put_be16(f + 20, oper);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, my_ip, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
	tx_commit(42);
}

static void ip_checksum(u8 *ip)
{
	u32 hl = (ip[0] & 0xf) * 4u;

	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_fold(csum_add(0, ip, hl)));
}

/* An IPv4 header from us to the host for @len bytes of @proto. */
static void ip_to_host(u8 *ip, u8 proto, u32 len)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (u16)(20 + len));
	put_be16(ip + 6, 0x4000);               /* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, host_ip, 4);
	ip_checksum(ip);
}

static void icmp_payload(u8 *p)
{
	u32 i;

	for (i = 0; i < ICMP_DATA_LEN; i++)
		p[i] = (u8)(i * 7 + 3);
}

static void icmp_request(void)
{
	u8 *f = tx_begin(), *ip, *icmp;
	u32 ilen = 8 + ICMP_DATA_LEN;

	if (!f)
		return;
	eth_header(f, host_mac, ETH_P_IP);
	ip = f + ETH_HLEN;
	ip_to_host(ip, IP_PROTO_ICMP, ilen);
	icmp = ip + 20;
	icmp[0] = 8;
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 4, ICMP_ID);
	put_be16(icmp + 6, ICMP_SEQ);
	icmp_payload(icmp + 8);
	put_be16(icmp + 2, csum_fold(csum_add(0, icmp, ilen)));
	tx_commit(ETH_HLEN + 20 + ilen);
}

/* Copies the IPv4 frame @f (@len bytes) into a transmit slot addressed
 * back to its sender; the caller fixes up the transport header. */
static u8 *ip_reply(const u8 *f, u32 len)
{
	u8 *r = tx_begin(), *ip;

	if (!r)
		return NULL;
	memcpy(r, f, len);
	eth_header(r, f + 6, ETH_P_IP);
	ip = r + ETH_HLEN;
	memcpy(ip + 12, my_ip, 4);
	memcpy(ip + 16, f + ETH_HLEN + 12, 4);
	ip[8] = 64;
	ip_checksum(ip);
	return r;
}

/* ------------------------------------------------------------ receive */

static void handle_arp(const u8 *f, u32 len)
{
	const u8 *a = f + ETH_HLEN;
	u16 oper;

	if (len < ETH_HLEN + 28 || be16(a) != 1 || be16(a + 2) != ETH_P_IP || a[4] != 6 ||
	    a[5] != 4) {
		cnt.ignored++;
		return;
	}
	oper = be16(a + 6);
	if (memcmp(a + 24, my_ip, 4)) {
		cnt.ignored++;
	} else if (oper == 1) {
		cnt.arp++;
		arp_send(2, a + 8, a + 14, a + 8);
	} else if (oper == 2 && !memcmp(a + 14, host_ip, 4)) {
		memcpy(host_mac, a + 8, 6);
		host_mac_known = true;
	} else {
		cnt.ignored++;
	}
}

static void handle_icmp(const u8 *f, u32 len, const u8 *icmp, u32 ilen)
{
	u8 *r, *ri;

	if (ilen < 8 || csum_fold(csum_add(0, icmp, ilen)) != 0) {
		if (count_bad())
			fail("net-rx-csum", "ICMP message of %u bytes: bad checksum 0x%x", ilen,
			     be16(icmp + 2));
		return;
	}
	if (icmp[0] == 8 && icmp[1] == 0) {
		r = ip_reply(f, len);
		if (!r)
			return;
		ri = r + (icmp - f);
		ri[0] = 0;
		put_be16(ri + 2, 0);
		put_be16(ri + 2, csum_fold(csum_add(0, ri, ilen)));
		cnt.icmp++;
		tx_commit(len);
	} else if (icmp[0] == 0 && !icmp_reply_ok) {
		u8 want[ICMP_DATA_LEN];

		icmp_payload(want);
		if (be16(icmp + 4) != ICMP_ID || be16(icmp + 6) != ICMP_SEQ ||
		    ilen != 8 + ICMP_DATA_LEN || memcmp(icmp + 8, want, ICMP_DATA_LEN))
			fail("net-icmp", "echo reply id 0x%x seq %u, %u bytes: expected id 0x%x "
			     "seq %u, %u bytes, our payload", be16(icmp + 4), be16(icmp + 6), ilen,
			     ICMP_ID, ICMP_SEQ, 8 + ICMP_DATA_LEN);
		else
			icmp_reply_ok = true;
	} else {
		cnt.ignored++;
	}
}

/* A datagram to BENCH_PORT while a phase runs: counted, or the end of the
 * phase. Markers of another phase are late repeats, and ignored. */
static void bench_udp(const u8 *data, u32 len)
{
	if (len >= 4 && !memcmp(data, "end ", 4)) {
		u32 n = (u32)strlen(bench_phase);

		if (len == 4 + n && !memcmp(data + 4, bench_phase, n))
			bench_end = true;
		return;
	}
	bench_datagrams++;
	bench_bytes += len;
}

/* Swapping addresses and ports leaves the UDP checksum as it was: the
 * ones' complement sum does not depend on the order of the words. */
static void handle_udp(const u8 *f, u32 len, const u8 *ip, const u8 *udp, u32 ulen)
{
	u32 plen;
	u8 *r, *ru;

	if (ulen < 8 || be16(udp + 4) < 8 || be16(udp + 4) > ulen) {
		cnt.ignored++;
		return;
	}
	ulen = be16(udp + 4);
	plen = ulen - 8;
	if (bench_phase && be16(udp + 2) == BENCH_PORT) {
		bench_udp(udp + 8, plen);
		return;
	}
	if (be16(udp + 6)) {
		u32 sum = csum_add(0, ip + 12, 8) + IP_PROTO_UDP + ulen;

		if (csum_fold(csum_add(sum, udp, ulen)) != 0) {
			if (count_bad())
				fail("net-rx-csum", "UDP datagram of %u bytes: bad checksum 0x%x",
				     ulen, be16(udp + 6));
			return;
		}
	}
	if (be16(udp + 2) != ECHO_PORT) {
		cnt.ignored++;
		return;
	}
	if (plen == 4 && !memcmp(udp + 8, "quit", 4)) {
		quit = true;
		return;
	}
	r = ip_reply(f, len);
	if (!r)
		return;
	ru = r + (udp - f);
	put_be16(ru, ECHO_PORT);
	put_be16(ru + 2, be16(udp));
	cnt.udp++;
	tx_commit(len);
}

static void handle_ip(const u8 *f, u32 len)
{
	const u8 *ip = f + ETH_HLEN;
	u32 hl, tot;

	if (len < ETH_HLEN + 20 || ip[0] >> 4 != 4) {
		cnt.ignored++;
		return;
	}
	hl = (ip[0] & 0xf) * 4u;
	tot = be16(ip + 2);
	if (hl < 20 || tot < hl || tot > len - ETH_HLEN) {
		if (count_bad())
			fail("net-rx-len", "IPv4 header length %u, total %u in a %u-byte frame", hl,
			     tot, len);
		return;
	}
	if (csum_fold(csum_add(0, ip, hl)) != 0) {
		if (count_bad())
			fail("net-rx-csum", "IPv4 header checksum 0x%x is wrong", be16(ip + 10));
		return;
	}
	/* Trailing padding is not ours to echo. */
	len = ETH_HLEN + tot;
	if (memcmp(ip + 16, my_ip, 4) || (be16(ip + 6) & 0x3fff)) {
		cnt.ignored++;
		return;
	}
	if (ip[9] == IP_PROTO_ICMP)
		handle_icmp(f, len, ip + hl, tot - hl);
	else if (ip[9] == IP_PROTO_UDP)
		handle_udp(f, len, ip, ip + hl, tot - hl);
	else
		cnt.ignored++;
}

static void handle_frame(const u8 *f, u32 len)
{
	cnt.rx++;
	cnt.rx_bytes += len;
	if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
		if (count_bad())
			fail("net-rx-len", "frame of %u bytes", len);
		return;
	}
	if (memcmp(f, mac, 6) && memcmp(f, bcast, 6)) {
		cnt.ignored++;
		return;
	}
	if (be16(f + 12) == ETH_P_ARP)
		handle_arp(f, len);
	else if (be16(f + 12) == ETH_P_IP)
		handle_ip(f, len);
	else
		cnt.ignored++;
}

/* No offload was negotiated: a plain header, and one buffer per frame
 * unless MRG_RXBUF. */
static bool hdr_ok(const struct net_hdr *h)
{
	if (!h->flags && !h->gso_type && h->num_buffers >= 1 &&
	    (mrg ? h->num_buffers <= nrx : h->num_buffers == 1))
		return true;
	if (count_bad())
		fail("net-rx-hdr", "flags 0x%x gso_type %u num_buffers %u", h->flags, h->gso_type,
		     h->num_buffers);
	return false;
}

static void rx_post(unsigned int i)
{
	virtio_publish(&net.vq[RXQ], (u16)(mrg ? i : 2 * i));
}

static bool rx_used_ok(u32 id, u32 len, u32 min, unsigned int *buf)
{
	unsigned int i = mrg ? id : id / 2;

	if ((!mrg && (id & 1)) || i >= nrx || len < min || len > rx_len) {
		if (count_bad())
			fail("net-rx", "used element id %u length %u (%u buffers of %u bytes)", id,
			     len, nrx, rx_len);
		return false;
	}
	*buf = i;
	return true;
}

/* The rest of a merged frame: @n more buffers, appended at pkt + @off. */
static bool rx_gather(unsigned int n, u32 off, u32 *total)
{
	struct virtqueue *q = &net.vq[RXQ];
	u64 until = ticks + TRY_TICKS;
	unsigned int i;
	u32 len;

	while (n) {
		if (!virtio_next_used(q, &len)) {
			if (ticks >= until) {
				fail("net-rx", "merged frame: %u buffers missing", n);
				return false;
			}
			idle();
			continue;
		}
		if (!rx_used_ok(q->last_id, len, 1, &i))
			return false;
		if (off + len > sizeof(pkt)) {
			if (count_bad())
				fail("net-rx-len", "merged frame longer than %u bytes",
				     (u32)sizeof(pkt));
			rx_post(i);
			return false;
		}
		memcpy(pkt + off, rx_data[i], len);
		off += len;
		rx_post(i);
		n--;
	}
	*total = off;
	return true;
}

static void rx_one(u32 id, u32 len)
{
	const struct net_hdr *h;
	unsigned int i, nbuf;
	u32 total;

	if (!rx_used_ok(id, len, NET_HDR_LEN, &i))
		return;
	if (!mrg) {
		h = (const struct net_hdr *)rx_hdr[i];
		if (hdr_ok(h))
			handle_frame(rx_data[i], len - NET_HDR_LEN);
		rx_post(i);
		return;
	}
	h = (const struct net_hdr *)rx_data[i];
	if (!hdr_ok(h)) {
		rx_post(i);
		return;
	}
	nbuf = h->num_buffers;
	if (nbuf > cnt.mrg_max)
		cnt.mrg_max = nbuf;
	total = len - NET_HDR_LEN;
	memcpy(pkt, rx_data[i] + NET_HDR_LEN, total);
	rx_post(i);
	if (rx_gather(nbuf - 1, total, &total))
		handle_frame(pkt, total);
}

static bool rx_poll(void)
{
	struct virtqueue *q = &net.vq[RXQ];
	bool any = false;
	u32 len;

	while (virtio_next_used(q, &len)) {
		rx_one(q->last_id, len);
		any = true;
	}
	if (any)
		virtio_notify(q);
	return any;
}

static void rx_start(void)
{
	struct virtqueue *q = &net.vq[RXQ];
	unsigned int i;

	nrx = mrg ? q->qsize : q->qsize / 2;
	rx_len = mrg ? MRG_BUF_LEN : RX_BUF_LEN;
	for (i = 0; i < nrx; i++) {
		if (mrg) {
			q->desc[i] = (struct vring_desc){ (u64)rx_data[i], MRG_BUF_LEN,
							  VRING_DESC_F_WRITE, 0 };
		} else {
			u16 d = (u16)(2 * i);

			q->desc[d] = (struct vring_desc){ (u64)rx_hdr[i], NET_HDR_LEN,
							  VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
							  (u16)(d + 1) };
			q->desc[d + 1] = (struct vring_desc){ (u64)rx_data[i], RX_DATA_LEN,
							      VRING_DESC_F_WRITE, 0 };
		}
		rx_post(i);
	}
	virtio_notify(q);
}

/* ------------------------------------------------------------ block */

static void blk_submit(void)
{
	struct virtqueue *q = &blk.vq[0];
	unsigned int i;

	for (i = 0; i < BLK_WRITE_LEN; i++)
		blk_data[i] = (u8)("NET BLK WRITE\n"[i % 14]);
	blk_hdr[0] = (struct blk_req_hdr){ BLK_T_OUT, 0, 0 };
	blk_hdr[1] = (struct blk_req_hdr){ BLK_T_FLUSH, 0, 0 };
	blk_status[0] = blk_status[1] = BLK_S_NONE;
	blk_flush = virtio_has(&blk, F_BLK_FLUSH);
	blk_done[1] = !blk_flush;
	q->desc[0] = (struct vring_desc){ (u64)&blk_hdr[0], sizeof(blk_hdr[0]),
					  VRING_DESC_F_NEXT, 1 };
	q->desc[1] = (struct vring_desc){ (u64)blk_data, BLK_WRITE_LEN, VRING_DESC_F_NEXT, 2 };
	q->desc[2] = (struct vring_desc){ (u64)&blk_status[0], 1, VRING_DESC_F_WRITE, 0 };
	q->desc[3] = (struct vring_desc){ (u64)&blk_hdr[1], sizeof(blk_hdr[1]),
					  VRING_DESC_F_NEXT, 4 };
	q->desc[4] = (struct vring_desc){ (u64)&blk_status[1], 1, VRING_DESC_F_WRITE, 0 };
	virtio_publish(q, 0);
	if (blk_flush)
		virtio_publish(q, 3);
	blk_busy = true;
	virtio_notify(q);
	kprintf("INFO blk: write of sector 0%s submitted\n", blk_flush ? " and flush" : "");
}

/* The write's status, or the flush's when the write's is OK. */
static u8 blk_result(void)
{
	return blk_status[0] || !blk_flush ? blk_status[0] : blk_status[1];
}

static bool blk_poll(void)
{
	struct virtqueue *q = &blk.vq[0];
	bool any = false;

	if (!blk_busy)
		return false;
	while (virtio_next_used(q, NULL)) {
		any = true;
		if (q->last_id == 0)
			blk_done[0] = true;
		else if (q->last_id == 3)
			blk_done[1] = true;
		else
			fail("net-blk", "used element with id %u", q->last_id);
	}
	if (blk_done[0] && blk_done[1]) {
		blk_busy = false;
		kprintf("INFO blk: write status %u, flush status %u\n", blk_status[0],
			blk_status[1]);
		kprintf("BLK DONE %u\n", blk_result());
	}
	return any;
}

/* ------------------------------------------------------------ serving */

static bool uart_poll(void)
{
	unsigned int n;

	for (n = 0; n < 16 && (inb(COM1 + 5) & 1); n++)
		kprintf("CONSOLE %02x\n", inb(COM1));
	return n != 0;
}

/* Everything that may have happened; true if anything did. */
static bool poll_all(void)
{
	bool any = rx_poll();

	tx_reap();
	any |= blk_poll();
	any |= uart_poll();
	return any;
}

/* Serves until @done is set, quit, or @limit ticks have passed. */
static bool serve_until(const bool *done, u64 limit)
{
	u64 until = ticks + limit;

	while (!*(volatile const bool *)done && !quit && ticks < until)
		if (!poll_all())
			idle();
	return *done;
}

static void arp_check(void)
{
	unsigned int i;

	for (i = 0; i < TRIES && !host_mac_known && !quit; i++) {
		arp_send(1, (const u8[6]){ 0 }, host_ip, bcast);
		serve_until(&host_mac_known, TRY_TICKS);
	}
	if (host_mac_known) {
		pass("net-arp");
		kprintf("INFO net: 192.0.2.1 is at %02x:%02x:%02x:%02x:%02x:%02x\n", host_mac[0],
			host_mac[1], host_mac[2], host_mac[3], host_mac[4], host_mac[5]);
	} else {
		fail("net-arp", "no ARP reply for 192.0.2.1 after %u requests", i);
	}
}

static void icmp_check(void)
{
	unsigned int i;

	for (i = 0; i < TRIES && !icmp_reply_ok && !quit; i++) {
		icmp_request();
		serve_until(&icmp_reply_ok, TRY_TICKS);
	}
	if (icmp_reply_ok)
		pass("net-icmp");
	else
		fail("net-icmp", "no matching echo reply from 192.0.2.1 after %u requests", i);
}

/* Until every frame sent was completed, for a second at most. */
static void tx_drain(void)
{
	u64 until = ticks + TRY_TICKS;

	while (tx_inflight && ticks < until) {
		idle();
		tx_reap();
	}
}

static void serve(u64 seconds)
{
	static const bool never;

	serve_until(&never, seconds * (1000 / TICK_MS));
	kprintf("NET END %s\n", quit ? "quit" : "timeout");
	/* What is still being sent goes out before the reset. */
	tx_drain();
}

/* ------------------------------------------------------------ benchmark */

/*
 * net_bench_tx=SECONDS, net_bench_rx=SECONDS (bench/net): phases run after
 * "NET READY", tx first, then the guest serves as usual. Each prints
 * "BENCH START <phase>", runs until the datagram "end <phase>" comes to UDP
 * port 9 or SECONDS have passed on the guest's clock, and prints "BENCH END
 * <phase> <n> datagrams <bytes> bytes" (UDP payload), with " timeout" when
 * no marker came. The host times a phase by the arrival of these lines:
 * the guest's clock stands still while it keeps interrupts off.
 *   tx  net_bench_size-byte datagrams (default 1400) from port 9 to
 *       192.0.2.1 port 9, all alike (UDP checksum included): every free
 *       transmit slot filled, one notification, hlt until a completion
 *       when none is free; END once all were completed
 *   rx  datagrams to port 9, counted and discarded
 * The guest does as little per frame as it can: where KVM emulates guest
 * instructions one by one (nested), a copy or checksum of every frame
 * would be what gets measured. So the tx frame is copied into a slot only
 * when something else was sent from it, and the rx datagrams' UDP
 * checksums are not verified (their Ethernet, IPv4 and UDP headers are).
 */
static u8 bench_tmpl[ETH_FRAME_MAX];

/* The tx phase's frame, with @size payload bytes, at @f; its length. */
static u32 bench_frame(u8 *f, u32 size)
{
	u8 *ip = f + ETH_HLEN, *udp = ip + 20;
	u32 i, ulen = 8 + size;
	u16 sum;

	eth_header(f, host_mac, ETH_P_IP);
	ip_to_host(ip, IP_PROTO_UDP, ulen);
	put_be16(udp, BENCH_PORT);
	put_be16(udp + 2, BENCH_PORT);
	put_be16(udp + 4, (u16)ulen);
	put_be16(udp + 6, 0);
	for (i = 0; i < size; i++)
		udp[8 + i] = (u8)(i * 13 + 7);
	sum = csum_fold(csum_add(csum_add(0, ip + 12, 8) + IP_PROTO_UDP + ulen, udp, ulen));
	/* 0 would mean "no checksum". */
	put_be16(udp + 6, sum ? sum : 0xffff);
	return ETH_HLEN + 20 + ulen;
}

static void bench_begin(const char *phase)
{
	bench_phase = phase;
	bench_end = false;
	bench_datagrams = bench_bytes = 0;
	kprintf("BENCH START %s\n", phase);
}

static void bench_finish(u64 seconds)
{
	kprintf("BENCH END %s %lu datagrams %lu bytes%s\n", bench_phase, bench_datagrams,
		bench_bytes, bench_end ? "" : " timeout");
	if (!bench_end)
		fail("net-bench", "%s: no \"end %s\" datagram within %lu s", bench_phase,
		     bench_phase, seconds);
	bench_phase = NULL;
}

static void bench_tx(u64 seconds, u32 size)
{
	u32 len = bench_frame(bench_tmpl, size);
	unsigned int n;
	u64 until;

	bench_begin("tx");
	until = ticks + seconds * (1000 / TICK_MS);
	while (!bench_end && ticks < until) {
		rx_poll();
		tx_reap();
		for (n = 0; !tx_busy[tx_next]; n++) {
			unsigned int s = tx_next;

			if (!tx_bench[s])
				memcpy(tx_frame_at(s), bench_tmpl, len);
			tx_post(len);
			tx_bench[s] = true;
			bench_datagrams++;
			bench_bytes += size;
		}
		if (n)
			virtio_notify(&net.vq[TXQ]);
		else
			idle();
	}
	tx_drain();
	if (tx_inflight)
		fail("net-bench", "tx: %u frames not completed after a second", tx_inflight);
	bench_finish(seconds);
}

static void bench_rx(u64 seconds)
{
	u64 until;

	bench_begin("rx");
	until = ticks + seconds * (1000 / TICK_MS);
	while (!bench_end && ticks < until) {
		tx_reap();
		if (!rx_poll())
			idle();
	}
	bench_finish(seconds);
}

static void bench(void)
{
	u64 tx = cmdline_num("net_bench_tx", 0), rx = cmdline_num("net_bench_rx", 0);
	u64 size = cmdline_num("net_bench_size", BENCH_SIZE);

	if (!tx && !rx)
		return;
	if (!size || size > UDP_PAYLOAD_MAX) {
		fail("net-bench", "net_bench_size=%lu: not 1 to %u bytes", size, UDP_PAYLOAD_MAX);
		return;
	}
	if (tx && !host_mac_known)
		fail("net-bench", "tx: the host's MAC is not known");
	else if (tx)
		bench_tx(tx, (u32)size);
	if (rx)
		bench_rx(rx);
}

/* ------------------------------------------------------------ setup */

static void find_devices(void)
{
	const char *p = cmdline();
	unsigned int n = 0;

	kprintf("INFO cmdline: %s\n", p);
	while ((p = virtio_cmdline_next(p)) != NULL && n < VIRTIO_MAX_DEVS) {
		struct virtio_ident id;
		struct vdev *v = &vdevs[n];

		if (!virtio_parse_entry(p, &v->e) || v->e.size < 0x200) {
			fail("net-cmdline", "cannot parse virtio_mmio.device #%u", n);
		} else {
			virtio_ident(v->e.base, &id);
			kprintf("INFO virtio-mmio #%u at 0x%lx irq %lu: magic 0x%x version %u "
				"device %u\n", n, v->e.base, v->e.irq, id.magic, id.version,
				id.device);
			if (id.magic == VIRTIO_MAGIC && id.version == 2)
				v->id = id.device;
		}
		n++;
	}
}

static void read_mac(struct virtio_dev *d, u8 *m)
{
	unsigned int i, tries = 0;
	u32 gen;

	do {
		gen = virtio_rd(d, VM_CONFIG_GENERATION);
		for (i = 0; i < 6; i++)
			m[i] = *(volatile u8 *)(d->base + VM_CONFIG + i);
	} while (gen != virtio_rd(d, VM_CONFIG_GENERATION) && ++tries < 100);
}

static u16 read_status(struct virtio_dev *d)
{
	return *(volatile u16 *)(d->base + VM_CONFIG + 6);
}

/* Another net device: only its MAC, then it is reset again. */
static void other_mac(struct vdev *v, unsigned int n)
{
	struct virtio_dev d = { .base = v->e.base, .fn = "net-init", .tag = "", .name = "net" };
	u8 m[6];

	if (!virtio_negotiate(&d, 1ul << F_VERSION_1 | 1ul << F_NET_MAC))
		return;
	read_mac(&d, m);
	print_mac(n, m);
	virtio_wr(&d, VM_STATUS, 0);
}

static bool net_init(struct vdev *v, bool rx)
{
	u64 want = 1ul << F_VERSION_1 | 1ul << F_NET_MAC | 1ul << F_NET_STATUS |
		   (mrg ? 1ul << F_NET_MRG_RXBUF : 0);
	u64 need = want | 1ul << F_NET_MRG_RXBUF;
	unsigned int n;
	u32 max;

	net.fn = "net-init";
	net.tag = "";
	net.name = "net";
	virtio_attach(&net, v->e.base, (unsigned int)v->e.irq);
	if (!virtio_negotiate(&net, want))
		return false;
	if ((virtio_device_features(&net) & need) != need)
		fail("net-features", "device features 0x%lx lack some of 0x%lx",
		     virtio_device_features(&net), need);
	for (n = 0; n < 2; n++) {
		max = virtio_queue_max(&net, n);
		if (!max)
			return false;
		if (max != NET_QUEUE_MAX)
			fail("net-queue-max", "queue %u: QueueNumMax %u, expected %u", n, max,
			     NET_QUEUE_MAX);
		if (!virtio_queue_start(&net, n, max))
			return false;
	}
	if (!virtio_driver_ok(&net))
		return false;
	ntx = net.vq[TXQ].qsize / 2;
	kprintf("INFO net: negotiated features 0x%lx, queue sizes %u and %u\n", net.features,
		net.vq[RXQ].qsize, net.vq[TXQ].qsize);
	if (!virtio_has(&net, F_NET_MAC)) {
		fail("net-mac", "VIRTIO_NET_F_MAC not offered");
		return false;
	}
	read_mac(&net, mac);
	print_mac(0, mac);
	if (mac[0] & 1 || !memcmp(mac, (const u8[6]){ 0 }, 6))
		fail("net-mac", "not a unicast address");
	else
		pass("net-mac");
	if (!virtio_has(&net, F_NET_STATUS))
		fail("net-link", "VIRTIO_NET_F_STATUS not offered");
	else if (!(read_status(&net) & NET_S_LINK_UP))
		fail("net-link", "status 0x%x: link down", read_status(&net));
	else
		pass("net-link");
	virtio_irq_mask(&net, false);
	if (rx)
		rx_start();
	return true;
}

static bool blk_init(struct vdev *v)
{
	blk.fn = "net-blk";
	blk.tag = "";
	blk.name = "blk";
	virtio_attach(&blk, v->e.base, (unsigned int)v->e.irq);
	if (!virtio_init(&blk, 1ul << F_VERSION_1 | 1ul << F_BLK_FLUSH, 1))
		return false;
	virtio_irq_mask(&blk, false);
	return true;
}

static void print_counters(void)
{
	kprintf("NET COUNTERS rx %lu tx %lu rx-bytes %lu tx-bytes %lu arp %lu icmp %lu "
		"udp %lu ignored %lu tx-dropped %lu bad %lu\n", cnt.rx, cnt.tx, cnt.rx_bytes,
		cnt.tx_bytes, cnt.arp, cnt.icmp, cnt.udp, cnt.ignored, cnt.tx_dropped, cnt.bad);
	if (mrg)
		kprintf("NET MRG max buffers %u\n", cnt.mrg_max);
}

void guest_main(void)
{
	bool norx = cmdline_num("net_norx", 0) != 0;
	bool blk_on = cmdline_num("net_blk", 0) != 0;
	u64 seconds = cmdline_num("net_serve", 60);
	struct vdev *nv = NULL, *bv = NULL;
	unsigned int i, nnet = 0;

	mrg = cmdline_num("net_mrg", 0) != 0;
	idt_init();
	virtio_irq_init();
	find_devices();
	for (i = 0; i < VIRTIO_MAX_DEVS; i++) {
		if (vdevs[i].id == VIRTIO_ID_NET && !nv)
			nv = &vdevs[i];
		else if (vdevs[i].id == VIRTIO_ID_BLK && !bv)
			bv = &vdevs[i];
	}
	if (!nv) {
		fail("net-probe", "no virtio-net device");
		finish();
	}
	if (blk_on && !bv) {
		fail("net-blk", "net_blk=1 but no virtio-blk device");
		finish();
	}
	tick_start();
	if (!net_init(nv, !norx) || (blk_on && !blk_init(bv)))
		finish();
	for (i = 0; i < VIRTIO_MAX_DEVS; i++)
		if (vdevs[i].id == VIRTIO_ID_NET && &vdevs[i] != nv)
			other_mac(&vdevs[i], ++nnet);
	if (!norx) {
		arp_check();
		if (host_mac_known)
			icmp_check();
	}
	kprintf("NET READY\n");
	if (norx) {
		u64 until = ticks + seconds * (1000 / TICK_MS);

		while (ticks < until)
			idle();
	} else {
		bench();
		if (blk_on)
			blk_submit();
		serve(seconds);
	}
	print_counters();
	if (blk_on && blk_busy)
		fail("net-blk", "write and flush not completed (write status 0x%x, flush 0x%x)",
		     blk_status[0], blk_status[1]);
	else if (blk_on && blk_result())
		fail("net-blk", "write status %u, flush status %u", blk_status[0], blk_status[1]);
	else if (blk_on)
		pass("net-blk");
	finish();
}
