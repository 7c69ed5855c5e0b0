/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct vmm_config: the VM-wide values, the devices, and the options that
 * set them. Every option -- memory, vcpu, kernel and each device type of
 * the registry -- is handled through its key table: nothing here knows a
 * device type by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/keys.h"
#include "core/seccomp.h"
#include "core/util.h"
#include "devices/registry.h"

/* ------------------------------------------------------------------ */
/* The VM-wide options. */

struct vm_option {
	const char *name;
	const char *summary;
	const struct key_desc *keys;    /* into struct vm_settings */
	keys_check_fn check;
};

static const struct key_desc memory_keys[] = {
	KEY_MIB_BARE("size", struct vm_settings, memory_mib, VMM_MEMORY_MIN_MIB,
		     VMM_MEMORY_MAX_MIB, "SIZE", "guest RAM as 512 (MiB), 512M or 2G; also --memory 2G"),
	KEY_U64("size_mib", struct vm_settings, memory_mib, VMM_MEMORY_MIN_MIB,
		VMM_MEMORY_MAX_MIB, "N", "guest RAM in MiB (default 256, 16..1048576)"),
	KEY_END,
};

static const struct key_desc vcpu_keys[] = {
	KEY_UINT("num", struct vm_settings, vcpus, 1, VMM_VCPU_MAX, "N",
		 "number of vCPUs (default 1, 1..254)"),
	KEY_END,
};

static const struct key_desc kernel_keys[] = {
	KEY_NONEMPTY("path", struct vm_settings, kernel, 0, true, "FILE",
		     "kernel image: ELF vmlinux or bzImage"),
	KEY_STRING("cmdline", struct vm_settings, cmdline, 0, "STRING", "kernel command line"),
	KEY_U64("kernel_load_addr", struct vm_settings, load_addr, 0, UINT64_MAX, "ADDR",
		"bzImage load address (default 0x100000)"),
	KEY_NONEMPTY("initrd", struct vm_settings, initrd, 0, false, "FILE", "initramfs"),
	KEY_END,
};

/* @what: how the user gave the address, the option's key or the call. */
static int check_load_addr(const char *what, uint64_t addr, char *err, size_t errlen)
{
	if (addr % 4096 == 0)
		return 0;
	snprintf(err, errlen, "%s 0x%" PRIx64 " is not 4 KiB aligned: give a multiple of 0x1000",
		 what, addr);
	return -EINVAL;
}

static int check_kernel(const void *rec, const char *option, char *err, size_t errlen)
{
	char what[64];

	snprintf(what, sizeof(what), "--%s: key 'kernel_load_addr':", option);
	return check_load_addr(what, ((const struct vm_settings *)rec)->load_addr, err, errlen);
}

static const struct key_desc serial_keys[] = {
	{ "mode", KEY_NONEMPTY, offsetof(struct vm_settings, serial_mode), 0, 0, false,
	  "stdio|pty|off", "stdin/stdout (default), a new pseudo-terminal, or none; "
	  "also --serial pty", true },
	KEY_NONEMPTY("file", struct vm_settings, serial_file, 0, false, "PATH",
		     "output to PATH (created or truncated), no input"),
	KEY_NONEMPTY("socket", struct vm_settings, serial_socket, 0, false, "PATH",
		     "a Unix socket for one client at a time (attach with socat)"),
	KEY_END,
};

/* One place for the console: a mode, a file or a socket. */
static int check_serial(const void *rec, const char *option, char *err, size_t errlen)
{
	const struct vm_settings *s = rec;
	const char *m = s->serial_mode;
	char shown[ELIDED_MAX + 1];

	if (!!m + !!s->serial_file + !!s->serial_socket > 1) {
		snprintf(err, errlen, "--%s takes one of stdio, pty, off, file=PATH or "
			 "socket=PATH", option);
		return -EINVAL;
	}
	if (m && strcmp(m, "stdio") && strcmp(m, "pty") && strcmp(m, "off")) {
		snprintf(err, errlen, "--%s: unknown console '%s': use stdio, pty, off, "
			 "file=PATH or socket=PATH", option, elided(m, shown));
		return -EINVAL;
	}
	return 0;
}

