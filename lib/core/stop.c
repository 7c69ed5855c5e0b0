/* SPDX-License-Identifier: Apache-2.0 */
/* How a VM stops, and why it stopped, in one line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/console.h"
#include "core/machine.h"
#include "core/stop.h"

void vm_request_stop(struct vmm *vm, const struct vmm_exit_info *info)
{
	pthread_mutex_lock(&vm->stop_lock);
	if (!vm->stopped) {
		vm->exit = *info;
		__atomic_store_n(&vm->stopped, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	event_loop_stop(&vm->events);
}

VMM_EXPORT void vmm_stop(struct vmm *vm)
{
	/* Async-signal-safe: only an eventfd write; vmm_run() does the rest. */
	event_loop_stop(&vm->events);
}

VMM_EXPORT const struct vmm_exit_info *vmm_exit_info(const struct vmm *vm)
{
	return &vm->exit;
}

VMM_EXPORT const char *vmm_console_path(const struct vmm *vm)
{
	return console_path(vm->console);
}

static const char *const stop_reason_names[] = {
	[VMM_STOP_NONE] = "running",
	[VMM_STOP_RESET] = "guest reset",
	[VMM_STOP_REQUESTED] = "stopped on request",
	[VMM_STOP_SHUTDOWN] = "guest shutdown (KVM_EXIT_SHUTDOWN, triple fault)",
	[VMM_STOP_INTERNAL_ERROR] = "KVM internal error (KVM_EXIT_INTERNAL_ERROR)",
	[VMM_STOP_FAIL_ENTRY] = "VM entry failed (KVM_EXIT_FAIL_ENTRY)",
	[VMM_STOP_UNHANDLED_EXIT] = "unhandled KVM exit",
	[VMM_STOP_HOST_ERROR] = "host error",
};

VMM_EXPORT int vmm_exit_describe(const struct vmm_exit_info *info, char *buf, size_t len)
{
	const char *name;
	size_t used = 0;
	int n;

#define APPEND(...) do { \
	n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, __VA_ARGS__); \
	if (n > 0) used += (size_t)n; \
} while (0)
	if (!info || !buf || !len)
		return -EINVAL;
	name = (unsigned int)info->reason < ARRAY_SIZE(stop_reason_names) ?
	       stop_reason_names[info->reason] : "unknown";
	buf[0] = '\0';
	APPEND("%s", name);
	switch (info->reason) {
	case VMM_STOP_REQUESTED:
		if (info->signal)
			APPEND(" (signal %d)", info->signal);
		else if (info->console_quit)
			APPEND(" (Ctrl-A x on the console)");
		break;
	case VMM_STOP_HOST_ERROR:
		APPEND(": %s", strerror(info->error < 0 ? -info->error : EIO));
		break;
	case VMM_STOP_SHUTDOWN:
	case VMM_STOP_INTERNAL_ERROR:
	case VMM_STOP_FAIL_ENTRY:
	case VMM_STOP_UNHANDLED_EXIT:
		APPEND(": exit reason %u", info->kvm_exit_reason);
		if (info->reason == VMM_STOP_INTERNAL_ERROR)
			APPEND(", suberror %u%s", info->suberror,
			       info->suberror == 1 ? " (emulation failure)" : "");
		if (info->reason == VMM_STOP_FAIL_ENTRY)
			APPEND(", hardware reason 0x%llx", (unsigned long long)info->hw_reason);
		APPEND(", vcpu%d, RIP 0x%llx, code:", info->vcpu, (unsigned long long)info->rip);
		if (!info->code_len)
			APPEND(" unavailable");
		for (unsigned int i = 0; i < info->code_len && i < sizeof(info->code); i++)
			APPEND(" %02x", info->code[i]);
		break;
	default:
		break;
	}
#undef APPEND
	return used < len ? 0 : -ENOSPC;
}
