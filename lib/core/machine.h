/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM core's private state: what struct vmm holds, shared by the core's
 * files. Devices never include this; they see struct device_env.
 */
#ifndef VMM_CORE_MACHINE_H
#define VMM_CORE_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot/cmdline.h"
#include "config/config.h"
#include "core/bus.h"
#include "core/event.h"
#include "core/memory.h"
#include "core/seccomp.h"
#include "core/util.h"
#include "devices/device.h"
#include "vmmcore/vmm.h"

struct vcpu;
struct vm_io;

/* A device of the VM, with the resources the core handed out to it. */
struct vm_device {
	const struct device_ops *ops;
	const void *config;             /* record in vm->cfg, NULL if built in */
	struct device_resources res;
	void *dev;
};

struct vmm {
	struct vmm_config *cfg;         /* the VM's own copy */

	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;

	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct event_loop events;

	struct vcpu *vcpus;
	unsigned int nvcpus;

	struct console *console;        /* the console's host side */
	struct device_env env;          /* what every device sees */
	struct vm_io *io;               /* device I/O threads' loops, newest first */
	unsigned int nio;
	struct vm_device *devices;      /* in creation order */
	unsigned int ndevices;

	struct cmdline cmdline;         /* the user's, then the devices' */
	struct cmdline defaults;        /* after them: what devices default */
	uint64_t entry;                 /* the kernel's 64-bit entry point */

	/* Stop state, written once by the first stopper. */
	pthread_mutex_t stop_lock;
	struct vmm_exit_info exit;
	bool stopped;
	bool running;

	int sig_fd;                     /* signalfd when handle_signals */

	/* The vCPUs enter the guest once every thread has its filter. */
	struct seccomp_gate seccomp_gate;
	/* Tests only: called by each vCPU thread once it is filtered. */
	void (*seccomp_test_hook)(unsigned int vcpu);

	int boot_marked;                /* the guest wrote the boot marker */
	uint64_t boot_marker_wall_us, boot_marker_cpu_us;
};

#endif
