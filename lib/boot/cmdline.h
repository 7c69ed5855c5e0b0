/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel command line being built: the user's, then what devices add. */
#ifndef VMM_BOOT_CMDLINE_H
#define VMM_BOOT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct cmdline {
	char *buf;              /* NULL while empty */
	size_t len;
};

/* Append " @text" (no space before the first). Returns: 0 or -ENOMEM. */
int cmdline_append(struct cmdline *c, const char *text);

/* Whether @cmdline has parameter @name ("root" matches root=... and a
 * bare root), outside double quotes. */
bool cmdline_has_param(const char *cmdline, const char *name);

/* The text so far ("" while empty). */
const char *cmdline_text(const struct cmdline *c);

void cmdline_release(struct cmdline *c);

#endif
