/* SPDX-License-Identifier: Apache-2.0 */
/* The VM's counters: exits by kind, bus hits and misses, a device's own
 * counters under its name, the boot marker's bookkeeping, vmm_stat()'s
 * listing; and the boot marker device. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine.h"
#include "core/stats.h"
#include "core/vcpu.h"
#include "devices/registry.h"
#include "env.h"
#include "unit.h"

START_TEST(test_exit_kinds)
{
	ck_assert_int_eq(exit_kind(KVM_EXIT_IO), EXIT_IO);
	ck_assert_int_eq(exit_kind(KVM_EXIT_MMIO), EXIT_MMIO);
	ck_assert_int_eq(exit_kind(KVM_EXIT_HLT), EXIT_HLT);
	ck_assert_int_eq(exit_kind(KVM_EXIT_SHUTDOWN), EXIT_SHUTDOWN);
	ck_assert_int_eq(exit_kind(KVM_EXIT_INTERNAL_ERROR), EXIT_INTERNAL_ERROR);
	ck_assert_int_eq(exit_kind(9999), EXIT_OTHER);  /* a reason from the future */
}
END_TEST

static void dev_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque; (void)offset; (void)data; (void)len; (void)is_write;
}

static uint64_t fake_counter = 7;

static int fake_stats(void *dev, device_stat_fn put, void *data)
{
	const struct device_counter c[] = { { "widgets", &fake_counter } };

	(void)dev;
	return device_put_counters(put, data, c, 1);
}

static const struct device_ops fake_type = { .name = "fake", .stats = fake_stats };

/* A VM with two vCPUs, two devices of one type, no KVM. */
struct fake_vm {
	struct vmm vm;
	struct vcpu vcpus[2];
	struct vm_device devices[2];
};

static struct fake_vm *fake_vm(void)
{
	struct fake_vm *f = calloc(1, sizeof(*f));

	ck_assert_int_eq(vmm_config_new(&f->vm.cfg), 0);
	vmm_config_set_log_priority(f->vm.cfg, 0);      /* quiet */
	bus_init(&f->vm.pio_bus, "pio");
	bus_init(&f->vm.mmio_bus, "mmio");
	f->vm.vcpus = f->vcpus;
	f->vm.nvcpus = 2;
	f->vm.devices = f->devices;
	f->vm.ndevices = 2;
	for (unsigned int i = 0; i < 2; i++) {
		f->devices[i] = (struct vm_device){
			.ops = &fake_type, .res = { .pio_base = (uint16_t)(0x100 + i * 8), .pio_size = 8 },
		};
		ck_assert_int_eq(bus_register(&f->vm.pio_bus, 0x100 + i * 8, 8, dev_io, NULL), 0);
	}
	return f;
}

static void fake_vm_free(struct fake_vm *f)
{
	bus_release(&f->vm.pio_bus);
	bus_release(&f->vm.mmio_bus);
	vmm_config_free(f->vm.cfg);
	free(f);
}

/* The value of counter @name, or -1 if it is not listed. */
static long long stat_of(const struct vmm *vm, const char *name)
{
	char n[64];
	uint64_t v;

	for (unsigned int i = 0; !vmm_stat(vm, i, n, sizeof(n), &v); i++)
		if (!strcmp(n, name))
			return (long long)v;
	return -1;
}

