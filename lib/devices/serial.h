/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 16550A UART. The register model (serial_io, serial_receive) is independent
 * of KVM so it can be unit-tested; the device "serial" of serial.c wires it
 * to a VM as COM1: port 0x3f8, IRQ 4, output to the VM's console output,
 * input from its console input through the event loop.
 */
#ifndef VMM_DEVICES_SERIAL_H
#define VMM_DEVICES_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

#define SERIAL_RX_BUF 1024

/* Everything the guest can observe: what save and restore carry. */
struct serial_regs {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t thr_pending;    /* THR-empty interrupt waiting to be read from IIR */
	uint16_t rx_head, rx_count;
	uint8_t rx[SERIAL_RX_BUF];
};

struct serial {
	pthread_mutex_t lock;
	struct serial_regs r;
	int irq_level;
	/* Backend hooks (set_irq and rx_space are called with the lock held). */
	void (*set_irq)(void *opaque, int level);
	/* Transmit a byte; called without the lock; loss is tolerated. */
	void (*tx)(void *opaque, uint8_t byte);
	/* Called when space frees up in the receive buffer. */
	void (*rx_space)(void *opaque);
	void *opaque;
};

void serial_init(struct serial *s, void (*set_irq)(void *, int), void (*tx)(void *, uint8_t),
		 void (*rx_space)(void *), void *opaque);
void serial_release(struct serial *s);

/* A port access at offset 0..7. */
void serial_io(struct serial *s, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/* Queue received bytes. Returns how many were taken (the rest does not fit). */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* Free space in the receive buffer. */
size_t serial_rx_space(struct serial *s);

/* Power-on register values (the receive buffer empty). */
void serial_regs_reset(struct serial_regs *r);

/* @r as a record "serial", and back; serial_regs_load() refuses values a
 * UART cannot hold. Returns: 0 or the writer's/reader's error. */
int serial_regs_save(const struct serial_regs *r, struct state_writer *w);
int serial_regs_load(struct serial_regs *r, struct state_reader *rd);

#endif
