// SPDX-License-Identifier: Apache-2.0
/*
 * net-peer: the host end of the virtio-net guest tests (tests/guest-net*.sh)
 * and of bench/net, run inside a network namespace of theirs against the
 * net guest's UDP services (or, for bench/net's baseline, against itself).
 *
 *   net-peer echo ADDR PORT COUNT SEED
 *       sends COUNT datagrams of pseudo-random sizes 1..1472 bytes (a 4-byte
 *       sequence number, as much of it as fits, then bytes derived from SEED
 *       and the number), at most 8 in flight; every echo must come back
 *       intact and in order within 3 s of its datagram
 *   net-peer flood ADDR PORT SECONDS [SIZE]
 *       sends SIZE-byte datagrams (default 1024) as fast as it can for
 *       SECONDS, never waiting for the socket
 *   net-peer sink ADDR PORT SECONDS
 *       receives on ADDR:PORT and counts, until 2 s after the last datagram
 *       or SECONDS after it started; fails when nothing came
 *   net-peer send ADDR PORT TEXT
 *       sends TEXT as one datagram
 *
 * Prints one summary line on stdout. Exit status 0 on success, 1 when
 * something failed (the reason on stderr), 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAYLOAD     1472    /* a 1500-byte MTU less the IPv4 and UDP headers */
#define WINDOW          8
#define ECHO_TIMEOUT_MS 3000
#define SEND_TIMEOUT_MS 2000
#define FLOOD_SIZE      1024
#define SINK_IDLE_MS    2000
#define SINK_RCVBUF     (8 << 20)
#define SINK_BATCH      256     /* datagrams between looks at the clock */

static const char *prog = "net-peer";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Datagram @seq of the echo run: its bytes in @buf, its size returned. */
static size_t datagram(uint64_t seed, uint32_t seq, unsigned char *buf)
{
	uint64_t s = seed ^ (uint64_t)seq << 32;
	size_t len = 1 + splitmix64(&s) % MAX_PAYLOAD, i;
	unsigned char num[4] = { seq >> 24, seq >> 16, seq >> 8, seq };

	for (i = 0; i < len; i++)
		buf[i] = i < sizeof(num) ? num[i] : (unsigned char)splitmix64(&s);
	return len;
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *s == '-' || *v > max ? -1 : 0;
}

static void parse_addr(const char *addr, const char *port, struct sockaddr_in *sin)
{
	unsigned long p;

	*sin = (struct sockaddr_in){ .sin_family = AF_INET };
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1 || parse_ulong(port, 65535, &p) || !p) {
		fprintf(stderr, "%s: bad address %s or port %s\n", prog, addr, port);
		exit(2);
	}
	sin->sin_port = htons((uint16_t)p);
}

/* A UDP socket connected to ADDR:PORT, sends bounded by SEND_TIMEOUT_MS. */
static int peer_socket(const char *addr, const char *port)
{
	struct timeval tv = { SEND_TIMEOUT_MS / 1000, SEND_TIMEOUT_MS % 1000 * 1000 };
	struct sockaddr_in sin;
	int fd;

	parse_addr(addr, port, &sin);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "%s: socket to %s:%s: %s\n", prog, addr, port, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A UDP socket bound to ADDR:PORT that reports its drops (SO_RXQ_OVFL),
 * with as large a receive queue as we may have: a burst then waits there
 * rather than being dropped. Receives never wait: poll() bounds them. */
static int sink_socket(const char *addr, const char *port)
{
	struct sockaddr_in sin;
	int fd, one = 1, rcvbuf = SINK_RCVBUF;

	parse_addr(addr, port, &sin);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "%s: socket on %s:%s: %s\n", prog, addr, port, strerror(errno));
		exit(1);
	}
	/* Beyond net.core.rmem_max needs CAP_NET_ADMIN; the plain one is capped. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static int send_all(int fd, const void *buf, size_t len, const char *what)
{
	ssize_t n = send(fd, buf, len, 0);

	if (n == (ssize_t)len)
		return 0;
	fprintf(stderr, "%s: sending %s (%zu bytes): %s\n", prog, what, len,
		n < 0 ? strerror(errno) : "short send");
	return -1;
}

static int echo(int fd, unsigned long count, uint64_t seed)
{
	unsigned char out[MAX_PAYLOAD], want[MAX_PAYLOAD], in[MAX_PAYLOAD + 1] = { 0 };
	double sent_at[WINDOW], start = now(), elapsed;
	unsigned long next_send = 0, next_recv = 0;
	unsigned long long bytes = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (next_recv < count) {
		size_t wlen;
		ssize_t n;
		int left, r;

		while (next_send < count && next_send - next_recv < WINDOW) {
			size_t len = datagram(seed, (uint32_t)next_send, out);
			char what[32];

			snprintf(what, sizeof(what), "datagram %lu", next_send);
			if (send_all(fd, out, len, what))
				return 1;
			sent_at[next_send % WINDOW] = now();
			next_send++;
		}
		left = (int)((sent_at[next_recv % WINDOW] - now()) * 1000) + ECHO_TIMEOUT_MS;
		r = left > 0 ? poll(&pfd, 1, left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "%s: datagram %lu: no echo within %d ms%s%s\n",
				prog, next_recv, ECHO_TIMEOUT_MS, r ? ": " : "",
				r ? strerror(errno) : "");
			return 1;
		}
		n = recv(fd, in, sizeof(in), MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		wlen = datagram(seed, (uint32_t)next_recv, want);
		if (n < 0) {
			fprintf(stderr, "%s: datagram %lu: receiving: %s\n", prog, next_recv,
				strerror(errno));
			return 1;
		}
		if ((size_t)n != wlen || memcmp(in, want, wlen)) {
			fprintf(stderr, "%s: datagram %lu: echo of %zd bytes starting "
				"%02x%02x%02x%02x, expected %zu bytes starting %02x%02x%02x%02x\n",
				prog, next_recv, n, in[0], in[1], in[2], in[3], wlen, want[0],
				want[1], want[2], want[3]);
			return 1;
		}
		bytes += wlen;
		next_recv++;
	}
	elapsed = now() - start;
	printf("net-peer echo: %lu datagrams, %llu bytes each way, %.3f s, all echoed intact "
	       "and in order\n", count, bytes, elapsed);
	return 0;
}

static int flood(int fd, unsigned long seconds, size_t size)
{
	unsigned char buf[MAX_PAYLOAD];
	unsigned long long sent = 0, errors = 0, i;
	double start = now(), end = start + (double)seconds;

	memset(buf, 0x5a, size);
	for (i = 0;; i++) {
		/* The clock only now and then: sending is the point. */
		if (!(i & 63) && now() >= end)
			break;
		if (send(fd, buf, size, MSG_DONTWAIT) == (ssize_t)size)
			sent++;
		else
			errors++;
	}
	printf("net-peer flood: %llu datagrams of %zu bytes sent, %llu not, in %.3f s\n", sent,
	       size, errors, now() - start);
	return sent ? 0 : 1;
}

