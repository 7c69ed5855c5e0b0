/* SPDX-License-Identifier: Apache-2.0 */
/* vCPUs: CPUID, MSRs, registers, LAPIC, threads and the exit loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "layout.h"
#include "vcpu.h"
#include "vmm-priv.h"

#define X86_CR0_PE      0x1ull
#define X86_CR0_ET      0x10ull
#define X86_CR0_NE      0x20ull
#define X86_CR0_PG      0x80000000ull
#define X86_CR4_PAE     0x20ull
#define EFER_LME        0x100ull
#define EFER_LMA        0x400ull

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_MODE_NMI   0x4
#define APIC_MODE_EXTINT 0x7

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL (SIGRTMIN)

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

		vmm_err(v->vm, "vcpu%u: %s: %s", v->index, what, strerror(-ret));
		return ret;
	}
	return 0;
}

static int vcpu_setup_msrs(struct vcpu *v)
{
	static const uint32_t zero[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
		MSR_IA32_TSC,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(zero) + 2];
	} msrs;
	unsigned int n = 0;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	for (; n < ARRAY_SIZE(zero); n++)
		msrs.e[n].index = zero[n];
	msrs.e[n].index = MSR_IA32_MISC_ENABLE;
	msrs.e[n++].data = 1;                   /* fast string operations */
	msrs.e[n].index = MSR_MTRR_DEF_TYPE;
	msrs.e[n++].data = (1u << 11) | 6;      /* MTRRs on, default write-back */
	msrs.hdr.nmsrs = n;
	ret = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0)
		return vcpu_ioctl(v, KVM_SET_MSRS, &msrs, "KVM_SET_MSRS");
	if ((unsigned int)ret != n) {
		vmm_err(v->vm, "vcpu%u: KVM_SET_MSRS: MSR 0x%x refused", v->index,
			msrs.e[ret].index);
		return -EINVAL;
	}
	return 0;
}

static int vcpu_setup_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return vcpu_ioctl(v, KVM_SET_FPU, &fpu, "KVM_SET_FPU");
}

static void lapic_set_mode(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t val;

	memcpy(&val, &l->regs[reg], sizeof(val));
	val = (val & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &val, sizeof(val));
}

static int vcpu_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	int ret = vcpu_ioctl(v, KVM_GET_LAPIC, &l, "KVM_GET_LAPIC");

	if (ret)
		return ret;
	lapic_set_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
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
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;

	supported = get_supported_cpuid(vm);
	if (!supported) {
		vmm_err(vm, "KVM_GET_SUPPORTED_CPUID failed");
		return -ENOTSUP;
	}
	template = cpuid_prepare(supported);
	free(supported);
	supported = template;
	if (!supported)
		return -ENOMEM;
	cpuid_size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	cpuid = malloc(cpuid_size);
	vm->vcpus = calloc(vm->cfg.vcpu.num, sizeof(*vm->vcpus));
	if (!cpuid || !vm->vcpus) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < vm->cfg.vcpu.num; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			vmm_err(vm, "KVM_CREATE_VCPU %u: %s", i, strerror(-ret));
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
		ret = cpuid_adjust(cpuid, i, vm->cfg.vcpu.num);
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

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

static struct kvm_segment segment_from_gdt(uint64_t e, uint16_t sel)
{
	struct kvm_segment s = {
		.base = (e >> 16 & 0xffffff) | (e >> 32 & 0xff000000),
		.limit = (uint32_t)((e & 0xffff) | (e >> 32 & 0xf0000)),
		.selector = sel,
		.type = (uint8_t)(e >> 40 & 0xf),
		.present = (uint8_t)(e >> 47 & 1),
		.dpl = (uint8_t)(e >> 45 & 3),
		.db = (uint8_t)(e >> 54 & 1),
		.s = (uint8_t)(e >> 44 & 1),
		.l = (uint8_t)(e >> 53 & 1),
		.g = (uint8_t)(e >> 55 & 1),
		.avl = (uint8_t)(e >> 52 & 1),
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

static int write_boot_tables(struct vmm *vm, uint64_t gdt[4])
{
	uint64_t *pml4 = guest_mem_ptr(&vm->mem, PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(&vm->mem, PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(&vm->mem, PD_ADDR, 4 * 4096);
	uint64_t idt = 0;

	if (!pml4 || !pdpt || !pd)
		return -ENOMEM;
	gdt[0] = 0;
	gdt[1] = gdt_entry(0xa09b, 0, 0xfffff);        /* 64-bit code */
	gdt[2] = gdt_entry(0xc093, 0, 0xfffff);        /* data */
	gdt[3] = gdt_entry(0x808b, 0, 0xfffff);        /* TSS */
	if (guest_mem_write(&vm->mem, BOOT_GDT_ADDR, gdt, 4 * sizeof(uint64_t)) ||
	    guest_mem_write(&vm->mem, BOOT_IDT_ADDR, &idt, sizeof(idt)))
		return -ENOMEM;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | 0x3;                      /* present, writable */
	for (unsigned int i = 0; i < IDENTITY_MAP_SIZE / SZ_1G; i++)
		pdpt[i] = (PD_ADDR + i * 4096ull) | 0x3;
	for (unsigned int i = 0; i < IDENTITY_MAP_SIZE / (2 * SZ_1M); i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;     /* present, writable, 2 MiB */
	return 0;
}

int vcpu_setup_boot(struct vmm *vm, uint64_t entry)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t gdt[4];
	int ret;

	ret = write_boot_tables(vm, gdt);
	if (ret) {
		vmm_err(vm, "guest memory too small for the boot page tables");
		return ret;
	}
	ret = vcpu_ioctl(bsp, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	if (ret)
		return ret;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = BOOT_IDT_ADDR;
	sregs.idt.limit = sizeof(uint64_t) - 1;
	sregs.cs = segment_from_gdt(gdt[1], 0x08);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = segment_from_gdt(gdt[2], 0x10);
	sregs.tr = segment_from_gdt(gdt[3], 0x18);
	sregs.cr3 = PML4_ADDR;
	sregs.cr4 = X86_CR4_PAE;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	ret = vcpu_ioctl(bsp, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (ret)
		return ret;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = entry;
	regs.rsp = regs.rbp = BOOT_STACK_POINTER;
	regs.rsi = ZERO_PAGE_ADDR;
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
	vmm_request_stop(v->vm, &info);
}

static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vmm *vm = v->vm;

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
		vmm_request_stop(vm, &info);
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
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	/* Only the kick signal reaches this thread. */
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	while (!vm_stopping(vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
				continue;
			}
			struct vmm_exit_info info = {
				.reason = VMM_STOP_HOST_ERROR, .vcpu = (int)v->index, .error = -errno,
			};
			vmm_err(vm, "vcpu%u: KVM_RUN: %s", v->index, strerror(errno));
			vmm_request_stop(vm, &info);
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
		int ret = vmm_thread_create(&v->thread, vcpu_thread, v);

		if (ret) {
			vmm_err(vm, "cannot start vcpu%u: %s", i, strerror(-ret));
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
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
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
