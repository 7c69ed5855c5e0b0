/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's boot data: see boot.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/bootparams.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "boot/boot.h"
#include "boot/loader.h"
#include "core/util.h"

struct mapped_file {
	void *data;
	size_t size;
};

static const char *file_kind(mode_t mode)
{
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int map_error(const char *what, const char *path, int ret, const struct stat *st,
		     char *err, size_t errlen)
{
	char shown[ELIDED_MAX + 1];

	path = elided(path, shown);
	if (ret == -EINVAL && st)
		snprintf(err, errlen, "%s %s: is %s, not a file", what, path, file_kind(st->st_mode));
	else
		snprintf(err, errlen, "%s %s: %s", what, path,
			 ret == -ENOEXEC ? "empty file" : strerror(-ret));
	return ret;
}

static int map_file(const char *what, const char *path, struct mapped_file *f,
		    char *err, size_t errlen)
{
	struct stat st;
	int fd, ret = 0;

	f->data = NULL;
	f->size = 0;
	/* Non-blocking: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return map_error(what, path, -errno, NULL, err, errlen);
	if (fstat(fd, &st) < 0) {
		ret = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	} else if (st.st_size == 0) {
		ret = -ENOEXEC;
	} else {
		f->size = (size_t)st.st_size;
		f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->data == MAP_FAILED) {
			ret = -errno;
			f->data = NULL;
		}
	}
	close(fd);
	return ret ? map_error(what, path, ret, &st, err, errlen) : 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->size);
	f->data = NULL;
}

/* Turn the reason in @err into "@what @path: reason" (@path may be NULL). */
static int prefixed(int ret, char *err, size_t errlen, const char *what, const char *path)
{
	char reason[256], shown[ELIDED_MAX + 1];

	snprintf(reason, sizeof(reason), "%s", err);
	snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "", path ? elided(path, shown) : "",
		 reason);
	return ret;
}

static int load_images(const struct guest_mem *mem, const struct boot_spec *s,
		       struct kernel_image *k, struct bootparams_info *bi, char *err, size_t errlen)
{
	struct mapped_file f;
	int ret;

	ret = map_file("kernel", s->kernel, &f, err, errlen);
	if (ret)
		return ret;
	ret = loader_load_kernel(mem, f.data, f.size, s->load_addr, k, err, errlen);
	unmap_file(&f);
	if (ret)
		return prefixed(ret, err, errlen, "kernel", s->kernel);
	if (!s->initrd)
		return 0;
	ret = map_file("initrd", s->initrd, &f, err, errlen);
	if (ret)
		return ret;
	ret = loader_load_initrd(mem, k, f.data, f.size, &bi->initrd_gpa, err, errlen);
	bi->initrd_size = f.size;
	unmap_file(&f);
	return ret ? prefixed(ret, err, errlen, "initrd", s->initrd) : 0;
}

/* What the user can do about it: the devices' part is not theirs. */
static int cmdline_too_long(const struct boot_spec *s, uint32_t max, char *err, size_t errlen)
{
	size_t len = strlen(s->cmdline), added = s->added < len ? s->added : len;

	if (!added) {
		snprintf(err, errlen, "kernel command line: yours is %zu bytes, the kernel takes "
			 "at most %u: shorten it", len, max);
		return -E2BIG;
	}
	snprintf(err, errlen, "kernel command line: yours is %zu bytes and the devices' "
		 "parameters add %zu, the kernel takes at most %u: shorten yours to %zu bytes",
		 len - added, added, max, max > added ? max - added : 0);
	return -E2BIG;
}

int boot_load(const struct guest_mem *mem, const struct boot_spec *s, uint64_t *entry,
	      char *err, size_t errlen)
{
	struct bootparams_info bi = { 0 };
	struct kernel_image k;
	struct boot_params *bp;
	void *mp;
	int ret;

	ret = load_images(mem, s, &k, &bi, err, errlen);
	if (ret)
		return ret;
	ret = loader_load_cmdline(mem, &k, CMDLINE_ADDR, s->cmdline, err, errlen);
	if (ret == -E2BIG)
		return cmdline_too_long(s, k.cmdline_max, err, errlen);
	if (ret)
		return prefixed(ret, err, errlen, "kernel command line", NULL);
	bi.hdr = k.format == KERNEL_BZIMAGE ? &k.hdr : NULL;
	bi.cmdline_gpa = CMDLINE_ADDR;
	bi.cmdline_len = (uint32_t)strlen(s->cmdline);
	bp = guest_mem_ptr(mem, ZERO_PAGE_ADDR, sizeof(*bp));
	mp = guest_mem_ptr(mem, MPTABLE_ADDR, MPTABLE_MAX_SIZE);
	if (!bp || !mp) {
		snprintf(err, errlen, "guest memory too small for the boot data");
		return -ENOMEM;
	}
	ret = bootparams_build(bp, mem, &bi);
	if (ret) {
		snprintf(err, errlen, "cannot build the zero page: %s", strerror(-ret));
		return ret;
	}
	ret = mptable_build(mp, MPTABLE_MAX_SIZE, MPTABLE_ADDR, s->ncpus);
	if (ret < 0) {
		snprintf(err, errlen, "cannot build the MP table: %s", strerror(-ret));
		return ret;
	}
	*entry = k.entry;
	return 0;
}
