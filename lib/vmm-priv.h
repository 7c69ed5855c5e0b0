/* SPDX-License-Identifier: Apache-2.0 */
/* Internal state of a VM and the services devices use. Not installed. */
#ifndef VMM_PRIV_H
#define VMM_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmmcore/vmm.h"
#include "bus.h"
#include "event.h"
#include "memory.h"

#define VMM_EXPORT __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct vcpu;

/* A device that registered itself with the VM, destroyed in reverse order. */
struct vmm_device {
	const char *name;
	void *opaque;
	void (*destroy)(void *opaque);
	struct vmm_device *next;
};

struct vmm {
	struct vmm_config cfg;          /* deep copy of the caller's config */

	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;

	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct event_loop events;

	struct vcpu *vcpus;
	unsigned int nvcpus;

	struct vmm_device *devices;

	/* Kernel command line being built: the user's, then device additions. */
	char *cmdline;
	size_t cmdline_len;

	/* Next virtio-mmio slot. */
	unsigned int virtio_slots;

	/* Boot: entry point and whether it is a 64-bit entry. */
	uint64_t entry;

	/* Stop state, written once by the first stopper. */
	pthread_mutex_t stop_lock;
	struct vmm_exit_info exit;
	bool stopped;
	bool running;

	int sig_fd;                     /* signalfd when cfg.handle_signals */
};

/* Logging through cfg.log_fn. */
void vmm_log(const struct vmm *vm, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define vmm_err(vm, ...)  vmm_log(vm, VMM_LOG_ERR, __VA_ARGS__)
#define vmm_warn(vm, ...) vmm_log(vm, VMM_LOG_WARNING, __VA_ARGS__)
#define vmm_info(vm, ...) vmm_log(vm, VMM_LOG_INFO, __VA_ARGS__)
#define vmm_dbg(vm, ...)  vmm_log(vm, VMM_LOG_DEBUG, __VA_ARGS__)

/* Register a device for destruction with the VM. Returns: 0 or -ENOMEM. */
int vmm_device_add(struct vmm *vm, const char *name, void *opaque, void (*destroy)(void *));

/* Append " @text" to the kernel command line. Returns: 0 or -ENOMEM. */
int vmm_cmdline_append(struct vmm *vm, const char *text);

/* Stop the VM with @info (first caller wins). Any thread. */
void vmm_request_stop(struct vmm *vm, const struct vmm_exit_info *info);

/* Start a thread with every signal blocked (the mask it inherits), so that
 * no process-directed signal, e.g. a SIGINT or SIGTERM that vmm_run() or the
 * application waits for in another thread, is ever delivered to a library
 * thread. Returns: 0 or a negative errno. */
static inline int vmm_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -ret;
}

/* kvm.c: interrupts and doorbells on the in-kernel irqchip. */
int kvm_irq_line(struct vmm *vm, unsigned int irq, int level);
int kvm_irqfd(struct vmm *vm, int fd, unsigned int gsi, bool assign);
int kvm_ioeventfd(struct vmm *vm, int fd, uint64_t addr, uint32_t len,
		  bool datamatch, uint64_t data, bool assign);

#endif
