/* SPDX-License-Identifier: Apache-2.0 */
/* struct vmm_config: defaults, option parsing, validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm-priv.h"

#define seterr(err, errlen, ...) do { \
	if ((err) && (errlen)) snprintf((err), (errlen), __VA_ARGS__); \
} while (0)

VMM_EXPORT void vmm_config_init(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory.size_mib = VMM_MEMORY_DEFAULT_MIB;
	cfg->vcpu.num = VMM_VCPU_DEFAULT;
	cfg->kernel.load_addr = VMM_KERNEL_LOAD_DEFAULT;
	cfg->serial_in_fd = STDIN_FILENO;
	cfg->serial_out_fd = STDOUT_FILENO;
	cfg->log_priority = VMM_LOG_WARNING;
}

static void kernel_config_release(struct vmm_kernel_config *k)
{
	free(k->path);
	free(k->cmdline);
	free(k->initrd_path);
	k->path = k->cmdline = k->initrd_path = NULL;
}

static void block_config_release(struct vmm_block_config *b)
{
	free(b->path);
	free(b->id);
	b->path = b->id = NULL;
}

static void net_config_release(struct vmm_net_config *n)
{
	free(n->tap);
	n->tap = NULL;
}

VMM_EXPORT void vmm_config_release(struct vmm_config *cfg)
{
	kernel_config_release(&cfg->kernel);
	for (unsigned int i = 0; i < VMM_BLOCK_MAX; i++)
		block_config_release(&cfg->block[i]);
	for (unsigned int i = 0; i < VMM_NET_MAX; i++)
		net_config_release(&cfg->net[i]);
	vmm_config_init(cfg);
}

VMM_EXPORT int vmm_config_set_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Option tables. */

enum key_type { KEY_U64, KEY_STRING, KEY_NONEMPTY, KEY_BOOL };

struct key_desc {
	const char *name;
	enum key_type type;
	uint64_t min, max;      /* KEY_U64; KEY_STRING/NONEMPTY: max length (0: none) */
	size_t offset;          /* into the option's target struct */
	unsigned int width;     /* KEY_U64: sizeof the field */
	bool required;
};

struct option_desc {
	const char *name;
	const struct key_desc *keys;
	size_t target_size;
};

#define U64KEY(n, st, f, lo, hi, req) \
	{ n, KEY_U64, lo, hi, offsetof(st, f), sizeof(((st *)0)->f), req }
#define STRKEY(n, t, st, f, maxlen, req) \
	{ n, t, 0, maxlen, offsetof(st, f), 0, req }
#define BOOLKEY(n, st, f) { n, KEY_BOOL, 0, 0, offsetof(st, f), 0, false }

static const struct key_desc memory_keys[] = {
	U64KEY("size_mib", struct vmm_memory_config, size_mib,
	       VMM_MEMORY_MIN_MIB, VMM_MEMORY_MAX_MIB, false),
	{ NULL, 0, 0, 0, 0, 0, false },
};

static const struct key_desc vcpu_keys[] = {
	U64KEY("num", struct vmm_vcpu_config, num, 1, VMM_VCPU_MAX, false),
	{ NULL, 0, 0, 0, 0, 0, false },
};

static const struct key_desc kernel_keys[] = {
	STRKEY("path", KEY_NONEMPTY, struct vmm_kernel_config, path, 0, true),
	STRKEY("cmdline", KEY_STRING, struct vmm_kernel_config, cmdline, 0, false),
	U64KEY("kernel_load_addr", struct vmm_kernel_config, load_addr, 0, UINT64_MAX, false),
	STRKEY("initrd", KEY_NONEMPTY, struct vmm_kernel_config, initrd_path, 0, false),
	{ NULL, 0, 0, 0, 0, 0, false },
};

static const struct key_desc block_keys[] = {
	STRKEY("path", KEY_NONEMPTY, struct vmm_block_config, path, 0, true),
	BOOLKEY("read_only", struct vmm_block_config, read_only),
	STRKEY("id", KEY_NONEMPTY, struct vmm_block_config, id, 20, false),
	{ NULL, 0, 0, 0, 0, 0, false },
};

