/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libvmmcore - a small virtual machine monitor library for Linux/KVM on x86_64.
 *
 * Life cycle:
 *
 *     struct vmm_config *cfg;
 *     struct vmm *vm;
 *
 *     vmm_config_new(&cfg);                          defaults
 *     vmm_config_set_kernel(cfg, "vmlinux");         typed setters, or
 *     vmm_config_set_option(cfg, "memory", "size_mib=512");
 *     vmm_config_add_device(cfg, "block", "path=disk.img,read_only=on");
 *     vmm_create(cfg, &vm);                          KVM, memory, vCPUs, devices, kernel
 *     vmm_config_free(cfg);                          the VM keeps a copy
 *     vmm_run(vm);                                   until the guest resets or vmm_stop()
 *     vmm_destroy(vm);
 *
 * Every function that can fail returns 0 on success or a negative errno;
 * a configuration function that fails also leaves a one-line message for
 * vmm_config_error(). The library never prints to stdout and never exits
 * the process; messages go through the configuration's log function
 * (stderr by default).
 *
 * The configuration and the VM are opaque: they grow in later versions
 * without changing the ABI. The one structure declared here,
 * struct vmm_exit_info, is only ever handed out by the library.
 */
#ifndef VMMCORE_VMM_H
#define VMMCORE_VMM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Limits and defaults of the VM-wide values. */
#define VMM_MEMORY_DEFAULT_MIB   256u
#define VMM_MEMORY_MIN_MIB       16u
#define VMM_MEMORY_MAX_MIB       (1024u * 1024u)     /* 1 TiB */
#define VMM_VCPU_DEFAULT         1u
#define VMM_VCPU_MAX             254u
#define VMM_KERNEL_LOAD_DEFAULT  0x100000ull         /* 1 MiB, HIMEM_START */

struct vmm_config;
struct vmm;

/* Log priorities, as syslog(3). */
enum vmm_log_priority {
	VMM_LOG_ERR = 3,
	VMM_LOG_WARNING = 4,
	VMM_LOG_NOTICE = 5,
	VMM_LOG_INFO = 6,
	VMM_LOG_DEBUG = 7,
};

typedef void (*vmm_log_fn)(void *data, int priority, const char *fmt, va_list args);

/* ------------------------------------------------------------------ */
/* Configuration. A configuration is used by one thread at a time. */

/* A configuration with the defaults: 256 MiB, one vCPU, no kernel, no
 * devices but the built-in ones, the console on stdin/stdout.
 * Returns: 0 on success or -ENOMEM. */
int vmm_config_new(struct vmm_config **cfg);

/* Free @cfg (NULL is fine). */
void vmm_config_free(struct vmm_config *cfg);

/* The message of the last call on @cfg that failed ("" if none). */
const char *vmm_config_error(const struct vmm_config *cfg);

/* Guest RAM in MiB, VMM_MEMORY_MIN_MIB..VMM_MEMORY_MAX_MIB.
 * Returns: 0 on success or -ERANGE. */
int vmm_config_set_memory_mib(struct vmm_config *cfg, uint64_t mib);
uint64_t vmm_config_get_memory_mib(const struct vmm_config *cfg);

/* Number of vCPUs, 1..VMM_VCPU_MAX. Returns: 0 on success or -ERANGE. */
int vmm_config_set_vcpus(struct vmm_config *cfg, unsigned int num);
unsigned int vmm_config_get_vcpus(const struct vmm_config *cfg);

/* The kernel: an ELF vmlinux or a bzImage (required, not empty).
 * Returns: 0 on success, -EINVAL or -ENOMEM. */
int vmm_config_set_kernel(struct vmm_config *cfg, const char *path);
const char *vmm_config_get_kernel(const struct vmm_config *cfg);

/* The kernel command line (NULL: none). Returns: 0 on success or -ENOMEM. */
int vmm_config_set_cmdline(struct vmm_config *cfg, const char *cmdline);
const char *vmm_config_get_cmdline(const struct vmm_config *cfg);

