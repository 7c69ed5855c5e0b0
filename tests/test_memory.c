/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *memory_suite(void)
{
	return suite_create("memory");
}
