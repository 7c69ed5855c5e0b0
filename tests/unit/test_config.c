/* SPDX-License-Identifier: Apache-2.0 */
/* struct vmm_config: defaults, option parsing, validation, introspection. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "vmmcore/vmm.h"

static struct vmm_config *new_config(void)
{
	struct vmm_config *cfg;

	ck_assert_int_eq(vmm_config_new(&cfg), 0);
	return cfg;
}

/* A value of the config as text; "(none)" for a key without a value. */
static const char *value(const struct vmm_config *cfg, const char *option, unsigned int i,
			 const char *key)
{
	static char buf[256];
	int ret = vmm_config_get_value(cfg, option, i, key, buf, sizeof(buf));

	if (ret == -ENOENT)
		return "(none)";
	ck_assert_int_eq(ret, 0);
	return buf;
}

/* Whether @option is a device type (vmm_config_add_device()). */
static bool is_device(const char *option)
{
	const char *name;
	unsigned int flags;

	for (unsigned int i = 0; !vmm_option_get(i, &name, &flags, NULL, NULL); i++)
		if (!strcmp(name, option))
			return flags & VMM_OPTION_DEVICE;
	return false;
}

/* The CLI's way in: a device type is added, a VM-wide option set. */
static int parse(struct vmm_config *cfg, const char *option, const char *val)
{
	return is_device(option) ? vmm_config_add_device(cfg, option, val) :
				   vmm_config_set_option(cfg, option, val);
}

START_TEST(test_defaults)
{
	struct vmm_config *cfg = new_config();

	ck_assert_uint_eq(vmm_config_get_memory_mib(cfg), 256);
	ck_assert_uint_eq(vmm_config_get_vcpus(cfg), 1);
	ck_assert_uint_eq(vmm_config_get_kernel_load_addr(cfg), 0x100000);
	ck_assert_ptr_null(vmm_config_get_kernel(cfg));
	ck_assert_ptr_null(vmm_config_get_cmdline(cfg));
	ck_assert_uint_eq(vmm_config_count(cfg, "block"), 0);
	ck_assert_int_eq(vmm_config_get_console_in(cfg), STDIN_FILENO);
	ck_assert_int_eq(vmm_config_get_console_out(cfg), STDOUT_FILENO);
	ck_assert(!vmm_config_get_handle_signals(cfg));
	ck_assert_int_eq(vmm_config_get_log_priority(cfg), VMM_LOG_WARNING);
#ifdef HAVE_SECCOMP
	ck_assert_int_eq(vmm_config_get_seccomp(cfg), VMM_SECCOMP_ON);
#else
	ck_assert_int_eq(vmm_config_get_seccomp(cfg), VMM_SECCOMP_OFF);
#endif
	ck_assert_str_eq(vmm_config_error(cfg), "");
	/* no kernel yet */
	ck_assert_int_eq(vmm_config_validate(cfg), -EINVAL);
	ck_assert_ptr_nonnull(strstr(vmm_config_error(cfg), "kernel"));
	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/vmlinux"), 0);
	ck_assert_int_eq(vmm_config_validate(cfg), 0);
	vmm_config_free(cfg);
	vmm_config_free(NULL);
}
END_TEST

static const struct {
	const char *text;
	uint64_t mib;
} sizes[] = {
	{ "size=2G", 2048 }, { "size=512m", 512 }, { "size=65536K", 64 },
	{ "1T", 1048576 }, { "300", 300 },
};

