/* SPDX-License-Identifier: Apache-2.0 */
/* Versioned state records: see state.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/state.h"

void state_writer_init(struct state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void state_writer_release(struct state_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static uint8_t *reserve(struct state_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;

		while (cap - w->len < n)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = p;
		w->cap = cap;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_le(struct state_writer *w, uint64_t v, unsigned int n)
{
	uint8_t *p = reserve(w, n);

	for (unsigned int i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void state_put_u8(struct state_writer *w, uint8_t v)   { put_le(w, v, 1); }
void state_put_u16(struct state_writer *w, uint16_t v) { put_le(w, v, 2); }
void state_put_u32(struct state_writer *w, uint32_t v) { put_le(w, v, 4); }
void state_put_u64(struct state_writer *w, uint64_t v) { put_le(w, v, 8); }
void state_put_bool(struct state_writer *w, bool v)    { put_le(w, v ? 1 : 0, 1); }

void state_put_bytes(struct state_writer *w, const void *p, size_t len)
{
	uint8_t *d = reserve(w, len);

	if (d && len)
		memcpy(d, p, len);
}

void state_begin(struct state_writer *w, const char *name, uint16_t version)
{
	size_t n = strlen(name) + 1;

	if (!w->err && (n > STATE_NAME_MAX || w->depth == STATE_DEPTH))
		w->err = -EINVAL;
	state_put_bytes(w, name, n);
	state_put_u16(w, version);
	if (w->err)
		return;
	w->open[w->depth++] = w->len;
	state_put_u32(w, 0);            /* patched by state_end() */
}

void state_end(struct state_writer *w)
{
	size_t at, len;

	if (w->err)
		return;
	if (!w->depth) {
		w->err = -EINVAL;
		return;
	}
	at = w->open[--w->depth];
	len = w->len - at - 4;
	if (len > UINT32_MAX) {
		w->err = -E2BIG;
		return;
	}
	for (unsigned int i = 0; i < 4; i++)
		w->buf[at + i] = (uint8_t)(len >> (8 * i));
}

int state_writer_error(const struct state_writer *w)
{
	return w->err ? w->err : w->depth ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */

void state_reader_init(struct state_reader *r, const void *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->end = len;
}

void state_reject(struct state_reader *r)
{
	if (!r->err)
		r->err = -EBADMSG;
}

static const uint8_t *take(struct state_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err)
		return NULL;
	if (n > r->end - r->pos) {
		r->err = -EBADMSG;      /* truncated */
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += n;
	return p;
}

int state_get_match(struct state_reader *r, const struct state_writer *want)
{
	const uint8_t *s = want->err ? NULL : take(r, want->len);

	if (!s) {
		state_reject(r);
		return r->err;
	}
	if (want->len && memcmp(s, want->buf, want->len)) {
		state_reject(r);
		return -ESTALE;
	}
	return 0;
}

static uint64_t get_le(struct state_reader *r, unsigned int n)
{
	const uint8_t *p = take(r, n);
	uint64_t v = 0;

	for (unsigned int i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t state_get_u8(struct state_reader *r)   { return (uint8_t)get_le(r, 1); }
uint16_t state_get_u16(struct state_reader *r) { return (uint16_t)get_le(r, 2); }
uint32_t state_get_u32(struct state_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t state_get_u64(struct state_reader *r) { return get_le(r, 8); }

bool state_get_bool(struct state_reader *r)
{
	uint8_t v = state_get_u8(r);

	if (v > 1)
		state_reject(r);
	return v == 1;
}

void state_get_bytes(struct state_reader *r, void *p, size_t len)
{
	const uint8_t *s = take(r, len);

	if (s && len)
		memcpy(p, s, len);
	else if (len)
		memset(p, 0, len);
}

int state_open(struct state_reader *r, const char *name, uint16_t max_version,
	       uint16_t *version)
{
	size_t n = strlen(name) + 1;
	const uint8_t *tag = take(r, n);
	uint32_t len;

	if (tag && memcmp(tag, name, n))
		state_reject(r);
	*version = state_get_u16(r);
	len = state_get_u32(r);
	if (r->err)
		return r->err;
	if (*version == 0 || *version > max_version) {
		/* Versions count from 1: 0 was never written. */
		r->err = *version ? -EPROTONOSUPPORT : -EBADMSG;
		return r->err;
	}
	if (len > r->end - r->pos || r->depth == STATE_DEPTH) {
		r->err = -EBADMSG;
		return r->err;
	}
	r->ends[r->depth++] = r->end;
	r->end = r->pos + len;
	return 0;
}

int state_close(struct state_reader *r)
{
	if (r->err)
		return r->err;
	if (!r->depth || r->pos != r->end) {
		r->err = -EBADMSG;
		return r->err;
	}
	r->end = r->ends[--r->depth];
	return 0;
}

int state_reader_error(const struct state_reader *r)
{
	return r->err;
}
