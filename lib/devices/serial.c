/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A UART (COM1) with interrupts for received data and THR empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/device.h"
#include "devices/serial.h"

/* Registers (offsets from the base port). */
#define UART_RX   0   /* DLAB=0, read */
#define UART_TX   0   /* DLAB=0, write */
#define UART_DLL  0   /* DLAB=1 */
#define UART_IER  1   /* DLAB=0 */
#define UART_DLM  1   /* DLAB=1 */
#define UART_IIR  2   /* read */
#define UART_FCR  2   /* write */
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_MSR  6
#define UART_SCR  7

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08
#define IIR_NO_INT 0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_FIFO  0xc0
#define FCR_FIFO  0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB  0x80
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_DCD   0x80
#define MSR_DSR   0x20
#define MSR_CTS   0x10

void serial_regs_reset(struct serial_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->lsr = LSR_THRE | LSR_TEMT;
	r->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	r->dll = 0x0c;          /* 9600 baud */
}

void serial_init(struct serial *s, void (*set_irq)(void *, int), void (*tx)(void *, uint8_t),
		 void (*rx_space)(void *), void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	serial_regs_reset(&s->r);
	s->set_irq = set_irq;
	s->tx = tx;
	s->rx_space = rx_space;
	s->opaque = opaque;
}

void serial_release(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}

static uint8_t serial_iir(const struct serial_regs *r)
{
	uint8_t fifo = (r->fcr & FCR_FIFO) ? IIR_FIFO : 0;

	if ((r->ier & IER_RLSI) && (r->lsr & LSR_OE))
		return IIR_RLSI | fifo;
	if ((r->ier & IER_RDI) && r->rx_count)
		return IIR_RDI | fifo;
	if ((r->ier & IER_THRI) && r->thr_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* The line follows the IIR, gated by OUT2 as on PC hardware. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(&s->r) & IIR_NO_INT) && (s->r.mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->opaque, level);
	}
}

static void rx_push(struct serial_regs *r, uint8_t b)
{
	if (r->rx_count == SERIAL_RX_BUF) {
		r->lsr |= LSR_OE;
		return;
	}
	r->rx[(r->rx_head + r->rx_count) % SERIAL_RX_BUF] = b;
	r->rx_count++;
	r->lsr |= LSR_DR;
}

static uint8_t serial_read(struct serial *s, unsigned int reg)
{
	struct serial_regs *r = &s->r;
	uint8_t v;

	switch (reg) {
	case UART_RX:
		if (r->lcr & LCR_DLAB)
			return r->dll;
		if (!r->rx_count)
			return 0;
		v = r->rx[r->rx_head];
		r->rx_head = (r->rx_head + 1) % SERIAL_RX_BUF;
		r->rx_count--;
		if (!r->rx_count)
			r->lsr &= (uint8_t)~LSR_DR;
		if (s->rx_space && r->rx_count == SERIAL_RX_BUF - 1)
			s->rx_space(s->opaque);
		return v;
	case UART_IER:
		return (r->lcr & LCR_DLAB) ? r->dlm : r->ier;
	case UART_IIR:
		v = serial_iir(r);
		if ((v & 0x0f) == IIR_THRI)
			r->thr_pending = 0;   /* reading IIR clears THRE */
		return v;
	case UART_LCR:
		return r->lcr;
	case UART_MCR:
		return r->mcr;
	case UART_LSR:
		v = r->lsr;
		r->lsr &= (uint8_t)~LSR_OE;  /* errors clear on read */
		return v;
	case UART_MSR:
		if (r->mcr & MCR_LOOP) /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			return (uint8_t)(((r->mcr & 0x01) << 5) | ((r->mcr & 0x02) << 3) |
					 ((r->mcr & 0x04) << 4) | ((r->mcr & 0x08) << 4));
		return r->msr;
	default:
		return r->scr;
	}
}

