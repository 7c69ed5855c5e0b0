/* SPDX-License-Identifier: Apache-2.0 */
/*
 * key=value,key=value lists, as taken by the CLI options.
 *
 * A value runs to the next comma, or is double-quoted: then it may hold
 * commas and spaces, and \" and \\ stand for " and \. Keys are made of
 * letters, digits, '_' and '-'.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vmmcore/vmm.h"

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

#define seterr(err, errlen, ...) do { \
	if ((err) && (errlen)) snprintf((err), (errlen), __VA_ARGS__); \
} while (0)

VMM_EXPORT int vmm_kv_parse(const char *s, vmm_kv_fn fn, void *data, char *err, size_t errlen)
{
	size_t n = strlen(s);
	char *key = malloc(n + 1), *val = malloc(n + 1);
	const char *p = s;
	char shown[ELIDED_MAX + 1];
	int ret = 0;

	if (!key || !val) {
		ret = -ENOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if (*p == '\0') {
		ret = -EINVAL;
		seterr(err, errlen, "empty value; expected key=value[,key=value...]");
		goto out;
	}
	for (;;) {
		size_t klen = 0, vlen = 0;
		int has_value = 0;

		while (*p && *p != '=' && *p != ',') {
			if (!is_key_char(*p)) {
				ret = -EINVAL;
				seterr(err, errlen, "invalid character '%c' in key at position %zu",
				       *p, (size_t)(p - s) + 1);
				goto out;
			}
			key[klen++] = *p++;
		}
		key[klen] = '\0';
		if (klen == 0) {
			ret = -EINVAL;
			seterr(err, errlen, "missing key at position %zu", (size_t)(p - s) + 1);
			goto out;
		}
		if (*p == '=') {
			has_value = 1;
			p++;
			if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					val[vlen++] = *p++;
				}
				if (*p != '"') {
					ret = -EINVAL;
					seterr(err, errlen, "key '%s': unterminated quoted value",
					       elided(key, shown));
					goto out;
				}
				p++;
				if (*p && *p != ',') {
					ret = -EINVAL;
					seterr(err, errlen, "key '%s': unexpected text after the "
					       "closing quote", elided(key, shown));
					goto out;
				}
			} else {
				while (*p && *p != ',')
					val[vlen++] = *p++;
			}
			val[vlen] = '\0';
		}
		ret = fn(data, key, has_value ? val : NULL, err, errlen);
		if (ret)
			goto out;
		if (*p == '\0')
			break;
		p++; /* ',' */
		if (*p == '\0') {
			ret = -EINVAL;
			seterr(err, errlen, "trailing comma");
			goto out;
		}
	}
out:
	free(key);
	free(val);
	return ret;
}

VMM_EXPORT int vmm_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;
	const char *p = s;
	bool overflow = false;          /* but junk after it is still no number */

	if (!s || !*s)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return -EINVAL;
	}
	for (; *p; p++) {
		unsigned int d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
