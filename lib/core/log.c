/* SPDX-License-Identifier: Apache-2.0 */
/* The VM core's messages: see log.h. */
#include <stdio.h>

#include "core/console.h"
#include "core/log.h"
#include "core/machine.h"

void vm_vlog(const struct vmm *vm, int prio, const char *fmt, va_list ap)
{
	const struct vm_settings *s = &vm->cfg->vm;

	if (prio > s->log_priority)
		return;
	console_end_line(vm->console);
	if (s->log_fn) {
		s->log_fn(s->log_data, prio, fmt, ap);
		return;
	}
	fprintf(stderr, "libvmmcore: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void vm_log(const struct vmm *vm, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_vlog(vm, prio, fmt, ap);
	va_end(ap);
}