/* *@tx is set to a byte to transmit once the lock is released. */
static void serial_write(struct serial *s, unsigned int reg, uint8_t v, int *tx)
{
	struct serial_regs *r = &s->r;

	switch (reg) {
	case UART_TX:
		if (r->lcr & LCR_DLAB) {
			r->dll = v;
			break;
		}
		if (r->mcr & MCR_LOOP)
			rx_push(r, v);
		else
			*tx = v;
		/* Transmission is instantaneous: THR is empty again. */
		r->thr_pending = 1;
		break;
	case UART_IER:
		if (r->lcr & LCR_DLAB) {
			r->dlm = v;
			break;
		}
		/* Enabling THRI with an empty THR raises the interrupt. */
		if (!(r->ier & IER_THRI) && (v & IER_THRI))
			r->thr_pending = 1;
		r->ier = v & 0x0f;
		break;
	case UART_FCR:
		r->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX) {
			bool was_full = r->rx_count == SERIAL_RX_BUF;

			r->rx_count = 0;
			r->lsr &= (uint8_t)~LSR_DR;
			if (was_full && s->rx_space)
				s->rx_space(s->opaque);
		}
		break;
	case UART_LCR:
		r->lcr = v;
		break;
	case UART_MCR:
		r->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break;  /* read-only */
	default:
		r->scr = v;
		break;
	}
}

