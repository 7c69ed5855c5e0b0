/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two virtual machines in one process, through the public API only: each
 * runs the boot test guest in a thread of its own, with its own console
 * pipe, and both must reset by themselves with their own command line.
 * Shows that libvmmcore keeps no global state a second VM could trip on.
 *
 * Usage: two-vms GUEST.elf   (exit 0 pass, 1 fail, 77 skip: no /dev/kvm)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmmcore/vmm.h"

struct guest {
	struct vmm_config *cfg;
	struct vmm *vm;
	int pipe[2];
	char out[65536];
	size_t len;
	int run_ret;
	pthread_t runner, reader;
};

static void *run_vm(void *arg)
{
	struct guest *g = arg;

	g->run_ret = vmm_run(g->vm);
	return NULL;
}

static void *read_console(void *arg)
{
	struct guest *g = arg;
	ssize_t n;

	while ((n = read(g->pipe[0], g->out + g->len, sizeof(g->out) - 1 - g->len)) > 0)
		g->len += (size_t)n;
	g->out[g->len] = '\0';
	return NULL;
}

int main(int argc, char **argv)
{
	struct guest g[2];
	int failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GUEST.elf\n", argv[0]);
		return 2;
	}
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm not available\n");
		return 0;
	}
	printf("1..6\n");
	for (int i = 0; i < 2; i++) {
		char opt[512];

		memset(&g[i], 0, sizeof(g[i]));
		if (vmm_config_new(&g[i].cfg)) {
			printf("Bail out! out of memory\n");
			return 1;
		}
		snprintf(opt, sizeof(opt), "path=%s,cmdline=\"expect_cpus=%d expect_mem_mib=%d vm=%d\"",
			 argv[1], i + 1, 128 * (i + 1), i);
		if (pipe2(g[i].pipe, O_CLOEXEC) ||
		    vmm_config_set_option(g[i].cfg, "kernel", opt) ||
		    vmm_config_set_option(g[i].cfg, "vcpu", i ? "num=2" : "num=1") ||
		    vmm_config_set_option(g[i].cfg, "memory", i ? "size_mib=256" : "size_mib=128") ||
		    vmm_config_set_console(g[i].cfg, -1, g[i].pipe[1])) {
			printf("Bail out! set-up failed: %s\n", vmm_config_error(g[i].cfg));
			return 1;
		}
		if (vmm_create(g[i].cfg, &g[i].vm)) {
			printf("Bail out! vmm_create failed for VM %d\n", i);
			return 1;
		}
	}
	printf("ok 1 - two VMs created in one process\n");
	for (int i = 0; i < 2; i++) {
		pthread_create(&g[i].reader, NULL, read_console, &g[i]);
		pthread_create(&g[i].runner, NULL, run_vm, &g[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(g[i].runner, NULL);
		close(g[i].pipe[1]);    /* the reader sees EOF */
		pthread_join(g[i].reader, NULL);
	}
	for (int i = 0; i < 2; i++) {
		char want[64];
		int ok = g[i].run_ret == 0 && vmm_exit_info(g[i].vm)->reason == VMM_STOP_RESET;

		printf("%s %d - VM %d reset by itself (vmm_run %d)\n", ok ? "ok" : "not ok",
		       2 + 2 * i, i, g[i].run_ret);
		failed |= !ok;
		snprintf(want, sizeof(want), "vm=%d]", i);
		ok = strstr(g[i].out, "RESULT PASS") && strstr(g[i].out, want) &&
		     !strstr(g[i].out, "\nFAIL");
		printf("%s %d - VM %d saw its own memory, vCPUs and command line\n",
		       ok ? "ok" : "not ok", 3 + 2 * i, i);
		if (!ok)
			printf("# console of VM %d:\n# %.*s\n", i, 2000, g[i].out);
		failed |= !ok;
	}
	for (int i = 0; i < 2; i++) {
		vmm_destroy(g[i].vm);
		close(g[i].pipe[0]);
		vmm_config_free(g[i].cfg);
	}
	printf("%s 6 - both destroyed\n", failed ? "not ok" : "ok");
	return failed;
}
