/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *loader_suite(void)
{
	return suite_create("loader");
}
