/* SPDX-License-Identifier: Apache-2.0 */
/* Device I/O threads: see iothread.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/iothread.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/stop.h"
#include "core/thread.h"

struct vm_io {
	struct event_loop loop;
	struct vmm *vm;
	pthread_t thread;
	unsigned int index;             /* its thread is vmm-io<index> */
	bool started;
	struct vm_io *next;
};

struct event_loop *vm_io_loop(struct vmm *vm, const char *what)
{
	struct vm_io *io = calloc(1, sizeof(*io));
	int ret;

	if (!io)
		return NULL;
	ret = event_loop_init(&io->loop);
	if (ret) {
		vm_err(vm, "%s: cannot create its event loop: %s", what, strerror(-ret));
		free(io);
		return NULL;
	}
	io->vm = vm;
	io->index = vm->nio++;
	io->next = vm->io;
	vm->io = io;
	vm_dbg(vm, "%s: I/O thread vmm-io%u", what, io->index);
	return &io->loop;
}

static void *io_thread(void *p)
{
	struct vm_io *io = p;
	int ret = event_loop_run(&io->loop);

	if (ret) {
		struct vmm_exit_info info = {
			.reason = VMM_STOP_HOST_ERROR, .vcpu = -1, .error = ret,
		};

		vm_err(io->vm, "device I/O thread: %s", strerror(-ret));
		vm_request_stop(io->vm, &info);
	}
	return NULL;
}

int vm_io_start(struct vmm *vm)
{
	for (struct vm_io *io = vm->io; io; io = io->next) {
		char name[16];
		int ret;

		snprintf(name, sizeof(name), "vmm-io%u", io->index);
		ret = thread_create(THREAD_DEVICE_IO, vm->cfg->vm.seccomp, name, io_thread, io,
				    &io->thread);
		if (ret) {
			vm_err(vm, "cannot start the device I/O thread %s: %s", name,
			       strerror(-ret));
			return ret;
		}
		io->started = true;
	}
	return 0;
}

void vm_io_stop(struct vmm *vm)
{
	for (struct vm_io *io = vm->io; io; io = io->next)
		if (io->started)
			event_loop_stop(&io->loop);
	for (struct vm_io *io = vm->io; io; io = io->next) {
		if (io->started)
			pthread_join(io->thread, NULL);
		io->started = false;
	}
}

void vm_io_release(struct vmm *vm)
{
	while (vm->io) {
		struct vm_io *io = vm->io;

		vm->io = io->next;
		event_loop_release(&io->loop);
		free(io);
	}
	vm->nio = 0;
}
