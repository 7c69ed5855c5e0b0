/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *serial_suite(void)
{
	return suite_create("serial");
}
