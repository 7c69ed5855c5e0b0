/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel command line being built: see cmdline.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/cmdline.h"

int cmdline_append(struct cmdline *c, const char *text)
{
	size_t add = strlen(text);
	char *p = realloc(c->buf, c->len + add + 2);

	if (!p)
		return -ENOMEM;
	c->buf = p;
	if (c->len)
		p[c->len++] = ' ';
	memcpy(p + c->len, text, add + 1);
	c->len += add;
	return 0;
}

bool cmdline_has_param(const char *cmdline, const char *name)
{
	size_t n = strlen(name);
	const char *p = cmdline;
	bool quoted = false;

	if (!p)
		return false;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && (p[n] == '=' || p[n] == ' ' || !p[n]))
			return true;
		for (; *p && (quoted || *p != ' '); p++)
			if (*p == '"')
				quoted = !quoted;
	}
	return false;
}

const char *cmdline_text(const struct cmdline *c)
{
	return c->buf ? c->buf : "";
}

void cmdline_release(struct cmdline *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
}
