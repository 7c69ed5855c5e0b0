/* SPDX-License-Identifier: Apache-2.0 */
/* i8042 keyboard controller (reset line, controller commands, kbd ACKs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "devices/device.h"
#include "devices/i8042.h"

#define SR_OBF          0x01    /* output buffer full */
#define SR_SYS          0x04    /* system flag: self-test passed */
#define SR_CMD          0x08    /* last write was a command */
#define SR_UNLOCKED     0x10    /* keyboard not inhibited (no keylock) */
#define CTR_KBDINT      0x01
#define CTR_AUXINT      0x02
#define CTR_SYS         0x04
#define CTR_KBDDIS      0x10
#define CTR_AUXDIS      0x20
#define CTR_XLATE       0x40

#define CMD_READ_CTR    0x20
#define CMD_WRITE_CTR   0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE  0xa8
#define CMD_AUX_TEST    0xa9
#define CMD_SELF_TEST   0xaa
#define CMD_KBD_TEST    0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE  0xae
#define CMD_READ_OUTP   0xd0
#define CMD_WRITE_OUTP  0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX   0xd4
#define CMD_RESET_CPU   0xfe

void i8042_regs_reset(struct i8042_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->status = SR_SYS | SR_UNLOCKED;
	r->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	r->outp = 0x01;         /* not in reset */
}

void i8042_init(struct i8042 *k, void (*irq)(void *), void (*reset)(void *), void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	i8042_regs_reset(&k->r);
	k->irq = irq;
	k->reset = reset;
	k->opaque = opaque;
}

static void push(struct i8042 *k, uint8_t b)
{
	struct i8042_regs *r = &k->r;

	if (r->qcount == sizeof(r->queue))
		return;
	r->queue[(r->qhead + r->qcount) % sizeof(r->queue)] = b;
	r->qcount++;
	r->status |= SR_OBF;
	if ((r->ctr & CTR_KBDINT) && k->irq)
		k->irq(k->opaque);
}

