/* SPDX-License-Identifier: Apache-2.0 */
/* The VM core's messages, through the configuration's log function. */
#ifndef VMM_CORE_LOG_H
#define VMM_CORE_LOG_H

#include <stdarg.h>

#include "vmmcore/vmm.h"

struct vmm;

void vm_log(const struct vmm *vm, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vm_vlog(const struct vmm *vm, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
#define vm_err(vm, ...)  vm_log(vm, VMM_LOG_ERR, __VA_ARGS__)
#define vm_warn(vm, ...) vm_log(vm, VMM_LOG_WARNING, __VA_ARGS__)
#define vm_info(vm, ...) vm_log(vm, VMM_LOG_INFO, __VA_ARGS__)
#define vm_dbg(vm, ...)  vm_log(vm, VMM_LOG_DEBUG, __VA_ARGS__)

#endif
