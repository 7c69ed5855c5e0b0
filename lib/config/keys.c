/* SPDX-License-Identifier: Apache-2.0 */
/* Key tables: parse, copy, release and print option records (keys.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "core/util.h"
#include "vmmcore/vmm.h"

#define seterr(err, errlen, ...) do { \
	if ((err) && (errlen)) snprintf((err), (errlen), __VA_ARGS__); \
} while (0)

static bool is_string(const struct key_desc *k)
{
	return k->type == KEY_STRING || k->type == KEY_NONEMPTY;
}

static char **str_field(const struct key_desc *k, void *rec)
{
	return (char **)(void *)((char *)rec + k->offset);
}

static char *const *cstr_field(const struct key_desc *k, const void *rec)
{
	return (char *const *)(const void *)((const char *)rec + k->offset);
}

const struct key_desc *keys_find(const struct key_desc *keys, const char *name)
{
	for (const struct key_desc *k = keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

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

struct parse_state {
	const struct key_desc *keys;
	const char *option;
	void *rec;              /* scratch copy of the record */
	uint64_t seen;          /* bit per key index */
	bool after_string;      /* the key before was a string's */
};

/* "512", "512M", "2G", "1T", "524288K": MiB. Returns: 0, -EINVAL or -ERANGE. */
static int parse_mib(const char *value, uint64_t *mib)
{
	static const char suffix[] = "KMGT";
	size_t len = strlen(value);
	const char *p = len ? strchr(suffix, value[len - 1] & ~0x20) : NULL;
	unsigned int shift = p && *p ? 10u * (unsigned int)(p - suffix) : 10u;
	char num[32];
	uint64_t v;
	int ret;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	snprintf(num, sizeof(num), "%.*s", (int)(p && *p ? len - 1 : len), value);
	ret = vmm_parse_u64(num, 0, UINT64_MAX, &v);
	if (ret)
		return ret;
	if (shift == 0)                 /* K: whole MiB only */
		return v % 1024 ? -EINVAL : (*mib = v / 1024, 0);
	shift -= 10;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*mib = v << shift;
	return 0;
}

/* The key that takes a size with a suffix for @k's field (size= for
 * size_mib=), if any. */
static const struct key_desc *size_key(const struct key_desc *keys, const struct key_desc *k)
{
	for (const struct key_desc *o = keys; o->name; o++)
		if (o != k && o->offset == k->offset && o->type == KEY_MIB)
			return o;
	return NULL;
}

static int parse_number(const struct parse_state *st, const struct key_desc *k,
			const char *value, void *field, char *err, size_t errlen)
{
	const struct key_desc *size;
	uint64_t v, max = k->max;
	char shown[ELIDED_MAX + 1];
	int ret;

	if (k->type == KEY_UINT && max > UINT32_MAX)
		max = UINT32_MAX;
	ret = vmm_parse_u64(value, k->min, max, &v);
	if (ret == -EINVAL && (size = size_key(st->keys, k)) && parse_mib(value, &v) != -EINVAL)
		seterr(err, errlen, "--%s: key '%s': '%s' is not a number: for a size with a "
		       "suffix write %s=%s", st->option, k->name, value, size->name, value);
	else if (ret == -EINVAL)
		seterr(err, errlen, "--%s: key '%s': '%s' is not a number", st->option, k->name,
		       elided(value, shown));
	else if (ret == -ERANGE)
		seterr(err, errlen, "--%s: key '%s': %s is out of range (%" PRIu64 "..%" PRIu64 ")",
		       st->option, k->name, elided(value, shown), k->min, max);
	else if (k->type == KEY_UINT)
		*(unsigned int *)field = (unsigned int)v;
	else
		*(uint64_t *)field = v;
	return ret;
}

