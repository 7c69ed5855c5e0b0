/* SPDX-License-Identifier: Apache-2.0 */
/* The VM: create (KVM -> memory -> events -> vCPUs -> devices -> kernel),
 * run, stop, destroy. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "bootparams.h"
#include "i8042.h"
#include "kvm.h"
#include "layout.h"
#include "loader.h"
#include "mptable.h"
#include "serial.h"
#include "vcpu.h"
#include "virtio_blk.h"
#include "vmm-priv.h"

/* ------------------------------------------------------------------ */
/* Logging. */

static void log_stderr(void *data, int priority, const char *fmt, va_list args)
{
	(void)data;
	(void)priority;
	fprintf(stderr, "libvmmcore: ");
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
}

void vmm_log(const struct vmm *vm, int prio, const char *fmt, ...)
{
	vmm_log_fn fn = vm->cfg.log_fn ? vm->cfg.log_fn : log_stderr;
	va_list ap;

	if (prio > vm->cfg.log_priority)
		return;
	va_start(ap, fmt);
	fn(vm->cfg.log_data, prio, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Services for devices. */

int vmm_device_add(struct vmm *vm, const char *name, void *opaque, void (*destroy)(void *))
{
	struct vmm_device *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->name = name;
	d->opaque = opaque;
	d->destroy = destroy;
	d->next = vm->devices;
	vm->devices = d;
	return 0;
}

int vmm_cmdline_append(struct vmm *vm, const char *text)
{
	size_t add = strlen(text);
	char *p = realloc(vm->cmdline, vm->cmdline_len + add + 2);

	if (!p)
		return -ENOMEM;
	vm->cmdline = p;
	if (vm->cmdline_len)
		p[vm->cmdline_len++] = ' ';
	memcpy(p + vm->cmdline_len, text, add + 1);
	vm->cmdline_len += add;
	return 0;
}

/* Whether the command line already has a parameter @name (e.g. "root"). */
static bool cmdline_has_param(const char *cmdline, const char *name)
{
	size_t n = strlen(name);
	const char *p = cmdline;
	bool quoted = false;

	if (!p)
		return false;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && (p[n] == '=' || p[n] == ' ' || !p[n]))
			return true;
		for (; *p && (quoted || *p != ' '); p++)
			if (*p == '"')
				quoted = !quoted;
	}
	return false;
}

void vmm_request_stop(struct vmm *vm, const struct vmm_exit_info *info)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopped) {
		vm->exit = *info;
		__atomic_store_n(&vm->stopped, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	event_loop_stop(&vm->events);
}

/* ------------------------------------------------------------------ */
/* Config copy. */

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	return src ? vmm_config_set_string(dst, src) : 0;
}

static int config_copy(struct vmm_config *dst, const struct vmm_config *src)
{
	*dst = *src;
	dst->kernel.path = dst->kernel.cmdline = dst->kernel.initrd_path = NULL;
	for (unsigned int i = 0; i < VMM_BLOCK_MAX; i++)
		dst->block[i].path = dst->block[i].id = NULL;
	for (unsigned int i = 0; i < VMM_NET_MAX; i++)
		dst->net[i].tap = NULL;
	/* On failure the copies made so far are freed with dst. */
	if (dup_str(&dst->kernel.path, src->kernel.path) ||
	    dup_str(&dst->kernel.cmdline, src->kernel.cmdline) ||
	    dup_str(&dst->kernel.initrd_path, src->kernel.initrd_path))
		return -ENOMEM;
	for (unsigned int i = 0; i < src->num_block && i < VMM_BLOCK_MAX; i++)
		if (dup_str(&dst->block[i].path, src->block[i].path) ||
		    dup_str(&dst->block[i].id, src->block[i].id))
			return -ENOMEM;
	for (unsigned int i = 0; i < src->num_net && i < VMM_NET_MAX; i++)
		if (dup_str(&dst->net[i].tap, src->net[i].tap))
			return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Kernel loading. */

struct mapped_file {
	void *data;
	size_t size;
};

static int map_file(struct vmm *vm, const char *what, const char *path, struct mapped_file *f)
{
	struct stat st;
	int fd, ret = 0;

	f->data = NULL;
	f->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		vmm_err(vm, "%s %s: %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	} else if (st.st_size == 0) {
		ret = -ENOEXEC;
		vmm_err(vm, "%s %s: empty file", what, path);
		close(fd);
		return ret;
	} else {
		f->size = (size_t)st.st_size;
		f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->data == MAP_FAILED) {
			ret = -errno;
			f->data = NULL;
		}
	}
	close(fd);
	if (ret)
		vmm_err(vm, "%s %s: %s", what, path, strerror(-ret));
	return ret;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->size);
	f->data = NULL;
}

