/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Versioned state records: how a device's guest-visible state is saved and
 * read back, field by field in little endian, so that a later version of
 * the library can still read what an earlier one wrote.
 *
 *   record  = name, NUL-terminated (at most STATE_NAME_MAX bytes with it)
 *             u16 version, u32 payload length, payload
 *   payload = fields and nested records
 *
 * A writer grows a buffer in memory; a reader walks one. Versions count
 * from 1. A record is refused when it has another name or version 0
 * (-EBADMSG), a version newer than the reader knows (-EPROTONOSUPPORT), or runs past the end of what contains
 * it, or is not read exactly to its end (-EBADMSG). The first error
 * sticks: every later call does nothing (reads return 0) and
 * state_*_error() returns it, so that a save or a restore checks once,
 * at the end. State read back is untrusted input: the device validates
 * every value before it uses one.
 */
#ifndef VMM_CORE_STATE_H
#define VMM_CORE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_NAME_MAX 32u      /* with the NUL */
#define STATE_DEPTH    8u       /* records open at once */

struct state_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t open[STATE_DEPTH];       /* offsets of the open records' lengths */
	unsigned int depth;
	int err;
};

void state_writer_init(struct state_writer *w);
void state_writer_release(struct state_writer *w);
/* Start a record @name of format @version; state_end() closes it. */
void state_begin(struct state_writer *w, const char *name, uint16_t version);
void state_end(struct state_writer *w);
void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bool(struct state_writer *w, bool v);
void state_put_bytes(struct state_writer *w, const void *p, size_t len);
/* Returns: 0, -ENOMEM or -EINVAL (a record left open, nesting too deep). */
int state_writer_error(const struct state_writer *w);

struct state_reader {
	const uint8_t *buf;
	size_t pos, end;                /* end of the innermost open record */
	size_t ends[STATE_DEPTH];       /* ends of the enclosing ones */
	unsigned int depth;
	int err;
};

void state_reader_init(struct state_reader *r, const void *buf, size_t len);
/* Enter the next record, which must be @name of a version up to
 * @max_version; its version is stored in *@version. Returns: 0 or the
 * reader's error. */
int state_open(struct state_reader *r, const char *name, uint16_t max_version,
	       uint16_t *version);
/* Leave the current record, which must have been read to its end. */
int state_close(struct state_reader *r);
uint8_t state_get_u8(struct state_reader *r);
uint16_t state_get_u16(struct state_reader *r);
uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
bool state_get_bool(struct state_reader *r);    /* 0 or 1, else -EBADMSG */
void state_get_bytes(struct state_reader *r, void *p, size_t len);
/* Read exactly the bytes @want holds (what a device shows now, written
 * as at save). Returns: 0, -ESTALE when they differ (the state is
 * rejected), or the reader's error. */
int state_get_match(struct state_reader *r, const struct state_writer *want);
/* Mark the state read as invalid (a value out of range). */
void state_reject(struct state_reader *r);
int state_reader_error(const struct state_reader *r);

#endif