START_TEST(test_good_options)
{
	struct vmm_config *cfg = new_config();

	ck_assert_int_eq(vmm_config_set_option(cfg, "memory", "size_mib=1024"), 0);
	ck_assert_uint_eq(vmm_config_get_memory_mib(cfg), 1024);
	ck_assert_int_eq(vmm_config_set_option(cfg, "memory", "size_mib=0x1000"), 0);
	ck_assert_uint_eq(vmm_config_get_memory_mib(cfg), 4096);
	/* Sizes: MiB, or with a binary suffix; a bare value is the size. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ck_assert_int_eq(vmm_config_set_option(cfg, "memory", sizes[i].text), 0);
		ck_assert_uint_eq(vmm_config_get_memory_mib(cfg), sizes[i].mib);
	}
	ck_assert_int_eq(vmm_config_set_option(cfg, "vcpu", "num=254"), 0);
	ck_assert_uint_eq(vmm_config_get_vcpus(cfg), 254);
	ck_assert_int_eq(vmm_config_set_option(cfg, "vcpu", "num=1"), 0);
	ck_assert_uint_eq(vmm_config_get_vcpus(cfg), 1);
	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel",
		"path=/boot/vmlinux,cmdline=\"console=ttyS0 root=/dev/vda,ro\",kernel_load_addr=0x200000,initrd=/i.cpio"), 0);
	ck_assert_str_eq(vmm_config_get_kernel(cfg), "/boot/vmlinux");
	ck_assert_str_eq(vmm_config_get_cmdline(cfg), "console=ttyS0 root=/dev/vda,ro");
	ck_assert_uint_eq(vmm_config_get_kernel_load_addr(cfg), 0x200000);
	ck_assert_str_eq(vmm_config_get_initrd(cfg), "/i.cpio");
	/* a second --kernel replaces the first (no leak under ASan) */
	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/other,cmdline="), 0);
	ck_assert_str_eq(vmm_config_get_kernel(cfg), "/other");
	ck_assert_str_eq(vmm_config_get_cmdline(cfg), "");
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", "path=/a.img"), 0);
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", "path=/b.img,read_only=on,id=disk-b"), 0);
	ck_assert_uint_eq(vmm_config_count(cfg, "block"), 2);
	ck_assert_str_eq(value(cfg, "block", 0, "path"), "/a.img");
	ck_assert_str_eq(value(cfg, "block", 0, "read_only"), "off");
	ck_assert_str_eq(value(cfg, "block", 0, "id"), "(none)");
	ck_assert_str_eq(value(cfg, "block", 1, "read_only"), "on");
	ck_assert_str_eq(value(cfg, "block", 1, "id"), "disk-b");
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", "path=/c.img,read_only=off"), 0);
	ck_assert_str_eq(value(cfg, "block", 2, "read_only"), "off");
	ck_assert_int_eq(vmm_config_validate(cfg), 0);
	vmm_config_free(cfg);
}
END_TEST