static int load_kernel(struct vmm *vm)
{
	const struct vmm_kernel_config *kc = &vm->cfg.kernel;
	struct mapped_file kf, rf = { NULL, 0 };
	struct bootparams_info bi = { 0 };
	struct kernel_image k;
	struct boot_params *bp;
	char err[256] = "";
	void *mp;
	int ret;

	ret = map_file(vm, "kernel", kc->path, &kf);
	if (ret)
		return ret;
	ret = loader_load_kernel(&vm->mem, kf.data, kf.size, kc->load_addr, &k, err, sizeof(err));
	unmap_file(&kf);
	if (ret) {
		vmm_err(vm, "kernel %s: %s", kc->path, err);
		return ret;
	}
	if (kc->initrd_path) {
		ret = map_file(vm, "initrd", kc->initrd_path, &rf);
		if (ret)
			return ret;
		ret = loader_load_initrd(&vm->mem, &k, rf.data, rf.size, &bi.initrd_gpa,
					 err, sizeof(err));
		bi.initrd_size = rf.size;
		unmap_file(&rf);
		if (ret) {
			vmm_err(vm, "initrd %s: %s", kc->initrd_path, err);
			return ret;
		}
	}
	ret = loader_load_cmdline(&vm->mem, &k, CMDLINE_ADDR, vm->cmdline ? vm->cmdline : "",
				  err, sizeof(err));
	if (ret) {
		vmm_err(vm, "kernel command line: %s", err);
		return ret;
	}
	bi.hdr = k.format == KERNEL_BZIMAGE ? &k.hdr : NULL;
	bi.cmdline_gpa = CMDLINE_ADDR;
	bi.cmdline_len = (uint32_t)vm->cmdline_len;
	bp = guest_mem_ptr(&vm->mem, ZERO_PAGE_ADDR, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	ret = bootparams_build(bp, &vm->mem, &bi);
	if (ret) {
		vmm_err(vm, "cannot build the zero page: %s", strerror(-ret));
		return ret;
	}
	mp = guest_mem_ptr(&vm->mem, MPTABLE_ADDR, MPTABLE_MAX_SIZE);
	if (!mp)
		return -ENOMEM;
	ret = mptable_build(mp, MPTABLE_MAX_SIZE, MPTABLE_ADDR, vm->cfg.vcpu.num);
	if (ret < 0) {
		vmm_err(vm, "cannot build the MP table: %s", strerror(-ret));
		return ret;
	}
	vm->entry = k.entry;
	return 0;
}

/* ------------------------------------------------------------------ */

static int add_devices(struct vmm *vm)
{
	int ret = serial_device_add(vm);

	if (!ret)
		ret = i8042_device_add(vm);
	for (unsigned int i = 0; !ret && i < vm->cfg.num_block; i++)
		ret = virtio_blk_add(vm, &vm->cfg.block[i]);
	if (ret)
		return ret;
	/* The first disk is the root file system unless the user chose. */
	if (vm->cfg.num_block && !cmdline_has_param(vm->cfg.kernel.cmdline, "root"))
		ret = vmm_cmdline_append(vm, vm->cfg.block[0].read_only ?
					 "root=/dev/vda ro" : "root=/dev/vda rw");
	return ret;
}

VMM_EXPORT int vmm_create(const struct vmm_config *cfg, struct vmm **out)
{
	struct vmm *vm;
	char err[256];
	int ret;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = vm->vm_fd = vm->sig_fd = -1;
	vm->events.epfd = vm->events.stop_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	bus_init(&vm->pio_bus, "pio");
	bus_init(&vm->mmio_bus, "mmio");
	ret = config_copy(&vm->cfg, cfg);
	if (ret)
		goto fail;
	ret = vmm_config_validate(&vm->cfg, err, sizeof(err));
	if (ret) {
		vmm_err(vm, "%s", err);
		goto fail;
	}
	if (vm->cfg.kernel.cmdline && *vm->cfg.kernel.cmdline) {
		ret = vmm_cmdline_append(vm, vm->cfg.kernel.cmdline);
		if (ret)
			goto fail;
	}
	ret = kvm_open(vm);
	if (ret)
		goto fail;
	ret = kvm_setup_irqchip(vm);
	if (ret)
		goto fail;
	ret = guest_mem_setup(&vm->mem, vm->cfg.memory.size_mib << 20);
	if (ret) {
		vmm_err(vm, "cannot map %llu MiB of guest memory: %s",
			(unsigned long long)vm->cfg.memory.size_mib, strerror(-ret));
		goto fail;
	}
	ret = kvm_register_memory(vm);
	if (ret)
		goto fail;
	ret = event_loop_init(&vm->events);
	if (ret)
		goto fail;
	ret = vcpu_create_all(vm);
	if (ret)
		goto fail;
	ret = add_devices(vm);
	if (ret)
		goto fail;
	ret = load_kernel(vm);
	if (ret)
		goto fail;
	ret = vcpu_setup_boot(vm, vm->entry);
	if (ret)
		goto fail;
	vmm_info(vm, "VM ready: %llu MiB, %u vCPUs, cmdline \"%s\"",
		 (unsigned long long)vm->cfg.memory.size_mib, vm->cfg.vcpu.num,
		 vm->cmdline ? vm->cmdline : "");
	*out = vm;
	return 0;
fail:
	vmm_destroy(vm);
	return ret;
}

/* ------------------------------------------------------------------ */

static void on_signal(void *opaque, int fd, uint32_t events)
{
	struct vmm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		struct vmm_exit_info info = {
			.reason = VMM_STOP_REQUESTED, .vcpu = -1, .signal = (int)si.ssi_signo,
		};

		vmm_request_stop(vm, &info);
	}
}

