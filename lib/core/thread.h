/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every thread of the library is started here, with its role: the place
 * where a role gets what it needs and no more: its signal mask here, its
 * system-call filter from seccomp.c.
 */
#ifndef VMM_CORE_THREAD_H
#define VMM_CORE_THREAD_H

#include <pthread.h>
#include <signal.h>

#include "vmmcore/vmm.h"

enum thread_role {
	THREAD_VCPU,            /* runs KVM_RUN and the exit handlers */
	THREAD_EVENT,           /* the VM's event loop */
	THREAD_DEVICE_IO,       /* a device's blocking host I/O */
	THREAD_VMM,             /* vmm_run()'s caller once the others started */
};

/* The signal that kicks a vCPU thread out of KVM_RUN: the only one a vCPU
 * thread takes. Every other thread of the library blocks every signal, so
 * that a process-directed one (SIGINT, SIGTERM, which vmm_run() or the
 * application waits for) is never delivered to it. */
#define THREAD_KICK_SIGNAL (SIGRTMIN)

/* Start @fn(@arg) as a thread of @role named @name (at most 15 bytes),
 * which is under its role's system-call filter (@seccomp says how, see
 * seccomp.h) when this returns: it runs none of @fn unfiltered.
 * Returns: 0 or a negative errno. */
int thread_create(enum thread_role role, enum vmm_seccomp seccomp, const char *name,
		  void *(*fn)(void *), void *arg, pthread_t *thread);

#endif
