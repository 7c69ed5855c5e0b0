/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvm-floor: the least a VMM can do to run the benchmarks' tiny guest --
 * the KVM ioctls vmm-reference issues for it (a VM, guest memory, the
 * in-kernel irqchip and PIT, one vCPU with the supported CPUID) and a
 * KVM_RUN loop, nothing else. Its times are the floor the suite compares
 * vmm-reference with.
 *
 *   kvm-floor ELF [MIB]
 *
 * Loads the ELF's PT_LOAD segments into MIB MiB (default 128) and enters
 * it in 64-bit mode, identity-mapped, at its entry point. A write of 0x7b
 * to port 0x4f0 writes '{' to descriptor 3 (when open); 0xfe to port 0x64
 * ends the program with status 0; other I/O is ignored. On stderr: the
 * time from main() to the first KVM_RUN.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static void die(const char *what)
{
	fprintf(stderr, "kvm-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The PT_LOAD segments of @path into @ram; returns the entry point. */
static uint64_t load_elf(const char *path, uint8_t *ram, uint64_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *f;
	const Elf64_Ehdr *eh;
	uint64_t entry;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f == MAP_FAILED)
		die(path);
	eh = (const Elf64_Ehdr *)f;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff) + i;

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_paddr + ph->p_memsz > size || ph->p_offset + ph->p_filesz >
		    (uint64_t)st.st_size) {
			errno = EINVAL;
			die("segment outside guest memory");
		}
		memcpy(ram + ph->p_paddr, f + ph->p_offset, ph->p_filesz);
	}
	entry = eh->e_entry;
	munmap(f, (size_t)st.st_size);
	close(fd);
	return entry;
}

static void set_cpuid(int kvm, int vcpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	c->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 || ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
		die("CPUID");
	free(c);
}

/* 64-bit mode as vmm-reference enters an ELF kernel: identity-mapped
 * with 2 MiB pages (the first GiB), flat segments, so that an exit costs
 * here what it costs there. */
static void set_long_mode(int vcpu, uint8_t *ram, uint64_t entry)
{
	uint64_t *pml4 = (uint64_t *)(ram + 0x1000), *pdpt = (uint64_t *)(ram + 0x2000),
		 *pd = (uint64_t *)(ram + 0x3000);
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x8,
				    .type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 0x10,
				    .type = 3, .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_regs r = { .rip = entry, .rflags = 2, .rsp = 0x8ff0 };
	struct kvm_sregs s;

	pml4[0] = 0x2000 | 3;
	pdpt[0] = 0x3000 | 3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;       /* present, writable, 2 MiB */
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr3 = 0x1000;
	s.cr4 |= 0x20;                          /* PAE */
	s.cr0 |= 0x80000001;                    /* PG, PE */
	s.efer |= 0x500;                        /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_SREGS");
}

int main(int argc, char **argv)
{
	double start = now_ms();
	uint64_t size = (argc > 2 ? strtoull(argv[2], NULL, 10) : 128) << 20;
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_userspace_memory_region mem;
	struct kvm_run *run;
	int kvm, vm, vcpu, first = 1;
	uint8_t *ram;

	if (argc < 2) {
		fprintf(stderr, "usage: kvm-floor ELF [MIB]\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		die("/dev/kvm");
	ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		die("guest memory");
	mem = (struct kvm_userspace_memory_region){ .memory_size = size,
						    .userspace_addr = (uintptr_t)ram };
	/* Memory before the irqchip, as vmm-reference does it. */
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem) < 0 || ioctl(vm, KVM_CREATE_IRQCHIP) < 0 ||
	    ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		die("VM set-up");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("kvm_run");
	set_cpuid(kvm, vcpu);
	set_long_mode(vcpu, ram, load_elf(argv[1], ram, size));
	for (;;) {
		if (first) {
			fprintf(stderr, "first KVM_RUN %.2f ms after main()\n", now_ms() - start);
			first = 0;
		}
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "kvm-floor: exit reason %u\n", run->exit_reason);
			return 1;
		}
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			uint8_t v = *((uint8_t *)run + run->io.data_offset);

			/* Without descriptor 3 nobody times the marker: fine. */
			if (run->io.port == 0x4f0 && v == 0x7b && write(3, "{", 1) < 0)
				errno = 0;
			if (run->io.port == 0x64 && v == 0xfe)
				return 0;
		}
	}
}
