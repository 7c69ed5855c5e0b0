/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng: the entropy device (virtio 1.x, 5.4) on the virtio-mmio
 * transport, the device "rng".
 *
 * One request queue. A request is a chain of device-writable buffers,
 * which the device fills with random bytes -- at most RNG_REQUEST_MAX a
 * request -- returning the count as the used length. The bytes come from
 * the host kernel's getrandom() or, with source=PATH, are read from PATH
 * (/dev/hwrng, /dev/urandom, a file, a FIFO). The source is read without
 * blocking: one that has fewer bytes to give (a file at its end, a FIFO
 * with nothing written) gives the guest what it has, possibly nothing,
 * and its I/O thread never waits for it. A chain with a device-readable
 * descriptor breaks the spec and is returned with length 0.
 *
 * The device has no configuration space and no state beyond its
 * transport's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_ids.h>

#include "config/keys.h"
#include "devices/device.h"
#include "virtio/mmio.h"

#define RNG_QUEUE_SIZE   256u
#define RNG_REQUEST_MAX  (64u * 1024)           /* bytes per request */
#define RNG_BUDGET       (1024u * 1024)         /* bytes per notification */
#define RNG_BATCH        (4 * RNG_QUEUE_SIZE)   /* requests per notification */

struct rng_config {
	char *source;
};

static const struct key_desc rng_keys[] = {
	KEY_NONEMPTY("source", struct rng_config, source, 0, false, "PATH",
		     "entropy source (default: getrandom())"),
	KEY_END,
};

struct virtio_rng {
	struct virtio_mmio t;           /* first: a virtio device is its transport */
	char *name;
	int fd;                         /* the source, -1: getrandom() */
	bool t_ready;                   /* the transport is initialised */
	bool source_warned;             /* a short or failed read was logged */
	struct virtq_chain chain;
	uint8_t buf[RNG_REQUEST_MAX];
};

/* Up to @len random bytes into @buf. Returns: how many (0..len). */
static size_t rng_read(struct virtio_rng *r, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = r->fd < 0 ? getrandom(buf + done, len - done, GRND_NONBLOCK) :
					read(r->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!r->source_warned)
				env_warn(r->t.env, "%s: %s", r->name,
					 n == 0 ? "the source has no more bytes" : strerror(errno));
			r->source_warned = true;
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/* Fill the chain's buffers: one read of the source, scattered (a chain of
 * many small buffers costs one system call, not one each).
 * Returns: the used length. */
static uint32_t rng_fill(struct virtio_mmio *t, struct virtq_chain *c)
{
	struct virtio_rng *r = t->opaque;
	uint64_t want = c->writable_len < RNG_REQUEST_MAX ? c->writable_len : RNG_REQUEST_MAX;
	size_t got, done = 0;

	if (c->nreadable) {
		virtio_mmio_guest_error(t, "request with a device-readable buffer dropped");
		return 0;
	}
	got = rng_read(r, r->buf, (size_t)want);
	for (unsigned int i = 0; i < c->nseg && done < got; i++) {
		size_t n = c->seg[i].len < got - done ? c->seg[i].len : got - done;

		memcpy(c->seg[i].hva, r->buf + done, n);
		done += n;
	}
	return (uint32_t)got;
}

static void rng_queue_notify(struct virtio_mmio *t, unsigned int index)
{
	static const struct virtio_mmio_budget budget = { .chains = RNG_BATCH, .bytes = RNG_BUDGET };
	struct virtio_rng *r = t->opaque;

	virtio_mmio_serve(t, index, &r->chain, rng_fill, &budget);
}

static const struct virtio_mmio_ops rng_ops = {
	.queue_notify = rng_queue_notify,
};

static void rng_destroy(void *dev)
{
	struct virtio_rng *r = dev;

	if (r->t_ready)
		virtio_mmio_release(&r->t);
	if (r->fd >= 0)
		close(r->fd);
	free(r->name);
	free(r);
}

/* Open the source without blocking, now and at every read. */
static int rng_open_source(const struct device_env *env, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		int r = -errno;

		env_err(env, "virtio-rng: cannot open the entropy source %s: %s", path,
			strerror(-r));
		return r;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		env_err(env, "virtio-rng: the entropy source %s is a directory", path);
		close(fd);
		return -EISDIR;
	}
	return fd;
}

static int rng_init(const struct device_env *env, const struct rng_config *cfg,
		    struct virtio_rng *r)
{
	struct virtio_mmio_desc d = {
		.device_id = VIRTIO_ID_RNG,
		.num_queues = 1,
		.queue_size_max = RNG_QUEUE_SIZE,
		.ops = &rng_ops,
		.opaque = r,
	};
	int ret;

	r->fd = -1;
	if (asprintf(&r->name, "virtio-rng %s", cfg->source ? cfg->source : "getrandom()") < 0) {
		r->name = NULL;
		return -ENOMEM;
	}
	if (cfg->source) {
		ret = rng_open_source(env, cfg->source);
		if (ret < 0)
			return ret;
		r->fd = ret;
	}
	d.name = r->name;
	ret = virtio_mmio_init(&r->t, &d, env);
	r->t_ready = !ret;
	return ret;
}

static int rng_create(const struct device_env *env, const struct device_resources *res,
		      const void *config, void **dev)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	ret = rng_init(env, config, r);
	if (!ret)
		ret = virtio_mmio_attach(&r->t, res);
	if (ret) {
		rng_destroy(r);
		return ret;
	}
	env_info(env, "%s", r->name);
	*dev = r;
	return 0;
}

const struct device_ops virtio_rng_device = {
	.name = "rng",
	.summary = "a virtio-rng entropy device",
	.keys = rng_keys,
	.config_size = sizeof(struct rng_config),
	.max = 1,
	.wants = VIRTIO_MMIO_WANTS,
	.create = rng_create,
	.reset = virtio_mmio_dev_reset,
	.save = virtio_mmio_dev_save,
	.restore = virtio_mmio_dev_restore,
	.destroy = rng_destroy,
};