VMM_EXPORT int vmm_run(struct vmm *vm)
{
	struct termios saved_tio;
	bool restore_tio = false;
	sigset_t sigs, old_sigs;
	int ret;

	if (vm->running || vm->stopped)
		return -EALREADY;
	vm->running = true;
	sigemptyset(&sigs);
	if (vm->cfg.handle_signals) {
		sigaddset(&sigs, SIGINT);
		sigaddset(&sigs, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &sigs, &old_sigs);
		vm->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
		if (vm->sig_fd < 0) {
			ret = -errno;
			goto out_sigmask;
		}
		ret = event_loop_add(&vm->events, vm->sig_fd, EPOLLIN, on_signal, vm);
		if (ret < 0)
			goto out_sigmask;
		if (vm->cfg.serial_in_fd >= 0 && isatty(vm->cfg.serial_in_fd) &&
		    tcgetattr(vm->cfg.serial_in_fd, &saved_tio) == 0) {
			struct termios raw = saved_tio;

			cfmakeraw(&raw);
			raw.c_oflag |= OPOST;   /* keep \n -> \r\n for the host terminal */
			if (tcsetattr(vm->cfg.serial_in_fd, TCSANOW, &raw) == 0)
				restore_tio = true;
		}
	}
	ret = vcpu_start_all(vm);
	if (!ret)
		ret = event_loop_run(&vm->events);
	if (ret) {
		struct vmm_exit_info info = { .reason = VMM_STOP_HOST_ERROR, .vcpu = -1, .error = ret };

		vmm_request_stop(vm, &info);
	} else {
		/* Stopped by vmm_stop(): record it unless something else did. */
		struct vmm_exit_info info = { .reason = VMM_STOP_REQUESTED, .vcpu = -1 };

		vmm_request_stop(vm, &info);
	}
	vcpu_stop_all(vm);

	switch (vm->exit.reason) {
	case VMM_STOP_RESET:
	case VMM_STOP_REQUESTED:
		ret = 0;
		break;
	case VMM_STOP_HOST_ERROR:
		ret = vm->exit.error ? vm->exit.error : -EIO;
		break;
	default:
		ret = -EIO;
		break;
	}
	if (restore_tio)
		tcsetattr(vm->cfg.serial_in_fd, TCSANOW, &saved_tio);
out_sigmask:
	if (vm->cfg.handle_signals) {
		if (vm->sig_fd >= 0) {
			event_loop_del(&vm->events, vm->sig_fd);
			close(vm->sig_fd);
			vm->sig_fd = -1;
		}
		pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
	}
	vm->running = false;
	return ret;
}

