/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk device (virtio 1.x, 5.2) on the virtio-mmio transport.
 *
 * One request queue of 256 entries, served one request at a time by the
 * device's own I/O thread with the transport lock dropped (mmio.h): a
 * disk that blocks delays only its own requests, never a vCPU, the
 * console or another device. Requests:
 *
 *   header (type, ioprio, sector), device-readable, 16 bytes
 *   data: device-writable for IN and GET_ID, readable for OUT, DISCARD and
 *         WRITE_ZEROES, none for FLUSH
 *   status byte: the last byte of the last, device-writable, descriptor
 *
 * Anything else is answered IOERR (wrong data direction, sector range
 * beyond the capacity, write to a read-only disk, host I/O error) or
 * UNSUPP (unknown type, discard/write-zeroes flags we do not know); a chain
 * without a writable status byte is returned with length 0.
 *
 * Serial number (VIRTIO_BLK_T_GET_ID): cfg->id, at most 20 bytes; without
 * one, the device reports an empty id (20 zero bytes), so the guest shows
 * no serial rather than an invented one.
 *
 * DISCARD punches a hole (fallocate PUNCH_HOLE|KEEP_SIZE); a file system
 * that cannot do it makes discard a no-op (it is a hint). WRITE_ZEROES uses
 * PUNCH_HOLE when the guest allows unmapping, else ZERO_RANGE, falling back
 * to writing zeroes: it always succeeds unless the host I/O fails. A
 * write-zeroes request carries one range of at most 32 MiB, a discard up
 * to 32 ranges of 2 GiB; more is refused (IOERR), not served.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "config/keys.h"
#include "devices/device.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif

#define HDR_SIZE 16u
#define BLK_BATCH (4 * VIRTIO_BLK_QUEUE_SIZE)   /* requests per notification */
#define BLK_BUDGET (64ull << 20)                /* bytes per notification */
#define RANGE_SIZE 16u

/* The configuration record of a "block" device. */
struct blk_config {
	char *path;
	bool read_only;
	char *id;
};

static const struct key_desc blk_keys[] = {
	KEY_NONEMPTY("path", struct blk_config, path, 0, true, "FILE",
		     "raw image: a file or a block device"),
	KEY_BOOL("read_only", struct blk_config, read_only,
		 "a read-only image and disk (default off)"),
	KEY_NONEMPTY("id", struct blk_config, id, VIRTIO_BLK_ID_BYTES, false, "NAME",
		     "serial number, at most 20 bytes"),
	KEY_END,
};

struct virtio_blk {
	struct virtio_mmio t;           /* first: a virtio device is its transport */
	char *name;
	int fd;
	bool t_ready;                   /* the transport is initialised */
	bool read_only;
	bool punch_hole;                /* fallocate modes not yet seen to fail */
	bool zero_range;
	uint64_t capacity;              /* sectors */
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SIZE];
	/* Host-side counters: nothing a guest sees, not saved. */
	uint64_t requests, errors, read_bytes, write_bytes, flushes, discards;
};

/* Source of zeroes for WRITE_ZEROES without fallocate: never written, so
 * in .bss it costs the binary nothing and the process only zero pages. */
static uint8_t zero_block[64 * 1024];

