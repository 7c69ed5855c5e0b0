/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm-reference - boot a Linux kernel (or any 64-bit boot-protocol guest)
 * on KVM: a thin command-line front end to libvmmcore. Its options and
 * their help come from the library (vmm_option_get()): a device added to
 * the library is an option here without a line of code.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vmmcore/vmm.h"

#define EXIT_USAGE 2
#define EXIT_GUEST_CRASH 3
#define PROCEED (-1)            /* not an exit status: go on and run the VM */
#define OPT_LIB 0x100           /* getopt value of the library's option 0 */
#define OPT_LOG_LEVEL 0x80
#define OPT_LOG_FILE 0x81
#define OPT_SECCOMP 0x82

static const char *prog = "vmm-reference";
static bool quiet;                      /* --quiet: no stop message */
static FILE *log_out;                   /* --log-file, or stderr */

static bool value_optional(unsigned int opt);

static bool has_required(unsigned int opt)
{
	unsigned int flags;

	for (unsigned int k = 0; !vmm_option_get_key(opt, k, NULL, NULL, NULL, &flags); k++)
		if (flags & VMM_KEY_REQUIRED)
			return true;
	return false;
}

/* "path=FILE[,read_only=on|off]": required keys first, then the others in
 * brackets; all of them in brackets when the value may be left out. */
static void print_synopsis(FILE *f, unsigned int opt)
{
	bool all_optional = !has_required(opt);
	const char *name, *value;
	unsigned int flags, printed = 0;

	for (int required = 1; required >= 0; required--) {
		for (unsigned int k = 0; !vmm_option_get_key(opt, k, &name, &value, NULL, &flags); k++) {
			bool bracket;

			if (!!(flags & VMM_KEY_REQUIRED) != required)
				continue;
			bracket = !required && (printed || all_optional);
			fprintf(f, "%s%s%s=%s%s", bracket ? "[" : "", printed ? "," : "", name,
				value, bracket ? "]" : "");
			printed++;
		}
	}
}

static void print_option(unsigned int opt)
{
	const char *name, *summary, *key, *value, *help;
	unsigned int flags, max;

	vmm_option_get(opt, &name, &flags, &max, &summary);
	printf("     --%s ", name);
	print_synopsis(stdout, opt);
	printf("\n        %s", summary);
	if ((flags & VMM_OPTION_DEVICE) && max > 1)
		printf("; up to %u", max);
	printf("\n");
	for (unsigned int k = 0; !vmm_option_get_key(opt, k, &key, &value, &help, &flags); k++) {
		char kv[64];

		snprintf(kv, sizeof(kv), "%s=%s", key, value);
		printf("          %-21s %s%s\n", kv, help,
		       flags & VMM_KEY_REQUIRED ? " (required)" : "");
	}
}

static int usage(void)
{
	printf("Usage:\n"
	       " %s [options] --kernel path=FILE[,...]\n"
	       "\n"
	       "Boot a Linux kernel (ELF vmlinux or bzImage) in a KVM virtual machine.\n"
	       "Values are key=value lists; a value may be double-quoted to hold commas.\n"
	       "\n"
	       "Options:\n", prog);
	for (unsigned int i = 0; !vmm_option_get(i, NULL, NULL, NULL, NULL); i++)
		print_option(i);
	printf("     --log-level=error|warn|info|debug\n"
	       "        messages up to this level (default warn)\n"
	       "     --log-file=PATH\n"
	       "        messages to PATH (appended to), not to stderr\n"
	       "     --seccomp=on|off|log\n"
	       "        system-call filters on the VM's threads: a call outside them kills\n"
	       "        the program (on, the default when built with them), is logged by\n"
	       "        the kernel (log), or no filters (off)\n"
	       " -q, --quiet                   only errors, no stop message\n"
	       " -v, --verbose                 one log level more (repeatable)\n"
	       " -h, --help                    display this help\n"
	       " -V, --version                 display version\n"
	       "\n"
	       "The guest's serial console (COM1) is on stdin and stdout unless --serial\n"
	       "says otherwise. On a terminal every key goes to the guest, Ctrl-C too:\n"
	       "  Ctrl-A x       quit\n"
	       "  Ctrl-A h       list these keys\n"
	       "  Ctrl-A Ctrl-A  send Ctrl-A to the guest\n"
	       "\n"
	       "Exit status: 0 guest reset, or stopped by Ctrl-A x or a signal; 1 host\n"
	       "failure; 2 usage; 3 guest crash.\n"
	       "\n"
	       "For more details see vmm-reference(1).\n");
	return EXIT_SUCCESS;
}

