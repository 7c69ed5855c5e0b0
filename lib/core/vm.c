/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM: create (its own objects and event loop, then KVM -> memory ->
 * vCPUs -> devices -> kernel), run (an event thread and a thread per vCPU
 * while the caller waits, and takes signals when asked to), destroy; and
 * the services its devices get through their environment.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "boot/boot.h"
#include "core/console.h"
#include "core/iothread.h"
#include "core/kvm.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/resources.h"
#include "core/seccomp.h"
#include "core/stats.h"
#include "core/stop.h"
#include "core/thread.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/registry.h"

/* ------------------------------------------------------------------ */
/* Services to devices. */

static int svc_irq_line(void *vm, unsigned int irq, int level)
{
	return kvm_irq_line(vm, irq, level);
}

static int svc_irqfd(void *vm, int fd, unsigned int irq, bool assign)
{
	return kvm_irqfd(vm, fd, irq, assign);
}

static int svc_ioeventfd(void *vm, int fd, uint64_t addr, uint32_t len, bool datamatch,
			 uint64_t data, bool assign)
{
	return kvm_ioeventfd(vm, fd, addr, len, datamatch, data, assign);
}

static int svc_cmdline_append(void *vm, const char *param)
{
	return cmdline_append(&((struct vmm *)vm)->cmdline, param);
}

static int svc_cmdline_default(void *p, const char *name, const char *param)
{
	struct vmm *vm = p;

	if (cmdline_has_param(vm->cfg->vm.cmdline, name) ||
	    cmdline_has_param(vm->defaults.buf, name))
		return 0;
	return cmdline_append(&vm->defaults, param);
}

static struct event_loop *svc_io_loop(void *vm, const char *what)
{
	return vm_io_loop(vm, what);
}

