/* SPDX-License-Identifier: Apache-2.0 */
/* The epoll event manager. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/event.h"

struct event_handler {
	int fd;
	event_fn fn;
	void *opaque;
	struct event_handler *next;
};

int event_loop_init(struct event_loop *loop)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	memset(loop, 0, sizeof(*loop));
	loop->stop_fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return -errno;
	loop->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->stop_fd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop_fd, &ev) < 0) {
		int ret = -errno;

		event_loop_release(loop);
		return ret;
	}
	return 0;
}

void event_loop_release(struct event_loop *loop)
{
	struct event_handler *h = loop->handlers;

	while (h) {
		struct event_handler *next = h->next;

		free(h);
		h = next;
	}
	loop->handlers = NULL;
	if (loop->stop_fd >= 0)
		close(loop->stop_fd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->stop_fd = loop->epfd = -1;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	struct event_handler *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	ev.data.ptr = h;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		free(h);
		return ret;
	}
	h->next = loop->handlers;
	loop->handlers = h;
	return 0;
}

int event_loop_del(struct event_loop *loop, int fd)
{
	for (struct event_handler **pp = &loop->handlers; *pp; pp = &(*pp)->next) {
		struct event_handler *h = *pp;

		if (h->fd != fd)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		*pp = h->next;
		/* A later event of the batch being dispatched may still
		 * point at @h: keep it, inert, until the batch is done. */
		if (loop->dispatching) {
			h->fn = NULL;
			h->next = loop->retired;
			loop->retired = h;
		} else {
			free(h);
		}
		return 0;
	}
	return -ENOENT;
}

int event_loop_mod(struct event_loop *loop, int fd, uint32_t events)
{
	for (struct event_handler *h = loop->handlers; h; h = h->next) {
		struct epoll_event ev = { .events = events, .data.ptr = h };

		if (h->fd != fd)
			continue;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return -errno;
		return 0;
	}
	return -ENOENT;
}

int event_loop_dispatch(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(loop->epfd, evs, 16, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->dispatching = 1;
	for (int i = 0; i < n; i++) {
		struct event_handler *h = evs[i].data.ptr;

		if (!h) /* stop_fd */
			continue;
		if (h->fn)
			h->fn(h->opaque, h->fd, evs[i].events);
		if (__atomic_load_n(&loop->stopping, __ATOMIC_ACQUIRE))
			break;
	}
	loop->dispatching = 0;
	while (loop->retired) {
		struct event_handler *h = loop->retired;

		loop->retired = h->next;
		free(h);
	}
	return n;
}

int event_loop_run(struct event_loop *loop)
{
	while (!__atomic_load_n(&loop->stopping, __ATOMIC_ACQUIRE)) {
		int n = event_loop_dispatch(loop, -1);

		if (n < 0)
			return n;
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	uint64_t one = 1;

	__atomic_store_n(&loop->stopping, 1, __ATOMIC_RELEASE);
	if (write(loop->stop_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from these writes; nothing to do. */
	}
}
