/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMM_I8042_H
#define VMM_I8042_H
#endif