static int parse_size(const struct parse_state *st, const struct key_desc *k,
		      const char *value, void *field, char *err, size_t errlen)
{
	char shown[ELIDED_MAX + 1];
	uint64_t v;
	int ret = parse_mib(value, &v);

	if (!ret && (v < k->min || v > k->max))
		ret = -ERANGE;
	if (ret == -EINVAL)
		seterr(err, errlen, "--%s: key '%s': '%s' is not a size (N MiB, or N with K, M, G "
		       "or T, in whole MiB)", st->option, k->name, elided(value, shown));
	else if (ret)
		seterr(err, errlen, "--%s: key '%s': %s is out of range (%" PRIu64 "M..%" PRIu64 "M)",
		       st->option, k->name, elided(value, shown), k->min, k->max);
	else
		*(uint64_t *)field = v;
	return ret;
}

/* Whether a key that sets the same field as @k was given already. */
static const struct key_desc *same_field(const struct parse_state *st, const struct key_desc *k)
{
	for (const struct key_desc *o = st->keys; o->name; o++)
		if (o != k && o->offset == k->offset && (st->seen & (1ull << (o - st->keys))))
			return o;
	return NULL;
}

/* The first key marked bare, or else (@bare false) required. */
static const struct key_desc *first_key(const struct key_desc *keys, bool bare)
{
	for (const struct key_desc *k = keys; k->name; k++)
		if (bare ? k->bare : k->required)
			return k;
	return NULL;
}