START_TEST(test_counters)
{
	struct fake_vm *f = fake_vm();
	uint8_t b = 0;
	char name[64];
	unsigned int n = 0;

	f->vcpus[0].exits[EXIT_IO] = 3;
	f->vcpus[1].exits[EXIT_IO] = 4;
	f->vcpus[1].exits[EXIT_HLT] = 1;
	for (int i = 0; i < 5; i++)
		bus_access(&f->vm.pio_bus, 0x109, &b, 1, true);  /* device 1 */
	bus_access(&f->vm.pio_bus, 0x100, &b, 1, false);        /* device 0 */
	bus_access(&f->vm.pio_bus, 0x200, &b, 1, true);         /* nobody's */
	bus_access(&f->vm.pio_bus, 0x10f, &b, 2, true);         /* across the end */

	ck_assert_int_eq(stat_of(&f->vm, "exits.io"), 7);       /* summed over vCPUs */
	ck_assert_int_eq(stat_of(&f->vm, "exits.hlt"), 1);
	ck_assert_int_eq(stat_of(&f->vm, "exits.mmio"), 0);
	ck_assert_int_eq(stat_of(&f->vm, "pio.unhandled"), 2);
	ck_assert_int_eq(stat_of(&f->vm, "fake.0.exits"), 1);
	ck_assert_int_eq(stat_of(&f->vm, "fake.1.exits"), 5);
	ck_assert_int_eq(stat_of(&f->vm, "fake.1.widgets"), 7);
	ck_assert_int_eq(stat_of(&f->vm, "boot_marker.wall_us"), 0);
	/* The first name, the end of the list, a buffer too small. */
	ck_assert_int_eq(vmm_stat(&f->vm, 0, name, sizeof(name), NULL), 0);
	ck_assert_str_eq(name, "exits.io");
	while (!vmm_stat(&f->vm, n, name, sizeof(name), NULL))
		n++;
	ck_assert_uint_eq(n, EXIT_KINDS + 2 + 2 * 2 + 2);
	ck_assert_int_eq(vmm_stat(&f->vm, n, name, sizeof(name), NULL), -ENOENT);
	ck_assert_int_eq(vmm_stat(&f->vm, 0, name, 4, NULL), -ENOSPC);
	ck_assert_int_eq(vmm_stat(&f->vm, 0, NULL, 4, NULL), -EINVAL);
	fake_vm_free(f);
}
END_TEST

/* The first marker's times are kept, later ones do not move them. */
START_TEST(test_boot_marker_bookkeeping)
{
	struct fake_vm *f = fake_vm();
	long long wall, cpu;

	vm_boot_marker(&f->vm);
	wall = stat_of(&f->vm, "boot_marker.wall_us");
	cpu = stat_of(&f->vm, "boot_marker.cpu_us");
	ck_assert_int_gt(wall, 0);
	ck_assert_int_le(wall, (long long)(process_wall_ms() * 1e3));
	ck_assert_int_ge(cpu, 0);
	ck_assert_int_le(cpu, (long long)(process_cpu_ms() * 1e3) + 1);
	vm_boot_marker(&f->vm);
	ck_assert_int_eq(stat_of(&f->vm, "boot_marker.wall_us"), wall);
	fake_vm_free(f);
}
END_TEST

/* The magic byte at the port marks; other values, widths and reads do
 * not; the device counts its marks. */
START_TEST(test_boot_marker_device)
{
	struct test_env te;
	void *dev;
	uint8_t data[4] = { VMM_BOOT_MARKER_MAGIC };
	const struct device_ops *ops = device_type_find("boot_marker");

	ck_assert_ptr_nonnull(ops);
	test_env_init(&te, NULL, 0, 0);
	ck_assert_int_eq(test_device_create(&te, "boot_marker", NULL, NULL, &dev), 0);
	ck_assert(bus_access(&te.pio, VMM_BOOT_MARKER_PORT, data, 1, true));
	ck_assert_uint_eq(te.boot_marks, 1);
	data[0] = 0x7c;
	bus_access(&te.pio, VMM_BOOT_MARKER_PORT, data, 1, true);
	data[0] = VMM_BOOT_MARKER_MAGIC;
	bus_access(&te.pio, VMM_BOOT_MARKER_PORT - 1, data, 2, true);  /* not its port */
	ck_assert(bus_access(&te.pio, VMM_BOOT_MARKER_PORT, data, 1, false));
	ck_assert_uint_eq(data[0], 0xff);
	ck_assert_uint_eq(te.boot_marks, 1);
	ops->destroy(dev);
	test_env_release(&te);
}
END_TEST

Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, test_exit_kinds);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_boot_marker_bookkeeping);
	tcase_add_test(tc, test_boot_marker_device);
	suite_add_tcase(s, tc);
	return s;
}
