/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A vCPU thread that makes a system call outside its list, through the
 * library's internal test hook: with --seccomp on the process dies of
 * SIGSYS before the guest runs; with log or off the call goes through
 * and the boot test guest resets by itself (exit 0).
 *
 * Usage: seccomp-kill on|log|off GUEST.elf
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/machine.h"

static void forbidden_call(unsigned int vcpu)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd >= 0)
		close(fd);
	fprintf(stderr, "vcpu%u: socket() went through\n", vcpu);
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {
		[VMM_SECCOMP_OFF] = "off", [VMM_SECCOMP_ON] = "on", [VMM_SECCOMP_LOG] = "log",
	};
	struct vmm_config *cfg;
	struct vmm *vm;
	char opt[512];
	int mode = -1, ret;

	for (int i = 0; argc == 3 && i < 3; i++)
		if (!strcmp(argv[1], modes[i]))
			mode = i;
	if (mode < 0) {
		fprintf(stderr, "usage: %s on|log|off GUEST.elf\n", argv[0]);
		return 2;
	}
	snprintf(opt, sizeof(opt), "path=%s", argv[2]);
	if (vmm_config_new(&cfg) || vmm_config_set_option(cfg, "kernel", opt) ||
	    vmm_config_set_console(cfg, -1, STDOUT_FILENO) ||
	    vmm_config_set_seccomp(cfg, (enum vmm_seccomp)mode)) {
		fprintf(stderr, "set-up failed: %s\n", vmm_config_error(cfg));
		return 1;
	}
	ret = vmm_create(cfg, &vm);
	vmm_config_free(cfg);
	if (ret) {
		fprintf(stderr, "vmm_create: %s\n", vmm_strerror(ret));
		return 1;
	}
	vm->seccomp_test_hook = forbidden_call;
	ret = vmm_run(vm);
	fprintf(stderr, "vmm_run: %d, stop reason %d\n", ret, vmm_exit_info(vm)->reason);
	ret = ret || vmm_exit_info(vm)->reason != VMM_STOP_RESET;
	vmm_destroy(vm);
	return ret;
}
