/* SPDX-License-Identifier: Apache-2.0 */
/* Runs every Check suite; exit status 0 only when all tests pass. */
#include <stdlib.h>
#include "unit.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		kvpair_suite, config_suite, memory_suite, bus_suite, boot_suite,
		loader_suite, serial_suite, console_suite, stats_suite, state_suite, virtio_queue_suite, virtio_blk_suite,
		virtio_net_suite, devices_suite,
	};
	SRunner *sr = srunner_create(NULL);
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