static void svc_log(void *vm, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void svc_log(void *vm, int prio, const char *fmt, va_list ap)
{
	vm_vlog(vm, prio, fmt, ap);
}

static void svc_request_reset(void *vm)
{
	struct vmm_exit_info info = { .reason = VMM_STOP_RESET, .vcpu = -1 };

	vm_request_stop(vm, &info);
}

static bool svc_stopping(void *vm)
{
	return __atomic_load_n(&((struct vmm *)vm)->stopped, __ATOMIC_ACQUIRE);
}

static void svc_boot_marker(void *vm)
{
	vm_boot_marker(vm);
}

static const struct device_env_ops env_ops = {
	.irq_line = svc_irq_line,
	.irqfd = svc_irqfd,
	.ioeventfd = svc_ioeventfd,
	.cmdline_append = svc_cmdline_append,
	.cmdline_default = svc_cmdline_default,
	.io_loop = svc_io_loop,
	.log = svc_log,
	.request_reset = svc_request_reset,
	.stopping = svc_stopping,
	.boot_marker = svc_boot_marker,
};

/* ------------------------------------------------------------------ */
/* Create. */

int vm_new(const struct vmm_config *cfg, struct vmm **out)
{
	struct vmm *vm = calloc(1, sizeof(*vm));
	int ret;

	*out = vm;
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->sig_fd = -1;
	vm->events.epfd = vm->events.stop_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	seccomp_gate_init(&vm->seccomp_gate);
	bus_init(&vm->pio_bus, "pio");
	bus_init(&vm->mmio_bus, "mmio");
	ret = config_dup(cfg, &vm->cfg);
	if (!ret)
		ret = event_loop_init(&vm->events);
	if (ret) {
		vmm_destroy(vm);
		*out = NULL;
		return ret;
	}
	vm->env = (struct device_env){
		.mem = &vm->mem,
		.pio_bus = &vm->pio_bus,
		.mmio_bus = &vm->mmio_bus,
		.events = &vm->events,
		.ops = &env_ops,
		.vm = vm,
	};
	return 0;
}

static void console_quit(void *data)
{
	struct vmm_exit_info info = { .reason = VMM_STOP_REQUESTED, .vcpu = -1, .console_quit = 1 };

	vm_request_stop(data, &info);
}

/* A pipe's reader went away: a guest that keeps writing would run unseen
 * for ever. */
static void console_closed(void *data)
{
	struct vmm_exit_info info = { .reason = VMM_STOP_HOST_ERROR, .vcpu = -1, .error = -EPIPE };

	vm_request_stop(data, &info);
}

/* The console's host side, as --serial says. */
static int open_console(struct vmm *vm)
{
	const struct vm_settings *s = &vm->cfg->vm;
	struct console_params p = {
		.mode = s->serial_file ? CONSOLE_FILE : s->serial_socket ? CONSOLE_SOCKET :
			!s->serial_mode || !strcmp(s->serial_mode, "stdio") ? CONSOLE_STDIO :
			!strcmp(s->serial_mode, "pty") ? CONSOLE_PTY : CONSOLE_OFF,
		.path = s->serial_file ? s->serial_file : s->serial_socket,
		.in_fd = s->console_in, .out_fd = s->console_out,
		.loop = &vm->events, .quit = console_quit,
		.closed = console_closed, .data = vm, .seccomp = s->seccomp,
	};
	char err[256];
	int ret = console_open(&p, &vm->console, err, sizeof(err));

	if (ret)
		vm_err(vm, "%s", err);
	vm->env.console = vm->console;
	return ret;
}

/* The built-in devices, then the configured ones in the order given. */
static int add_devices(struct vmm *vm)
{
	int ret = 0;

	for (const struct device_ops *const *t = device_types; !ret && *t; t++)
		if (!(*t)->keys)
			ret = vm_device_add(vm, *t, NULL, NULL);
	for (unsigned int i = 0; !ret && i < vm->cfg->ndevices; i++)
		ret = vm_device_add(vm, vm->cfg->devices[i].type, vm->cfg->devices[i].rec, NULL);
	if (!ret && vm->defaults.len)
		ret = cmdline_append(&vm->cmdline, vm->defaults.buf);
	return ret;
}

static int load_kernel(struct vmm *vm)
{
	const struct vm_settings *s = &vm->cfg->vm;
	const struct boot_spec spec = {
		.kernel = s->kernel,
		.load_addr = s->load_addr,
		.initrd = s->initrd,
		.cmdline = cmdline_text(&vm->cmdline),
		.added = strlen(cmdline_text(&vm->cmdline)) - (s->cmdline ? strlen(s->cmdline) : 0),
		.ncpus = s->vcpus,
	};
	char err[512];
	int ret = boot_load(&vm->mem, &spec, &vm->entry, err, sizeof(err));

	if (ret)
		vm_err(vm, "%s", err);
	return ret;
}

/* Guest RAM is mapped on demand: it starts, and fails only when used. */
static void warn_host_memory(struct vmm *vm, uint64_t mib)
{
	uint64_t avail = host_mem_available_mib();

	if (avail && mib > avail)
		vm_warn(vm, "guest memory of %llu MiB is more than the host has available "
			"(%llu MiB): the guest may be killed or the host swap once it uses it",
			(unsigned long long)mib, (unsigned long long)avail);
}

static int map_memory(struct vmm *vm)
{
	uint64_t mib = vm->cfg->vm.memory_mib;
	int ret;

	warn_host_memory(vm, mib);
	ret = guest_mem_setup(&vm->mem, mib << 20);
	if (ret)
		vm_err(vm, "cannot map %llu MiB of guest memory: %s%s", (unsigned long long)mib,
		       strerror(-ret), ret == -ENOMEM ? ": give the guest less (--memory), or "
		       "raise the address-space limit (ulimit -v)" : "");
	return ret;
}

static int setup_boot_vcpu(struct vmm *vm)
{
	return vcpu_setup_boot(vm, vm->entry);
}

/* The design's steps, in order. */
static const struct {
	const char *name;
	int (*run)(struct vmm *vm);
} build_steps[] = {
	{ "open KVM", kvm_open },
	/* Memory before the irqchip: registered after it, a memory slot
	 * waits out an SRCU grace period in KVM (measured: 4-7 ms). */
	{ "map guest memory", map_memory },
	{ "register guest memory", kvm_register_memory },
	{ "create the irqchip", kvm_setup_irqchip },
	{ "create the vCPUs", vcpu_create_all },
	{ "open the console", open_console },
	{ "add the devices", add_devices },
	{ "load the kernel", load_kernel },
	{ "set up the boot vCPU", setup_boot_vcpu },
};

static int build(struct vmm *vm)
{
	const struct vm_settings *s = &vm->cfg->vm;
	int ret;

	ret = vmm_config_validate(vm->cfg);
	if (ret) {
		vm_err(vm, "%s", vmm_config_error(vm->cfg));
		return ret;
	}
	/* The caller knows best how to say what to change: no message. */
	if (s->seccomp != VMM_SECCOMP_OFF && !seccomp_available())
		return -ENOTSUP;
	if (s->cmdline && *s->cmdline && (ret = cmdline_append(&vm->cmdline, s->cmdline)))
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(build_steps); i++) {
		double start = process_wall_ms();

		ret = build_steps[i].run(vm);
		vm_dbg(vm, "set-up: %s: %.3f ms", build_steps[i].name, process_wall_ms() - start);
		if (ret)
			return ret;
	}
	vm_info(vm, "VM ready: %llu MiB, %u vCPUs, cmdline \"%s\"",
		(unsigned long long)s->memory_mib, s->vcpus, cmdline_text(&vm->cmdline));
	return 0;
}

