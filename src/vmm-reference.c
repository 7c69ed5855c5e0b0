/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-reference - boot a Linux kernel (or any 64-bit boot-protocol guest)
 * on KVM: a thin command-line front end to libvmmcore.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmmcore/vmm.h"

#define EXIT_USAGE 2

static const char *prog = "vmm-reference";

static void __attribute__((noreturn)) usage(void)
{
	printf("Usage:\n"
	       " %s [options] --kernel path=FILE[,...]\n"
	       "\n"
	       "Boot a Linux kernel (ELF vmlinux or bzImage) in a KVM virtual machine.\n"
	       "Values are key=value lists; a value may be double-quoted to hold commas.\n"
	       "\n"
	       "Options:\n"
	       "     --memory size_mib=N       guest RAM in MiB (default %u, %u..%u)\n"
	       "     --vcpu num=N              number of vCPUs (default %u, 1..%u)\n"
	       "     --kernel path=FILE[,cmdline=STRING][,kernel_load_addr=ADDR][,initrd=FILE]\n"
	       "                               kernel image, command line, bzImage load\n"
	       "                               address (default 0x%llx), initramfs\n"
	       "     --block path=FILE[,read_only=on|off][,id=NAME]\n"
	       "                               virtio-blk disk (repeatable: vda, vdb, ...)\n"
	       " -v, --verbose                 more messages on stderr (repeatable)\n"
	       " -h, --help                    display this help\n"
	       " -V, --version                 display version\n"
	       "\n"
	       "The guest's serial console (COM1) is connected to stdin and stdout.\n"
	       "Exit status: 0 guest reset or stopped by a signal, 1 failure, 2 usage.\n"
	       "\n"
	       "For more details see vmm-reference(1).\n",
	       prog, VMM_MEMORY_DEFAULT_MIB, VMM_MEMORY_MIN_MIB, VMM_MEMORY_MAX_MIB,
	       VMM_VCPU_DEFAULT, VMM_VCPU_MAX, (unsigned long long)VMM_KERNEL_LOAD_DEFAULT);
	exit(EXIT_SUCCESS);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(EXIT_USAGE);
}

/* Errors the library reported itself (the CLI adds no second line). */
static unsigned int logged_errors;

static void log_fn(void *data, int priority, const char *fmt, va_list args)
{
	(void)data;
	if (priority <= VMM_LOG_ERR)
		logged_errors++;
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

enum {
	OPT_MEMORY = 0x100,
	OPT_VCPU,
	OPT_KERNEL,
	OPT_BLOCK,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "vcpu", required_argument, NULL, OPT_VCPU },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int seen = 0;
	struct vmm_config cfg;
	struct vmm *vm = NULL;
	char err[512];
	int c, ret, status = EXIT_FAILURE;

	vmm_config_init(&cfg);
	cfg.log_fn = log_fn;
	cfg.handle_signals = true;

	while ((c = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		const char *name = NULL;

		switch (c) {
		case OPT_MEMORY:
			name = "memory";
			break;
		case OPT_VCPU:
			name = "vcpu";
			break;
		case OPT_KERNEL:
			name = "kernel";
			break;
		case OPT_BLOCK:
			name = "block";
			break;
		case 'v':
			if (cfg.log_priority < VMM_LOG_DEBUG)
				cfg.log_priority++;
			continue;
		case 'h':
			usage();
		case 'V':
			printf("%s %s (libvmmcore %s)\n", prog, PACKAGE_VERSION, vmm_version());
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return EXIT_USAGE;
		}
		if (c != OPT_BLOCK) {
			unsigned int bit = 1u << (c - OPT_MEMORY);

			if (seen & bit)
				usage_error("--%s given more than once", name);
			seen |= bit;
		}
		ret = vmm_config_parse_option(&cfg, name, optarg, err, sizeof(err));
		if (ret)
			usage_error("%s", err);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!(seen & (1u << (OPT_KERNEL - OPT_MEMORY))))
		usage_error("--kernel path=FILE is required");
	ret = vmm_config_validate(&cfg, err, sizeof(err));
	if (ret)
		usage_error("%s", err);

	ret = vmm_create(&cfg, &vm);
	if (ret) {
		if (!logged_errors)
			fprintf(stderr, "%s: cannot create the VM: %s\n", prog, vmm_strerror(ret));
		goto out;
	}
	ret = vmm_run(vm);
	if (ret) {
		vmm_exit_describe(vmm_exit_info(vm), err, sizeof(err));
		fprintf(stderr, "%s: %s\n", prog, err);
		goto out;
	}
	if (cfg.log_priority >= VMM_LOG_INFO) {
		vmm_exit_describe(vmm_exit_info(vm), err, sizeof(err));
		fprintf(stderr, "%s: %s\n", prog, err);
	}
	status = EXIT_SUCCESS;
out:
	vmm_destroy(vm);
	vmm_config_release(&cfg);
	return status;
}
