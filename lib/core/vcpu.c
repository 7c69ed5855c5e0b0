/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: creation (CPUID, MSRs, FPU, LAPIC), boot state, threads and the
 * exit loop. The x86 values themselves come from arch/x86/regs.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/regs.h"
#include "core/seccomp.h"
#include "core/thread.h"
#include "core/vcpu.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/stop.h"

static void kick_handler(int sig)
{
	(void)sig;
}

static struct kvm_cpuid2 *get_supported_cpuid(struct vmm *vm)
{
	for (unsigned int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			break;
	}
	return NULL;
}

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->fd, req, arg) < 0) {
		int ret = -errno;

		vm_err(v->vm, "vcpu%u: %s: %s", v->index, what, strerror(-ret));
		return ret;
	}
	return 0;
}

static int vcpu_setup_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[REGS_BOOT_MSRS];
	} msrs;
	int ret;

	memset(&msrs.hdr, 0, sizeof(msrs.hdr));
	regs_boot_msrs(msrs.e);
	msrs.hdr.nmsrs = REGS_BOOT_MSRS;
	ret = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return vcpu_ioctl(v, KVM_SET_MSRS, &msrs, "KVM_SET_MSRS");
	if ((unsigned int)ret != REGS_BOOT_MSRS) {
		vm_err(v->vm, "vcpu%u: KVM_SET_MSRS: MSR 0x%x refused", v->index,
		       msrs.e[ret].index);
		return -EINVAL;
	}
	return 0;
}

static int vcpu_setup_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu;

	regs_boot_fpu(&fpu);
	return vcpu_ioctl(v, KVM_SET_FPU, &fpu, "KVM_SET_FPU");
}

static int vcpu_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	int ret = vcpu_ioctl(v, KVM_GET_LAPIC, &l, "KVM_GET_LAPIC");

	if (ret)
		return ret;
	regs_lapic_lint(&l);
	return vcpu_ioctl(v, KVM_SET_LAPIC, &l, "KVM_SET_LAPIC");
}

