/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swarm: many copies of one VMM command, for the density rows.
 *
 *   swarm -r N [-p P] -- COMMAND [ARG]...
 *       runs COMMAND N times, at most P (default 16) at once, each with
 *       its standard streams on /dev/null, and prints vms=N failed=F
 *       secs=S rate=R: R VMs started and ended (exit status 0: the
 *       guest reset) per second of wall time.
 *   swarm -a MAX [-b B] [-k MIB] [-t SECONDS] -- COMMAND [ARG]...
 *       starts COMMAND B (default 50) at a time and waits until every
 *       one so far has reached its boot marker, until MAX are alive, the
 *       host's MemAvailable would fall under MIB (default 2048) after the
 *       next batch, or a batch misses its markers for SECONDS (default
 *       60). Prints alive=N before_kib=A after_kib=B per_vm_kib=C
 *       stop=max|memory|timeout|failed: MemAvailable before the first
 *       and with all N alive, and their difference shared out. Then it
 *       stops them all with SIGTERM (SIGKILL after 30 s) and reaps them.
 *
 * Every child gets a pipe as descriptor 3, all the same pipe; a boot
 * marker is a '{' there (a debug console's byte) or a line holding
 * "boot marker" (vmm-reference's log line), as for bench/launch. Exit
 * status 0 when every VM did what it was asked, 1 otherwise.
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
#include <unistd.h>

#include "clock.h"

/* The shared marker pipe and what has been counted on it. */
struct markers {
	int rd, wr;
	unsigned long seen;
	char line[512];
	size_t len;
};

static pid_t spawn(char **argv, int marker_wr)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		dup2(marker_wr, 3);     /* dup2 clears O_CLOEXEC on 3 */
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Counts the markers in what the pipe holds now, waiting up to @ms. */
static void markers_read(struct markers *m, int ms)
{
	struct pollfd pfd = { .fd = m->rd, .events = POLLIN };
	char buf[4096];
	ssize_t n, i;

	if (poll(&pfd, 1, ms) <= 0)
		return;
	n = read(m->rd, buf, sizeof(buf));
	for (i = 0; i < n; i++) {
		if (buf[i] == '{') {
			m->seen++;
			continue;
		}
		if (buf[i] != '\n' && m->len < sizeof(m->line) - 1) {
			m->line[m->len++] = buf[i];
			continue;
		}
		m->line[m->len] = '\0';
		if (buf[i] == '\n' && strstr(m->line, "boot marker"))
			m->seen++;
		m->len = 0;
	}
}

static unsigned long mem_available_kib(void)
{
	char line[128];
	unsigned long kib = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Reaps one child (waiting for it unless WNOHANG); 1 if one ended. */
static int reap_one(int flags, unsigned long *failed)
{
	int status;

	if (waitpid(-1, &status, flags) <= 0)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		(*failed)++;
	return 1;
}

/* Reaps every child that has ended. */
static unsigned long reap(unsigned long *failed)
{
	unsigned long n = 0;

	while (reap_one(WNOHANG, failed))
		n++;
	return n;
}

static int run_rate(char **argv, unsigned long total, unsigned long parallel, int wr)
{
	unsigned long started = 0, running = 0, failed = 0;
	double t0 = now_ms(), secs;

	while (started < total || running) {
		while (started < total && running < parallel) {
			if (spawn(argv, wr) < 0)
				return 1;
			started++;
			running++;
		}
		running -= (unsigned long)reap_one(0, &failed);
		running -= reap(&failed);
	}
	secs = (now_ms() - t0) / 1e3;
	printf("vms=%lu failed=%lu secs=%.3f rate=%.1f\n", total, failed, secs, total / secs);
	return failed != 0;
}

/* Stops every child: SIGTERM, then SIGKILL for those left after 30 s. */
static void stop_all(pid_t *pids, unsigned long n, unsigned long gone)
{
	unsigned long i, failed = 0, left = n - gone;
	double deadline = now_ms() + 30e3;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	while (left && now_ms() < deadline) {
		left -= reap(&failed);
		usleep(10000);
	}
	if (left)
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
	while (left && reap_one(0, &failed))
		left--;
}

static int run_alive(char **argv, unsigned long max, unsigned long batch,
		     unsigned long reserve_kib, double limit_ms, struct markers *m)
{
	unsigned long n = 0, gone = 0, before = mem_available_kib(), now = before, i;
	pid_t *pids = calloc(max, sizeof(*pids));
	const char *stop = "max";

	if (!pids)
		return 1;
	while (n < max) {
		unsigned long per = n ? (before - now) / n : 0, want = n + batch;
		double deadline;

		if (want > max)
			want = max;
		if (now < reserve_kib + (want - n) * (per ? per : 8192)) {
			stop = "memory";
			break;
		}
		for (i = n; i < want; i++) {
			pid_t pid = spawn(argv, m->wr);

			if (pid < 0)
				break;
			pids[i] = pid;
		}
		n = i;
		deadline = now_ms() + limit_ms;
		while (m->seen < n && now_ms() < deadline)
			markers_read(m, 100);
		now = mem_available_kib();
		if (m->seen < n) {
			unsigned long failed = 0;

			gone = reap(&failed);
			stop = gone ? "failed" : "timeout";
			break;
		}
	}
	printf("alive=%lu before_kib=%lu after_kib=%lu per_vm_kib=%lu stop=%s\n", m->seen,
	       before, now, m->seen ? (before - now) / m->seen : 0, stop);
	stop_all(pids, n, gone);
	free(pids);
	return strcmp(stop, "failed") == 0 || strcmp(stop, "timeout") == 0;
}

int main(int argc, char **argv)
{
	unsigned long rate = 0, alive = 0, parallel = 16, batch = 50, reserve = 2048;
	double limit = 60;
	struct markers m = { .len = 0 };
	struct rlimit nofile;
	int p[2], c;

	while ((c = getopt(argc, argv, "+r:p:a:b:k:t:")) != -1) {
		unsigned long v = strtoul(optarg, NULL, 10);

		switch (c) {
		case 'r': rate = v; break;
		case 'p': parallel = v; break;
		case 'a': alive = v; break;
		case 'b': batch = v; break;
		case 'k': reserve = v; break;
		case 't': limit = strtod(optarg, NULL); break;
		default: return 2;
		}
	}
	if (optind >= argc || !rate == !alive || !parallel || !batch) {
		fprintf(stderr, "usage: swarm -r N [-p P] | -a MAX [-b B] [-k MIB] [-t S] -- COMMAND...\n");
		return 2;
	}
	/* Many children at once: as many descriptors and processes as allowed. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	m.rd = p[0];
	m.wr = p[1];
	fcntl(m.rd, F_SETPIPE_SZ, 1 << 20);
	if (rate)
		return run_rate(argv + optind, rate, parallel, m.wr);
	return run_alive(argv + optind, alive, batch, reserve * 1024, limit * 1e3, &m);
}