/*
 * One line "vmm-reference: MESSAGE" to @f, control characters shown
 * escaped: a value from the command line (or a guest's bytes in a
 * message) must neither split the line nor reach the terminal, as an
 * ESC would.
 */
static void __attribute__((format(printf, 2, 0))) vline(FILE *f, const char *fmt, va_list ap)
{
	char *s;
	const char *p;

	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	fprintf(f, "%s: ", prog);
	for (p = s ? s : "out of memory"; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('\n', f);
	free(s);
}

static void __attribute__((format(printf, 2, 3))) line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(f, fmt, ap);
	va_end(ap);
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

/* Errors the library reported itself (the CLI adds no second line). */
static unsigned int logged_errors;

/* One line to the log: stderr or --log-file. */
#define message(...) line(log_out, __VA_ARGS__)

static void log_fn(void *data, int priority, const char *fmt, va_list args)
{
	(void)data;
	if (priority <= VMM_LOG_ERR)
		logged_errors++;
	vline(log_out, fmt, args);
}

/* "--log-file=PATH": appended to, line by line. Opened without blocking:
 * a FIFO that nothing reads is refused (ENXIO), not waited on. */
static int set_log_file(const char *path)
{
	FILE *f = NULL;
	struct stat st;
	int fd, e;

	if (!*path)
		return usage_error("--log-file needs a value: --log-file=PATH");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0666);
	if (fd >= 0 && fcntl(fd, F_SETFL, O_APPEND) == 0)
		f = fdopen(fd, "a");
	if (!f) {
		e = errno;
		if (e == ENXIO && stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
			line(stderr, "log file %s is a FIFO that nothing reads: start its reader first",
			     path);
		else
			line(stderr, "cannot open log file %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return EXIT_FAILURE;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_out != stderr)
		fclose(log_out);
	log_out = f;
	return PROCEED;
}

/* A device whose keys are all optional may be given without a value. */
static bool value_optional(unsigned int opt)
{
	unsigned int oflags;

	vmm_option_get(opt, NULL, &oflags, NULL, NULL);
	if (!(oflags & VMM_OPTION_DEVICE))
		return false;
	return !has_required(opt);
}

/* The library's options, then -v, -h, -V. Returns: the table (malloc). */
static struct option *build_longopts(unsigned int *nlib)
{
	static const struct option own[] = {
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "log-file", required_argument, NULL, OPT_LOG_FILE },
		{ "seccomp", required_argument, NULL, OPT_SECCOMP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *o;
	unsigned int n = 0;

	while (!vmm_option_get(n, NULL, NULL, NULL, NULL))
		n++;
	o = calloc(n + sizeof(own) / sizeof(own[0]), sizeof(*o));
	if (!o)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		vmm_option_get(i, &o[i].name, NULL, NULL, NULL);
		o[i].has_arg = value_optional(i) ? optional_argument : required_argument;
		o[i].val = OPT_LIB + (int)i;
	}
	memcpy(&o[n], own, sizeof(own));
	*nlib = n;
	return o;
}

/* One of the library's options; @count: how many times it came so far.
 * Returns: PROCEED or the exit status of a usage error. */
static int apply_option(struct vmm_config *cfg, unsigned int opt, const char *value,
			unsigned int count)
{
	const char *name;
	unsigned int flags, max;
	int ret;

	vmm_option_get(opt, &name, &flags, &max, NULL);
	if (!(flags & VMM_OPTION_DEVICE) && count > max)
		return usage_error("--%s given more than once", name);
	ret = flags & VMM_OPTION_DEVICE ? vmm_config_add_device(cfg, name, value) :
					  vmm_config_set_option(cfg, name, value);
	return ret ? usage_error("%s", vmm_config_error(cfg)) : PROCEED;
}

/* "--rng source=X" as well as "--rng=source=X" and a bare "--rng". */
static const char *optional_value(int argc, char **argv)
{
	if (optarg || optind >= argc || argv[optind][0] == '-' || !strchr(argv[optind], '='))
		return optarg;
	return argv[optind++];
}

/* The version, and what this build has. */
static int version(void)
{
	const char *name;
	unsigned int flags;

	printf("%s %s (libvmmcore %s)\n", prog, PACKAGE_VERSION, vmm_version());
#ifdef __GLIBC__
	printf("C library: glibc %d.%d\n", __GLIBC__, __GLIBC_MINOR__);
#else
	printf("C library: musl (static)\n");
#endif
	printf("built-in devices: 16550A serial port, i8042, boot marker (port 0x4f0)\n"
	       "device options:");
	for (unsigned int i = 0; !vmm_option_get(i, &name, &flags, NULL, NULL); i++)
		if (flags & VMM_OPTION_DEVICE)
			printf(" --%s", name);
	printf("\nsystem-call filter: none\n");
	return EXIT_SUCCESS;
}

/* Edit distance of @a and @b, at most 16 bytes each (else "far"). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[17][17];

	if (la > 16 || lb > 16)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return d[la][lb];
}

/* "--quiet=1", "--log": an option getopt_long() knows, or that abbreviates
 * more than one, refused all the same. Returns: the exit status, or
 * PROCEED when @name is neither. */
static int refused_option(const char *name, bool has_value, const struct option *longopts)
{
	const struct option *match = NULL;
	char names[128] = "";
	unsigned int n = 0;

	for (const struct option *o = longopts; *name && o->name; o++) {
		size_t used = strlen(names);

		if (strncmp(o->name, name, strlen(name)))
			continue;
		match = o;
		if (!strcmp(o->name, name)) {
			n = 1;
			break;
		}
		n++;
		snprintf(names + used, sizeof(names) - used, "%s--%s", used ? ", " : "", o->name);
	}
	if (n > 1)
		return usage_error("option '--%s' is ambiguous: %s", name, names);
	if (n == 1 && has_value && match->has_arg == no_argument)
		return usage_error("--%s takes no value: give it alone", match->name);
	return PROCEED;
}

/* "--memroy": the option meant, when one is near enough. */
static int unknown_option(const char *arg, const struct option *longopts)
{
	char name[32];
	const char *best = NULL;
	size_t best_d = 3;                      /* at most two edits */
	int ret;

	if (strncmp(arg, "--", 2))             /* "-vx": the letter, not the word */
		return usage_error("unknown option '-%c'", optopt);
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	ret = refused_option(name, strchr(arg, '=') != NULL, longopts);
	if (ret != PROCEED)
		return ret;
	for (const struct option *o = longopts; o->name; o++) {
		size_t d = distance(name, o->name);

		if (d < best_d) {
			best_d = d;
			best = o->name;
		}
	}
	if (best)
		return usage_error("unknown option '--%s'; did you mean --%s?", name, best);
	return usage_error("unknown option '--%s'", name);
}

/* The library's option @i without its value: what the value looks like. */
static int needs_value(const struct option *longopts, unsigned int i)
{
	fprintf(stderr, "%s: --%s needs a value: --%s ", prog, longopts[i].name, longopts[i].name);
	print_synopsis(stderr, i);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

/* "--kernel" at the end. */
static int missing_value(const char *arg, const struct option *longopts, unsigned int nlib)
{
	for (unsigned int i = 0; i < nlib; i++)
		if (!strcmp(arg + 2, longopts[i].name))
			return needs_value(longopts, i);
	return usage_error("%s needs a value", arg);
}

static int set_seccomp(struct vmm_config *cfg, const char *mode)
{
	static const char *const names[] = {
		[VMM_SECCOMP_OFF] = "off", [VMM_SECCOMP_ON] = "on", [VMM_SECCOMP_LOG] = "log",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(mode, names[i])) {
			vmm_config_set_seccomp(cfg, (enum vmm_seccomp)i);
			return PROCEED;
		}
	return usage_error("--seccomp must be on, off or log, not '%s'", mode);
}

/* "--block --kernel ...": the next option taken as the value. No value
 * starts with '-' (keys do not); "--block=-x" still gives it. */
static bool value_is_option(char **argv)
{
	return optarg && optarg == argv[optind - 1] && optarg[0] == '-';
}

/* Returns: PROCEED, or the exit status when there is nothing to run. */
static int parse_options(int argc, char **argv, struct vmm_config *cfg,
			 const struct option *longopts, unsigned int nlib, unsigned int *counts)
{
	int c, ret;

	while ((c = getopt_long(argc, argv, ":qvhV", longopts, NULL)) != -1) {
		unsigned int opt = (unsigned int)(c - OPT_LIB);

		if (c >= OPT_LIB && opt < nlib) {
			const char *value = longopts[opt].has_arg == optional_argument ?
					    optional_value(argc, argv) : optarg;

			if (value_is_option(argv))
				return needs_value(longopts, opt);
			ret = apply_option(cfg, opt, value, ++counts[opt]);
			if (ret != PROCEED)
				return ret;
			continue;
		}
		switch (c) {
		case OPT_LOG_LEVEL:
			if (vmm_config_set_log_level(cfg, optarg))
				return usage_error("%s", vmm_config_error(cfg));
			break;
		case OPT_LOG_FILE:
			ret = value_is_option(argv) ?
			      usage_error("--log-file needs a value: --log-file=PATH") :
			      set_log_file(optarg);
			if (ret != PROCEED)
				return ret;
			break;
		case OPT_SECCOMP:
			ret = set_seccomp(cfg, optarg);
			if (ret != PROCEED)
				return ret;
			break;
		case 'q':
			quiet = true;
			vmm_config_set_log_priority(cfg, VMM_LOG_ERR);
			break;
		case 'v':
			vmm_config_set_log_priority(cfg, vmm_config_get_log_priority(cfg) + 1);
			break;
		case 'h':
			return usage();
		case 'V':
			return version();
		case ':':
			return missing_value(argv[optind - 1], longopts, nlib);
		default:
			return unknown_option(argv[optind - 1], longopts);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (vmm_config_validate(cfg))
		return usage_error("%s", vmm_config_error(cfg));
	return PROCEED;
}

/* The configuration from the command line in *@out.
 * Returns: PROCEED, or the exit status when there is nothing to run. */
static int parse_args(int argc, char **argv, struct vmm_config **out)
{
	struct vmm_config *cfg = NULL;
	struct option *longopts = NULL;
	unsigned int nlib = 0, *counts = NULL;
	int ret = EXIT_FAILURE;

	if (vmm_config_new(&cfg) || !(longopts = build_longopts(&nlib)) ||
	    !(counts = calloc(nlib, sizeof(*counts)))) {
		fprintf(stderr, "%s: out of memory\n", prog);
	} else {
		vmm_config_set_log_fn(cfg, log_fn, NULL);
		vmm_config_set_handle_signals(cfg, true);
		ret = parse_options(argc, argv, cfg, longopts, nlib, counts);
	}
	free(counts);
	free(longopts);
	if (ret != PROCEED)
		vmm_config_free(cfg);
	else
		*out = cfg;
	return ret;
}

/* The terminal as it was, put back if the program dies of a signal the
 * library cannot catch (the library restores it on every other path). */
static struct termios saved_tio;
static bool have_tio;

static void restore_terminal(int sig)
{
	if (have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	raise(sig);                     /* SA_RESETHAND: the default action now */
}

static void guard_terminal(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };
	struct sigaction sa = { .sa_handler = restore_terminal,
				.sa_flags = SA_RESETHAND | SA_NODEFER };

	have_tio = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0;
	if (!have_tio)
		return;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
}

/*
 * SIGINT, SIGTERM and SIGHUP wait from the start for vmm_run(), which
 * takes them: one that comes while the VM is being built stops it as
 * cleanly as one that comes later, instead of killing the program before
 * it could say why. SIGPIPE is ignored: when the reader of the console's
 * output goes away, the VM stops on the EPIPE, and the terminal is
 * restored as on any other stop.
 */
static void hold_signals(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Where to attach to a console on a pseudo-terminal or a socket. */
static void console_notice(const struct vmm_config *cfg, const struct vmm *vm)
{
	const char *path = vmm_console_path(vm);
	char mode[8];

	if (quiet || !path)
		return;
	if (!vmm_config_get_value(cfg, "serial", 0, "mode", mode, sizeof(mode)) &&
	    !strcmp(mode, "pty"))
		message("the guest's console is on %s: screen %s", path, path);
	else if (vmm_config_get_value(cfg, "serial", 0, "file", NULL, 0) == -ENOENT)
		message("the guest's console is on %s: socat -,raw,echo=0 UNIX-CONNECT:%s", path,
			path);
}

/* In a child: close every descriptor but KVM's (the VM and its vCPUs),
 * so that images, TAPs and the terminal are released at once. */
static void keep_only_kvm(int keep1, int keep2)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], target[64];

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		ssize_t n;

		if (e->d_name[0] == '.' || fd == dirfd(d) || fd == keep1 || fd == keep2)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n >= 0)
			target[n] = '\0';
		if (n < 0 || strncmp(target, "anon_inode:kvm-", 15))
			close(fd);
	}
	closedir(d);
}

/*
 * The kernel tears a VM down when the last descriptor of it closes, and
 * that waits out grace periods (about 20 ms here) that nothing needs to
 * wait for once the guest stopped. So a child keeps the VM's descriptors
 * (and nothing else) and closes them once this process is gone, and the
 * program's caller does not wait. Then vmm_destroy() here frees all as
 * ever, only its close of the VM is quick. The child is forked before the
 * run: the system-call filters of a running VM allow no fork. It ignores
 * the signals that stop the VM, sent to the process group too: it goes
 * when this process does.
 */
static void detach_vm_close(void)
{
	int ready[2], gone[2];
	char c;
	pid_t pid;

	if (pipe(ready))
		return;
	if (pipe(gone)) {
		close(ready[0]);
		close(ready[1]);
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		keep_only_kvm(gone[0], ready[1]);
		close(ready[1]);                /* the parent's cue: all else closed */
		while (read(gone[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);                       /* the last references go here */
	}
	close(ready[1]);
	close(gone[0]);
	if (pid > 0)
		while (read(ready[0], &c, 1) < 0 && errno == EINTR)
			;
	close(ready[0]);
	/* gone[1] closes as this process exits. */
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Why the VM stopped, as an exit status. */
static int exit_status(const struct vmm_exit_info *info)
{
	switch (info->reason) {
	case VMM_STOP_RESET:
	case VMM_STOP_REQUESTED:
		return EXIT_SUCCESS;
	case VMM_STOP_HOST_ERROR:
		return EXIT_FAILURE;
	default:
		return EXIT_GUEST_CRASH;
	}
}

int main(int argc, char **argv)
{
	struct vmm_config *cfg;
	struct vmm *vm = NULL;
	char msg[512];
	double start;
	int ret, status = EXIT_FAILURE;

	log_out = stderr;
	hold_signals();
	ret = parse_args(argc, argv, &cfg);
	if (ret != PROCEED)
		return ret;
	ret = vmm_create(cfg, &vm);
	if (!ret)
		console_notice(cfg, vm);
	if (ret == -ENOTSUP && vmm_config_get_seccomp(cfg) != VMM_SECCOMP_OFF)
		message("cannot create the VM: this build has no system-call filters; "
			"run with --seccomp=off");
	else if (ret && !logged_errors)
		message("cannot create the VM: %s", vmm_strerror(ret));
	vmm_config_free(cfg);
	if (ret)
		return status;
	detach_vm_close();
	start = now();
	guard_terminal();
	vmm_run(vm);
	status = exit_status(vmm_exit_info(vm));
	if (!quiet || status != EXIT_SUCCESS) {
		vmm_exit_describe(vmm_exit_info(vm), msg, sizeof(msg));
		message("stopped after %.1f s: %s", now() - start, msg);
	}
	vmm_destroy(vm);
	return status;
}