VMM_EXPORT int vmm_create(const struct vmm_config *cfg, struct vmm **out)
{
	struct vmm *vm;
	int ret = vm_new(cfg, &vm);

	*out = NULL;
	if (ret)
		return ret;
	ret = build(vm);
	if (ret) {
		vmm_destroy(vm);
		return ret;
	}
	*out = vm;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Run. */

/* A signal read from the signalfd stops the VM. */
static void take_signal(struct vmm *vm)
{
	struct signalfd_siginfo si;

	if (read(vm->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		struct vmm_exit_info info = {
			.reason = VMM_STOP_REQUESTED, .vcpu = -1, .signal = (int)si.ssi_signo,
		};

		vm_request_stop(vm, &info);
	}
}

static void stop_on_error(struct vmm *vm, int error)
{
	struct vmm_exit_info info = { .reason = VMM_STOP_HOST_ERROR, .vcpu = -1, .error = error };

	vm_request_stop(vm, &info);
}

struct event_thread_arg {
	struct vmm *vm;
	int done_fd;                    /* written when the loop has stopped */
};

static void *event_thread(void *p)
{
	const struct event_thread_arg *a = p;
	uint64_t one = 1;
	int ret = event_loop_run(&a->vm->events);

	if (ret)
		stop_on_error(a->vm, ret);
	if (write(a->done_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write of 1 cannot fail; nothing to do. */
	}
	return NULL;
}

/* SIGINT, SIGTERM and SIGHUP through a signalfd, and a raw console
 * terminal. */
struct run_signals {
	sigset_t old_mask;
};

static int signals_take(struct vmm *vm, struct run_signals *rs)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, &rs->old_mask);
	vm->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sig_fd < 0)
		return -errno;
	console_raw(vm->console);
	return 0;
}