/* An initramfs (NULL: none; not empty). Returns: 0, -EINVAL or -ENOMEM. */
int vmm_config_set_initrd(struct vmm_config *cfg, const char *path);
const char *vmm_config_get_initrd(const struct vmm_config *cfg);

/* Where a bzImage is loaded, a multiple of 4096 (default
 * VMM_KERNEL_LOAD_DEFAULT). Returns: 0 on success or -EINVAL. */
int vmm_config_set_kernel_load_addr(struct vmm_config *cfg, uint64_t addr);
uint64_t vmm_config_get_kernel_load_addr(const struct vmm_config *cfg);

/* The guest's serial console: its output is written to @out_fd, @in_fd is
 * read for its input; -1 for none. Defaults: stdin and stdout. The
 * descriptors stay the caller's. Returns: 0 on success or -EBADF. */
int vmm_config_set_console(struct vmm_config *cfg, int in_fd, int out_fd);
int vmm_config_get_console_in(const struct vmm_config *cfg);
int vmm_config_get_console_out(const struct vmm_config *cfg);

/* When true, vmm_run() stops the VM cleanly on SIGINT and SIGTERM (it
 * blocks them in the calling thread and reads them through a signalfd)
 * and puts a terminal on the console input in raw mode. Default: false,
 * so that a program embedding the library keeps control of its signals. */
void vmm_config_set_handle_signals(struct vmm_config *cfg, bool on);
bool vmm_config_get_handle_signals(const struct vmm_config *cfg);

/* System-call filters (seccomp) on every thread of a running VM: each
 * vCPU, the event loop, the device I/O threads, and the thread that calls
 * vmm_run(), which keeps its filter after vmm_run() returns (it may then
 * still vmm_destroy() the VM, write and exit; nothing that opens or
 * creates). ON kills the process (SIGSYS) on any other call, LOG lets it
 * through and has the kernel log it, OFF installs none. Default: ON in a
 * build with libseccomp, else OFF; ON or LOG in a build without makes
 * vmm_create() fail with -ENOTSUP.
 * vmm_config_set_seccomp() returns: 0 on success or -EINVAL. */
enum vmm_seccomp {
	VMM_SECCOMP_OFF = 0,
	VMM_SECCOMP_ON = 1,
	VMM_SECCOMP_LOG = 2,
};

int vmm_config_set_seccomp(struct vmm_config *cfg, enum vmm_seccomp mode);
enum vmm_seccomp vmm_config_get_seccomp(const struct vmm_config *cfg);

/* Messages with a priority up to @priority (0..VMM_LOG_DEBUG, default
 * VMM_LOG_WARNING) go to @fn (NULL: stderr), with @data as its first
 * argument, from any of the library's threads.
 * vmm_config_set_log_priority() returns: 0 on success or -ERANGE. */
void vmm_config_set_log_fn(struct vmm_config *cfg, vmm_log_fn fn, void *data);
int vmm_config_set_log_priority(struct vmm_config *cfg, int priority);
int vmm_config_get_log_priority(const struct vmm_config *cfg);

/* The priority by name, as --log-level takes it: "error", "warn" (or
 * "warning"), "info" or "debug". Returns: 0 on success or -EINVAL. */
int vmm_config_set_log_level(struct vmm_config *cfg, const char *level);

/*
 * The key=value entry for everything, as the command line takes it.
 * A value is a list "key=value,key=value"; a value may be double-quoted to
 * hold commas and spaces, and within quotes \" and \\ stand for " and \.
 *
 * vmm_config_set_option() sets the keys given of a VM-wide option
 * ("memory", "vcpu", "kernel"); vmm_config_add_device() adds a device of
 * @type ("block", "rng", ...; @value NULL or "" takes every default).
 * vmm_option_get() lists both kinds, with their keys.
 * Returns: 0 on success or a negative errno (-EINVAL, -ERANGE, -E2BIG: too
 * many devices of that type, -ENOMEM); a failed call changes nothing.
 */
