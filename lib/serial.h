/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMM_SERIAL_H
#define VMM_SERIAL_H
#endif
