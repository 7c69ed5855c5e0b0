/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *bus_suite(void)
{
	return suite_create("bus");
}
