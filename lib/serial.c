/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A UART (COM1) with interrupts for received data and THR empty. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "layout.h"
#include "serial.h"
#include "vmm-priv.h"

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

void serial_init(struct serial *s, void (*set_irq)(void *, int), void (*tx)(void *, uint8_t),
		 void (*rx_space)(void *), void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->r.lsr = LSR_THRE | LSR_TEMT;
	s->r.msr = MSR_DCD | MSR_DSR | MSR_CTS;
	s->r.dll = 0x0c;        /* 9600 baud */
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

/* ------------------------------------------------------------------ */
/* COM1 of a VM. */

struct com1 {
	struct serial uart;
	struct vmm *vm;
	int in_fd, out_fd;
	bool in_polled;         /* in_fd is in the event loop */
	bool in_paused;         /* receive buffer full: EPOLLIN off */
	bool in_eof;
	pthread_t reader;       /* for inputs epoll cannot watch (files) */
	bool has_reader;
	pthread_cond_t space;
	bool closing;
};

static void com1_set_irq(void *opaque, int level)
{
	struct com1 *c = opaque;

	kvm_irq_line(c->vm, SERIAL_COM1_IRQ, level);
}

static void com1_tx(void *opaque, uint8_t byte)
{
	struct com1 *c = opaque;

	/* Blocking write: a slow console slows the guest, it loses nothing.
	 * But a stopping VM kicks its vCPUs (EINTR): give up then, or a
	 * console that does not drain would keep vmm_run() from returning. */
	while (write(c->out_fd, &byte, 1) < 0 && errno == EINTR &&
	       !__atomic_load_n(&c->vm->stopped, __ATOMIC_ACQUIRE))
		;
}

/* Called with the UART lock held when the buffer stops being full. */
static void com1_rx_space(void *opaque)
{
	struct com1 *c = opaque;

	if (c->in_polled && c->in_paused && !c->in_eof) {
		c->in_paused = false;
		event_loop_mod(&c->vm->events, c->in_fd, EPOLLIN);
	}
	if (c->has_reader)
		pthread_cond_signal(&c->space);
}

static void com1_input(void *opaque, int fd, uint32_t events)
{
	struct com1 *c = opaque;
	uint8_t buf[256];
	size_t space = serial_rx_space(&c->uart);
	ssize_t n;

	if (space > sizeof(buf))
		space = sizeof(buf);
	n = space ? read(fd, buf, space) : 0;
	if (n > 0) {
		serial_receive(&c->uart, buf, (size_t)n);
	} else if ((n == 0 && space) || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* End of input, or an error reading it: stop watching it. */
		pthread_mutex_lock(&c->uart.lock);
		c->in_eof = true;
		c->in_polled = false;
		pthread_mutex_unlock(&c->uart.lock);
		event_loop_del(&c->vm->events, fd);
		return;
	}
	pthread_mutex_lock(&c->uart.lock);
	if (c->uart.r.rx_count == SERIAL_RX_BUF && c->in_polled && !c->in_paused) {
		c->in_paused = true;
		/* Not 0: EPOLLHUP and EPOLLERR cannot be masked, and a closed
		 * input would wake the loop again and again while the guest
		 * leaves the buffer full. One-shot reports them once. */
		event_loop_mod(&c->vm->events, c->in_fd, EPOLLONESHOT);
	}
	pthread_mutex_unlock(&c->uart.lock);
}

static void unlock_mutex(void *m)
{
	pthread_mutex_unlock(m);
}

/* Input that epoll cannot watch (a regular file, /dev/null): a thread reads
 * it and waits for room in the receive buffer, so no byte is dropped. */
static void *com1_reader(void *opaque)
{
	struct com1 *c = opaque;
	uint8_t buf[256];

	for (;;) {
		ssize_t n = read(c->in_fd, buf, sizeof(buf));
		volatile size_t done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (done < (size_t)n) {
			done += serial_receive(&c->uart, buf + done, (size_t)n - done);
			bool closing;

			pthread_mutex_lock(&c->uart.lock);
			pthread_cleanup_push(unlock_mutex, &c->uart.lock);
			while (!c->closing && c->uart.r.rx_count == SERIAL_RX_BUF)
				pthread_cond_wait(&c->space, &c->uart.lock);
			closing = c->closing;
			pthread_cleanup_pop(1);
			if (closing)
				return NULL;
		}
	}
	return NULL;
}

static void com1_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct com1 *c = opaque;

	serial_io(&c->uart, offset, data, len, is_write);
}

static void com1_destroy(void *opaque)
{
	struct com1 *c = opaque;

	if (c->has_reader) {
		pthread_mutex_lock(&c->uart.lock);
		c->closing = true;
		pthread_cond_signal(&c->space);
		pthread_mutex_unlock(&c->uart.lock);
		/* A reader blocked in read() on a pipe-less file returns soon;
		 * one blocked on a never-ending input is cancelled. */
		pthread_cancel(c->reader);
		pthread_join(c->reader, NULL);
	}
	if (c->in_polled)
		event_loop_del(&c->vm->events, c->in_fd);
	pthread_cond_destroy(&c->space);
	serial_release(&c->uart);
	free(c);
}

int serial_device_add(struct vmm *vm)
{
	struct com1 *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->in_fd = vm->cfg.serial_in_fd;
	c->out_fd = vm->cfg.serial_out_fd;
	pthread_cond_init(&c->space, NULL);
	serial_init(&c->uart, com1_set_irq, c->out_fd >= 0 ? com1_tx : NULL, com1_rx_space, c);
	ret = vmm_device_add(vm, "serial", c, com1_destroy);
	if (ret) {
		com1_destroy(c);
		return ret;
	}
	ret = bus_register(&vm->pio_bus, SERIAL_COM1_PORT, 8, com1_io, c);
	if (ret)
		return ret;
	if (c->in_fd < 0)
		return 0;
	ret = event_loop_add(&vm->events, c->in_fd, EPOLLIN, com1_input, c);
	if (ret == 0) {
		c->in_polled = true;
		return 0;
	}
	if (ret != -EPERM)
		return ret;
	ret = vmm_thread_create(&c->reader, com1_reader, c);
	if (ret)
		return ret;
	c->has_reader = true;
	return 0;
}