VMM_EXPORT void vmm_stop(struct vmm *vm)
{
	/* Async-signal-safe: only an eventfd write; vmm_run() does the rest. */
	event_loop_stop(&vm->events);
}

VMM_EXPORT const struct vmm_exit_info *vmm_exit_info(const struct vmm *vm)
{
	return &vm->exit;
}

static const char *const stop_reason_names[] = {
	[VMM_STOP_NONE] = "running",
	[VMM_STOP_RESET] = "guest reset",
	[VMM_STOP_REQUESTED] = "stopped on request",
	[VMM_STOP_SHUTDOWN] = "guest shutdown (KVM_EXIT_SHUTDOWN, triple fault)",
	[VMM_STOP_INTERNAL_ERROR] = "KVM internal error (KVM_EXIT_INTERNAL_ERROR)",
	[VMM_STOP_FAIL_ENTRY] = "VM entry failed (KVM_EXIT_FAIL_ENTRY)",
	[VMM_STOP_UNHANDLED_EXIT] = "unhandled KVM exit",
	[VMM_STOP_HOST_ERROR] = "host error",
};

VMM_EXPORT int vmm_exit_describe(const struct vmm_exit_info *info, char *buf, size_t len)
{
	const char *name = (unsigned int)info->reason < ARRAY_SIZE(stop_reason_names)
			   ? stop_reason_names[info->reason] : "unknown";
	size_t used = 0;
	int n;

#define APPEND(...) do { \
	n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, __VA_ARGS__); \
	if (n > 0) used += (size_t)n; \
} while (0)
	if (!buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	APPEND("%s", name);
	switch (info->reason) {
	case VMM_STOP_REQUESTED:
		if (info->signal)
			APPEND(" (signal %d)", info->signal);
		break;
	case VMM_STOP_HOST_ERROR:
		APPEND(": %s", strerror(info->error < 0 ? -info->error : EIO));
		break;
	case VMM_STOP_SHUTDOWN:
	case VMM_STOP_INTERNAL_ERROR:
	case VMM_STOP_FAIL_ENTRY:
	case VMM_STOP_UNHANDLED_EXIT:
		APPEND(": exit reason %u", info->kvm_exit_reason);
		if (info->reason == VMM_STOP_INTERNAL_ERROR)
			APPEND(", suberror %u%s", info->suberror,
			       info->suberror == 1 ? " (emulation failure)" : "");
		if (info->reason == VMM_STOP_FAIL_ENTRY)
			APPEND(", hardware reason 0x%llx", (unsigned long long)info->hw_reason);
		APPEND(", vcpu%d, RIP 0x%llx, code:", info->vcpu, (unsigned long long)info->rip);
		if (!info->code_len)
			APPEND(" unavailable");
		for (unsigned int i = 0; i < info->code_len && i < sizeof(info->code); i++)
			APPEND(" %02x", info->code[i]);
		break;
	default:
		break;
	}
#undef APPEND
	return used < len ? 0 : -ENOSPC;
}

VMM_EXPORT void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	vcpu_destroy_all(vm);
	while (vm->devices) {
		struct vmm_device *d = vm->devices;

		vm->devices = d->next;
		if (d->destroy)
			d->destroy(d->opaque);
		free(d);
	}
	event_loop_release(&vm->events);
	bus_release(&vm->pio_bus);
	bus_release(&vm->mmio_bus);
	kvm_close(vm);
	guest_mem_release(&vm->mem);
	free(vm->cmdline);
	vmm_config_release(&vm->cfg);
	pthread_mutex_destroy(&vm->stop_lock);
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
