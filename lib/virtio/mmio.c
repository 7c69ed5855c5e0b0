/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport, register layout version 2: see mmio.h.
 *
 * Every register value written by the guest is checked:
 *  - registers below the config space are 32-bit wide and aligned; any
 *    other access reads as 0 and writes are ignored; unknown or legacy
 *    (version 1) offsets read as 0 and ignore writes;
 *  - the driver can only accept offered features, and must accept
 *    VIRTIO_F_VERSION_1, else FEATURES_OK does not stick;
 *  - queue registers can only change while the queue is not ready; when
 *    QueueReady is set, the size (power of 2, <= QueueNumMax) and the ring
 *    addresses (alignment, inside guest RAM) are checked, and a bad queue
 *    sets DEVICE_NEEDS_RESET instead of becoming ready;
 *  - a broken available ring sets DEVICE_NEEDS_RESET, with a
 *    configuration-change interrupt, and the device stops using its
 *    queues until the driver resets it (writes 0 to Status).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "virtio/mmio.h"

#define STATUS_ERROR_BITS (VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET)

static void tlog(const struct virtio_mmio *t, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void tlog(const struct virtio_mmio *t, int prio, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	env_log(t->env, prio, "%s at 0x%" PRIx64 ": %s", t->name, t->res.mmio_base, msg);
}

void virtio_mmio_guest_error(struct virtio_mmio *t, const char *fmt, ...)
{
	va_list ap;

	/* Atomic: a blocking handler reports without the lock. */
	bool warned = __atomic_exchange_n(&t->warned, true, __ATOMIC_RELAXED);

	va_start(ap, fmt);
	tlog(t, warned ? VMM_LOG_DEBUG : VMM_LOG_WARNING, fmt, ap);
	va_end(ap);
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

static bool device_live(const struct virtio_mmio *t)
{
	return (t->r.status & VIRTIO_CONFIG_S_DRIVER_OK) && !(t->r.status & STATUS_ERROR_BITS);
}

static void raise_irq(struct virtio_mmio *t, uint32_t bits)
{
	uint64_t one = 1;

	t->r.interrupt_status |= bits;
	if (t->irqfd >= 0) {
		/* Cannot fail short of a counter overflow (2^64 - 1 pulses). */
		if (write(t->irqfd, &one, sizeof(one)) != sizeof(one))
			env_warn(t->env, "%s: irqfd write failed: %s", t->name, strerror(errno));
	} else if (t->attached) {
		/* Edge-triggered pin: pulse it. */
		env_irq_line(t->env, t->res.irq, 1);
		env_irq_line(t->env, t->res.irq, 0);
	}
}

void virtio_mmio_queue_done(struct virtio_mmio *t, struct virtq *q)
{
	if (virtq_needs_interrupt(q))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t, const char *why)
{
	if (t->r.status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	virtio_mmio_guest_error(t, "%s: device needs reset", why);
	t->r.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (t->r.status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

struct virtq *virtio_mmio_queue(struct virtio_mmio *t, unsigned int index)
{
	struct virtq *q;

	if (index >= t->num_queues || !device_live(t))
		return NULL;
	q = &t->queues[index].vq;
	return q->s.ready && !q->s.broken ? q : NULL;
}

static void notify_locked(struct virtio_mmio *t, unsigned int index)
{
	if (index >= t->num_queues) {
		virtio_mmio_guest_error(t, "notify of queue %u, which does not exist", index);
		return;
	}
	if (virtio_mmio_queue(t, index))
		t->ops->queue_notify(t, index);
}

void virtio_mmio_notify(struct virtio_mmio *t, unsigned int index)
{
	virtio_mmio_lock(t);
	notify_locked(t, index);
	virtio_mmio_unlock(t);
}

bool virtio_mmio_defer(struct virtio_mmio *t, unsigned int index)
{
	uint64_t one = 1;

	if (index >= t->num_queues || !t->queues[index].watched)
		return false;
	return write(t->queues[index].notify_fd, &one, sizeof(one)) == sizeof(one);
}

/* Lock held. Wait until no chain is in flight outside the lock. */
static void quiesce(struct virtio_mmio *t)
{
	while (t->serving)
		pthread_cond_wait(&t->idle, &t->lock);
}

/* Lock held. Hand @chain to @handle, without the lock if it may block. */
static uint32_t handle_chain(struct virtio_mmio *t, struct virtq_chain *chain,
			     uint32_t (*handle)(struct virtio_mmio *t, struct virtq_chain *chain),
			     bool blocking)
{
	uint32_t used;

	if (!blocking)
		return handle(t, chain);
	virtio_mmio_unlock(t);
	used = handle(t, chain);
	virtio_mmio_lock(t);
	return used;
}

static void serve_batch(struct virtio_mmio *t, struct virtq *q, unsigned int index,
			struct virtq_chain *chain,
			uint32_t (*handle)(struct virtio_mmio *t, struct virtq_chain *chain),
			const struct virtio_mmio_budget *budget)
{
	uint64_t bytes = 0;

	for (unsigned int n = 0;; n++) {
		uint32_t used;
		int r;

		/* Let the event loop serve others when the guest keeps us busy. */
		if ((n >= budget->chains || bytes >= budget->bytes) && virtio_mmio_defer(t, index))
			break;
		r = virtq_pop(q, chain);
		if (r == 0)
			break;
		if (r == -EPROTO) {
			virtio_mmio_needs_reset(t, "malformed available ring");
			break;
		}
		if (r < 0) {
			virtio_mmio_guest_error(t, "malformed descriptor chain dropped: %s",
						strerror(-r));
			continue;
		}
		used = handle_chain(t, chain, handle, budget->blocking);
		virtq_push(q, chain->head, used);
		if (budget->blocking)
			virtio_mmio_queue_done(t, q);
		bytes += chain->readable_len + used;
	}
	virtio_mmio_queue_done(t, q);
}

void virtio_mmio_serve(struct virtio_mmio *t, unsigned int index, struct virtq_chain *chain,
		       uint32_t (*handle)(struct virtio_mmio *t, struct virtq_chain *chain),
		       const struct virtio_mmio_budget *budget)
{
	struct virtq *q = virtio_mmio_queue(t, index);

	if (!q)
		return;
	if (t->serving) {
		/* Another thread serves with the lock dropped: after it. */
		t->rerun |= 1u << index;
		return;
	}
	/* Requests that block are for the I/O thread, not a vCPU's. */
	if (budget->blocking && !t->on_loop && virtio_mmio_defer(t, index))
		return;
	t->serving = budget->blocking;
	serve_batch(t, q, index, chain, handle, budget);
	if (!budget->blocking)
		return;
	t->serving = false;
	pthread_cond_broadcast(&t->idle);
	while (t->rerun) {
		unsigned int i = (unsigned int)__builtin_ctz(t->rerun);

		t->rerun &= ~(1u << i);
		if (!virtio_mmio_defer(t, i))
			notify_locked(t, i);
	}
}

static void reset_queue_regs(struct virtio_mmio *t, struct virtio_mmio_queue *mq)
{
	mq->r.num = t->queue_size_max;
	mq->r.desc = 0;
	mq->r.avail = 0;
	mq->r.used = 0;
	virtq_reset(&mq->vq);
}

void virtio_mmio_reset(struct virtio_mmio *t)
{
	quiesce(t);
	t->rerun = 0;
	t->r.status = 0;
	t->r.driver_features = 0;
	t->r.device_features_sel = 0;
	t->r.driver_features_sel = 0;
	t->r.interrupt_status = 0;
	t->r.queue_sel = 0;
	for (unsigned int i = 0; i < t->num_queues; i++)
		reset_queue_regs(t, &t->queues[i]);
	if (t->ops->reset)
		t->ops->reset(t);
}

static bool features_ok(const struct virtio_mmio *t)
{
	return (t->r.driver_features & (1ull << VIRTIO_F_VERSION_1)) &&
	       !(t->r.driver_features & ~t->device_features);
}

static void write_status(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = t->r.status, added;

	if (val == 0) {
		virtio_mmio_reset(t);
		return;
	}
	/* DEVICE_NEEDS_RESET belongs to the device. */
	val = (val & 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((val & old) != old) {
		virtio_mmio_guest_error(t, "status 0x%x clears bits of 0x%x without a reset",
					val, old);
		return;
	}
	added = val & ~old;
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(t)) {
		env_info(t->env, "%s: driver features 0x%" PRIx64 " refused (offered 0x%"
				 PRIx64 ", VERSION_1 required)", t->name,
				 t->r.driver_features, t->device_features);
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		added &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_mmio_guest_error(t, "DRIVER_OK without FEATURES_OK");
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		added &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	t->r.status = val;

	/* Buffers may have been made available (and notified) before
	 * DRIVER_OK: the device could not use them then, it can now. */
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (t->ops->driver_ok)
			t->ops->driver_ok(t);
		for (unsigned int i = 0; i < t->num_queues; i++)
			notify_locked(t, i);
	}
}

static void enable_queue(struct virtio_mmio *t, struct virtio_mmio_queue *mq)
{
	int r;

	if (!(t->r.status & VIRTIO_CONFIG_S_FEATURES_OK) || (t->r.status & STATUS_ERROR_BITS)) {
		virtio_mmio_guest_error(t, "queue %u enabled before FEATURES_OK", mq->index);
		return;
	}
	if (mq->r.num > t->queue_size_max) {
		r = -EINVAL;
	} else {
		r = virtq_enable(&mq->vq, t->env->mem, mq->r.num, mq->r.desc, mq->r.avail, mq->r.used,
				 t->r.driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX),
				 t->r.driver_features & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	}
	if (r < 0) {
		char why[160];

		snprintf(why, sizeof(why),
			 "queue %u: bad size %" PRIu32 " or ring addresses desc 0x%" PRIx64
			 " avail 0x%" PRIx64 " used 0x%" PRIx64,
			 mq->index, mq->r.num, mq->r.desc, mq->r.avail, mq->r.used);
		virtio_mmio_needs_reset(t, why);
	}
}

static void set_half(uint64_t *v, uint32_t sel_high, uint32_t val)
{
	if (sel_high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

static struct virtio_mmio_queue *selected_queue(struct virtio_mmio *t)
{
	return t->r.queue_sel < t->num_queues ? &t->queues[t->r.queue_sel] : NULL;
}

static uint32_t read_reg(struct virtio_mmio *t, uint32_t off)
{
	struct virtio_mmio_queue *mq = selected_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return VIRTIO_MMIO_VERSION_2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->r.device_features_sel > 1)
			return 0;
		return (uint32_t)(t->device_features >> (32 * t->r.device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return mq ? t->queue_size_max : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return mq ? mq->r.num : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return mq ? mq->vq.s.ready : 0;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return mq ? (uint32_t)mq->r.desc : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return mq ? (uint32_t)(mq->r.desc >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return mq ? (uint32_t)mq->r.avail : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return mq ? (uint32_t)(mq->r.avail >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return mq ? (uint32_t)mq->r.used : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return mq ? (uint32_t)(mq->r.used >> 32) : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->r.interrupt_status;
	case VIRTIO_MMIO_STATUS:
		return t->r.status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* Length ~0: no shared memory region. */
		return 0xffffffffu;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->r.config_generation;
	default:
		return 0;
	}
}

static void write_reg(struct virtio_mmio *t, uint32_t off, uint32_t val)
{
	struct virtio_mmio_queue *mq = selected_queue(t);
	/* Queue registers change only on an existing, disabled queue. */
	bool queue_writable = mq && !mq->vq.s.ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->r.device_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->r.driver_features_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->r.driver_features_sel > 1 ||
		    (t->r.status & (VIRTIO_CONFIG_S_FEATURES_OK | STATUS_ERROR_BITS)))
			break;
		set_half(&t->r.driver_features, t->r.driver_features_sel, val);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->r.queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (queue_writable)
			mq->r.num = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (queue_writable)
			set_half(&mq->r.desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (queue_writable)
			set_half(&mq->r.avail, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (queue_writable)
			set_half(&mq->r.used, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!mq)
			break;
		if (val == 1 && !mq->vq.s.ready)
			enable_queue(t, mq);
		else if (val == 0) {
			quiesce(t);
			virtq_reset(&mq->vq);
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify_locked(t, val);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->r.interrupt_status &= ~val;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(t, val);
		break;
	default:
		break;                  /* read-only, legacy or unknown */
	}
}

void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct virtio_mmio *t = opaque;
	uint32_t val = 0;

	if (!is_write)
		memset(data, 0, len);
	if (offset >= VIRTIO_MMIO_WINDOW || len == 0 || len > 8)
		return;

	virtio_mmio_lock(t);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t off = (uint32_t)offset - VIRTIO_MMIO_CONFIG;

		if (off < t->config_len && len <= t->config_len - off) {
			if (!is_write)
				memcpy(data, (uint8_t *)t->config + off, len);
			else if (t->ops->config_write)
				t->ops->config_write(t, off, data, len);
		}
	} else if (len != 4 || (offset & 3)) {
		virtio_mmio_guest_error(t, "%u-byte %s at register 0x%" PRIx64 " ignored",
					len, is_write ? "write" : "read", offset);
	} else if (is_write) {
		memcpy(&val, data, 4);
		write_reg(t, (uint32_t)offset, val);
	} else {
		val = read_reg(t, (uint32_t)offset);
		memcpy(data, &val, 4);
	}
	virtio_mmio_unlock(t);
}

int virtio_mmio_init(struct virtio_mmio *t, const struct virtio_mmio_desc *d,
		     const struct device_env *env)
{
	uint16_t qmax = d->queue_size_max;
	int r;

	if (!d->ops || !d->ops->queue_notify || d->num_queues == 0 ||
	    d->num_queues > VIRTIO_MMIO_MAX_QUEUES || qmax == 0 ||
	    qmax > VIRTQ_MAX_SIZE || (qmax & (qmax - 1)) ||
	    d->config_len > VIRTIO_MMIO_CONFIG_MAX || (d->config_len && !d->config))
		return -EINVAL;

	memset(t, 0, sizeof(*t));
	r = pthread_mutex_init(&t->lock, NULL);
	if (r)
		return -r;
	r = pthread_cond_init(&t->idle, NULL);
	if (r) {
		pthread_mutex_destroy(&t->lock);
		return -r;
	}
	t->name = d->name ? d->name : "virtio";
	t->device_id = d->device_id;
	t->ops = d->ops;
	t->opaque = d->opaque;
	t->env = env;
	t->config = d->config;
	t->config_len = d->config_len;
	t->device_features = d->features | (1ull << VIRTIO_F_VERSION_1) |
			     (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
			     (1ull << VIRTIO_RING_F_EVENT_IDX);
	t->num_queues = d->num_queues;
	t->queue_size_max = qmax;
	t->irqfd = -1;
	t->loop = env_io_loop(env, t->name);
	for (unsigned int i = 0; i < t->num_queues; i++) {
		t->queues[i].t = t;
		t->queues[i].index = i;
		t->queues[i].notify_fd = -1;
		reset_queue_regs(t, &t->queues[i]);
	}
	if (!t->loop) {
		virtio_mmio_release(t);
		return -ENOMEM;
	}
	return 0;
}

/* Event loop: a QueueNotify write caught by an ioeventfd. */
static void notify_event(void *opaque, int fd, uint32_t events)
{
	struct virtio_mmio_queue *mq = opaque;
	uint64_t count;

	/* Non-blocking; draining it is all that matters. */
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return;
	virtio_mmio_lock(mq->t);
	mq->t->on_loop = true;
	notify_locked(mq->t, mq->index);
	mq->t->on_loop = false;
	virtio_mmio_unlock(mq->t);
}

static uint64_t notify_addr(const struct virtio_mmio *t)
{
	return t->res.mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY;
}

static int attach_queue(struct virtio_mmio *t, struct virtio_mmio_queue *mq)
{
	int fd, r;

	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		env_err(t->env, "%s: eventfd: %s", t->name, strerror(-r));
		return r;
	}
	mq->notify_fd = fd;
	r = env_ioeventfd(t->env, fd, notify_addr(t), 4, true, mq->index, true);
	if (r < 0)
		/* QueueNotify then traps to virtio_mmio_access(): slower, works;
		 * the eventfd still takes the work a long batch defers. */
		env_dbg(t->env, "%s: no ioeventfd for queue %u (%s), using MMIO exits",
			t->name, mq->index, strerror(-r));
	mq->ioeventfd = r == 0;
	r = event_loop_add(t->loop, fd, EPOLLIN, notify_event, mq);
	if (r < 0) {
		env_err(t->env, "%s: cannot watch the queue %u eventfd: %s",
			t->name, mq->index, strerror(-r));
		return r;
	}
	mq->watched = true;
	return 0;
}

static void attach_irq(struct virtio_mmio *t)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int r = fd < 0 ? -errno : env_irqfd(t->env, fd, t->res.irq, true);

	if (r < 0) {
		env_dbg(t->env, "%s: no irqfd for IRQ %u (%s), pulsing the IRQ line",
			t->name, t->res.irq, strerror(-r));
		if (fd >= 0)
			close(fd);
		return;
	}
	t->irqfd = fd;
}

int virtio_mmio_attach(struct virtio_mmio *t, const struct device_resources *res)
{
	char param[80];
	int r;

	if (t->attached || res->mmio_size != VIRTIO_MMIO_WINDOW || !res->irq)
		return -EINVAL;
	t->res = *res;
	r = bus_register(t->env->mmio_bus, res->mmio_base, VIRTIO_MMIO_WINDOW,
			 virtio_mmio_access, t);
	if (r < 0) {
		env_err(t->env, "%s: cannot register MMIO window at 0x%" PRIx64 ": %s",
			t->name, res->mmio_base, strerror(-r));
		return r;
	}
	t->attached = true;
	attach_irq(t);
	for (unsigned int i = 0; i < t->num_queues; i++) {
		r = attach_queue(t, &t->queues[i]);
		if (r < 0)
			return r;
	}
	snprintf(param, sizeof(param), "virtio_mmio.device=4K@0x%" PRIx64 ":%u",
		 res->mmio_base, res->irq);
	r = env_cmdline_append(t->env, param);
	if (r < 0) {
		env_err(t->env, "%s: cannot extend the kernel command line: %s", t->name,
			strerror(-r));
		return r;
	}
	env_dbg(t->env, "%s: MMIO 0x%" PRIx64 " IRQ %u", t->name, res->mmio_base, res->irq);
	return 0;
}

void virtio_mmio_release(struct virtio_mmio *t)
{
	for (unsigned int i = 0; i < t->num_queues; i++) {
		struct virtio_mmio_queue *mq = &t->queues[i];

		if (mq->notify_fd < 0)
			continue;
		if (mq->watched)
			event_loop_del(t->loop, mq->notify_fd);
		if (mq->ioeventfd)
			env_ioeventfd(t->env, mq->notify_fd, notify_addr(t), 4, true, i, false);
		close(mq->notify_fd);
		mq->notify_fd = -1;
	}
	if (t->irqfd >= 0) {
		env_irqfd(t->env, t->irqfd, t->res.irq, false);
		close(t->irqfd);
		t->irqfd = -1;
	}
	if (t->attached)
		bus_unregister(t->env->mmio_bus, t->res.mmio_base, t);
	t->attached = false;
	pthread_cond_destroy(&t->idle);
	pthread_mutex_destroy(&t->lock);
}

/* ------------------------------------------------------------------ */
/* Save and restore. */

#define VIRTIO_MMIO_STATE_VERSION 1

int virtio_mmio_save(struct virtio_mmio *t, struct state_writer *w)
{
	quiesce(t);
	state_begin(w, "virtio-mmio", VIRTIO_MMIO_STATE_VERSION);
	state_put_u32(w, t->device_id);
	state_put_u64(w, t->device_features);
	state_put_u32(w, t->r.status);
	state_put_u64(w, t->r.driver_features);
	state_put_u32(w, t->r.device_features_sel);
	state_put_u32(w, t->r.driver_features_sel);
	state_put_u32(w, t->r.interrupt_status);
	state_put_u32(w, t->r.queue_sel);
	state_put_u32(w, t->r.config_generation);
	state_put_u32(w, t->num_queues);
	for (unsigned int i = 0; i < t->num_queues; i++) {
		const struct virtio_mmio_queue *mq = &t->queues[i];

		state_put_u32(w, mq->r.num);
		state_put_u64(w, mq->r.desc);
		state_put_u64(w, mq->r.avail);
		state_put_u64(w, mq->r.used);
		virtq_state_save(&mq->vq.s, w);
	}
	state_end(w);
	return state_writer_error(w);
}

/* Whether a ready queue's state matches its registers and the features. */
static bool queue_consistent(const struct virtio_mmio *t, const struct virtio_mmio_saved *s,
			     unsigned int i)
{
	const struct virtq_state *q = &s->vq[i];
	uint64_t f = s->r.driver_features;

	if (!q->ready)
		return true;
	return (s->r.status & VIRTIO_CONFIG_S_FEATURES_OK) && q->size == s->q[i].num &&
	       q->size <= t->queue_size_max && q->desc == s->q[i].desc &&
	       q->avail == s->q[i].avail && q->used == s->q[i].used &&
	       q->event_idx == !!(f & (1ull << VIRTIO_RING_F_EVENT_IDX)) &&
	       q->indirect == !!(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
}

static bool regs_consistent(const struct virtio_mmio *t, const struct virtio_mmio_saved *s)
{
	uint32_t st = s->r.status;

	if (st & ~0xffu)
		return false;
	if ((st & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    (!(s->r.driver_features & (1ull << VIRTIO_F_VERSION_1)) ||
	     (s->r.driver_features & ~t->device_features)))
		return false;
	if ((st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_FEATURES_OK))
		return false;
	for (unsigned int i = 0; i < t->num_queues; i++)
		if (!queue_consistent(t, s, i))
			return false;
	return true;
}

int virtio_mmio_load(const struct virtio_mmio *t, struct state_reader *rd,
		     struct virtio_mmio_saved *s)
{
	uint32_t id, nq;
	uint64_t features;
	uint16_t version;

	memset(s, 0, sizeof(*s));
	if (state_open(rd, "virtio-mmio", VIRTIO_MMIO_STATE_VERSION, &version))
		return state_reader_error(rd);
	id = state_get_u32(rd);
	features = state_get_u64(rd);
	s->r.status = state_get_u32(rd);
	s->r.driver_features = state_get_u64(rd);
	s->r.device_features_sel = state_get_u32(rd);
	s->r.driver_features_sel = state_get_u32(rd);
	s->r.interrupt_status = state_get_u32(rd);
	s->r.queue_sel = state_get_u32(rd);
	s->r.config_generation = state_get_u32(rd);
	nq = state_get_u32(rd);
	if (id != t->device_id || features != t->device_features || nq != t->num_queues)
		state_reject(rd);       /* another device, or the same one configured otherwise */
	for (unsigned int i = 0; i < t->num_queues && !state_reader_error(rd); i++) {
		s->q[i].num = state_get_u32(rd);
		s->q[i].desc = state_get_u64(rd);
		s->q[i].avail = state_get_u64(rd);
		s->q[i].used = state_get_u64(rd);
		virtq_state_load(&s->vq[i], rd);
	}
	if (!state_reader_error(rd) && !regs_consistent(t, s))
		state_reject(rd);
	return state_close(rd);
}

int virtio_mmio_apply(struct virtio_mmio *t, const struct virtio_mmio_saved *s)
{
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];

	quiesce(t);
	for (unsigned int i = 0; i < t->num_queues; i++) {
		int r = virtq_restore(&vq[i], t->env->mem, &s->vq[i]);

		if (r)
			return r;
	}
	t->r = s->r;
	for (unsigned int i = 0; i < t->num_queues; i++) {
		t->queues[i].r = s->q[i];
		t->queues[i].vq = vq[i];
		/* Buffers made available before the save (a batch deferred, a
		 * notification suppressed by EVENT_IDX) may never be notified
		 * again: look at them from the event loop. */
		if (virtio_mmio_queue(t, i) && virtq_pending(&vq[i]))
			virtio_mmio_defer(t, i);
	}
	return 0;
}

void virtio_mmio_dev_reset(void *dev)
{
	struct virtio_mmio *t = dev;

	virtio_mmio_lock(t);
	virtio_mmio_reset(t);
	virtio_mmio_unlock(t);
}

int virtio_mmio_dev_save(void *dev, struct state_writer *w)
{
	struct virtio_mmio *t = dev;
	int ret;

	virtio_mmio_lock(t);
	ret = virtio_mmio_save(t, w);
	virtio_mmio_unlock(t);
	return ret;
}

int virtio_mmio_dev_restore(void *dev, struct state_reader *rd)
{
	struct virtio_mmio *t = dev;
	struct virtio_mmio_saved s;
	int ret = virtio_mmio_load(t, rd, &s);

	if (ret)
		return ret;
	virtio_mmio_lock(t);
	ret = virtio_mmio_apply(t, &s);
	virtio_mmio_unlock(t);
	return ret;
}

int virtio_mmio_save_shown(struct virtio_mmio *t, const struct virtio_mmio_shown *sh,
			   struct state_writer *w)
{
	int ret;

	virtio_mmio_lock(t);
	virtio_mmio_save(t, w);
	state_begin(w, sh->record, sh->version);
	sh->put(t->opaque, w);
	state_end(w);
	ret = state_writer_error(w);
	virtio_mmio_unlock(t);
	return ret;
}

/* Read what @sh's device showed at save and compare it with now. */
static int load_shown(struct virtio_mmio *t, const struct virtio_mmio_shown *sh,
		      struct state_reader *rd)
{
	struct state_writer now;
	uint16_t version;

	if (state_open(rd, sh->record, sh->version, &version))
		return state_reader_error(rd);
	state_writer_init(&now);
	sh->put(t->opaque, &now);
	if (state_get_match(rd, &now) == -ESTALE)
		env_err(t->env, "%s: %s", t->name, sh->differs);
	state_writer_release(&now);
	return state_close(rd);
}

int virtio_mmio_restore_shown(struct virtio_mmio *t, const struct virtio_mmio_shown *sh,
			      struct state_reader *rd)
{
	struct virtio_mmio_saved ts;
	int ret = virtio_mmio_load(t, rd, &ts);

	if (!ret)
		ret = load_shown(t, sh, rd);
	if (ret)
		return ret;
	virtio_mmio_lock(t);
	ret = virtio_mmio_apply(t, &ts);
	virtio_mmio_unlock(t);
	return ret;
}