static const struct vm_option vm_options[] = {
	{ "memory", "guest memory", memory_keys, NULL },
	{ "vcpu", "virtual CPUs", vcpu_keys, NULL },
	{ "kernel", "the kernel the guest boots", kernel_keys, check_kernel },
	{ "serial", "the guest's serial console (COM1): stdio, pty, off, file=PATH or socket=PATH",
	  serial_keys, check_serial },
};

static const struct vm_option *vm_option_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(vm_options); i++)
		if (!strcmp(vm_options[i].name, name))
			return &vm_options[i];
	return NULL;
}

/* A device type the user can add (built-in ones have no keys). */
static const struct device_ops *device_option_find(const char *name)
{
	const struct device_ops *t = device_type_find(name);

	return t && t->keys ? t : NULL;
}

/* ------------------------------------------------------------------ */

static int fail(struct vmm_config *cfg, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct vmm_config *cfg, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof(cfg->error), fmt, ap);
	va_end(ap);
	return ret;
}

VMM_EXPORT int vmm_config_new(struct vmm_config **out)
{
	struct vmm_config *cfg = calloc(1, sizeof(*cfg));

	*out = cfg;
	if (!cfg)
		return -ENOMEM;
	cfg->vm.memory_mib = VMM_MEMORY_DEFAULT_MIB;
	cfg->vm.vcpus = VMM_VCPU_DEFAULT;
	cfg->vm.load_addr = VMM_KERNEL_LOAD_DEFAULT;
	cfg->vm.console_in = STDIN_FILENO;
	cfg->vm.console_out = STDOUT_FILENO;
	cfg->vm.log_priority = VMM_LOG_WARNING;
	cfg->vm.seccomp = seccomp_available() ? VMM_SECCOMP_ON : VMM_SECCOMP_OFF;
	return 0;
}

VMM_EXPORT void vmm_config_free(struct vmm_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(vm_options); i++)
		keys_release(vm_options[i].keys, &cfg->vm);
	for (unsigned int i = 0; i < cfg->ndevices; i++) {
		keys_release(cfg->devices[i].type->keys, cfg->devices[i].rec);
		free(cfg->devices[i].rec);
	}
	free(cfg->devices);
	free(cfg);
}

VMM_EXPORT const char *vmm_config_error(const struct vmm_config *cfg)
{
	return cfg->error;
}