static const struct {
	const char *option, *value;
	int ret;
	const char *msg1, *msg2;        /* both must appear in the message */
} bad[] = {
	{ "memory", "mem=12", -EINVAL, "--memory", "'mem'" },             /* unknown key */
	{ "memory", "size_mib=64,size_mib=128", -EINVAL, "--memory", "more than once" },
	{ "memory", "size_mib=", -EINVAL, "size_mib", "needs a value" },
	{ "memory", "size_mib", -EINVAL, "size_mib", "needs a value" },
	{ "memory", "size_mib=12x", -EINVAL, "size_mib", "not a number" },
	{ "memory", "size_mib=-1", -EINVAL, "size_mib", "not a number" },
	{ "memory", "size_mib=99999999999999999999", -ERANGE, "size_mib", "out of range" },
	{ "memory", "size_mib=15", -ERANGE, "size_mib", "16..1048576" },
	{ "memory", "size_mib=1048577", -ERANGE, "--memory", "out of range" },
	{ "memory", "size=1000K", -EINVAL, "'size'", "whole MiB" },
	{ "memory", "size=2P", -EINVAL, "'size'", "not a size" },
	{ "memory", "size=15M", -ERANGE, "'size'", "16M..1048576M" },
	{ "memory", "size=2T", -ERANGE, "'size'", "out of range" },
	{ "memory", "size=99999999999T", -ERANGE, "'size'", "out of range" },
	{ "memory", "size=G", -EINVAL, "'size'", "not a size" },
	{ "memory", "size=1G,size_mib=64", -EINVAL, "--memory", "'size' or 'size_mib', not both" },
	{ "memory", "12x", -EINVAL, "'size'", "not a size" },
	{ "vcpu", "num=0", -ERANGE, "--vcpu", "1..254" },
	{ "vcpu", "num=255", -ERANGE, "num", "out of range" },
	{ "vcpu", "num=4294967297", -ERANGE, "num", "out of range" },
	{ "vcpu", "cpus=2", -EINVAL, "--vcpu", "unknown key 'cpus'" },
	{ "vcpu", "2", -EINVAL, "--vcpu needs num=N", "try --vcpu num=2" },
	{ "kernel", "cmdline=quiet", -EINVAL, "--kernel", "'path' is required" },
	{ "kernel", "path=", -EINVAL, "'path'", "needs a value" },
	{ "kernel", "path=/a,path=/b", -EINVAL, "'path'", "more than once" },
	{ "kernel", "path=/a,kernel_load_addr=0xzz", -EINVAL, "kernel_load_addr", "not a number" },
	{ "kernel", "path=/a,kernel_load_addr=0x1ffffffffffffffff", -ERANGE, "kernel_load_addr", "out of range" },
	{ "kernel", "path=/a,initrd=", -EINVAL, "initrd", "needs a value" },
	{ "kernel", "path=/a,kernel_load_addr=0x1001", -EINVAL, "--kernel: key 'kernel_load_addr'",
	  "give a multiple of 0x1000" },
	{ "kernel", "path=/a,cmdline=\"open", -EINVAL, "cmdline", "unterminated" },
	{ "block", "read_only=on", -EINVAL, "--block", "'path' is required" },
	{ "block", "path=/a,read_only=maybe", -EINVAL, "read_only", "not on or off" },
	{ "block", "path=/a,id=123456789012345678901", -ERANGE, "'id'", "20 bytes" },
	{ "block", "path=/a,ro=1", -EINVAL, "--block", "unknown key 'ro'" },
	{ "net", "mac=02:00:00:00:00:01", -EINVAL, "--net", "'tap' is required" },
	{ "net", "tap=0123456789abcdef", -ERANGE, "'tap'", "15 bytes" },
	{ "net", "tap=t0,mac=01:00:5e:00:00:01", -EINVAL, "'mac'", "multicast" },
	{ "net", "tap=t0,mac=00:00:00:00:00:00", -EINVAL, "'mac'", "all zero" },
	{ "net", "tap=t0,mac=02:00:00:00:00", -EINVAL, "'mac'", "not a MAC address" },
	{ "net", "tap=t0,mac=02-00-00-00-00-01", -EINVAL, "'mac'", "xx:xx:xx:xx:xx:xx" },
	{ "bogus", "x=1", -EINVAL, "unknown option", "bogus" },
};

START_TEST(test_bad_options)
{
	struct vmm_config *cfg = new_config();
	const char *err;

	ck_assert_int_eq(parse(cfg, bad[_i].option, bad[_i].value), bad[_i].ret);
	err = vmm_config_error(cfg);
	ck_assert_msg(strstr(err, bad[_i].msg1) && strstr(err, bad[_i].msg2),
		      "--%s %s: message '%s' lacks '%s' or '%s'", bad[_i].option, bad[_i].value,
		      err, bad[_i].msg1, bad[_i].msg2);
	ck_assert_msg(!strchr(err, '\n'), "message is not one line");
	/* A failed parse changes nothing. */
	ck_assert_uint_eq(vmm_config_get_memory_mib(cfg), 256);
	ck_assert_uint_eq(vmm_config_get_vcpus(cfg), 1);
	ck_assert_ptr_null(vmm_config_get_kernel(cfg));
	ck_assert_uint_eq(vmm_config_count(cfg, "block"), 0);
	vmm_config_free(cfg);
}
END_TEST

START_TEST(test_failed_parse_keeps_old_values)
{
	struct vmm_config *cfg = new_config();

	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/a,cmdline=x"), 0);
	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/b,cmdline=y,bad=1"), -EINVAL);
	ck_assert_str_eq(vmm_config_get_kernel(cfg), "/a");
	ck_assert_str_eq(vmm_config_get_cmdline(cfg), "x");
	vmm_config_free(cfg);
}
END_TEST

START_TEST(test_block_limit)
{
	struct vmm_config *cfg = new_config();
	unsigned int max = 0;
	const char *name;

	for (unsigned int i = 0; !vmm_option_get(i, &name, NULL, &max, NULL); i++)
		if (!strcmp(name, "block"))
			break;
	ck_assert_uint_eq(max, 16);
	for (unsigned int i = 0; i < max; i++)
		ck_assert_int_eq(vmm_config_add_device(cfg, "block", "path=/d"), 0);
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", "path=/d"), -E2BIG);
	ck_assert_uint_eq(vmm_config_count(cfg, "block"), max);
	vmm_config_free(cfg);
}
END_TEST

