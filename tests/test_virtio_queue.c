/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *virtio_queue_suite(void)
{
	return suite_create("virtio_queue");
}
