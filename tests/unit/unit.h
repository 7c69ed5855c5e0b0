/* SPDX-License-Identifier: Apache-2.0 */
/* Check suites of the unit-test runner (tests/unit.c). */
#ifndef VMM_TESTS_UNIT_H
#define VMM_TESTS_UNIT_H
#include <check.h>

Suite *kvpair_suite(void);
Suite *config_suite(void);
Suite *memory_suite(void);
Suite *bus_suite(void);
Suite *boot_suite(void);
Suite *loader_suite(void);
Suite *serial_suite(void);
Suite *console_suite(void);
Suite *stats_suite(void);
Suite *state_suite(void);
Suite *virtio_queue_suite(void);
Suite *virtio_blk_suite(void);
Suite *virtio_net_suite(void);
Suite *devices_suite(void);
#endif