static int parse_key(void *data, const char *key, const char *value, char *err, size_t errlen)
{
	struct parse_state *st = data;
	const struct key_desc *k = keys_find(st->keys, key), *other;
	const struct key_desc *bare = first_key(st->keys, true);
	char shown[ELIDED_MAX + 1];
	uint64_t bit;
	void *field;

	/* "--serial pty,file=x": a word in a list is the main key's value. */
	if (!k && !value && bare && !st->after_string)
		return parse_key(st, bare->name, key, err, errlen);
	if (!k) {
		char names[128];

		list_keys(st->keys, names, sizeof(names));
		/* An unquoted "a,b" in a string's value reads as a key "b". */
		seterr(err, errlen, "--%s: unknown key '%s' (keys: %s)%s", st->option,
		       elided(key, shown), names,
		       !value || st->after_string ?
		       "; quote a value that holds commas: key=\"a,b\"" : "");
		return -EINVAL;
	}
	bit = 1ull << (k - st->keys);
	if (st->seen & bit) {
		seterr(err, errlen, "--%s: key '%s' given more than once", st->option, key);
		return -EINVAL;
	}
	if ((other = same_field(st, k))) {
		seterr(err, errlen, "--%s: give '%s' or '%s', not both", st->option,
		       other->name, key);
		return -EINVAL;
	}
	st->seen |= bit;
	st->after_string = is_string(k);
	if (!value || (!*value && k->type != KEY_STRING)) {
		seterr(err, errlen, "--%s: key '%s' needs a value", st->option, key);
		return -EINVAL;
	}
	field = (char *)st->rec + k->offset;
	switch (k->type) {
	case KEY_U64:
	case KEY_UINT:
		return parse_number(st, k, value, field, err, errlen);
	case KEY_MIB:
		return parse_size(st, k, value, field, err, errlen);
	case KEY_BOOL:
		if (parse_bool(value, field)) {
			seterr(err, errlen, "--%s: key '%s': '%s' is not on or off",
			       st->option, key, elided(value, shown));
			return -EINVAL;
		}
		return 0;
	case KEY_STRING:
	case KEY_NONEMPTY:
		if (k->max && strlen(value) > k->max) {
			seterr(err, errlen, "--%s: key '%s': value longer than %" PRIu64 " bytes",
			       st->option, key, k->max);
			return -ERANGE;
		}
		/* The scratch record shares the old string with @rec until
		 * the commit; a key is set once, so nothing leaks. */
		*(char **)field = strdup(value);
		if (!*(char **)field) {
			seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	return -EINVAL;
}

/* Free the strings of @a that @b does not share. */
static void free_unshared(const struct key_desc *keys, void *a, const void *b)
{
	for (const struct key_desc *k = keys; k->name; k++)
		if (is_string(k) && *str_field(k, a) != *cstr_field(k, b))
			free(*str_field(k, a));
}

static int check_required(const struct parse_state *st, char *err, size_t errlen)
{
	for (const struct key_desc *k = st->keys; k->name; k++) {
		if (k->required && !(st->seen & (1ull << (k - st->keys)))) {
			seterr(err, errlen, "--%s: key '%s' is required", st->option, k->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* @value (not NULL) into the scratch record of @st. */
static int parse_value(struct parse_state *st, const char *value, char *err, size_t errlen)
{
	const struct key_desc *bare = first_key(st->keys, true);
	const struct key_desc *req = first_key(st->keys, false);
	bool plain = *value && !strchr(value, '=');
	char shown[ELIDED_MAX + 1];
	int ret;

	/* "--memory 512": the value of the option's main key. */
	if (plain && bare && !strchr(value, ',') && !keys_find(st->keys, value))
		return parse_key(st, bare->name, value, err, errlen);
	/* "--vcpu 2": the value of the option's only key. */
	if (!req && st->keys[0].name && !st->keys[1].name && !keys_find(st->keys, value))
		req = st->keys;
	/* "--kernel vmlinux": the value of the one key it needs. */
	if (plain && req) {
		seterr(err, errlen, "--%s needs %s=%s: try --%s %s=%s", st->option, req->name,
		       req->value, st->option, req->name, elided(value, shown));
		return -EINVAL;
	}
	ret = vmm_kv_parse(value, parse_key, st, err, errlen);
	if (ret && err && errlen && strncmp(err, "--", 2)) {
		/* A syntax error from the list parser: name the option. */
		char *msg = strdup(err);

		if (msg) {
			snprintf(err, errlen, "--%s: %s", st->option, msg);
			free(msg);
		}
	}
	return ret;
}

int keys_parse(const struct key_desc *keys, const char *option, void *rec, size_t size,
	       const char *value, keys_check_fn check, char *err, size_t errlen)
{
	struct parse_state st = { keys, option, NULL, 0, false };
	int ret = 0;

	st.rec = malloc(size);
	if (!st.rec) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(st.rec, rec, size);
	if (value)
		ret = parse_value(&st, value, err, errlen);
	if (!ret)
		ret = check_required(&st, err, errlen);
	if (!ret && check)
		ret = check(st.rec, option, err, errlen);
	if (ret) {
		free_unshared(keys, st.rec, rec);
	} else {
		free_unshared(keys, rec, st.rec);
		memcpy(rec, st.rec, size);
	}
	free(st.rec);
	return ret;
}

void keys_forget(const struct key_desc *keys, void *rec)
{
	for (const struct key_desc *k = keys; k->name; k++)
		if (is_string(k))
			*str_field(k, rec) = NULL;
}

int keys_dup(const struct key_desc *keys, void *dst, const void *src)
{
	keys_forget(keys, dst);
	for (const struct key_desc *k = keys; k->name; k++) {
		const char *s = *cstr_field(k, src);

		if (!is_string(k) || !s)
			continue;
		*str_field(k, dst) = strdup(s);
		if (!*str_field(k, dst)) {
			keys_release(keys, dst);
			return -ENOMEM;
		}
	}
	return 0;
}

void keys_release(const struct key_desc *keys, void *rec)
{
	for (const struct key_desc *k = keys; k->name; k++) {
		if (is_string(k)) {
			free(*str_field(k, rec));
			*str_field(k, rec) = NULL;
		}
	}
}

int keys_format(const struct key_desc *k, const void *rec, char *buf, size_t len)
{
	const char *field = (const char *)rec + k->offset;
	int n;

	switch (k->type) {
	case KEY_U64:
		n = snprintf(buf, len, "%" PRIu64, *(const uint64_t *)(const void *)field);
		break;
	case KEY_MIB:
		n = snprintf(buf, len, "%" PRIu64 "M", *(const uint64_t *)(const void *)field);
		break;
	case KEY_UINT:
		n = snprintf(buf, len, "%u", *(const unsigned int *)(const void *)field);
		break;
	case KEY_BOOL:
		n = snprintf(buf, len, "%s", *(const bool *)(const void *)field ? "on" : "off");
		break;
	default:
		if (!*cstr_field(k, rec))
			return -ENOENT;
		n = snprintf(buf, len, "%s", *cstr_field(k, rec));
		break;
	}
	return n >= 0 && (size_t)n < len ? 0 : -ENOSPC;
}
