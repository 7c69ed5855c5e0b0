/* SPDX-License-Identifier: Apache-2.0 */
/* Threads by role: see thread.h. */
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>

#include "core/seccomp.h"
#include "core/thread.h"

/* The creator's, until the thread posts @started. */
struct thread_start {
	char name[16];
	enum thread_role role;
	enum vmm_seccomp seccomp;
	void *(*fn)(void *);
	void *arg;
	int ret;                        /* of the filter's installation */
	sem_t started;
};

static void *thread_main(void *p)
{
	struct thread_start *s = p;
	void *(*fn)(void *) = s->fn;
	void *arg = s->arg;
	int ret;

	pthread_setname_np(pthread_self(), s->name);
	ret = seccomp_install(s->role, s->seccomp);
	s->ret = ret;
	sem_post(&s->started);
	return ret ? NULL : fn(arg);
}

int thread_create(enum thread_role role, enum vmm_seccomp seccomp, const char *name,
		  void *(*fn)(void *), void *arg, pthread_t *thread)
{
	struct thread_start s = { .role = role, .seccomp = seccomp, .fn = fn, .arg = arg };
	sigset_t mask, old;
	int ret;

	snprintf(s.name, sizeof(s.name), "%s", name);
	if (sem_init(&s.started, 0, 0) < 0)
		return -errno;
	/* The mask is inherited: the thread never runs with another one. */
	sigfillset(&mask);
	if (role == THREAD_VCPU)
		sigdelset(&mask, THREAD_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	ret = -pthread_create(thread, NULL, thread_main, &s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret) {
		while (sem_wait(&s.started) < 0)
			;               /* EINTR: a signal of the caller's */
		ret = s.ret;
		if (ret)
			pthread_join(*thread, NULL);
	}
	sem_destroy(&s.started);
	return ret;
}
