/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key tables: how an option's "key=value,key=value" text maps onto the
 * plain struct (its record) that holds its values. Every option -- the
 * VM-wide ones and every device type -- describes its keys in one table;
 * parsing, copying, releasing, printing values and the help texts all
 * come from it. Two keys may set one field (size= and size_mib=): then
 * only one of them may be given.
 */
#ifndef VMM_CONFIG_KEYS_H
#define VMM_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum key_type {
	KEY_U64,                /* uint64_t */
	KEY_UINT,               /* unsigned int */
	KEY_BOOL,               /* bool: on|off, true|false, yes|no, 1|0 */
	KEY_STRING,             /* char *, may be empty */
	KEY_NONEMPTY,           /* char *, not empty (a path, a name) */
	KEY_MIB,                /* uint64_t MiB: N (MiB) or N with K, M, G or T */
};

struct key_desc {
	const char *name;
	enum key_type type;
	size_t offset;          /* of the field in the record */
	uint64_t min, max;      /* numbers: range; strings: longest length (0: any) */
	bool required;
	const char *value;      /* placeholder of the value in help texts */
	const char *help;       /* one line, with the default and the range */
	bool bare;              /* what a value without '=' sets (--memory 512) */
};

#define KEY_U64(n, rec, f, lo, hi, val, h) \
	{ n, KEY_U64, offsetof(rec, f), lo, hi, false, val, h }
#define KEY_UINT(n, rec, f, lo, hi, val, h) \
	{ n, KEY_UINT, offsetof(rec, f), lo, hi, false, val, h }
#define KEY_BOOL(n, rec, f, h) \
	{ n, KEY_BOOL, offsetof(rec, f), 0, 0, false, "on|off", h }
#define KEY_STRING(n, rec, f, maxlen, val, h) \
	{ n, KEY_STRING, offsetof(rec, f), 0, maxlen, false, val, h }
#define KEY_NONEMPTY(n, rec, f, maxlen, req, val, h) \
	{ n, KEY_NONEMPTY, offsetof(rec, f), 0, maxlen, req, val, h }
#define KEY_MIB_BARE(n, rec, f, lo, hi, val, h) \
	{ n, KEY_MIB, offsetof(rec, f), lo, hi, false, val, h, true }
#define KEY_END { NULL, KEY_U64, 0, 0, 0, false, NULL, NULL, false }

/* A check of a whole record after its keys were parsed (optional). */
typedef int (*keys_check_fn)(const void *rec, const char *option, char *err, size_t errlen);

const struct key_desc *keys_find(const struct key_desc *keys, const char *name);

/*
 * Parse @value into @rec (@size bytes) for option @option (named in
 * messages as --OPTION); @value NULL gives no key. Keys not given keep
 * their values; a key given
 * twice, an unknown key, a missing required one or a bad value fail, and
 * so does @check when given. Returns: 0 or a negative errno with a
 * one-line message in @err; on failure @rec is unchanged.
 */
int keys_parse(const struct key_desc *keys, const char *option, void *rec, size_t size,
	       const char *value, keys_check_fn check, char *err, size_t errlen);

/* Give @dst (a copy of @src's bytes) strings of its own for @keys.
 * Returns: 0 or -ENOMEM (then @dst holds none of @keys's strings). */
int keys_dup(const struct key_desc *keys, void *dst, const void *src);

/* Drop @rec's string pointers of @keys without freeing them (a byte copy
 * of another record shares them). */
void keys_forget(const struct key_desc *keys, void *rec);

/* Free a record's strings. */
void keys_release(const struct key_desc *keys, void *rec);

/* Key @k of @rec as text. Returns: 0, -ENOENT (a string without a value)
 * or -ENOSPC. */
int keys_format(const struct key_desc *k, const void *rec, char *buf, size_t len);

#endif
