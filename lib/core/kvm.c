/* SPDX-License-Identifier: Apache-2.0 */
/* KVM: the system and VM file descriptors, irqchip, PIT, memory slots,
 * interrupt lines, irqfds and ioeventfds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/kvm.h"
#include "core/log.h"
#include "core/machine.h"

static const struct {
	unsigned int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int kvm_open(struct vmm *vm)
{
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		vm_err(vm, "cannot open /dev/kvm: %s%s", strerror(-ret),
		       ret == -EACCES ? " (add your user to the kvm group: sudo usermod -aG kvm "
					"\"$USER\", then log in again)" :
		       ret == -ENOENT ? " (load the kvm_intel or kvm_amd module, or enable "
					"virtualisation in the firmware)" : "");
		return ret;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		vm_err(vm, "KVM API version %d, expected %d", ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			vm_err(vm, "KVM lacks the capability %s", required_caps[i].name);
			return -ENOTSUP;
		}
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		vm_err(vm, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		vm_err(vm, "KVM_CREATE_VM: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int vm_ioctl(struct vmm *vm, unsigned long req, void *arg, const char *what)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int ret = -errno;

		vm_err(vm, "%s: %s", what, strerror(-ret));
		return ret;
	}
	return 0;
}

int kvm_setup_irqchip(struct vmm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	int ret;

	/* Intel VMX needs these two pages for real mode; harmless elsewhere. */
	ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ret)
		return ret;
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
		ret = -errno;
		vm_err(vm, "KVM_SET_TSS_ADDR: %s", strerror(-ret));
		return ret;
	}
	ret = vm_ioctl(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
	if (ret)
		return ret;
	/* The PIT; port 0x61 (speaker) is answered by KVM as a dummy. */
	return vm_ioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
}

int kvm_register_memory(struct vmm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nregions; i++) {
		const struct guest_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};
		int ret = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region,
				   "KVM_SET_USER_MEMORY_REGION");

		if (ret)
			return ret;
	}
	return 0;
}

int kvm_irq_line(struct vmm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

int kvm_irqfd(struct vmm *vm, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0)
		return -errno;
	return 0;
}

int kvm_ioeventfd(struct vmm *vm, int fd, uint64_t addr, uint32_t len,
		  bool datamatch, uint64_t data, bool assign)
{
	struct kvm_ioeventfd req = {
		.datamatch = data,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &req) < 0)
		return -errno;
	return 0;
}

void kvm_close(struct vmm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
