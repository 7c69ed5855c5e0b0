/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device I/O threads: an event loop per device that asks for one, each
 * run by a thread of role THREAD_DEVICE_IO while vmm_run() runs, so that
 * a device whose host I/O blocks (a disk on a stalled file system) holds
 * up only itself -- never the console, another device or a vCPU.
 */
#ifndef VMM_CORE_IOTHREAD_H
#define VMM_CORE_IOTHREAD_H

#include "core/event.h"

struct vmm;

/* A new event loop of @vm's, for the device @what (named in messages).
 * Returns: the loop (the VM's until vmm_destroy()), or NULL. */
struct event_loop *vm_io_loop(struct vmm *vm, const char *what);

/* Start a thread per loop. Returns: 0 or a negative errno (the threads
 * already started keep running until vm_io_stop()). */
int vm_io_start(struct vmm *vm);
/* Stop and join the threads (each once its handler returned). */
void vm_io_stop(struct vmm *vm);
/* Free the loops: once no device uses them any more. */
void vm_io_release(struct vmm *vm);

#endif
