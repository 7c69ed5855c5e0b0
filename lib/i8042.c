/* SPDX-License-Identifier: Apache-2.0 */
/* i8042 keyboard controller (reset line, controller commands, kbd ACKs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "i8042.h"
#include "layout.h"
#include "vmm-priv.h"

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

void i8042_init(struct i8042 *k, void (*irq)(void *), void (*reset)(void *), void *opaque)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->r.status = SR_SYS | SR_UNLOCKED;
	k->r.ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	k->r.outp = 0x01;       /* not in reset */
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

/* ------------------------------------------------------------------ */

struct vm_i8042 {
	struct i8042 kbd;
	struct vmm *vm;
};

static void vm_i8042_irq(void *opaque)
{
	struct vm_i8042 *d = opaque;

	/* ISA edge: pulse IRQ 1. */
	kvm_irq_line(d->vm, 1, 1);
	kvm_irq_line(d->vm, 1, 0);
}

static void vm_i8042_reset(void *opaque)
{
	struct vm_i8042 *d = opaque;
	struct vmm_exit_info info = { .reason = VMM_STOP_RESET, .vcpu = -1 };

	vmm_request_stop(d->vm, &info);
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

static void vm_i8042_destroy(void *opaque)
{
	struct vm_i8042 *d = opaque;

	pthread_mutex_destroy(&d->kbd.lock);
	free(d);
}

int i8042_device_add(struct vmm *vm)
{
	struct vm_i8042 *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->vm = vm;
	i8042_init(&d->kbd, vm_i8042_irq, vm_i8042_reset, d);
	ret = vmm_device_add(vm, "i8042", d, vm_i8042_destroy);
	if (ret) {
		vm_i8042_destroy(d);
		return ret;
	}
	return bus_register(&vm->pio_bus, I8042_DATA_PORT,
			    I8042_CMD_PORT - I8042_DATA_PORT + 1, vm_i8042_io, d);
}
