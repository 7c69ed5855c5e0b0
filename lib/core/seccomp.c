/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System-call filters by thread role: see seccomp.h. Each list is what the
 * role's code calls once the VM runs, and no more; what it needs for
 * set-up (open, mmap of files, KVM_CREATE_*) happened before. Every list
 * keeps mmap and mprotect from making memory executable.
 */
#include <errno.h>
#include <stddef.h>

#include "core/seccomp.h"

#ifdef HAVE_SECCOMP
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/ioctl.h>

/* Memory, threads, clocks, signals, the log (write): every thread. */
static const int common_calls[] = {
	SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill),       /* abort() */
	SCMP_SYS(write),
#ifdef VMM_SANITIZERS
	/* ASan's and UBSan's runtimes: reports, /proc/self/maps, shadow, and
	 * LeakSanitizer's check at exit, from a tracer that ptraces the
	 * threads (it lists /proc/self/task with open and getdents). */
	SCMP_SYS(sched_yield), SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(prctl), SCMP_SYS(openat),
	SCMP_SYS(open), SCMP_SYS(readlink), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(lseek), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(clone),
	SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(kill), SCMP_SYS(sched_getaffinity), SCMP_SYS(close),
	SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(getppid),
#endif
};

/* KVM_RUN and the exit handlers: port and MMIO accesses, which raise IRQs,
 * set up a device's eventfds when the driver starts it and a TAP's
 * offloads as the driver's features say. */
static const int vcpu_calls[] = {
	SCMP_SYS(read), SCMP_SYS(sendto), SCMP_SYS(eventfd2), SCMP_SYS(epoll_ctl),
	SCMP_SYS(close),
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_IRQFD, KVM_IOEVENTFD, TUNSETOFFLOAD,
	KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE,     /* a crash's report */
};

/* The event loop: the console's input, its socket clients, device events. */
static const int event_calls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(sendto),
	SCMP_SYS(recvfrom), SCMP_SYS(accept4), SCMP_SYS(close), SCMP_SYS(getrandom),
};
static const unsigned long event_ioctls[] = { KVM_IRQ_LINE };

/* A device's host I/O: disk images, TAPs, the entropy source. */
static const int device_io_calls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(preadv2), SCMP_SYS(pwritev2), SCMP_SYS(fdatasync), SCMP_SYS(fsync),
	SCMP_SYS(fallocate), SCMP_SYS(getrandom), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
};
static const unsigned long device_io_ioctls[] = { KVM_IRQ_LINE };

/* vmm_run()'s caller: it waits for the stop, takes signals, stops the
 * threads, then tears the VM down (vmm_destroy) and the program exits. */
static const int vmm_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(read), SCMP_SYS(close),
	SCMP_SYS(epoll_ctl), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(unlink),
	SCMP_SYS(fdatasync), SCMP_SYS(fsync),
};
static const unsigned long vmm_ioctls[] = {
	KVM_IRQFD, KVM_IOEVENTFD,       /* a device unassigns its eventfds */
	TCGETS, TCSETS, TCSETSW, TCSETSF, /* the terminal back to cooked mode */
};

struct role_list {
	const int *calls;
	size_t ncalls;
	const unsigned long *ioctls;
	size_t nioctls;
};

#define LIST(c, i) { c, sizeof(c) / sizeof(c[0]), i, sizeof(i) / sizeof(i[0]) }
static const struct role_list role_lists[] = {
	[THREAD_VCPU] = LIST(vcpu_calls, vcpu_ioctls),
	[THREAD_EVENT] = LIST(event_calls, event_ioctls),
	[THREAD_DEVICE_IO] = LIST(device_io_calls, device_io_ioctls),
	[THREAD_VMM] = LIST(vmm_calls, vmm_ioctls),
};

static int allow_calls(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return ret;
}

/* mmap and mprotect, never with PROT_EXEC; ioctl with the role's requests. */
static int allow_args(scmp_filter_ctx ctx, const struct role_list *l)
{
	int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				   SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	for (size_t i = 0; !ret && i < l->nioctls; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, l->ioctls[i]));
	return ret;
}

bool seccomp_available(void)
{
	return true;
}

int seccomp_install(enum thread_role role, enum vmm_seccomp mode)
{
	const struct role_list *l = &role_lists[role];
	scmp_filter_ctx ctx;
	int ret;

	if (mode == VMM_SECCOMP_OFF)
		return 0;
	ctx = seccomp_init(mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	ret = allow_calls(ctx, common_calls, sizeof(common_calls) / sizeof(common_calls[0]));
	if (!ret)
		ret = allow_calls(ctx, l->calls, l->ncalls);
	if (!ret)
		ret = allow_args(ctx, l);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

#else

bool seccomp_available(void)
{
	return false;
}

int seccomp_install(enum thread_role role, enum vmm_seccomp mode)
{
	return mode == VMM_SECCOMP_OFF ? 0 : -ENOTSUP;
}

#endif

/* ------------------------------------------------------------------ */
/* The gate. */

void seccomp_gate_init(struct seccomp_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->open = false;
}

void seccomp_gate_release(struct seccomp_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

void seccomp_gate_open(struct seccomp_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void seccomp_gate_wait(struct seccomp_gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}
