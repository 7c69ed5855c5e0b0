/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i8042 keyboard controller: enough for Linux to find it and for the guest
 * to reset the machine (command 0xFE on port 0x64). No keyboard input.
 */
#ifndef VMM_DEVICES_I8042_H
#define VMM_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/state.h"

/* Everything the guest can observe: what save and restore carry. */
struct i8042_regs {
	uint8_t status;
	uint8_t ctr;            /* controller configuration ("command byte") */
	uint8_t outp;           /* output port */
	uint8_t cmd;            /* command awaiting a data byte, 0 if none */
	uint8_t queue[16];      /* output buffer bytes waiting for port 0x60 */
	uint8_t qhead, qcount;
};

struct i8042 {
	pthread_mutex_t lock;
	struct i8042_regs r;
	void (*irq)(void *opaque);      /* pulse IRQ 1 */
	void (*reset)(void *opaque);    /* the guest asked for a CPU reset */
	void *opaque;
};

void i8042_init(struct i8042 *k, void (*irq)(void *), void (*reset)(void *), void *opaque);
/* Power-on register values. */
void i8042_regs_reset(struct i8042_regs *r);
/* Access to port 0x60 (@port 0) or 0x64 (@port 4). */
void i8042_io(struct i8042 *k, unsigned int port, uint8_t *data, bool is_write);

/* @r as a record "i8042", and back; i8042_regs_load() refuses values the
 * controller cannot hold. Returns: 0 or the writer's/reader's error. */
int i8042_regs_save(const struct i8042_regs *r, struct state_writer *w);
int i8042_regs_load(struct i8042_regs *r, struct state_reader *rd);

#endif
