/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fuzz target without libFuzzer: runs its entry point once over each
 * file given (a seed, or an input that once crashed it), so that every
 * build's "make check" replays them. Exit status 0 when every file was
 * read; a crash is the sanitizer's or the signal's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			unsigned char *p = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!p) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++)
		bad |= replay(argv[i]);
	return bad;
}
