/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *config_suite(void)
{
	return suite_create("config");
}
