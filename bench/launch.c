/* SPDX-License-Identifier: Apache-2.0 */
/*
 * launch: run a VMM and time it from outside, the same way for every VMM.
 *
 *   launch [-s MIB] [-t SECONDS] -- COMMAND [ARG]...
 *
 * COMMAND gets a pipe as descriptor 3; the guest's boot marker is the
 * moment the first '{' (0x7b, what a debug console writes for it) or the
 * text "boot marker" (vmm-reference's log line) arrives there. Printed, on
 * one line: exit_ms (fork to exit), marker_ms (fork to marker, -1 if
 * none), cpu_ms (the child's user + system time, all its threads), and
 * with -s, at the marker, rss_kib and dirty_kib: the child's resident and
 * private dirty memory outside its mappings of MIB MiB or more (the guest
 * RAM), after which the child is stopped with SIGTERM. -t kills a child
 * that runs longer (default 60 s). Exit status: 0 when the child exited 0
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

static pid_t start(char **argv, int *marker_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 3);          /* dup2 clears O_CLOEXEC on 3 */
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*marker_fd = p[0];
	return pid;
}

int main(int argc, char **argv)
{
	unsigned long min_kib = 0, rss = 0, dirty = 0;
	double t0, marker = -1, limit = 60e3;
	int c, fd, status = 0, stopped = 0;
	struct rusage ru;
	pid_t pid;

	while ((c = getopt(argc, argv, "+s:t:")) != -1) {
		if (c == 's')
			min_kib = strtoul(optarg, NULL, 10) * 1024;
		else if (c == 't')
			limit = strtod(optarg, NULL) * 1e3;
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: launch [-s MIB] [-t SECONDS] -- COMMAND [ARG]...\n");
		return 2;
	}
	t0 = now_ms();
	pid = start(argv + optind, &fd);
	if (pid < 0)
		return 1;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char buf[512];
		ssize_t n;
		int left = (int)(t0 + limit - now_ms());

		if (left <= 0 || poll(&pfd, 1, left) == 0) {
			kill(pid, SIGKILL);
			break;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;          /* the child closed it: it is exiting */
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
	printf("exit_ms=%.3f marker_ms=%.3f cpu_ms=%.3f rss_kib=%lu dirty_kib=%lu status=%d\n",
	       now_ms() - t0, marker,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
	       rss, dirty, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return (WIFEXITED(status) && WEXITSTATUS(status) == 0) || stopped ? 0 : 1;
}
