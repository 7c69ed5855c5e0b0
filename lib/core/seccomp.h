/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System-call filters, one allowlist per thread role (thread.h), and the
 * gate that keeps the vCPUs out of the guest until every thread of the VM
 * has its filter: a guest is hostile from its first instruction. The
 * library's threads are filtered as they start (thread_create); the
 * caller of vmm_run() filters itself once it started them all.
 */
#ifndef VMM_CORE_SECCOMP_H
#define VMM_CORE_SECCOMP_H

#include <pthread.h>
#include <stdbool.h>

#include "core/thread.h"
#include "vmmcore/vmm.h"

/* Whether this build can filter (it was built with libseccomp). */
bool seccomp_available(void);

/* Filter the calling thread, for good, with @role's list; @mode says what
 * any other call does. VMM_SECCOMP_OFF installs nothing.
 * Returns: 0 or a negative errno (-ENOTSUP in a build without libseccomp). */
int seccomp_install(enum thread_role role, enum vmm_seccomp mode);

/* Shut until the thread that runs the VM is filtered, the last one. */
struct seccomp_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};

void seccomp_gate_init(struct seccomp_gate *g);
void seccomp_gate_release(struct seccomp_gate *g);
void seccomp_gate_open(struct seccomp_gate *g);
void seccomp_gate_wait(struct seccomp_gate *g);

#endif
