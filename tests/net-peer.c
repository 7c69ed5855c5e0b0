// SPDX-License-Identifier: Apache-2.0
/*
 * net-peer: the host end of the virtio-net guest tests (tests/guest-net*.sh),
 * run inside the test's network namespace against the net guest's UDP echo
 * service.
 *
 *   net-peer echo ADDR PORT COUNT SEED
 *       sends COUNT datagrams of pseudo-random sizes 1..1472 bytes (a 4-byte
 *       sequence number, as much of it as fits, then bytes derived from SEED
 *       and the number), at most 8 in flight; every echo must come back
 *       intact and in order within 3 s of its datagram
 *   net-peer flood ADDR PORT SECONDS
 *       sends 1024-byte datagrams as fast as it can for SECONDS
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

/* A UDP socket connected to ADDR:PORT, sends bounded by SEND_TIMEOUT_MS. */
static int peer_socket(const char *addr, const char *port)
{
	struct timeval tv = { SEND_TIMEOUT_MS / 1000, SEND_TIMEOUT_MS % 1000 * 1000 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	unsigned long p;
	int fd;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 || parse_ulong(port, 65535, &p) || !p) {
		fprintf(stderr, "%s: bad address %s or port %s\n", prog, addr, port);
		exit(2);
	}
	sin.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		fprintf(stderr, "%s: socket to %s:%lu: %s\n", prog, addr, p, strerror(errno));
		exit(1);
	}
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

static int flood(int fd, unsigned long seconds)
{
	unsigned char buf[FLOOD_SIZE];
	unsigned long long sent = 0, errors = 0, i;
	double start = now(), end = start + (double)seconds;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0;; i++) {
		/* The clock only now and then: sending is the point. */
		if (!(i & 63) && now() >= end)
			break;
		if (send(fd, buf, sizeof(buf), MSG_DONTWAIT) == (ssize_t)sizeof(buf))
			sent++;
		else
			errors++;
	}
	printf("net-peer flood: %llu datagrams of %d bytes sent, %llu not, in %.3f s\n", sent,
	       FLOOD_SIZE, errors, now() - start);
	return sent ? 0 : 1;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: %s echo ADDR PORT COUNT SEED\n"
		"       %s flood ADDR PORT SECONDS\n"
		"       %s send ADDR PORT TEXT\n", prog, prog, prog);
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
	if (!strcmp(argv[1], "flood") && argc == 5) {
		if (parse_ulong(argv[4], 3600, &a) || !a)
			usage();
		fd = peer_socket(argv[2], argv[3]);
		return flood(fd, a);
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