/* preadv/pwritev until done. Returns: 0 or a negative errno (-EIO at EOF). */
static int rw_full(int fd, struct iovec *iov, int cnt, uint64_t off, bool write)
{
	while (cnt > 0) {
		ssize_t n = write ? pwritev(fd, iov, cnt, (off_t)off) :
				    preadv(fd, iov, cnt, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		off += (uint64_t)n;
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t nsectors)
{
	return sector <= b->capacity && nsectors <= b->capacity - sector;
}

static void io_error(struct virtio_blk *b, const char *what, uint64_t sector, int err)
{
	env_err(b->t.env, "%s: %s at sector %" PRIu64 ": %s", b->name, what, sector,
		strerror(-err));
}

static int write_zeroes_slow(struct virtio_blk *b, uint64_t off, uint64_t len)
{
	while (len) {
		size_t chunk = len < sizeof(zero_block) ? (size_t)len : sizeof(zero_block);
		struct iovec iov = { .iov_base = (void *)zero_block, .iov_len = chunk };
		int ret = rw_full(b->fd, &iov, 1, off, true);

		if (ret)
			return ret;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

static bool unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -ENOSYS || err == -EINVAL;
}

static int do_fallocate(struct virtio_blk *b, int mode, uint64_t off, uint64_t len)
{
	if (fallocate(b->fd, mode, (off_t)off, (off_t)len) == 0)
		return 0;
	return -errno;
}

/* One DISCARD or WRITE_ZEROES range, already range-checked. */
static int discard_range(struct virtio_blk *b, bool zeroes, bool unmap, uint64_t off,
			 uint64_t len)
{
	int r;

	if (!len)
		return 0;
	if (b->punch_hole && (!zeroes || unmap)) {
		r = do_fallocate(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		if (r == 0 || !unsupported(r))
			return r;
		b->punch_hole = false;
	}
	if (!zeroes)
		return 0;               /* discard is only a hint */
	if (b->zero_range) {
		r = do_fallocate(b, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
		if (r == 0 || !unsupported(r))
			return r;
		b->zero_range = false;
	}
	return write_zeroes_slow(b, off, len);
}

static uint8_t do_discard(struct virtio_blk *b, struct virtq_cursor *out, uint64_t out_len,
			  bool zeroes)
{
	uint64_t n = out_len / RANGE_SIZE;
	uint32_t max_seg = zeroes ? VIRTIO_BLK_MAX_WRITE_ZEROES_SEG : VIRTIO_BLK_MAX_DISCARD_SEG;
	uint32_t max_sectors = zeroes ? VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS :
					VIRTIO_BLK_MAX_DISCARD_SECTORS;

	if (out_len == 0 || out_len % RANGE_SIZE || n > max_seg)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t i = 0; i < n; i++) {
		struct virtio_blk_discard_write_zeroes range;
		uint32_t allowed = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
		int r;

		if (!virtq_cursor_read(out, &range, sizeof(range)))
			return VIRTIO_BLK_S_IOERR;
		if (range.flags & ~allowed)
			return VIRTIO_BLK_S_UNSUPP;
		if (range.num_sectors > max_sectors ||
		    !range_ok(b, range.sector, range.num_sectors))
			return VIRTIO_BLK_S_IOERR;
		r = discard_range(b, zeroes, range.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP,
				  range.sector * VIRTIO_BLK_SECTOR_SIZE,
				  (uint64_t)range.num_sectors * VIRTIO_BLK_SECTOR_SIZE);
		if (r < 0) {
			io_error(b, zeroes ? "write zeroes" : "discard", range.sector, r);
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* Serve one validated chain. Returns: the used length (bytes written). */
/* A served request, in the counters (the guest's header type: a bad
 * request counts as an error whatever it claims to be). */
static void count_request(struct virtio_blk *b, uint32_t type, uint8_t status, uint64_t in_len,
			  uint64_t out_len)
{
	device_count(&b->requests, 1);
	if (status != VIRTIO_BLK_S_OK) {
		device_count(&b->errors, 1);
		return;
	}
	if (type == VIRTIO_BLK_T_IN)
		device_count(&b->read_bytes, in_len);
	else if (type == VIRTIO_BLK_T_OUT)
		device_count(&b->write_bytes, out_len);
	else if (type == VIRTIO_BLK_T_FLUSH)
		device_count(&b->flushes, 1);
	else if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES)
		device_count(&b->discards, 1);
}

static uint32_t handle_request(struct virtio_mmio *t, struct virtq_chain *c)
{
	struct virtio_blk *b = t->opaque;
	struct virtio_blk_outhdr hdr = { 0 };
	struct virtq_cursor out, in;
	struct virtq_seg *last;
	uint8_t *status;
	uint64_t out_len = 0, in_len;
	uint32_t used = 1;
	uint8_t s = VIRTIO_BLK_S_IOERR;
	int cnt, r;

	if (c->nseg == c->nreadable) {
		virtio_mmio_guest_error(&b->t, "request without a writable status byte dropped");
		return 0;
	}
	/* Status: the last byte of the last segment, which is writable. */
	last = &c->seg[c->nseg - 1];
	status = (uint8_t *)last->hva + last->len - 1;
	in_len = c->writable_len - 1;
	last->len--;                    /* keep the status out of the data */
	virtq_cursor_init(&in, &c->seg[c->nreadable], c->nseg - c->nreadable);
	virtq_cursor_init(&out, c->seg, c->nreadable);

	if (!virtq_cursor_read(&out, &hdr, sizeof(hdr)))
		goto done;
	out_len = c->readable_len - HDR_SIZE;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		/* Data must be device-writable: never fill a readable buffer. */
		if (out_len || in_len % VIRTIO_BLK_SECTOR_SIZE || in_len > VIRTIO_BLK_REQUEST_MAX ||
		    !range_ok(b, hdr.sector, in_len / VIRTIO_BLK_SECTOR_SIZE))
			break;
		cnt = virtq_cursor_iov(&in, in_len, b->iov);
		r = rw_full(b->fd, b->iov, cnt, hdr.sector * VIRTIO_BLK_SECTOR_SIZE, false);
		if (r < 0) {
			io_error(b, "read", hdr.sector, r);
			break;
		}
		used = in_len < UINT32_MAX ? (uint32_t)in_len + 1 : UINT32_MAX;
		s = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->read_only || in_len || out_len % VIRTIO_BLK_SECTOR_SIZE ||
		    out_len > VIRTIO_BLK_REQUEST_MAX ||
		    !range_ok(b, hdr.sector, out_len / VIRTIO_BLK_SECTOR_SIZE))
			break;
		cnt = virtq_cursor_iov(&out, out_len, b->iov);
		r = rw_full(b->fd, b->iov, cnt, hdr.sector * VIRTIO_BLK_SECTOR_SIZE, true);
		if (r < 0) {
			io_error(b, "write", hdr.sector, r);
			break;
		}
		s = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (out_len || in_len)
			break;
		if (!b->read_only && fdatasync(b->fd) < 0) {
			io_error(b, "flush", 0, -errno);
			break;
		}
		s = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t n = in_len < sizeof(b->id) ? in_len : sizeof(b->id);
		struct iovec *iov = b->iov;

		if (out_len || !in_len)
			break;
		cnt = virtq_cursor_iov(&in, n, iov);
		for (int i = 0, done = 0; i < cnt; done += (int)iov[i].iov_len, i++)
			memcpy(iov[i].iov_base, b->id + done, iov[i].iov_len);
		used += (uint32_t)n;
		s = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (b->read_only || in_len)
			break;
		s = do_discard(b, &out, out_len, hdr.type == VIRTIO_BLK_T_WRITE_ZEROES);
		break;
	default:
		s = VIRTIO_BLK_S_UNSUPP;
		break;
	}
done:
	*status = s;
	count_request(b, hdr.type, s, in_len, out_len);
	return used;
}

static int blk_stats(void *dev, device_stat_fn put, void *data)
{
	const struct virtio_blk *b = dev;
	const struct device_counter c[] = {
		{ "requests", &b->requests }, { "errors", &b->errors },
		{ "read_bytes", &b->read_bytes }, { "write_bytes", &b->write_bytes },
		{ "flushes", &b->flushes }, { "discards", &b->discards },
	};

	return device_put_counters(put, data, c, sizeof(c) / sizeof(c[0]));
}

static void blk_queue_notify(struct virtio_mmio *t, unsigned int index)
{
	static const struct virtio_mmio_budget budget = {
		.chains = BLK_BATCH, .bytes = BLK_BUDGET, .blocking = true,
	};
	struct virtio_blk *b = t->opaque;

	virtio_mmio_serve(t, index, &b->chain, handle_request, &budget);
}

static const struct virtio_mmio_ops blk_ops = {
	.queue_notify = blk_queue_notify,
};

static void blk_destroy(void *dev)
{
	struct virtio_blk *b = dev;

	if (b->t_ready)
		virtio_mmio_release(&b->t);
	if (b->fd >= 0)
		close(b->fd);           /* also drops the OFD lock */
	free(b->name);
	free(b);
}

/* Open, check and lock the image. Returns: fd or a negative errno. */
static int open_image(const struct device_env *env, const char *path, bool ro, uint64_t *size)
{
	struct flock fl = {
		.l_type = ro ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer. */
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		env_err(env, "virtio-blk: cannot open disk image %s%s: %s%s", path,
			ro ? "" : " for writing", strerror(-r),
			!ro && (r == -EACCES || r == -EROFS || r == -EPERM) ?
			" (add read_only=on for a read-only disk)" : "");
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		env_err(env, "virtio-blk: cannot stat disk image %s: %s", path, strerror(-r));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		env_err(env, "virtio-blk: disk image %s is a directory", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			r = -errno;
			env_err(env, "virtio-blk: cannot get the size of %s: %s", path,
				strerror(-r));
			goto fail;
		}
	} else {
		r = -EINVAL;
		env_err(env, "virtio-blk: disk image %s is neither a regular file nor a block device",
			path);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		r = -errno;
		env_err(env, "virtio-blk: cannot use disk image %s: %s", path, strerror(-r));
		goto fail;
	}
	if (*size % VIRTIO_BLK_SECTOR_SIZE) {
		r = -EINVAL;
		env_err(env, "virtio-blk: size of disk image %s (%" PRIu64
			" bytes) is not a multiple of 512", path, *size);
		goto fail;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		r = -errno;
		if (r == -EAGAIN || r == -EACCES) {
			r = -EBUSY;
			env_err(env, "virtio-blk: disk image %s is in use: another program holds a "
				"lock on it (another VMM?): stop it first, or give this one a copy",
				path);
			goto fail;
		}
		/* No lock support (some network file systems): go on. */
		env_warn(env, "virtio-blk: cannot lock disk image %s: %s", path, strerror(-r));
	}
	return fd;
fail:
	close(fd);
	return r;
}

static void blk_fill_config(struct virtio_blk *b, struct virtio_mmio_desc *d)
{
	b->config.capacity = b->capacity;
	b->config.size_max = VIRTIO_BLK_SIZE_MAX;
	b->config.seg_max = VIRTIO_BLK_SEG_MAX;
	b->config.blk_size = VIRTIO_BLK_SECTOR_SIZE;
	d->features = (1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		      (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
	if (b->read_only) {
		d->features |= 1ull << VIRTIO_BLK_F_RO;
		return;
	}
	d->features |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	b->config.max_discard_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS;
	b->config.max_discard_seg = VIRTIO_BLK_MAX_DISCARD_SEG;
	b->config.discard_sector_alignment = 1;
	b->config.max_write_zeroes_sectors = VIRTIO_BLK_MAX_WRITE_ZEROES_SECTORS;
	b->config.max_write_zeroes_seg = VIRTIO_BLK_MAX_WRITE_ZEROES_SEG;
	b->config.write_zeroes_may_unmap = 1;
}

/* Open the image and set up the device and its transport. */
static int blk_open(const struct device_env *env, const struct blk_config *cfg,
		    struct virtio_blk *b)
{
	struct virtio_mmio_desc d = {
		.device_id = VIRTIO_ID_BLOCK,
		.num_queues = 1,
		.queue_size_max = VIRTIO_BLK_QUEUE_SIZE,
		.ops = &blk_ops,
	};
	size_t idlen = cfg->id ? strlen(cfg->id) : 0;
	uint64_t size = 0;
	int r;

	b->fd = -1;
	if (!cfg->path || idlen > VIRTIO_BLK_ID_BYTES) {
		env_err(env, "virtio-blk: %s", cfg->path ? "id longer than 20 bytes" : "no image path");
		return -EINVAL;
	}
	if (asprintf(&b->name, "virtio-blk %s", cfg->path) < 0) {
		b->name = NULL;
		return -ENOMEM;
	}
	r = open_image(env, cfg->path, cfg->read_only, &size);
	if (r < 0)
		return r;
	b->fd = r;
	b->read_only = cfg->read_only;
	b->capacity = size / VIRTIO_BLK_SECTOR_SIZE;
	b->punch_hole = true;
	b->zero_range = true;
	memcpy(b->id, cfg->id ? cfg->id : "", idlen);
	blk_fill_config(b, &d);
	d.name = b->name;
	d.config = &b->config;
	d.config_len = sizeof(b->config);
	d.opaque = b;
	r = virtio_mmio_init(&b->t, &d, env);
	if (r < 0)
		return r;
	b->t_ready = true;
	return 0;
}

static int blk_create(const struct device_env *env, const struct device_resources *res,
		      const void *config, void **dev)
{
	const struct blk_config *cfg = config;
	struct virtio_blk *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	r = blk_open(env, cfg, b);
	if (!r)
		r = virtio_mmio_attach(&b->t, res);
	/* The first disk is the root file system unless the user chose. */
	if (!r)
		r = env_cmdline_default(env, "root", b->read_only ? "root=/dev/vda ro" :
								  "root=/dev/vda rw");
	if (r < 0) {
		blk_destroy(b);
		return r;
	}
	env_info(env, "%s: %s, %" PRIu64 " sectors", b->name,
		 b->read_only ? "read-only" : "read-write", b->capacity);
	*dev = b;
	return 0;
}

#define BLK_STATE_VERSION 1

/* What the device shows the guest beyond its transport: the config
 * space, field by field (the kernel header's struct grows with new
 * features, the record must not), read_only and the serial number. */
static void blk_shown_save(const void *dev, struct state_writer *w)
{
	const struct virtio_blk *b = dev;
	const struct virtio_blk_config *c = &b->config;

	state_put_u64(w, c->capacity);
	state_put_u32(w, c->size_max);
	state_put_u32(w, c->seg_max);
	state_put_u32(w, c->blk_size);
	state_put_u32(w, c->max_discard_sectors);
	state_put_u32(w, c->max_discard_seg);
	state_put_u32(w, c->discard_sector_alignment);
	state_put_u32(w, c->max_write_zeroes_sectors);
	state_put_u32(w, c->max_write_zeroes_seg);
	state_put_u8(w, c->write_zeroes_may_unmap);
	state_put_bool(w, b->read_only);
	state_put_bytes(w, b->id, sizeof(b->id));
}

static const struct virtio_mmio_shown blk_shown = {
	.record = "virtio-blk",
	.version = BLK_STATE_VERSION,
	.put = blk_shown_save,
	.differs = "the disk differs from the saved one (size, id or read_only)",
};

static int blk_save(void *dev, struct state_writer *w)
{
	return virtio_mmio_save_shown(dev, &blk_shown, w);
}

static int blk_restore(void *dev, struct state_reader *rd)
{
	return virtio_mmio_restore_shown(dev, &blk_shown, rd);
}

const struct device_ops virtio_blk_device = {
	.name = "block",
	.summary = "a virtio-blk disk: vda, vdb, ... in the order given",
	.keys = blk_keys,
	.config_size = sizeof(struct blk_config),
	.max = VIRTIO_BLK_MAX_DISKS,
	.wants = VIRTIO_MMIO_WANTS,
	.create = blk_create,
	.reset = virtio_mmio_dev_reset,
	.save = blk_save,
	.restore = blk_restore,
	.destroy = blk_destroy,
	.stats = blk_stats,
};
