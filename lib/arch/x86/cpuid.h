/* SPDX-License-Identifier: Apache-2.0 */
/* Per-vCPU adjustment of the CPUID table KVM supports. */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H
#include <linux/kvm.h>

/* Adjust @cpuid (from KVM_GET_SUPPORTED_CPUID) for vCPU @index of @ncpus:
 * leaf 1: initial APIC ID = index, logical processor count = ncpus, HTT,
 *         hypervisor bit set; TSC-deadline kept as KVM reports it;
 * leaf 4: cores per package derived from ncpus;
 * leaf 0xb / 0x1f: x2APIC ID = index in EDX, topology levels;
 * leaf 6: no APERF/MPERF; leaf 0xa: no PMU;
 * leaf 0x80000001 / 0x8000001e (AMD): consistent core/APIC id fields.
 * Returns: 0 or a negative errno. */
int cpuid_adjust(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus);

/* A copy of @supported with room for, and the entries of, the topology
 * subleaves cpuid_adjust() fills in (KVM may list only subleaf 0).
 * Returns: a table to free(), or NULL when out of memory. */
struct kvm_cpuid2 *cpuid_prepare(const struct kvm_cpuid2 *supported);

#endif