void serial_io(struct serial *s, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	int tx = -1;

	/* 8-bit registers; a wider access touches the first register only. */
	pthread_mutex_lock(&s->lock);
	if (offset < 8) {
		if (is_write) {
			serial_write(s, (unsigned int)offset, data[0], &tx);
		} else {
			memset(data, 0, len);
			data[0] = serial_read(s, (unsigned int)offset);
		}
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	/* Outside the lock: a console that blocks must not block the event
	 * loop (input, stop requests) behind the UART. The guest's driver
	 * serialises its THR writes (the vCPU's OUT retires only after this
	 * returns), so bytes keep their order. */
	if (tx >= 0 && s->tx)
		s->tx(s->opaque, (uint8_t)tx);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	for (n = 0; n < len && s->r.rx_count < SERIAL_RX_BUF; n++)
		rx_push(&s->r, buf[n]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_space(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = SERIAL_RX_BUF - s->r.rx_count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

#define SERIAL_STATE_VERSION 1

int serial_regs_save(const struct serial_regs *r, struct state_writer *w)
{
	const uint8_t regs[] = { r->ier, r->lcr, r->mcr, r->lsr, r->msr, r->scr, r->dll,
				 r->dlm, r->fcr, r->thr_pending };

	state_begin(w, "serial", SERIAL_STATE_VERSION);
	state_put_bytes(w, regs, sizeof(regs));
	state_put_u16(w, r->rx_head);
	state_put_u16(w, r->rx_count);
	state_put_bytes(w, r->rx, sizeof(r->rx));
	state_end(w);
	return state_writer_error(w);
}

int serial_regs_load(struct serial_regs *r, struct state_reader *rd)
{
	struct serial_regs n;
	uint8_t regs[10];
	uint16_t version;

	if (state_open(rd, "serial", SERIAL_STATE_VERSION, &version))
		return state_reader_error(rd);
	state_get_bytes(rd, regs, sizeof(regs));
	n = (struct serial_regs){
		.ier = regs[0], .lcr = regs[1], .mcr = regs[2], .lsr = regs[3], .msr = regs[4],
		.scr = regs[5], .dll = regs[6], .dlm = regs[7], .fcr = regs[8],
		.thr_pending = regs[9],
	};
	n.rx_head = state_get_u16(rd);
	n.rx_count = state_get_u16(rd);
	state_get_bytes(rd, n.rx, sizeof(n.rx));
	/* What the register writes themselves would never produce. */
	if (n.rx_head >= SERIAL_RX_BUF || n.rx_count > SERIAL_RX_BUF || (n.ier & 0xf0) ||
	    (n.mcr & 0xe0) || (n.fcr & ~0xc9u) || n.thr_pending > 1)
		state_reject(rd);
	if (state_close(rd))
		return state_reader_error(rd);
	*r = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* COM1 of a VM: the device "serial". */

struct com1 {
	struct serial uart;
	const struct device_env *env;
	struct device_resources res;
	struct console *console;        /* NULL: none */
	bool on_bus;
};

static void com1_set_irq(void *opaque, int level)
{
	struct com1 *c = opaque;

	env_irq_line(c->env, c->res.irq, level);
}

static void com1_tx(void *opaque, uint8_t byte)
{
	struct com1 *c = opaque;

	/* A stopping VM kicks its vCPUs (EINTR): give up then, or a console
	 * that does not drain would keep vmm_run() from returning. */
	while (console_write(c->console, &byte, 1) == -EINTR && !env_stopping(c->env))
		;
}

/* Called with the UART lock held when the buffer stops being full. */
static void com1_rx_space(void *opaque)
{
	struct com1 *c = opaque;

	if (c->console)
		console_room(c->console);
}

static size_t com1_room(void *opaque)
{
	struct com1 *c = opaque;

	return serial_rx_space(&c->uart);
}

static size_t com1_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct com1 *c = opaque;

	return serial_receive(&c->uart, buf, len);
}

static void com1_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct com1 *c = opaque;

	serial_io(&c->uart, offset, data, len, is_write);
}

static void com1_destroy(void *dev)
{
	struct com1 *c = dev;

	console_detach(c->console);
	if (c->on_bus)
		bus_unregister(c->env->pio_bus, c->res.pio_base, c);
	serial_release(&c->uart);
	free(c);
}

static int com1_create(const struct device_env *env, const struct device_resources *res,
		       const void *config, void **dev)
{
	struct com1 *c = calloc(1, sizeof(*c));
	int ret;

	(void)config;
	if (!c)
		return -ENOMEM;
	c->env = env;
	c->res = *res;
	c->console = env->console;
	serial_init(&c->uart, com1_set_irq, c->console ? com1_tx : NULL, com1_rx_space, c);
	ret = bus_register(env->pio_bus, res->pio_base, res->pio_size, com1_io, c);
	c->on_bus = !ret;
	if (!ret && c->console) {
		const struct console_port port = { com1_room, com1_receive, c };

		ret = console_attach(c->console, &port);
	}
	if (ret) {
		env_err(env, "serial: %s", strerror(-ret));
		com1_destroy(c);
		return ret;
	}
	*dev = c;
	return 0;
}

/* With the lock held: new registers in place; drive the IRQ line to
 * match them and let input in again if the buffer has room now. */
static void com1_set_regs(struct com1 *c, const struct serial_regs *r)
{
	bool was_full = c->uart.r.rx_count == SERIAL_RX_BUF;

	c->uart.r = *r;
	c->uart.irq_level = -1;
	serial_update_irq(&c->uart);
	if (was_full && r->rx_count < SERIAL_RX_BUF)
		com1_rx_space(c);
}

static void com1_reset(void *dev)
{
	struct com1 *c = dev;
	struct serial_regs r;

	serial_regs_reset(&r);
	pthread_mutex_lock(&c->uart.lock);
	com1_set_regs(c, &r);
	pthread_mutex_unlock(&c->uart.lock);
}

static int com1_save(void *dev, struct state_writer *w)
{
	struct com1 *c = dev;
	int ret;

	pthread_mutex_lock(&c->uart.lock);
	ret = serial_regs_save(&c->uart.r, w);
	pthread_mutex_unlock(&c->uart.lock);
	return ret;
}

static int com1_restore(void *dev, struct state_reader *rd)
{
	struct com1 *c = dev;
	struct serial_regs r;
	int ret = serial_regs_load(&r, rd);

	if (ret)
		return ret;
	pthread_mutex_lock(&c->uart.lock);
	com1_set_regs(c, &r);
	pthread_mutex_unlock(&c->uart.lock);
	return 0;
}

const struct device_ops serial_device = {
	.name = "serial",
	.summary = "16550A UART (COM1) on the VM's console",
	.wants = { .pio_base = SERIAL_COM1_PORT, .pio_size = 8, .irq = SERIAL_COM1_IRQ },
	.create = com1_create,
	.reset = com1_reset,
	.save = com1_save,
	.restore = com1_restore,
	.destroy = com1_destroy,
};