static int sink(int fd, unsigned long seconds)
{
	static unsigned char buf[65536];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	unsigned long long count = 0, bytes = 0;
	size_t min = 0, max = 0;
	uint32_t dropped = 0;
	double end = now() + (double)seconds, first = 0, last = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		double t = now(), until = end;
		int i, r;

		if (count && last + SINK_IDLE_MS / 1000.0 < until)
			until = last + SINK_IDLE_MS / 1000.0;
		if (t >= until)
			break;
		r = poll(&pfd, 1, (int)((until - t) * 1000) + 1);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			return 1;
		}
		for (i = 0; r > 0 && i < SINK_BATCH; i++) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
			struct cmsghdr *c;
			ssize_t n = recvmsg(fd, &mh, MSG_TRUNC);

			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				break;
			if (n < 0) {
				fprintf(stderr, "%s: receiving: %s\n", prog, strerror(errno));
				return 1;
			}
			for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
					memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
			last = now();
			if (!count++)
				first = last;
			bytes += (size_t)n;
			if (!min || (size_t)n < min)
				min = (size_t)n;
			if ((size_t)n > max)
				max = (size_t)n;
		}
	}
	printf("net-peer sink: %llu datagrams, %llu bytes, sizes %zu to %zu, %u dropped by the "
	       "socket, %.3f s first to last\n", count, bytes, min, max, dropped, last - first);
	if (!count)
		fprintf(stderr, "%s: nothing received in %lu s\n", prog, seconds);
	return count ? 0 : 1;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s echo ADDR PORT COUNT SEED\n"
		"       %s flood ADDR PORT SECONDS [SIZE]\n"
		"       %s sink ADDR PORT SECONDS\n"
		"       %s send ADDR PORT TEXT\n", prog, prog, prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long a, b;
	int fd;

	if (argc < 5)
		usage();
	if (!strcmp(argv[1], "echo") && argc == 6) {
		if (parse_ulong(argv[4], 0xffffffffu, &a) || !a ||
		    parse_ulong(argv[5], 0xffffffffu, &b))
			usage();
		fd = peer_socket(argv[2], argv[3]);
		return echo(fd, a, b);
	}
	if (!strcmp(argv[1], "flood") && (argc == 5 || argc == 6)) {
		b = FLOOD_SIZE;
		if (parse_ulong(argv[4], 3600, &a) || !a ||
		    (argc == 6 && (parse_ulong(argv[5], MAX_PAYLOAD, &b) || !b)))
			usage();
		fd = peer_socket(argv[2], argv[3]);
		return flood(fd, a, b);
	}
	if (!strcmp(argv[1], "sink") && argc == 5) {
		if (parse_ulong(argv[4], 3600, &a) || !a)
			usage();
		fd = sink_socket(argv[2], argv[3]);
		return sink(fd, a);
	}
	if (!strcmp(argv[1], "send") && argc == 5) {
		fd = peer_socket(argv[2], argv[3]);
		if (strlen(argv[4]) > MAX_PAYLOAD || send_all(fd, argv[4], strlen(argv[4]), "TEXT"))
			return 1;
		printf("net-peer send: %zu bytes\n", strlen(argv[4]));
		return 0;
	}
	usage();
}