static const struct option_desc options[] = {
	{ "memory", memory_keys, sizeof(struct vmm_memory_config) },
	{ "vcpu", vcpu_keys, sizeof(struct vmm_vcpu_config) },
	{ "kernel", kernel_keys, sizeof(struct vmm_kernel_config) },
	{ "block", block_keys, sizeof(struct vmm_block_config) },
};

struct parse_state {
	const struct option_desc *opt;
	void *target;           /* scratch copy of the option's struct */
	uint64_t seen;          /* bit per key index */
};

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static void list_keys(const struct key_desc *keys, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct key_desc *k = keys; k->name && used < len; k++) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", k->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int parse_key(void *data, const char *key, const char *value, char *err, size_t errlen)
{
	struct parse_state *st = data;
	const char *o = st->opt->name;
	const struct key_desc *k;
	unsigned int idx;
	char *field;
	int ret;

	for (k = st->opt->keys, idx = 0; k->name; k++, idx++)
		if (!strcmp(k->name, key))
			break;
	if (!k->name) {
		char names[128];

		list_keys(st->opt->keys, names, sizeof(names));
		seterr(err, errlen, "--%s: unknown key '%s' (keys: %s)", o, key, names);
		return -EINVAL;
	}
	if (st->seen & (1ull << idx)) {
		seterr(err, errlen, "--%s: key '%s' given more than once", o, key);
		return -EINVAL;
	}
	st->seen |= 1ull << idx;
	if (!value || (!*value && k->type != KEY_STRING)) {
		seterr(err, errlen, "--%s: key '%s' needs a value", o, key);
		return -EINVAL;
	}
	field = (char *)st->target + k->offset;
	switch (k->type) {
	case KEY_U64: {
		uint64_t v, max = k->max;

		if (k->width == sizeof(unsigned int) && max > UINT32_MAX)
			max = UINT32_MAX;
		ret = vmm_parse_u64(value, k->min, max, &v);
		if (ret == -EINVAL) {
			seterr(err, errlen, "--%s: key '%s': '%s' is not a number", o, key, value);
			return ret;
		}
		if (ret == -ERANGE) {
			seterr(err, errlen, "--%s: key '%s': %s is out of range (%llu..%llu)",
			       o, key, value, (unsigned long long)k->min, (unsigned long long)max);
			return ret;
		}
		if (k->width == sizeof(unsigned int))
			*(unsigned int *)(void *)field = (unsigned int)v;
		else
			*(uint64_t *)(void *)field = v;
		return 0;
	}
	case KEY_BOOL:
		if (parse_bool(value, (bool *)field)) {
			seterr(err, errlen, "--%s: key '%s': '%s' is not on or off", o, key, value);
			return -EINVAL;
		}
		return 0;
	case KEY_STRING:
	case KEY_NONEMPTY:
		if (k->max && strlen(value) > k->max) {
			seterr(err, errlen, "--%s: key '%s': value longer than %llu bytes",
			       o, key, (unsigned long long)k->max);
			return -ERANGE;
		}
		/* The scratch copy shares the old string with the config (it
		 * is freed on success by free_replaced()); a key is set once. */
		*(char **)(void *)field = strdup(value);
		if (!*(char **)(void *)field) {
			*(char **)(void *)field = NULL;
			seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	return -EINVAL;
}

/* Free the strings of a scratch struct that were set during a failed parse. */
static void free_strings(const struct option_desc *opt, void *target, const void *orig)
{
	for (const struct key_desc *k = opt->keys; k->name; k++) {
		char **p, *const *q;

		if (k->type != KEY_STRING && k->type != KEY_NONEMPTY)
			continue;
		p = (char **)(void *)((char *)target + k->offset);
		q = (char *const *)(const void *)((const char *)orig + k->offset);
		if (*p != *q)
			free(*p);
	}
}

/* After a successful parse: free the strings that were replaced. */
static void free_replaced(const struct option_desc *opt, const void *target, void *orig)
{
	for (const struct key_desc *k = opt->keys; k->name; k++) {
		char **q, *const *p;

		if (k->type != KEY_STRING && k->type != KEY_NONEMPTY)
			continue;
		p = (char *const *)(const void *)((const char *)target + k->offset);
		q = (char **)(void *)((char *)orig + k->offset);
		if (*p != *q)
			free(*q);
	}
}

VMM_EXPORT int vmm_config_parse_option(struct vmm_config *cfg, const char *option,
				       const char *value, char *err, size_t errlen)
{
	const struct option_desc *opt = NULL;
	struct parse_state st = { 0 };
	union {
		struct vmm_memory_config memory;
		struct vmm_vcpu_config vcpu;
		struct vmm_kernel_config kernel;
		struct vmm_block_config block;
	} scratch;
	void *dest;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (!strcmp(options[i].name, option))
			opt = &options[i];
	if (!opt) {
		seterr(err, errlen, "unknown option '%s'", option);
		return -EINVAL;
	}
	if (!strcmp(option, "memory")) {
		dest = &cfg->memory;
	} else if (!strcmp(option, "vcpu")) {
		dest = &cfg->vcpu;
	} else if (!strcmp(option, "kernel")) {
		dest = &cfg->kernel;
	} else {
		if (cfg->num_block >= VMM_BLOCK_MAX) {
			seterr(err, errlen, "--block: at most %u disks", VMM_BLOCK_MAX);
			return -E2BIG;
		}
		dest = &cfg->block[cfg->num_block];
		memset(dest, 0, sizeof(struct vmm_block_config));
	}
	memcpy(&scratch, dest, opt->target_size);
	st.opt = opt;
	st.target = &scratch;
	ret = vmm_kv_parse(value, parse_key, &st, err, errlen);
	if (ret && err && errlen && strncmp(err, "--", 2)) {
		/* A syntax error from the list parser: name the option. */
		char *msg = strdup(err);

		if (msg) {
			snprintf(err, errlen, "--%s: %s", option, msg);
			free(msg);
		}
	}
	if (!ret) {
		unsigned int idx = 0;

		for (const struct key_desc *k = opt->keys; k->name; k++, idx++) {
			if (k->required && !(st.seen & (1ull << idx))) {
				seterr(err, errlen, "--%s: key '%s' is required", option, k->name);
				ret = -EINVAL;
				break;
			}
		}
	}
	if (ret) {
		free_strings(opt, &scratch, dest);
		return ret;
	}
	free_replaced(opt, &scratch, dest);
	memcpy(dest, &scratch, opt->target_size);
	if (opt->keys == block_keys)
		cfg->num_block++;
	return 0;
}

VMM_EXPORT int vmm_config_validate(const struct vmm_config *cfg, char *err, size_t errlen)
{
	if (cfg->memory.size_mib < VMM_MEMORY_MIN_MIB || cfg->memory.size_mib > VMM_MEMORY_MAX_MIB) {
		seterr(err, errlen, "memory size %llu MiB is out of range (%u..%u)",
		       (unsigned long long)cfg->memory.size_mib, VMM_MEMORY_MIN_MIB, VMM_MEMORY_MAX_MIB);
		return -EINVAL;
	}
	if (cfg->vcpu.num < 1 || cfg->vcpu.num > VMM_VCPU_MAX) {
		seterr(err, errlen, "vCPU count %u is out of range (1..%u)", cfg->vcpu.num, VMM_VCPU_MAX);
		return -EINVAL;
	}
	if (!cfg->kernel.path || !*cfg->kernel.path) {
		seterr(err, errlen, "no kernel: --kernel path=FILE is required");
		return -EINVAL;
	}
	if (cfg->kernel.load_addr % 4096) {
		seterr(err, errlen, "kernel load address 0x%llx is not 4 KiB aligned",
		       (unsigned long long)cfg->kernel.load_addr);
		return -EINVAL;
	}
	if (cfg->num_block > VMM_BLOCK_MAX) {
		seterr(err, errlen, "at most %u disks", VMM_BLOCK_MAX);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->num_block; i++) {
		const struct vmm_block_config *b = &cfg->block[i];

		if (!b->path || !*b->path) {
			seterr(err, errlen, "disk %u has no path", i);
			return -EINVAL;
		}
		if (b->id && strlen(b->id) > 20) {
			seterr(err, errlen, "disk %u: id longer than 20 bytes", i);
			return -EINVAL;
		}
	}
	if (cfg->num_net) {
		/* Reserved for virtio-net: refused, never silently ignored. */
		seterr(err, errlen, "network interfaces are not supported yet");
		return -EOPNOTSUPP;
	}
	return 0;
}