static void command(struct i8042 *k, uint8_t cmd)
{
	struct i8042_regs *r = &k->r;

	r->status |= SR_CMD;
	switch (cmd) {
	case CMD_READ_CTR:
		push(k, r->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		r->cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		r->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		r->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		push(k, 0xff);          /* no AUX port */
		break;
	case CMD_SELF_TEST:
		push(k, 0x55);
		break;
	case CMD_KBD_TEST:
		push(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		r->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		r->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		push(k, r->outp);
		break;
	case CMD_RESET_CPU:
		if (k->reset)
			k->reset(k->opaque);
		break;
	default:
		break;                  /* unknown commands are ignored */
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	struct i8042_regs *r = &k->r;
	uint8_t cmd = r->cmd;

	r->status &= (uint8_t)~SR_CMD;
	r->cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		r->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		r->outp = v;
		if (!(v & 0x01) && k->reset)    /* bit 0 low: CPU reset */
			k->reset(k->opaque);
		break;
	case CMD_WRITE_KBD_OBUF:
		push(k, v);
		break;
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		break;                  /* no AUX device */
	default:
		/* A byte for the keyboard: acknowledge; answer reset and ID.
		 * Echo answers 0xee instead of an ACK. */
		if (v == 0xee) {
			push(k, 0xee);
			break;
		}
		push(k, 0xfa);
		if (v == 0xff) {
			push(k, 0xaa);
		} else if (v == 0xf2) {
			push(k, 0xab);
			push(k, 0x83);
		}
		break;
	}
}

void i8042_io(struct i8042 *k, unsigned int port, uint8_t *data, bool is_write)
{
	struct i8042_regs *r = &k->r;

	pthread_mutex_lock(&k->lock);
	if (port == 0 && !is_write) {
		if (r->qcount) {
			*data = r->queue[r->qhead];
			r->qhead = (uint8_t)((r->qhead + 1) % sizeof(r->queue));
			r->qcount--;
		} else {
			*data = 0;
		}
		if (!r->qcount)
			r->status &= (uint8_t)~SR_OBF;
		else if ((r->ctr & CTR_KBDINT) && k->irq)
			k->irq(k->opaque);
	} else if (port == 0) {
		data_write(k, *data);
	} else if (!is_write) {
		*data = r->status;
	} else {
		command(k, *data);
	}
	pthread_mutex_unlock(&k->lock);
}

#define I8042_STATE_VERSION 1

int i8042_regs_save(const struct i8042_regs *r, struct state_writer *w)
{
	state_begin(w, "i8042", I8042_STATE_VERSION);
	state_put_u8(w, r->status);
	state_put_u8(w, r->ctr);
	state_put_u8(w, r->outp);
	state_put_u8(w, r->cmd);
	state_put_bytes(w, r->queue, sizeof(r->queue));
	state_put_u8(w, r->qhead);
	state_put_u8(w, r->qcount);
	state_end(w);
	return state_writer_error(w);
}

int i8042_regs_load(struct i8042_regs *r, struct state_reader *rd)
{
	struct i8042_regs n;
	uint16_t version;

	if (state_open(rd, "i8042", I8042_STATE_VERSION, &version))
		return state_reader_error(rd);
	n.status = state_get_u8(rd);
	n.ctr = state_get_u8(rd);
	n.outp = state_get_u8(rd);
	n.cmd = state_get_u8(rd);
	state_get_bytes(rd, n.queue, sizeof(n.queue));
	n.qhead = state_get_u8(rd);
	n.qcount = state_get_u8(rd);
	if (n.qhead >= sizeof(n.queue) || n.qcount > sizeof(n.queue))
		state_reject(rd);
	if (state_close(rd))
		return state_reader_error(rd);
	*r = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The device "i8042" of a VM: ports 0x60 and 0x64, IRQ 1, reset. */

struct vm_i8042 {
	struct i8042 kbd;
	const struct device_env *env;
	struct device_resources res;
	bool on_bus;
};

static void vm_i8042_irq(void *opaque)
{
	struct vm_i8042 *d = opaque;

	/* ISA edge: pulse the line. */
	env_irq_line(d->env, d->res.irq, 1);
	env_irq_line(d->env, d->res.irq, 0);
}

static void vm_i8042_reset_cpu(void *opaque)
{
	struct vm_i8042 *d = opaque;

	env_request_reset(d->env);
}

static void vm_i8042_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm_i8042 *d = opaque;

	/* Ports 0x60 and 0x64 only (0x61, the speaker, is KVM's dummy). */
	if (len != 1 || (offset != 0 && offset != 4)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	i8042_io(&d->kbd, (unsigned int)offset, data, is_write);
}

static void vm_i8042_destroy(void *dev)
{
	struct vm_i8042 *d = dev;

	if (d->on_bus)
		bus_unregister(d->env->pio_bus, d->res.pio_base, d);
	pthread_mutex_destroy(&d->kbd.lock);
	free(d);
}

static int vm_i8042_create(const struct device_env *env, const struct device_resources *res,
			   const void *config, void **dev)
{
	struct vm_i8042 *d = calloc(1, sizeof(*d));
	int ret;

	(void)config;
	if (!d)
		return -ENOMEM;
	d->env = env;
	d->res = *res;
	i8042_init(&d->kbd, vm_i8042_irq, vm_i8042_reset_cpu, d);
	ret = bus_register(env->pio_bus, res->pio_base, res->pio_size, vm_i8042_io, d);
	if (ret) {
		env_err(env, "i8042: ports 0x%x+%u: %s", res->pio_base, res->pio_size,
			strerror(-ret));
		vm_i8042_destroy(d);
		return ret;
	}
	d->on_bus = true;
	*dev = d;
	return 0;
}

static void vm_i8042_reset(void *dev)
{
	struct vm_i8042 *d = dev;

	pthread_mutex_lock(&d->kbd.lock);
	i8042_regs_reset(&d->kbd.r);
	pthread_mutex_unlock(&d->kbd.lock);
}

static int vm_i8042_save(void *dev, struct state_writer *w)
{
	struct vm_i8042 *d = dev;
	int ret;

	pthread_mutex_lock(&d->kbd.lock);
	ret = i8042_regs_save(&d->kbd.r, w);
	pthread_mutex_unlock(&d->kbd.lock);
	return ret;
}

static int vm_i8042_restore(void *dev, struct state_reader *rd)
{
	struct vm_i8042 *d = dev;
	struct i8042_regs r;
	int ret = i8042_regs_load(&r, rd);

	if (ret)
		return ret;
	/* No pulse for bytes still queued: the edge that announced them is
	 * the irqchip's state, restored with the irqchip. */
	pthread_mutex_lock(&d->kbd.lock);
	d->kbd.r = r;
	pthread_mutex_unlock(&d->kbd.lock);
	return 0;
}

const struct device_ops i8042_device = {
	.name = "i8042",
	.summary = "i8042 keyboard controller: the guest resets the machine through it",
	.wants = { .pio_base = I8042_DATA_PORT, .pio_size = I8042_CMD_PORT - I8042_DATA_PORT + 1,
		   .irq = I8042_IRQ },
	.create = vm_i8042_create,
	.reset = vm_i8042_reset,
	.save = vm_i8042_save,
	.restore = vm_i8042_restore,
	.destroy = vm_i8042_destroy,
};
