/* SPDX-License-Identifier: Apache-2.0 */
/* The I/O bus: registration, overlap, routing, unclaimed accesses. */
#include <errno.h>
#include <string.h>

#include "core/bus.h"
#include "unit.h"

struct dev {
	uint64_t last_off;
	uint32_t last_len;
	int writes, reads;
	uint8_t value;
};

static void dev_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct dev *d = opaque;

	d->last_off = off;
	d->last_len = len;
	if (is_write) {
		d->writes++;
		d->value = data[0];
	} else {
		d->reads++;
		memset(data, d->value, len);
	}
}

START_TEST(test_bus_routing)
{
	struct dev a = { 0 }, b = { 0 }, c = { 0 };
	struct bus bus;
	uint8_t data[8];

	bus_init(&bus, "pio");
	ck_assert_int_eq(bus_register(&bus, 0x3f8, 8, dev_io, &a), 0);
	ck_assert_int_eq(bus_register(&bus, 0x60, 5, dev_io, &b), 0);
	ck_assert_int_eq(bus_register(&bus, 0xd0000000, 0x1000, dev_io, &c), 0);
	/* overlaps and bad ranges */
	ck_assert_int_eq(bus_register(&bus, 0x3ff, 1, dev_io, &c), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x3f0, 9, dev_io, &c), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x3f0, 0x20, dev_io, &c), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x64, 1, dev_io, &c), -EEXIST);
	ck_assert_int_eq(bus_register(&bus, 0x100, 0, dev_io, &c), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, UINT64_MAX, 2, dev_io, &c), -EINVAL);
	ck_assert_int_eq(bus_register(&bus, 0x3f0, 8, dev_io, &c), 0);   /* adjacent is fine */

	data[0] = 'x';
	ck_assert(bus_access(&bus, 0x3f8, data, 1, true));
	ck_assert_int_eq(a.writes, 1);
	ck_assert_uint_eq(a.last_off, 0);
	ck_assert(bus_access(&bus, 0x3fd, data, 1, false));
	ck_assert_uint_eq(a.last_off, 5);
	ck_assert_uint_eq(data[0], 'x');
	ck_assert(bus_access(&bus, 0x64, data, 1, false));
	ck_assert_uint_eq(b.last_off, 4);
	ck_assert(bus_access(&bus, 0xd0000ff8, data, 8, false));
	ck_assert_uint_eq(c.last_off, 0xff8);
	/* straddling the end of a device: not delivered, reads all-ones */
	ck_assert(!bus_access(&bus, 0xd0000ffc, data, 8, false));
	ck_assert_uint_eq(data[7], 0xff);
	/* nothing there */
	memset(data, 0, sizeof(data));
	ck_assert(!bus_access(&bus, 0x80, data, 4, false));
	ck_assert_uint_eq(data[0], 0xff);
	ck_assert_uint_eq(data[3], 0xff);
	ck_assert_uint_eq(data[4], 0);
	ck_assert(!bus_access(&bus, 0x80, data, 4, true));
	bus_release(&bus);
}
END_TEST

/* An access wider than the whole device range is not the device's. */
START_TEST(test_bus_access_wider_than_range)
{
	struct dev a = { 0 }, b = { 0 };
	struct bus bus;
	uint8_t data[8];

	bus_init(&bus, "pio");
	ck_assert_int_eq(bus_register(&bus, 0x70, 2, dev_io, &a), 0);
	ck_assert_int_eq(bus_register(&bus, 0x80, 1, dev_io, &b), 0);
	memset(data, 0, sizeof(data));
	ck_assert(!bus_access(&bus, 0x70, data, 4, false));
	ck_assert_int_eq(a.reads, 0);
	ck_assert_uint_eq(data[0], 0xff);
	ck_assert_uint_eq(data[3], 0xff);
	ck_assert(!bus_access(&bus, 0x80, data, 2, true));
	ck_assert(!bus_access(&bus, 0x80, data, 8, false));
	ck_assert_int_eq(b.writes + b.reads, 0);
	/* the widths that fit are delivered */
	ck_assert(bus_access(&bus, 0x70, data, 2, false));
	ck_assert_int_eq(a.reads, 1);
	ck_assert_uint_eq(a.last_len, 2);
	ck_assert(bus_access(&bus, 0x80, data, 1, true));
	ck_assert_int_eq(b.writes, 1);
	bus_release(&bus);
}
END_TEST

START_TEST(test_bus_many)
{
	static struct dev devs[100];
	struct bus bus;
	uint8_t data[1];

	bus_init(&bus, "mmio");
	/* registered out of order: lookups must still find each */
	for (int i = 99; i >= 0; i--)
		ck_assert_int_eq(bus_register(&bus, 0x1000 * (uint64_t)i, 0x100, dev_io, &devs[i]), 0);
	for (int i = 0; i < 100; i++) {
		ck_assert(bus_access(&bus, 0x1000 * (uint64_t)i + 0xff, data, 1, false));
		ck_assert_int_eq(devs[i].reads, 1);
		ck_assert(!bus_access(&bus, 0x1000 * (uint64_t)i + 0x100, data, 1, false));
	}
	bus_release(&bus);
}
END_TEST

Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");

	tcase_add_test(tc, test_bus_routing);
	tcase_add_test(tc, test_bus_access_wider_than_range);
	tcase_add_test(tc, test_bus_many);
	suite_add_tcase(s, tc);
	return s;
}
