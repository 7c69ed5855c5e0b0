/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every part of the library uses. */
#ifndef VMM_CORE_UTIL_H
#define VMM_CORE_UTIL_H

#include <stddef.h>

/* Marks the functions of the public API (everything else is hidden). */
#define VMM_EXPORT __attribute__((visibility("default")))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
