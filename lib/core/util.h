/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every part of the library uses. */
#ifndef VMM_CORE_UTIL_H
#define VMM_CORE_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Marks the functions of the public API (everything else is hidden). */
#define VMM_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A value from the user, for a message: itself, or when longer than
 * ELIDED_MAX bytes its start and end around "..." in @buf -- so that
 * what the message says after it (the reason, the fix) still fits. */
#define ELIDED_MAX 96

static inline const char *elided(const char *s, char buf[ELIDED_MAX + 1])
{
	size_t n = strlen(s), head = ELIDED_MAX / 2;

	if (n <= ELIDED_MAX)
		return s;
	snprintf(buf, ELIDED_MAX + 1, "%.*s...%s", (int)head, s, s + n - (ELIDED_MAX - head - 3));
	return buf;
}

#endif
