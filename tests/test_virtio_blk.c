/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *virtio_blk_suite(void)
{
	return suite_create("virtio_blk");
}
