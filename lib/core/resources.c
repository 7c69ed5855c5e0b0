/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the VM core hands out to its devices -- port ranges, MMIO windows,
 * IRQs -- and the devices themselves: created with the resources recorded
 * beside them, so that a restore can ask for exactly the same ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/resources.h"

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Whether a device of the VM already holds part of @r. */
static bool taken(const struct vmm *vm, const struct device_resources *r)
{
	for (unsigned int i = 0; i < vm->ndevices; i++) {
		const struct device_resources *d = &vm->devices[i].res;

		if ((r->irq && r->irq == d->irq) ||
		    overlap(r->pio_base, r->pio_size, d->pio_base, d->pio_size) ||
		    overlap(r->mmio_base, r->mmio_size, d->mmio_base, d->mmio_size))
			return true;
	}
	return false;
}

/* The lowest free window of @size in the device MMIO area, or 0. */
static uint64_t mmio_find(const struct vmm *vm, uint64_t size)
{
	for (uint64_t base = VIRTIO_MMIO_BASE; base + size <= VIRTIO_MMIO_END; base += size)
		if (!taken(vm, &(struct device_resources){ .mmio_base = base, .mmio_size = size }))
			return base;
	return 0;
}

static unsigned int irq_find(const struct vmm *vm)
{
	for (unsigned int irq = VIRTIO_IRQ_BASE; irq <= IRQ_MAX; irq++)
		if (!taken(vm, &(struct device_resources){ .irq = irq }))
			return irq;
	return 0;
}

static int allocate(struct vmm *vm, const struct device_ops *ops, struct device_resources *res)
{
	const struct device_resources *w = &ops->wants;

	*res = *w;
	if (w->mmio_size && !(res->mmio_base = mmio_find(vm, w->mmio_size))) {
		vm_err(vm, "%s: no room left for an MMIO window of 0x%" PRIx64 " bytes",
		       ops->name, w->mmio_size);
		return -ENOSPC;
	}
	if (w->irq == DEVICE_IRQ_ANY && !(res->irq = irq_find(vm))) {
		vm_err(vm, "%s: too many virtio devices: at most %u (IRQ %u..%u)", ops->name,
		       IRQ_MAX - VIRTIO_IRQ_BASE + 1, VIRTIO_IRQ_BASE, IRQ_MAX);
		return -ENOSPC;
	}
	return 0;
}

/* Resources asked for by a restore: what the type wants, and free. */
static bool at_fits(const struct vmm *vm, const struct device_resources *w,
		    const struct device_resources *at)
{
	bool irq_ok = w->irq == DEVICE_IRQ_ANY ?
		      at->irq >= VIRTIO_IRQ_BASE && at->irq <= IRQ_MAX : at->irq == w->irq;
	bool mmio_ok = at->mmio_size == w->mmio_size &&
		       (!w->mmio_size || (at->mmio_base >= VIRTIO_MMIO_BASE &&
					  at->mmio_base % w->mmio_size == 0 &&
					  at->mmio_base <= VIRTIO_MMIO_END - w->mmio_size));

	return irq_ok && mmio_ok && at->pio_base == w->pio_base && at->pio_size == w->pio_size;
}

static int check(struct vmm *vm, const struct device_ops *ops, const struct device_resources *r)
{
	if (taken(vm, r)) {
		vm_err(vm, "%s: IRQ %u, ports 0x%x+%u or MMIO 0x%" PRIx64 "+0x%" PRIx64
		       " already taken", ops->name, r->irq, r->pio_base, r->pio_size,
		       r->mmio_base, r->mmio_size);
		return -EBUSY;
	}
	return 0;
}

int vm_device_add(struct vmm *vm, const struct device_ops *ops, const void *config,
		  const struct device_resources *at)
{
	struct device_resources res;
	struct vm_device *list;
	void *dev;
	int ret;

	if (at && !at_fits(vm, &ops->wants, at)) {
		vm_err(vm, "%s: the resources asked for do not fit the device", ops->name);
		return -EINVAL;
	}
	if (at)
		res = *at;
	else if ((ret = allocate(vm, ops, &res)))
		return ret;
	ret = check(vm, ops, &res);
	if (ret)
		return ret;
	list = realloc(vm->devices, (vm->ndevices + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	vm->devices = list;
	ret = ops->create(&vm->env, &res, config, &dev);
	if (ret)
		return ret;
	list[vm->ndevices++] = (struct vm_device){ ops, config, res, dev };
	return 0;
}