static void signals_release(struct vmm *vm, struct run_signals *rs)
{
	struct signalfd_siginfo si;

	console_cooked(vm->console);
	if (vm->sig_fd >= 0) {
		/* A signal stopped the VM: a second one for the same stop (a
		 * supervisor signals the process, then its process group) is
		 * this stop's too, and must not kill the process once the mask
		 * is restored. Any other stop leaves pending signals alone. */
		while (vm->exit.signal && read(vm->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(vm->sig_fd);
		vm->sig_fd = -1;
	}
	pthread_sigmask(SIG_SETMASK, &rs->old_mask, NULL);
}

/* The calling thread waits for the event loop to stop, and meanwhile reads
 * the signals it took, sent to the process or to this very thread. */
static void wait_for_stop(struct vmm *vm, int done_fd)
{
	struct pollfd p[2] = { { .fd = done_fd, .events = POLLIN },
			       { .fd = vm->sig_fd, .events = POLLIN } };

	while (!(p[0].revents & POLLIN)) {
		if (poll(p, vm->sig_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			stop_on_error(vm, -errno);
			return;
		}
		if (p[1].revents & POLLIN)
			take_signal(vm);
	}
}

/* This thread filters itself last, as a thread inherits the filter of the
 * one that creates it; then the vCPUs may enter the guest. */
static void filter_self(struct vmm *vm)
{
	int ret = seccomp_install(THREAD_VMM, vm->cfg->vm.seccomp);

	if (ret) {
		vm_err(vm, "cannot install the system-call filter: %s", strerror(-ret));
		stop_on_error(vm, ret);
	}
	seccomp_gate_open(&vm->seccomp_gate);
}

/* Event thread, device I/O threads and vCPUs, until the event loop stops. */
static void run_threads(struct vmm *vm)
{
	struct vmm_exit_info requested = { .reason = VMM_STOP_REQUESTED, .vcpu = -1 };
	struct event_thread_arg arg = { vm, eventfd(0, EFD_CLOEXEC) };
	pthread_t events;
	int ret;

	ret = arg.done_fd < 0 ? -errno :
	      thread_create(THREAD_EVENT, vm->cfg->vm.seccomp, "vmm-events", event_thread, &arg,
			    &events);
	if (ret) {
		vm_err(vm, "cannot start the event thread: %s", strerror(-ret));
		stop_on_error(vm, ret);
	} else {
		ret = vm_io_start(vm);
		if (!ret)
			ret = vcpu_start_all(vm);
		if (ret)
			stop_on_error(vm, ret);
		filter_self(vm);
		wait_for_stop(vm, arg.done_fd);
		pthread_join(events, NULL);
	}
	if (arg.done_fd >= 0)
		close(arg.done_fd);
	/* Stopped by vmm_stop(): record it unless something else did. */
	vm_request_stop(vm, &requested);
	vcpu_stop_all(vm);
	vm_io_stop(vm);
}

/* At debug level when the VM stops: every counter that moved. */
static int log_counter(void *vm, const char *name, uint64_t value)
{
	if (value)
		vm_dbg(vm, "counter %s = %llu", name, (unsigned long long)value);
	return 0;
}

VMM_EXPORT int vmm_run(struct vmm *vm)
{
	struct run_signals rs;
	bool signals = vm->cfg->vm.handle_signals;
	int ret = 0;

	if (vm->running || vm->stopped)
		return -EALREADY;
	vm->running = true;
	if (signals)
		ret = signals_take(vm, &rs);
	if (!ret) {
		run_threads(vm);
		switch (vm->exit.reason) {
		case VMM_STOP_RESET:
		case VMM_STOP_REQUESTED:
			break;
		case VMM_STOP_HOST_ERROR:
			ret = vm->exit.error ? vm->exit.error : -EIO;
			break;
		default:
			ret = -EIO;
			break;
		}
	}
	if (signals)
		signals_release(vm, &rs);
	console_end_line(vm->console);
	vm_stats_each(vm, log_counter, vm);
	vm->running = false;
	return ret;
}

/* ------------------------------------------------------------------ */

static void destroy_devices(struct vmm *vm)
{
	while (vm->ndevices) {
		struct vm_device *d = &vm->devices[--vm->ndevices];

		d->ops->destroy(d->dev);
	}
	free(vm->devices);
	vm->devices = NULL;
}

VMM_EXPORT void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	vcpu_destroy_all(vm);
	vm_io_stop(vm);
	destroy_devices(vm);
	console_close(vm->console);
	vm_io_release(vm);
	event_loop_release(&vm->events);
	bus_release(&vm->pio_bus);
	bus_release(&vm->mmio_bus);
	kvm_close(vm);
	guest_mem_release(&vm->mem);
	cmdline_release(&vm->cmdline);
	cmdline_release(&vm->defaults);
	vmm_config_free(vm->cfg);
	pthread_mutex_destroy(&vm->stop_lock);
	seccomp_gate_release(&vm->seccomp_gate);
	free(vm);
}

VMM_EXPORT const char *vmm_strerror(int err)
{
	if (err == -EIO)
		return "the guest crashed";
	return strerror(err < 0 ? -err : err);
}

VMM_EXPORT const char *vmm_version(void)
{
	return PACKAGE_VERSION;
}