/* The typed setters refuse what validation used to catch later. */
START_TEST(test_validate)
{
	struct vmm_config *cfg = new_config();

	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/k"), 0);
	ck_assert_int_eq(vmm_config_set_memory_mib(cfg, 8), -ERANGE);
	ck_assert_ptr_nonnull(strstr(vmm_config_error(cfg), "out of range"));
	ck_assert_int_eq(vmm_config_set_vcpus(cfg, 0), -ERANGE);
	ck_assert_int_eq(vmm_config_set_vcpus(cfg, 255), -ERANGE);
	ck_assert_int_eq(vmm_config_set_vcpus(cfg, 2), 0);
	ck_assert_int_eq(vmm_config_set_kernel_load_addr(cfg, 0x100001), -EINVAL);
	ck_assert_ptr_nonnull(strstr(vmm_config_error(cfg), "aligned"));
	ck_assert_int_eq(vmm_config_set_option(cfg, "kernel", "path=/k,kernel_load_addr=0x100001"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(vmm_config_error(cfg), "aligned"));
	ck_assert_int_eq(vmm_config_set_kernel_load_addr(cfg, 0x100000), 0);
	/* a disk needs a path */
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", NULL), -EINVAL);
	ck_assert_int_eq(vmm_config_add_device(cfg, "block", ""), -EINVAL);
	ck_assert_int_eq(vmm_config_set_kernel(cfg, ""), -EINVAL);
	ck_assert_int_eq(vmm_config_set_kernel(cfg, NULL), -EINVAL);
	ck_assert_int_eq(vmm_config_set_initrd(cfg, ""), -EINVAL);
	ck_assert_int_eq(vmm_config_set_console(cfg, -2, 1), -EBADF);
	ck_assert_int_eq(vmm_config_set_log_priority(cfg, 8), -ERANGE);
	ck_assert_int_eq(vmm_config_validate(cfg), 0);
	vmm_config_free(cfg);
}
END_TEST

START_TEST(test_setters_getters)
{
	struct vmm_config *cfg = new_config();

	ck_assert_int_eq(vmm_config_set_kernel(cfg, "/k"), 0);
	ck_assert_int_eq(vmm_config_set_cmdline(cfg, "console=ttyS0"), 0);
	ck_assert_int_eq(vmm_config_set_initrd(cfg, "/i"), 0);
	ck_assert_int_eq(vmm_config_set_memory_mib(cfg, 512), 0);
	ck_assert_int_eq(vmm_config_set_console(cfg, -1, 2), 0);
	ck_assert_int_eq(vmm_config_set_log_priority(cfg, 0), 0);
	vmm_config_set_handle_signals(cfg, true);
	ck_assert_int_eq(vmm_config_set_seccomp(cfg, VMM_SECCOMP_LOG), 0);
	ck_assert_int_eq(vmm_config_get_seccomp(cfg), VMM_SECCOMP_LOG);
	ck_assert_int_eq(vmm_config_set_seccomp(cfg, (enum vmm_seccomp)42), -EINVAL);
	ck_assert_int_eq(vmm_config_get_seccomp(cfg), VMM_SECCOMP_LOG);
	ck_assert_int_eq(vmm_config_set_seccomp(cfg, VMM_SECCOMP_OFF), 0);
	ck_assert_int_eq(vmm_config_get_seccomp(cfg), VMM_SECCOMP_OFF);
	ck_assert_str_eq(value(cfg, "kernel", 0, "path"), "/k");
	ck_assert_str_eq(value(cfg, "kernel", 0, "cmdline"), "console=ttyS0");
	ck_assert_str_eq(value(cfg, "kernel", 0, "initrd"), "/i");
	ck_assert_str_eq(value(cfg, "memory", 0, "size_mib"), "512");
	ck_assert_str_eq(value(cfg, "kernel", 0, "kernel_load_addr"), "1048576");
	ck_assert_int_eq(vmm_config_get_console_in(cfg), -1);
	ck_assert_int_eq(vmm_config_get_console_out(cfg), 2);
	ck_assert_int_eq(vmm_config_get_log_priority(cfg), 0);
	ck_assert(vmm_config_get_handle_signals(cfg));
	ck_assert_int_eq(vmm_config_set_cmdline(cfg, NULL), 0);
	ck_assert_ptr_null(vmm_config_get_cmdline(cfg));
	ck_assert_int_eq(vmm_config_set_initrd(cfg, NULL), 0);
	ck_assert_ptr_null(vmm_config_get_initrd(cfg));
	/* what is not there */
	{
		char buf[4];

		ck_assert_int_eq(vmm_config_get_value(cfg, "bogus", 0, "x", buf, sizeof(buf)), -EINVAL);
		ck_assert_int_eq(vmm_config_get_value(cfg, "memory", 0, "x", buf, sizeof(buf)), -EINVAL);
		ck_assert_int_eq(vmm_config_get_value(cfg, "memory", 1, "size_mib", buf, sizeof(buf)),
				 -ENOENT);
		ck_assert_int_eq(vmm_config_get_value(cfg, "block", 0, "path", buf, sizeof(buf)), -ENOENT);
		ck_assert_int_eq(vmm_config_get_value(cfg, "memory", 0, "size_mib", buf, 3), -ENOSPC);
	}
	ck_assert_uint_eq(vmm_config_count(cfg, "memory"), 1);
	ck_assert_uint_eq(vmm_config_count(cfg, "bogus"), 0);
	/* the kinds are not mixed up */
	ck_assert_int_eq(vmm_config_set_option(cfg, "block", "path=/d"), -EINVAL);
	ck_assert_int_eq(vmm_config_add_device(cfg, "memory", "size_mib=64"), -EINVAL);
	ck_assert_int_eq(vmm_config_set_option(cfg, "memory", NULL), -EINVAL);
	vmm_config_free(cfg);
}
END_TEST

/* What the front end builds its options and --help from. */
START_TEST(test_introspection)
{
	const char *name, *summary, *key, *val, *help;
	unsigned int flags, max, nopt = 0, nkeys = 0;
	bool seen_kernel_path = false;

	for (unsigned int i = 0; !vmm_option_get(i, &name, &flags, &max, &summary); i++, nopt++) {
		ck_assert(name && *name && summary && *summary);
		ck_assert_uint_ge(max, 1);
		if (!(flags & VMM_OPTION_DEVICE))
			ck_assert_uint_eq(max, 1);
		for (unsigned int k = 0; !vmm_option_get_key(i, k, &key, &val, &help, &flags); k++) {
			ck_assert(key && *key && val && *val && help && *help);
			seen_kernel_path |= !strcmp(name, "kernel") && !strcmp(key, "path") &&
					    (flags & VMM_KEY_REQUIRED);
			nkeys++;
		}
		ck_assert_int_eq(vmm_option_get_key(i, 99, NULL, NULL, NULL, NULL), -ENOENT);
	}
	ck_assert_uint_ge(nopt, 4);             /* memory, vcpu, kernel, block */
	ck_assert_uint_ge(nkeys, 9);
	ck_assert(seen_kernel_path);
	ck_assert_int_eq(vmm_option_get(nopt, &name, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(vmm_option_get_key(nopt, 0, NULL, NULL, NULL, NULL), -ENOENT);
	/* built-in devices are no device options ("serial" is the console's) */
	for (unsigned int i = 0; !vmm_option_get(i, &name, &flags, NULL, NULL); i++)
		ck_assert(!(flags & VMM_OPTION_DEVICE) ||
			  (strcmp(name, "serial") && strcmp(name, "i8042")));
}
END_TEST

/* The help texts state the ranges the key tables enforce: a value just
 * outside the range printed is refused, the bounds are taken. */
START_TEST(test_help_matches_ranges)
{
	const char *name, *key, *help;
	unsigned int checked = 0;

	for (unsigned int i = 0; !vmm_option_get(i, &name, NULL, NULL, NULL); i++) {
		for (unsigned int k = 0; !vmm_option_get_key(i, k, &key, NULL, &help, NULL); k++) {
			struct vmm_config *cfg;
			uint64_t lo, hi;
			const char *r = strstr(help, "..");
			char opt[128];

			if (!r)
				continue;
			while (r > help && r[-1] >= '0' && r[-1] <= '9')
				r--;
			ck_assert_int_eq(sscanf(r, "%" SCNu64 "..%" SCNu64, &lo, &hi), 2);
			cfg = new_config();
			snprintf(opt, sizeof(opt), "%s=%" PRIu64, key, hi);
			ck_assert_msg(!parse(cfg, name, opt), "--%s %s: %s", name, opt,
				      vmm_config_error(cfg));
			snprintf(opt, sizeof(opt), "%s=%" PRIu64, key, lo);
			ck_assert_msg(!parse(cfg, name, opt), "--%s %s", name, opt);
			snprintf(opt, sizeof(opt), "%s=%" PRIu64, key, hi + 1);
			ck_assert_int_eq(parse(cfg, name, opt), -ERANGE);
			if (lo) {
				snprintf(opt, sizeof(opt), "%s=%" PRIu64, key, lo - 1);
				ck_assert_int_eq(parse(cfg, name, opt), -ERANGE);
			}
			vmm_config_free(cfg);
			checked++;
		}
	}
	ck_assert_uint_ge(checked, 2);          /* size_mib, num */
}
END_TEST

/* The defaults the help texts state are the configuration's. */
START_TEST(test_help_matches_defaults)
{
	struct vmm_config *cfg = new_config();
	const char *name, *key, *help, *d;
	char want[64], said[64];
	unsigned int checked = 0;

	for (unsigned int i = 0; !vmm_option_get(i, &name, NULL, NULL, NULL); i++) {
		for (unsigned int k = 0; !vmm_option_get_key(i, k, &key, NULL, &help, NULL); k++) {
			uint64_t n;

			d = strstr(help, "(default ");
			if (!d || is_device(name))
				continue;
			d += strlen("(default ");
			ck_assert_int_eq(vmm_config_get_value(cfg, name, 0, key, want, sizeof(want)), 0);
			snprintf(said, sizeof(said), "%.*s", (int)strcspn(d, ",)"), d);
			ck_assert_int_eq(vmm_parse_u64(said, 0, UINT64_MAX, &n), 0);
			ck_assert_msg(strtoull(want, NULL, 10) == n, "--%s %s: help says %s, default %s",
				      name, key, said, want);
			checked++;
		}
	}
	ck_assert_uint_ge(checked, 3);          /* size_mib, num, kernel_load_addr */
	vmm_config_free(cfg);
}
END_TEST

/* --log-level's names, table-driven; a bad one changes nothing. */
START_TEST(test_log_level)
{
	static const struct { const char *name; int ret, prio; } cases[] = {
		{ "error", 0, VMM_LOG_ERR }, { "warn", 0, VMM_LOG_WARNING },
		{ "warning", 0, VMM_LOG_WARNING }, { "info", 0, VMM_LOG_INFO },
		{ "debug", 0, VMM_LOG_DEBUG }, { "DEBUG", -EINVAL, VMM_LOG_DEBUG },
		{ "", -EINVAL, VMM_LOG_DEBUG }, { "7", -EINVAL, VMM_LOG_DEBUG },
		{ NULL, -EINVAL, VMM_LOG_DEBUG },
	};
	struct vmm_config *cfg;

	ck_assert_int_eq(vmm_config_new(&cfg), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(vmm_config_set_log_level(cfg, cases[i].name), cases[i].ret);
		ck_assert_int_eq(vmm_config_get_log_priority(cfg), cases[i].prio);
	}
	ck_assert_ptr_nonnull(strstr(vmm_config_error(cfg), "use error, warn, info or debug"));
	vmm_config_free(cfg);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_log_level);
	tcase_add_test(tc, test_good_options);
	tcase_add_loop_test(tc, test_bad_options, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_failed_parse_keeps_old_values);
	tcase_add_test(tc, test_block_limit);
	tcase_add_test(tc, test_validate);
	tcase_add_test(tc, test_setters_getters);
	tcase_add_test(tc, test_introspection);
	tcase_add_test(tc, test_help_matches_ranges);
	tcase_add_test(tc, test_help_matches_defaults);
	suite_add_tcase(s, tc);
	return s;
}
