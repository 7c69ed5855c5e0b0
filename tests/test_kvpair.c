/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"

Suite *kvpair_suite(void)
{
	return suite_create("kvpair");
}
