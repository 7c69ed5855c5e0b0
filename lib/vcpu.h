/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H
#endif
