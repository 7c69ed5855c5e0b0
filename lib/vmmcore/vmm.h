/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libvmmcore - a small virtual machine monitor library for Linux/KVM on x86_64.
 *
 * Life cycle:
 *
 *     struct vmm_config cfg;
 *     struct vmm *vm;
 *
 *     vmm_config_init(&cfg);                 defaults
 *     vmm_config_parse_option(&cfg, ...);    or fill the fields directly
 *     vmm_config_validate(&cfg, err, len);
 *     vmm_create(&cfg, &vm);                 KVM, memory, vCPUs, devices, kernel
 *     vmm_run(vm);                           until the guest resets or vmm_stop()
 *     vmm_destroy(vm);
 *     vmm_config_release(&cfg);
 *
 * Every function that can fail returns 0 on success or a negative errno.
 * The library never prints to stdout and never exits the process; messages
 * go through the log function of struct vmm_config (stderr by default).
 */
#ifndef VMMCORE_VMM_H
#define VMMCORE_VMM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits and defaults. */
#define VMM_MEMORY_DEFAULT_MIB   256u
#define VMM_MEMORY_MIN_MIB       16u
#define VMM_MEMORY_MAX_MIB       (1024u * 1024u)     /* 1 TiB */
#define VMM_VCPU_DEFAULT         1u
#define VMM_VCPU_MAX             254u
#define VMM_KERNEL_LOAD_DEFAULT  0x100000ull         /* 1 MiB, HIMEM_START */
#define VMM_BLOCK_MAX            16u
#define VMM_NET_MAX              8u

struct vmm;

struct vmm_memory_config {
	uint64_t size_mib;          /* guest RAM in MiB (default 256) */
};

struct vmm_vcpu_config {
	unsigned int num;           /* 1 .. VMM_VCPU_MAX (default 1) */
};

struct vmm_kernel_config {
	char *path;                 /* ELF vmlinux or bzImage (required) */
	char *cmdline;              /* kernel command line, may be NULL */
	uint64_t load_addr;         /* bzImage load address (default 1 MiB) */
	char *initrd_path;          /* initramfs, may be NULL */
};

struct vmm_block_config {
	char *path;                 /* disk image (raw) */
	bool read_only;
	char *id;                   /* serial reported by VIRTIO_BLK_T_GET_ID, may be NULL */
};

struct vmm_net_config {
	char *tap;                  /* host TAP interface name */
	uint8_t mac[6];
	bool has_mac;
};

/* Log priorities, as syslog(3). */
enum vmm_log_priority {
	VMM_LOG_ERR = 3,
	VMM_LOG_WARNING = 4,
	VMM_LOG_NOTICE = 5,
	VMM_LOG_INFO = 6,
	VMM_LOG_DEBUG = 7,
};

typedef void (*vmm_log_fn)(void *data, int priority, const char *fmt, va_list args);

struct vmm_config {
	struct vmm_memory_config memory;
	struct vmm_vcpu_config vcpu;
	struct vmm_kernel_config kernel;
	struct vmm_block_config block[VMM_BLOCK_MAX];
	unsigned int num_block;
	struct vmm_net_config net[VMM_NET_MAX];
	unsigned int num_net;

	/* Serial console (COM1): guest output is written to serial_out_fd,
	 * serial_in_fd is read for guest input (-1: no input). Defaults:
	 * stdout and stdin. The descriptors stay owned by the caller. */
	int serial_in_fd;
	int serial_out_fd;

	/* When true, vmm_run() stops the VM cleanly on SIGINT and SIGTERM
	 * (it blocks them in the calling thread and reads them through a
	 * signalfd) and puts a terminal on serial_in_fd in raw mode.
	 * Default: false, so that a program embedding the library keeps
	 * control of its signals. */
	bool handle_signals;

	/* Messages; default: stderr, priority <= log_priority. */
	vmm_log_fn log_fn;
	void *log_data;
	int log_priority;           /* default VMM_LOG_WARNING */
};

/* Fill @cfg with defaults. Never fails. */
void vmm_config_init(struct vmm_config *cfg);

/* Free the strings a config owns (those set by the parser or by
 * vmm_config_set_string()) and reset it to defaults. */
void vmm_config_release(struct vmm_config *cfg);

/* Replace *@field (a string field of a config) by a copy of @value.
 * Returns: 0 on success or a negative errno (-ENOMEM). */
int vmm_config_set_string(char **field, const char *value);

/* Parse the value of one command-line option in key=value,key=value form
 * into @cfg. @option is one of "memory", "vcpu", "kernel", "block" ("net"
 * comes with the virtio-net device; until then it is an unknown option).
 * A value may be double-quoted to contain commas and spaces; within quotes
 * \" and \\ stand for " and \.
 * Returns: 0 on success or a negative errno; on failure a one-line message
 * naming the option and the key is written to @err (size @errlen). */
int vmm_config_parse_option(struct vmm_config *cfg, const char *option,
			    const char *value, char *err, size_t errlen);

/* Check a config for consistency (required values, ranges).
 * Returns: 0 on success or a negative errno (-EINVAL) with a message in @err. */
int vmm_config_validate(const struct vmm_config *cfg, char *err, size_t errlen);

/*
 * Generic key=value list parser, for other frontends.
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

/* Build a VM from @cfg: KVM, guest memory, vCPUs, devices, kernel.
 * Returns: 0 on success or a negative errno; details are logged. */
int vmm_create(const struct vmm_config *cfg, struct vmm **out);

/* Why vmm_run() returned. */
enum vmm_stop_reason {
	VMM_STOP_NONE = 0,
	VMM_STOP_RESET,             /* guest reset through the i8042 (0xFE) */
	VMM_STOP_REQUESTED,         /* vmm_stop(), SIGINT or SIGTERM */
	VMM_STOP_SHUTDOWN,          /* KVM_EXIT_SHUTDOWN (triple fault) */
	VMM_STOP_INTERNAL_ERROR,    /* KVM_EXIT_INTERNAL_ERROR (e.g. emulation failure) */
	VMM_STOP_FAIL_ENTRY,        /* KVM_EXIT_FAIL_ENTRY */
	VMM_STOP_UNHANDLED_EXIT,    /* a KVM exit reason the VMM does not handle */
	VMM_STOP_HOST_ERROR,        /* a host system call failed */
};

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
};

/* Run the VM until it stops. Returns: 0 when the guest reset itself or the
 * VM was stopped on request (vmm_stop(), a signal), -EIO when the guest
 * crashed (shutdown, internal error, failed entry, unhandled exit) and
 * another negative errno on a host failure. vmm_exit_info() says more. */
int vmm_run(struct vmm *vm);

/* Ask a running VM to stop; safe from any thread and from a signal
 * handler. */
void vmm_stop(struct vmm *vm);

/* Details of the last stop. */
const struct vmm_exit_info *vmm_exit_info(const struct vmm *vm);

/* Describe @info in one line (reason, KVM exit, RIP, code bytes). */
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
