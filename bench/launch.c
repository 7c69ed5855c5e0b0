/* SPDX-License-Identifier: Apache-2.0 */
/*
 * launch: run a VMM and time it from outside, the same way for every VMM.
 *
 *   launch [-s MIB] [-t SECONDS] [-l TEXT -o FILE] -- COMMAND [ARG]...
 *
 * COMMAND gets a pipe as descriptor 3; the guest's boot marker is the
 * moment the first '{' (0x7b, what a debug console writes for it) or the
 * text "boot marker" (vmm-reference's log line) arrives there. Printed, on
 * one line: exit_ms (fork to exit), marker_ms (fork to marker, -1 if
 * none), cpu_ms (the child's user + system time, all its threads), and
 * with -s, at the marker, rss_kib and dirty_kib: the child's resident and
 * private dirty memory outside its mappings of MIB MiB or more (the guest
 * RAM), after which the child is stopped with SIGTERM. -t kills a child
 * that runs longer (default 60 s). With -l and -o the child's standard
 * output is a pipe copied to FILE, and line_ms is fork to the first
 * TEXT there (-1 if none): a kernel's first line on its console.
 * Exit status: 0 when the child exited 0
 * or was stopped after -s, 1 otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* Rss and Private_Dirty of @pid outside mappings of @min_kib or more. */
static void memory_outside(pid_t pid, unsigned long min_kib, unsigned long *rss,
			   unsigned long *dirty)
{
	char path[64], line[512];
	unsigned long size = 0, v;
	FILE *f;

	*rss = *dirty = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Size: %lu kB", &v) == 1)
			size = v;
		else if (size < min_kib && sscanf(line, "Rss: %lu kB", &v) == 1)
			*rss += v;
		else if (size < min_kib && sscanf(line, "Private_Dirty: %lu kB", &v) == 1)
			*dirty += v;
	}
	fclose(f);
}

/* Whether @buf holds the marker. */
static int is_marker(const char *buf, size_t len)
{
	return memchr(buf, '{', len) || memmem(buf, len, "boot marker", 11);
}

/* The child's console, copied to a file while TEXT is looked for. */
struct console {
	const char *text;
	int in, out;
	char tail[128];         /* the end of the last read, for a split TEXT */
	size_t tail_len;
};

/* Copies what the child printed; whether TEXT is in it (or straddles). */
static int console_read(struct console *c)
{
	char buf[4096 + sizeof(c->tail)];
	size_t keep = c->tail_len, tlen = strlen(c->text);
	ssize_t n;
	int seen;

	memcpy(buf, c->tail, keep);
	n = read(c->in, buf + keep, sizeof(buf) - keep);
	if (n <= 0)
		return -1;
	if (write(c->out, buf + keep, (size_t)n) != n)
		return -1;
	seen = memmem(buf, keep + (size_t)n, c->text, tlen) != NULL;
	c->tail_len = tlen - 1 < keep + (size_t)n ? tlen - 1 : keep + (size_t)n;
	memmove(c->tail, buf + keep + (size_t)n - c->tail_len, c->tail_len);
	return seen;
}

/* Starts COMMAND with a pipe as descriptor 3 and, when @out_fd >= 0, its
 * standard output on another (returned in @console_fd). */
static pid_t start(char **argv, int *marker_fd, int out_fd, int *console_fd)
{
	int p[2], o[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0 || (out_fd >= 0 && pipe2(o, O_CLOEXEC) < 0))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 3);          /* dup2 clears O_CLOEXEC on 3 */
		if (o[1] >= 0)
			dup2(o[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (o[1] >= 0)
		close(o[1]);
	*marker_fd = p[0];
	*console_fd = o[0];
	return pid;
}

int main(int argc, char **argv)
{
	unsigned long min_kib = 0, rss = 0, dirty = 0;
	double t0, marker = -1, line = -1, limit = 60e3;
	int c, fd, status = 0, stopped = 0;
	struct console con = { .text = NULL, .in = -1, .out = -1 };
	const char *out = NULL;
	struct rusage ru;
	pid_t pid;

	while ((c = getopt(argc, argv, "+s:t:l:o:")) != -1) {
		if (c == 's')
			min_kib = strtoul(optarg, NULL, 10) * 1024;
		else if (c == 't')
			limit = strtod(optarg, NULL) * 1e3;
		else if (c == 'l' && *optarg && strlen(optarg) <= sizeof(con.tail))
			con.text = optarg;
		else if (c == 'o')
			out = optarg;
		else
			return 2;
	}
	if (optind >= argc || !con.text != !out) {
		fprintf(stderr, "usage: launch [-s MIB] [-t SECONDS] [-l TEXT -o FILE] -- COMMAND [ARG]...\n");
		return 2;
	}
	if (out && (con.out = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		perror(out);
		return 1;
	}
	t0 = now_ms();
	pid = start(argv + optind, &fd, con.out, &con.in);
	if (pid < 0)
		return 1;
	while (fd >= 0 || con.in >= 0) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
					 { .fd = con.in, .events = POLLIN } };
		char buf[512];
		ssize_t n;
		int left = (int)(t0 + limit - now_ms());

		if (left <= 0 || poll(pfd, 2, left) == 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (pfd[1].revents) {
			int seen = console_read(&con);

			if (seen > 0 && line < 0)
				line = now_ms() - t0;
			if (seen < 0) {
				close(con.in);
				con.in = -1;
			}
		}
		if (!pfd[0].revents)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {           /* the child closed it: it is exiting */
			close(fd);
			fd = -1;
			continue;
		}
		if (marker < 0 && is_marker(buf, (size_t)n)) {
			marker = now_ms() - t0;
			if (min_kib) {
				memory_outside(pid, min_kib, &rss, &dirty);
				kill(pid, SIGTERM);
				stopped = 1;
			}
		}
	}
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	printf("exit_ms=%.3f marker_ms=%.3f line_ms=%.3f cpu_ms=%.3f rss_kib=%lu dirty_kib=%lu status=%d\n",
	       now_ms() - t0, marker, line,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
	       rss, dirty, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0) || stopped ? 0 : 1;
}
