/* SPDX-License-Identifier: Apache-2.0 */
/* Threads by role: see thread.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/thread.h"

struct thread_start {
	char name[16];
	void *(*fn)(void *);
	void *arg;
};

static void *thread_main(void *p)
{
	struct thread_start *s = p;
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;

	pthread_setname_np(pthread_self(), s->name);
	free(s);
	return fn(arg);
}

int thread_create(enum thread_role role, const char *name, void *(*fn)(void *), void *arg,
		  pthread_t *thread)
{
	struct thread_start *s = calloc(1, sizeof(*s));
	sigset_t mask, old;
	int ret;

	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fn = fn;
	s->arg = arg;
	/* The mask is inherited: the thread never runs with another one. */
	sigfillset(&mask);
	if (role == THREAD_VCPU)
		sigdelset(&mask, THREAD_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	ret = pthread_create(thread, NULL, thread_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		free(s);
	return -ret;
}