int vmm_config_set_option(struct vmm_config *cfg, const char *option, const char *value);
int vmm_config_add_device(struct vmm_config *cfg, const char *type, const char *value);

/* How many devices of @option's type @cfg has (a VM-wide option: 1; an
 * unknown one: 0). */
unsigned int vmm_config_count(const struct vmm_config *cfg, const char *option);

/* The value of @key of the @index'th instance of @option (0 for a VM-wide
 * option) as text: decimal numbers, "on"/"off", strings as they are.
 * Returns: 0 on success, -EINVAL (no such option or key), -ENOENT (no such
 * instance, or the key has no value) or -ENOSPC (@len too small). */
int vmm_config_get_value(const struct vmm_config *cfg, const char *option, unsigned int index,
			 const char *key, char *buf, size_t len);

/* Check what the setters cannot (a kernel is required).
 * Returns: 0 on success or -EINVAL. */
int vmm_config_validate(struct vmm_config *cfg);

/*
 * The options the library takes, for front ends that build their command
 * line and help from it. vmm_option_get() describes option @index (0..):
 * its name, flags (VMM_OPTION_DEVICE: a device type for
 * vmm_config_add_device()), how many times it may be given and a one-line
 * summary; vmm_option_get_key() describes key @key (0..) of it: its name,
 * a placeholder for its value ("N", "FILE", "on|off"), a one-line help and
 * flags (VMM_KEY_REQUIRED). Any pointer may be NULL. The strings are
 * static. Returns: 0 on success or -ENOENT past the last option or key.
 */
#define VMM_OPTION_DEVICE  0x1u
#define VMM_KEY_REQUIRED   0x1u
int vmm_option_get(unsigned int index, const char **name, unsigned int *flags,
		   unsigned int *max, const char **summary);
int vmm_option_get_key(unsigned int index, unsigned int key, const char **name,
		       const char **value, const char **help, unsigned int *flags);

/*
 * Generic key=value list parser, for other front ends.
 * Calls @fn for every pair in @s, in order. A pair without '=' has
 * value NULL. Returns: 0 on success, the first non-zero return of @fn,
 * or -EINVAL for a syntax error (message in @err).
 */
typedef int (*vmm_kv_fn)(void *data, const char *key, const char *value,
			 char *err, size_t errlen);
int vmm_kv_parse(const char *s, vmm_kv_fn fn, void *data, char *err, size_t errlen);

/* Parse an unsigned number, decimal or 0x-hex, with range check.
 * Returns: 0, -EINVAL (not a number), or -ERANGE (outside [min, max]). */
int vmm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* ------------------------------------------------------------------ */
/* The VM. */

/* Build a VM from a copy of @cfg: KVM, guest memory, vCPUs, devices, kernel.
 * Returns: 0 on success or a negative errno; details are logged. */
int vmm_create(const struct vmm_config *cfg, struct vmm **vm);

/* Why vmm_run() returned. */
enum vmm_stop_reason {
	VMM_STOP_NONE = 0,
	VMM_STOP_RESET,             /* guest reset through the i8042 (0xFE) */
	VMM_STOP_REQUESTED,         /* vmm_stop(), a signal, Ctrl-A x */
	VMM_STOP_SHUTDOWN,          /* KVM_EXIT_SHUTDOWN (triple fault) */
	VMM_STOP_INTERNAL_ERROR,    /* KVM_EXIT_INTERNAL_ERROR (e.g. emulation failure) */
	VMM_STOP_FAIL_ENTRY,        /* KVM_EXIT_FAIL_ENTRY */
	VMM_STOP_UNHANDLED_EXIT,    /* a KVM exit reason the VMM does not handle */
	VMM_STOP_HOST_ERROR,        /* a host system call failed */
};

