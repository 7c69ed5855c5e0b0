/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory layout and bounds-checked translation. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "core/memory.h"
#include "unit.h"

START_TEST(test_layout)
{
	static const struct {
		uint64_t mib, low, high;
	} cases[] = {
		{ 128, 128 << 20, 0 },
		{ 3327, 3327ull << 20, 0 },
		{ 3328, 3328ull << 20, 0 },
		{ 3329, 3328ull << 20, 1 << 20 },
		{ 4096, 3328ull << 20, 768ull << 20 },
	};
	struct guest_mem m;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(guest_mem_setup(&m, cases[i].mib << 20), 0);
		ck_assert_uint_eq(m.region[0].gpa, 0);
		ck_assert_uint_eq(m.region[0].size, cases[i].low);
		ck_assert_uint_eq(guest_mem_low_end(&m), cases[i].low);
		ck_assert_uint_eq(m.nregions, cases[i].high ? 2 : 1);
		if (cases[i].high) {
			ck_assert_uint_eq(m.region[1].gpa, SZ_4G);
			ck_assert_uint_eq(m.region[1].size, cases[i].high);
		}
		ck_assert_uint_eq(m.ram_size, cases[i].mib << 20);
		/* Nothing in the gap, the edges are RAM. */
		ck_assert_ptr_null(guest_mem_ptr(&m, MMIO_GAP_START, 1));
		ck_assert_ptr_null(guest_mem_ptr(&m, SZ_4G - 1, 1));
		ck_assert_ptr_nonnull(guest_mem_ptr(&m, cases[i].low - 1, 1));
		ck_assert_ptr_null(guest_mem_ptr(&m, cases[i].low - 1, 2));
		if (cases[i].high) {
			ck_assert_ptr_nonnull(guest_mem_ptr(&m, SZ_4G, 1));
			ck_assert_ptr_nonnull(guest_mem_ptr(&m, SZ_4G + cases[i].high - 8, 8));
			ck_assert_ptr_null(guest_mem_ptr(&m, SZ_4G + cases[i].high - 8, 9));
		}
		guest_mem_release(&m);
	}
	ck_assert_int_eq(guest_mem_setup(&m, 0), -EINVAL);
	ck_assert_int_eq(guest_mem_setup(&m, 4097), -EINVAL);
}
END_TEST

START_TEST(test_bounds)
{
	uint8_t buf[4096];
	struct guest_mem m;
	uint8_t tmp[16];

	guest_mem_init_fake(&m, 0x1000, buf, sizeof(buf));
	ck_assert_ptr_eq(guest_mem_ptr(&m, 0x1000, 4096), buf);
	ck_assert_ptr_eq(guest_mem_ptr(&m, 0x1fff, 1), buf + 4095);
	ck_assert_ptr_eq(guest_mem_ptr(&m, 0x2000, 0), buf + 4096);
	ck_assert_ptr_null(guest_mem_ptr(&m, 0x2000, 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, 0xfff, 1));
	ck_assert_ptr_null(guest_mem_ptr(&m, 0x1000, 4097));
	/* overflow of gpa + len */
	ck_assert_ptr_null(guest_mem_ptr(&m, 0x1800, UINT64_MAX));
	ck_assert_ptr_null(guest_mem_ptr(&m, UINT64_MAX, 2));
	ck_assert_ptr_null(guest_mem_ptr(&m, UINT64_MAX - 0x10, 0x20));
	memset(tmp, 0xab, sizeof(tmp));
	ck_assert_int_eq(guest_mem_write(&m, 0x1ff0, tmp, 16), 0);
	ck_assert_int_eq(guest_mem_write(&m, 0x1ff1, tmp, 16), -EFAULT);
	memset(tmp, 0, sizeof(tmp));
	ck_assert_int_eq(guest_mem_read(&m, 0x1ff0, tmp, 16), 0);
	ck_assert_uint_eq(tmp[15], 0xab);
	ck_assert_int_eq(guest_mem_read(&m, 0x0, tmp, 1), -EFAULT);
}
END_TEST

Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = tcase_create("memory");

	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return s;
}
