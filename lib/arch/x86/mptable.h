/* SPDX-License-Identifier: Apache-2.0 */
/* Intel MultiProcessor Specification 1.4 table. */
#ifndef VMM_MPTABLE_H
#define VMM_MPTABLE_H
#include <stddef.h>
#include <stdint.h>

/* Build the floating pointer and the configuration table for @ncpus vCPUs
 * (APIC IDs 0..ncpus-1, BSP 0), one ISA bus, one IOAPIC at IOAPIC_ADDR with
 * ID @ncpus, an I/O interrupt entry for each IOAPIC pin 0..IRQ_MAX (ISA IRQ
 * n -> pin n) and local entries LINT0 = ExtINT, LINT1 = NMI.
 * @buf is the host view of guest address @gpa, @buflen bytes.
 * Returns: the number of bytes written or a negative errno
 * (-EINVAL for ncpus 0 or > 254, -ENOSPC when buflen is too small). */
int mptable_build(void *buf, size_t buflen, uint64_t gpa, unsigned int ncpus);

#endif