/* Owned by the VM and only read through the pointer vmm_exit_info()
 * returns: later versions add fields at the end. (In C++ the function
 * hides the type's name: write struct vmm_exit_info.) */
struct vmm_exit_info {
	enum vmm_stop_reason reason;
	int vcpu;                   /* vCPU that stopped the VM, -1 if none */
	uint32_t kvm_exit_reason;   /* KVM_EXIT_* */
	uint32_t suberror;          /* internal error suberror */
	uint64_t hw_reason;         /* fail entry hardware reason */
	uint64_t rip;
	uint8_t code[16];           /* guest bytes at RIP */
	unsigned int code_len;      /* 0 if they could not be read */
	int error;                  /* negative errno for VMM_STOP_HOST_ERROR */
	int signal;                 /* signal that stopped the VM, 0 if none */
	int console_quit;           /* 1: Ctrl-A x on the console stopped it */
};

/* Run the VM until it stops. Returns: 0 when the guest reset itself or the
 * VM was stopped on request (vmm_stop(), a signal), -EIO when the guest
 * crashed (shutdown, internal error, failed entry, unhandled exit) and
 * another negative errno on a host failure. vmm_exit_info() says more. */
int vmm_run(struct vmm *vm);

/* Ask a running VM to stop; safe from any thread and from a signal
 * handler. */
void vmm_stop(struct vmm *vm);

/* The boot marker: a guest that writes the byte VMM_BOOT_MARKER_MAGIC to
 * I/O port VMM_BOOT_MARKER_PORT makes the VM log, at VMM_LOG_INFO, the
 * process's wall and CPU time since it started; vmm_stat() keeps the first
 * ("boot_marker.wall_us", "boot_marker.cpu_us"). (Not port 0x80: Linux
 * writes there for I/O delays.) */
#define VMM_BOOT_MARKER_PORT  0x4f0
#define VMM_BOOT_MARKER_MAGIC 0x7b

/*
 * The VM's counters: counter @index (0..) as its name in @name (@len
 * bytes) and its value in *@value (may be NULL). The names, in a fixed
 * order for a VM: "exits.io", "exits.mmio", ... (KVM exits by reason,
 * summed over the vCPUs), "pio.unhandled" and "mmio.unhandled" (accesses
 * no device took), "TYPE.N.exits" (exits handled by device N of TYPE) and
 * the device's own ("block.0.read_bytes", "net.0.rx_frames", ...), then
 * "boot_marker.wall_us" and "boot_marker.cpu_us" (0 until the guest marks
 * its boot). Read without stopping anything: callable from any thread,
 * also while vmm_run() runs. Returns: 0, -EINVAL (a NULL argument, @len
 * 0), -ENOENT (past the last counter) or -ENOSPC (@name truncated).
 */
int vmm_stat(const struct vmm *vm, unsigned int index, char *name, size_t len,
	     uint64_t *value);

/* Where the console is when --serial (the "serial" option) made one: the
 * pseudo-terminal's path (pty), the socket's or the file's; NULL for
 * stdio and off. Valid until vmm_destroy(). */
const char *vmm_console_path(const struct vmm *vm);

/* Details of the last stop; valid until vmm_destroy(). */
const struct vmm_exit_info *vmm_exit_info(const struct vmm *vm);

/* Describe @info in one line (reason, KVM exit, RIP, code bytes).
 * Returns: 0 on success, -EINVAL (a NULL argument, @len 0) or -ENOSPC
 * (truncated). */
int vmm_exit_describe(const struct vmm_exit_info *info, char *buf, size_t len);

/* Destroy a VM (NULL is fine). */
void vmm_destroy(struct vmm *vm);

/* Text for a negative errno returned by this library. */
const char *vmm_strerror(int err);

/* Package version string. */
const char *vmm_version(void);

#ifdef __cplusplus
}
#endif
#endif /* VMMCORE_VMM_H */