int config_dup(const struct vmm_config *src, struct vmm_config **out)
{
	struct vmm_config *cfg = calloc(1, sizeof(*cfg));
	size_t n = ARRAY_SIZE(vm_options), done = 0;

	*out = cfg;
	if (!cfg)
		return -ENOMEM;
	cfg->vm = src->vm;
	while (done < n && !keys_dup(vm_options[done].keys, &cfg->vm, &src->vm))
		done++;
	for (size_t i = done + 1; i < n; i++)
		keys_forget(vm_options[i].keys, &cfg->vm);
	if (done < n)
		goto fail;
	cfg->devices = calloc(src->ndevices ? src->ndevices : 1, sizeof(*cfg->devices));
	if (!cfg->devices)
		goto fail;
	for (unsigned int i = 0; i < src->ndevices; i++) {
		const struct config_device *d = &src->devices[i];
		void *rec = malloc(d->type->config_size);

		if (!rec)
			goto fail;
		memcpy(rec, d->rec, d->type->config_size);
		if (keys_dup(d->type->keys, rec, d->rec)) {
			free(rec);
			goto fail;
		}
		cfg->devices[cfg->ndevices].type = d->type;
		cfg->devices[cfg->ndevices++].rec = rec;
	}
	return 0;
fail:
	vmm_config_free(cfg);
	*out = NULL;
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Typed setters and getters. */

VMM_EXPORT int vmm_config_set_memory_mib(struct vmm_config *cfg, uint64_t mib)
{
	if (mib < VMM_MEMORY_MIN_MIB || mib > VMM_MEMORY_MAX_MIB)
		return fail(cfg, -ERANGE, "memory size %" PRIu64 " MiB is out of range (%u..%u)",
			    mib, VMM_MEMORY_MIN_MIB, VMM_MEMORY_MAX_MIB);
	cfg->vm.memory_mib = mib;
	return 0;
}

VMM_EXPORT uint64_t vmm_config_get_memory_mib(const struct vmm_config *cfg)
{
	return cfg->vm.memory_mib;
}

VMM_EXPORT int vmm_config_set_vcpus(struct vmm_config *cfg, unsigned int num)
{
	if (num < 1 || num > VMM_VCPU_MAX)
		return fail(cfg, -ERANGE, "vCPU count %u is out of range (1..%u)", num, VMM_VCPU_MAX);
	cfg->vm.vcpus = num;
	return 0;
}

VMM_EXPORT unsigned int vmm_config_get_vcpus(const struct vmm_config *cfg)
{
	return cfg->vm.vcpus;
}

/* Replace *@field by a copy of @value (NULL allowed unless @required). */
static int set_string(struct vmm_config *cfg, char **field, const char *value, bool required,
		      const char *what)
{
	char *copy = NULL;

	if ((required && !value) || (value && !*value))
		return fail(cfg, -EINVAL, "the %s path is empty", what);
	if (value && !(copy = strdup(value)))
		return fail(cfg, -ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

VMM_EXPORT int vmm_config_set_kernel(struct vmm_config *cfg, const char *path)
{
	return set_string(cfg, &cfg->vm.kernel, path, true, "kernel");
}

VMM_EXPORT const char *vmm_config_get_kernel(const struct vmm_config *cfg)
{
	return cfg->vm.kernel;
}

VMM_EXPORT int vmm_config_set_cmdline(struct vmm_config *cfg, const char *cmdline)
{
	char *copy = NULL;

	if (cmdline && !(copy = strdup(cmdline)))
		return fail(cfg, -ENOMEM, "out of memory");
	free(cfg->vm.cmdline);
	cfg->vm.cmdline = copy;
	return 0;
}

VMM_EXPORT const char *vmm_config_get_cmdline(const struct vmm_config *cfg)
{
	return cfg->vm.cmdline;
}

VMM_EXPORT int vmm_config_set_initrd(struct vmm_config *cfg, const char *path)
{
	return set_string(cfg, &cfg->vm.initrd, path, false, "initrd");
}

VMM_EXPORT const char *vmm_config_get_initrd(const struct vmm_config *cfg)
{
	return cfg->vm.initrd;
}

VMM_EXPORT int vmm_config_set_kernel_load_addr(struct vmm_config *cfg, uint64_t addr)
{
	int ret = check_load_addr("kernel load address", addr, cfg->error, sizeof(cfg->error));

	if (!ret)
		cfg->vm.load_addr = addr;
	return ret;
}

VMM_EXPORT uint64_t vmm_config_get_kernel_load_addr(const struct vmm_config *cfg)
{
	return cfg->vm.load_addr;
}

VMM_EXPORT int vmm_config_set_console(struct vmm_config *cfg, int in_fd, int out_fd)
{
	if (in_fd < -1 || out_fd < -1)
		return fail(cfg, -EBADF, "console descriptors %d, %d: -1 or a descriptor",
			    in_fd, out_fd);
	cfg->vm.console_in = in_fd;
	cfg->vm.console_out = out_fd;
	return 0;
}

VMM_EXPORT int vmm_config_get_console_in(const struct vmm_config *cfg)
{
	return cfg->vm.console_in;
}

VMM_EXPORT int vmm_config_get_console_out(const struct vmm_config *cfg)
{
	return cfg->vm.console_out;
}

VMM_EXPORT void vmm_config_set_handle_signals(struct vmm_config *cfg, bool on)
{
	cfg->vm.handle_signals = on;
}

VMM_EXPORT bool vmm_config_get_handle_signals(const struct vmm_config *cfg)
{
	return cfg->vm.handle_signals;
}

VMM_EXPORT int vmm_config_set_seccomp(struct vmm_config *cfg, enum vmm_seccomp mode)
{
	if (mode != VMM_SECCOMP_OFF && mode != VMM_SECCOMP_ON && mode != VMM_SECCOMP_LOG)
		return -EINVAL;
	cfg->vm.seccomp = mode;
	return 0;
}

VMM_EXPORT enum vmm_seccomp vmm_config_get_seccomp(const struct vmm_config *cfg)
{
	return cfg->vm.seccomp;
}

VMM_EXPORT void vmm_config_set_log_fn(struct vmm_config *cfg, vmm_log_fn fn, void *data)
{
	cfg->vm.log_fn = fn;
	cfg->vm.log_data = data;
}

VMM_EXPORT int vmm_config_set_log_priority(struct vmm_config *cfg, int priority)
{
	if (priority < 0 || priority > VMM_LOG_DEBUG)
		return fail(cfg, -ERANGE, "log priority %d is out of range (0..%d)",
			    priority, VMM_LOG_DEBUG);
	cfg->vm.log_priority = priority;
	return 0;
}

VMM_EXPORT int vmm_config_get_log_priority(const struct vmm_config *cfg)
{
	return cfg->vm.log_priority;
}

VMM_EXPORT int vmm_config_set_log_level(struct vmm_config *cfg, const char *level)
{
	static const struct { const char *name; int prio; } levels[] = {
		{ "error", VMM_LOG_ERR }, { "warn", VMM_LOG_WARNING },
		{ "warning", VMM_LOG_WARNING }, { "info", VMM_LOG_INFO },
		{ "debug", VMM_LOG_DEBUG },
	};
	char shown[ELIDED_MAX + 1];

	for (size_t i = 0; level && i < ARRAY_SIZE(levels); i++) {
		if (!strcmp(level, levels[i].name)) {
			cfg->vm.log_priority = levels[i].prio;
			return 0;
		}
	}
	return fail(cfg, -EINVAL, "--log-level: unknown level '%s': use error, warn, info or "
		    "debug", elided(level ? level : "", shown));
}

/* ------------------------------------------------------------------ */
/* The key=value entry. */

static int unknown_option(struct vmm_config *cfg, const char *option)
{
	return fail(cfg, -EINVAL, "unknown option '%s'", option);
}

VMM_EXPORT int vmm_config_set_option(struct vmm_config *cfg, const char *option, const char *value)
{
	const struct vm_option *o = vm_option_find(option);

	if (!o) {
		if (device_option_find(option))
			return fail(cfg, -EINVAL, "--%s is a device: add it with vmm_config_add_device()",
				    option);
		return unknown_option(cfg, option);
	}
	if (!value)
		return fail(cfg, -EINVAL, "--%s: no value", option);
	return keys_parse(o->keys, option, &cfg->vm, sizeof(cfg->vm), value, o->check,
			  cfg->error, sizeof(cfg->error));
}

VMM_EXPORT int vmm_config_add_device(struct vmm_config *cfg, const char *type, const char *value)
{
	const struct device_ops *t = device_option_find(type);
	struct config_device *list;
	void *rec;
	int ret;

	if (!t)
		return vm_option_find(type) ?
		       fail(cfg, -EINVAL, "--%s is not a device: set it with vmm_config_set_option()",
			    type) :
		       unknown_option(cfg, type);
	if (vmm_config_count(cfg, type) >= t->max)
		return fail(cfg, -E2BIG, "--%s: at most %u allowed", type, t->max);
	list = realloc(cfg->devices, (cfg->ndevices + 1) * sizeof(*list));
	if (!list)
		return fail(cfg, -ENOMEM, "out of memory");
	cfg->devices = list;
	rec = calloc(1, t->config_size);
	if (!rec)
		return fail(cfg, -ENOMEM, "out of memory");
	ret = keys_parse(t->keys, type, rec, t->config_size, value && *value ? value : NULL,
			 t->check, cfg->error, sizeof(cfg->error));
	if (ret) {
		free(rec);
		return ret;
	}
	list[cfg->ndevices].type = t;
	list[cfg->ndevices++].rec = rec;
	return 0;
}

VMM_EXPORT unsigned int vmm_config_count(const struct vmm_config *cfg, const char *option)
{
	unsigned int n = 0;

	if (vm_option_find(option))
		return 1;
	for (unsigned int i = 0; i < cfg->ndevices; i++)
		n += !strcmp(cfg->devices[i].type->name, option);
	return n;
}

/* The record of instance @index of @option (NULL: none) and its keys
 * (NULL: no such option). */
static const void *find_record(const struct vmm_config *cfg, const char *option,
			       unsigned int index, const struct key_desc **keys)
{
	const struct vm_option *o = vm_option_find(option);
	const struct device_ops *t = device_option_find(option);

	if (o) {
		*keys = o->keys;
		return index ? NULL : &cfg->vm;
	}
	*keys = t ? t->keys : NULL;
	for (unsigned int i = 0; t && i < cfg->ndevices; i++)
		if (cfg->devices[i].type == t && index-- == 0)
			return cfg->devices[i].rec;
	return NULL;
}

VMM_EXPORT int vmm_config_get_value(const struct vmm_config *cfg, const char *option,
				    unsigned int index, const char *key, char *buf, size_t len)
{
	const struct key_desc *keys, *k;
	const void *rec = find_record(cfg, option, index, &keys);

	if (!keys || !(k = keys_find(keys, key)))
		return -EINVAL;
	if (!rec)
		return -ENOENT;
	return keys_format(k, rec, buf, len);
}

VMM_EXPORT int vmm_config_validate(struct vmm_config *cfg)
{
	if (!cfg->vm.kernel)
		return fail(cfg, -EINVAL, "no kernel: --kernel path=FILE is required");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Introspection: the VM-wide options, then the device types. */

struct option_view {
	const char *name, *summary;
	const struct key_desc *keys;
	unsigned int flags, max;
};

static int option_at(unsigned int index, struct option_view *v)
{
	if (index < ARRAY_SIZE(vm_options)) {
		const struct vm_option *o = &vm_options[index];

		*v = (struct option_view){ o->name, o->summary, o->keys, 0, 1 };
		return 0;
	}
	index -= ARRAY_SIZE(vm_options);
	for (const struct device_ops *const *t = device_types; *t; t++) {
		if (!(*t)->keys || index--)
			continue;
		*v = (struct option_view){ (*t)->name, (*t)->summary, (*t)->keys,
					   VMM_OPTION_DEVICE, (*t)->max };
		return 0;
	}
	return -ENOENT;
}

VMM_EXPORT int vmm_option_get(unsigned int index, const char **name, unsigned int *flags,
			      unsigned int *max, const char **summary)
{
	struct option_view v;

	if (option_at(index, &v))
		return -ENOENT;
	if (name)
		*name = v.name;
	if (flags)
		*flags = v.flags;
	if (max)
		*max = v.max;
	if (summary)
		*summary = v.summary;
	return 0;
}

VMM_EXPORT int vmm_option_get_key(unsigned int index, unsigned int key, const char **name,
				  const char **value, const char **help, unsigned int *flags)
{
	struct option_view v;
	const struct key_desc *k;

	if (option_at(index, &v))
		return -ENOENT;
	for (k = v.keys; k->name && key; k++, key--)
		;
	if (!k->name)
		return -ENOENT;
	if (name)
		*name = k->name;
	if (value)
		*value = k->value;
	if (help)
		*help = k->help;
	if (flags)
		*flags = k->required ? VMM_KEY_REQUIRED : 0;
	return 0;
}
