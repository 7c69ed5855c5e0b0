/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *boot_suite(void)
{
	return suite_create("boot");
}