int vcpu_create_all(struct vmm *vm)
{
	struct kvm_cpuid2 *supported, *template, *cpuid = NULL;
	struct sigaction sa;
	size_t cpuid_size;
	int ret = 0;

	/* A no-op handler so that the kick interrupts KVM_RUN (EINTR)
	 * instead of killing the process. Stateless, shared by all VMs. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(THREAD_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;

	supported = get_supported_cpuid(vm);
	if (!supported) {
		vm_err(vm, "KVM_GET_SUPPORTED_CPUID failed");
		return -ENOTSUP;
	}
	template = cpuid_prepare(supported);
	free(supported);
	supported = template;
	if (!supported)
		return -ENOMEM;
	cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	cpuid = malloc(cpuid_size);
	vm->vcpus = calloc(vm->cfg->vm.vcpus, sizeof(*vm->vcpus));
	if (!cpuid || !vm->vcpus) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < vm->cfg->vm.vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			vm_err(vm, "KVM_CREATE_VCPU %u: %s", i, strerror(-ret));
			goto out;
		}
		vm->nvcpus = i + 1;
		v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			ret = -errno;
			v->run = NULL;
			goto out;
		}
		memcpy(cpuid, supported, cpuid_size);
		ret = cpuid_adjust(cpuid, i, vm->cfg->vm.vcpus);
		if (ret)
			goto out;
		ret = vcpu_ioctl(v, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
		if (!ret)
			ret = vcpu_setup_msrs(v);
		if (!ret)
			ret = vcpu_setup_fpu(v);
		if (!ret)
			ret = vcpu_setup_lapic(v);
		if (ret)
			goto out;
	}
out:
	free(cpuid);
	free(supported);
	return ret;
}

/* ------------------------------------------------------------------ */
/* 64-bit boot state of the BSP. */

int vcpu_setup_boot(struct vmm *vm, uint64_t entry)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = regs_write_boot_tables(&vm->mem);
	if (ret) {
		vm_err(vm, "guest memory too small for the boot page tables");
		return ret;
	}
	ret = vcpu_ioctl(bsp, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	if (ret)
		return ret;
	regs_boot_sregs(&sregs);
	ret = vcpu_ioctl(bsp, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (ret)
		return ret;
	regs_boot_regs(&regs, entry);
	return vcpu_ioctl(bsp, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

/* ------------------------------------------------------------------ */
/* The run loop. */

static void fill_crash_info(struct vcpu *v, struct vmm_exit_info *info)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	info->vcpu = (int)v->index;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return;
	info->rip = regs.rip;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0) {
		struct kvm_translation tr = { .linear_address = sregs.cs.base + regs.rip };

		if (ioctl(v->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
			for (unsigned int n = sizeof(info->code); n > 0; n--) {
				if (!guest_mem_read(&v->vm->mem, tr.physical_address, info->code, n)) {
					info->code_len = n;
					break;
				}
			}
		}
	}
}

static void vcpu_crash(struct vcpu *v, enum vmm_stop_reason reason)
{
	struct vmm_exit_info info = { .reason = reason, .vcpu = (int)v->index };

	info.kvm_exit_reason = v->run->exit_reason;
	if (reason == VMM_STOP_INTERNAL_ERROR)
		info.suberror = v->run->internal.suberror;
	else if (reason == VMM_STOP_FAIL_ENTRY)
		info.hw_reason = v->run->fail_entry.hardware_entry_failure_reason;
	fill_crash_info(v, &info);
	vm_request_stop(v->vm, &info);
}

static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vmm *vm = v->vm;

	__atomic_fetch_add(&v->exits[exit_kind(run->exit_reason)], 1, __ATOMIC_RELAXED);
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		uint64_t bytes = (uint64_t)run->io.size * run->io.count;

		/* KVM's own values, but never trust a length blindly. */
		if (run->io.data_offset + bytes > (uint64_t)vm->vcpu_mmap_size) {
			vcpu_crash(v, VMM_STOP_UNHANDLED_EXIT);
			return false;
		}
		for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
			bus_access(&vm->pio_bus, run->io.port, data, run->io.size,
				   run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO:
		bus_access(&vm->mmio_bus, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len > 8 ? 8 : run->mmio.len, run->mmio.is_write);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT: {
		struct vmm_exit_info info = { .vcpu = (int)v->index };

		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_RESET:
			info.reason = VMM_STOP_RESET;
			break;
		case KVM_SYSTEM_EVENT_SHUTDOWN:         /* the guest powered off */
			info.reason = VMM_STOP_REQUESTED;
			break;
		default:                                /* crash and the rest */
			vcpu_crash(v, VMM_STOP_UNHANDLED_EXIT);
			return false;
		}
		vm_request_stop(vm, &info);
		return false;
	}
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash(v, VMM_STOP_SHUTDOWN);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_crash(v, VMM_STOP_INTERNAL_ERROR);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_crash(v, VMM_STOP_FAIL_ENTRY);
		return false;
	default:
		vcpu_crash(v, VMM_STOP_UNHANDLED_EXIT);
		return false;
	}
}

static bool vm_stopping(struct vmm *vm)
{
	return __atomic_load_n(&vm->stopped, __ATOMIC_ACQUIRE);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vmm *vm = v->vm;

	if (vm->seccomp_test_hook)
		vm->seccomp_test_hook(v->index);
	seccomp_gate_wait(&vm->seccomp_gate);
	if (v->index == 0)
		vm_dbg(vm, "first KVM_RUN %.2f ms after the process started", process_wall_ms());
	while (!vm_stopping(vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
				continue;
			}
			struct vmm_exit_info info = {
				.reason = VMM_STOP_HOST_ERROR, .vcpu = (int)v->index, .error = -errno,
			};
			vm_err(vm, "vcpu%u: KVM_RUN: %s", v->index, strerror(errno));
			vm_request_stop(vm, &info);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start_all(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		char name[16];
		int ret;

		snprintf(name, sizeof(name), "vcpu%u", i);
		ret = thread_create(THREAD_VCPU, vm->cfg->vm.seccomp, name, vcpu_thread, v,
				    &v->thread);

		if (ret) {
			vm_err(vm, "cannot start vcpu%u: %s", i, strerror(-ret));
			return ret;
		}
		v->started = true;
	}
	return 0;
}

void vcpu_stop_all(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		/* immediate_exit covers a kick that lands just before KVM_RUN. */
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		pthread_kill(v->thread, THREAD_KICK_SIGNAL);
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started)
			continue;
		pthread_join(v->thread, NULL);
		v->started = false;
	}
}

void vcpu_destroy_all(struct vmm *vm)
{
	if (!vm->vcpus)
		return;
	vcpu_stop_all(vm);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)vm->vcpu_mmap_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nvcpus = 0;
}
