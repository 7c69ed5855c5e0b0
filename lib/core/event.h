/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event manager: an epoll loop, run by the VM's event thread (a thread of
 * role THREAD_EVENT) while vmm_run() runs.
 * Devices register file descriptors (stdin, eventfds, TAP, ...) with a
 * callback; the loop dispatches them until event_loop_stop().
 */
#ifndef VMM_CORE_EVENT_H
#define VMM_CORE_EVENT_H

#include <stdint.h>

typedef void (*event_fn)(void *opaque, int fd, uint32_t events);

struct event_handler;

struct event_loop {
	int epfd;
	int stop_fd;                    /* eventfd: wakes the loop to stop */
	volatile int stopping;
	struct event_handler *handlers; /* list, owned */
	struct event_handler *retired;  /* deleted during a dispatch: freed after it */
	int dispatching;                /* by the thread that dispatches */
};

int event_loop_init(struct event_loop *loop);
void event_loop_release(struct event_loop *loop);

/* Watch @fd for @events (EPOLLIN, ...). Returns: 0 or a negative errno. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
/* Stop watching @fd; from a callback too, for any descriptor. */
int event_loop_del(struct event_loop *loop, int fd);
/* Change the events watched on @fd (any thread). */
int event_loop_mod(struct event_loop *loop, int fd, uint32_t events);

/* Wait up to @timeout_ms (-1: no limit) and dispatch what is ready.
 * Returns: the number of events, or a negative errno. */
int event_loop_dispatch(struct event_loop *loop, int timeout_ms);

/* Dispatch events until stopped. Returns: 0 or a negative errno. */
int event_loop_run(struct event_loop *loop);

/* Async-signal-safe, any thread. */
void event_loop_stop(struct event_loop *loop);

#endif
