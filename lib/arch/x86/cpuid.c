/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-vCPU adjustment of the CPUID table from KVM_GET_SUPPORTED_CPUID.
 *
 * The topology presented is one package with @ncpus cores of one thread
 * each; the (x2)APIC ID of vCPU i is i. Everything else the host and KVM
 * support is passed through: the user masks features with the guest
 * kernel's clearcpuid= option.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"

#define CPUID_MAX_CPUS          254     /* xAPIC IDs, as in the MP table */

/* Leaf 1 */
#define L1_EBX_APIC_ID_SHIFT    24
#define L1_EBX_LOGICAL_SHIFT    16
#define L1_EBX_LOGICAL_MASK     (0xffu << L1_EBX_LOGICAL_SHIFT)
#define L1_EBX_APIC_ID_MASK     (0xffu << L1_EBX_APIC_ID_SHIFT)
#define L1_ECX_HYPERVISOR       (1u << 31)
#define L1_EDX_HTT              (1u << 28)

/* Leaf 4 and AMD leaf 0x8000001d: deterministic cache parameters */
#define CACHE_EAX_TYPE_MASK     0x1fu
#define CACHE_EAX_LEVEL(eax)    (((eax) >> 5) & 0x7u)
#define CACHE_EAX_SHARING_SHIFT 14
#define CACHE_EAX_SHARING_MASK  (0xfffu << CACHE_EAX_SHARING_SHIFT)
#define L4_EAX_CORES_SHIFT      26
#define L4_EAX_CORES_MASK       (0x3fu << L4_EAX_CORES_SHIFT)

/* Leaf 6 */
#define L6_ECX_APERFMPERF       (1u << 0)

/* Leaves 0xb and 0x1f: extended topology */
#define TOPO_LEVEL_INVALID      0
#define TOPO_LEVEL_SMT          1
#define TOPO_LEVEL_CORE         2

/* AMD */
#define L80000001_ECX_CMP_LEGACY (1u << 1)
#define L80000008_ECX_NC_MASK   0xffu
#define L80000008_ECX_APICID_SHIFT 12
#define L80000008_ECX_APICID_MASK (0xfu << L80000008_ECX_APICID_SHIFT)

/* Number of bits needed for IDs 0..n-1 (n >= 1). */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void adjust_leaf1(struct kvm_cpuid_entry2 *e, unsigned int index, unsigned int ncpus)
{
	/* Addressable logical processor IDs in the package: a power of two
	 * that covers all APIC IDs (capped to the 8-bit field). */
	uint32_t logical = min_u32(1u << id_bits(ncpus), 0xff);

	e->ebx &= ~(L1_EBX_APIC_ID_MASK | L1_EBX_LOGICAL_MASK);
	e->ebx |= (uint32_t)index << L1_EBX_APIC_ID_SHIFT;
	e->ebx |= logical << L1_EBX_LOGICAL_SHIFT;
	e->ecx |= L1_ECX_HYPERVISOR;
	if (ncpus > 1)
		e->edx |= L1_EDX_HTT;
	else
		e->edx &= ~L1_EDX_HTT;
}

/* Caches of level 1 and 2 are private to a core (one thread each), the
 * others are shared by the whole package. */
static void adjust_cache_leaf(struct kvm_cpuid_entry2 *e, unsigned int ncpus, int intel_leaf4)
{
	uint32_t sharing;

	if ((e->eax & CACHE_EAX_TYPE_MASK) == 0)
		return;         /* no more caches */
	sharing = CACHE_EAX_LEVEL(e->eax) <= 2 ? 0 : min_u32(ncpus - 1, 0xfff);
	e->eax &= ~CACHE_EAX_SHARING_MASK;
	e->eax |= sharing << CACHE_EAX_SHARING_SHIFT;
	if (intel_leaf4) {
		e->eax &= ~L4_EAX_CORES_MASK;
		e->eax |= min_u32(ncpus - 1, 0x3f) << L4_EAX_CORES_SHIFT;
	}
}

static void adjust_topology(struct kvm_cpuid_entry2 *e, unsigned int index, unsigned int ncpus)
{
	switch (e->index) {
	case 0:         /* SMT level: one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | 0;
		break;
	case 1:         /* core level: ncpus cores per package */
		e->eax = id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = (TOPO_LEVEL_INVALID << 8) | (e->index & 0xff);
		break;
	}
	e->edx = index;
}

/* Leaf 0 says "AuthenticAMD" or "HygonGenuine". */
static int vendor_is_amd(const struct kvm_cpuid2 *cpuid)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != 0)
			continue;
		return (e->ebx == 0x68747541 && e->edx == 0x69746e65 && e->ecx == 0x444d4163) ||
		       (e->ebx == 0x6f677948 && e->edx == 0x6e65476e && e->ecx == 0x656e6975);
	}
	return 0;
}

int cpuid_adjust(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int ncpus)
{
	uint32_t i;
	int amd;

	if (!cpuid || ncpus == 0 || ncpus > CPUID_MAX_CPUS || index >= ncpus)
		return -EINVAL;
	amd = vendor_is_amd(cpuid);

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			adjust_leaf1(e, index, ncpus);
			break;
		case 0x4:
			adjust_cache_leaf(e, ncpus, 1);
			break;
		case 0x6:
			e->ecx &= ~L6_ECX_APERFMPERF;
			break;
		case 0xa:
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			adjust_topology(e, index, ncpus);
			break;
		case 0x80000001:
			/* AMD: CmpLegacy, HTT counts cores. Reserved on Intel. */
			if (!amd)
				break;
			if (ncpus > 1)
				e->ecx |= L80000001_ECX_CMP_LEGACY;
			else
				e->ecx &= ~L80000001_ECX_CMP_LEGACY;
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdSize. Reserved on Intel. */
			if (!amd)
				break;
			e->ecx &= ~(L80000008_ECX_NC_MASK | L80000008_ECX_APICID_MASK);
			e->ecx |= ncpus - 1;
			e->ecx |= id_bits(ncpus) << L80000008_ECX_APICID_SHIFT;
			break;
		case 0x8000001d:
			adjust_cache_leaf(e, ncpus, 0);
			break;
		case 0x8000001e:
			/* Extended APIC ID; core ID, one thread per core; node 0. */
			e->eax = index;
			e->ebx = index & 0xff;
			e->ecx = 0;
			e->edx = 0;
			break;
		default:
			break;
		}
	}
	return 0;
}

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

struct kvm_cpuid2 *cpuid_prepare(const struct kvm_cpuid2 *supported)
{
	static const uint32_t topo_leaves[] = { 0xb, 0x1f };
	size_t extra = 2 * sizeof(topo_leaves) / sizeof(topo_leaves[0]);
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + (supported->nent + extra) * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->nent = supported->nent;
	memcpy(c->entries, supported->entries, supported->nent * sizeof(c->entries[0]));
	/*
	 * KVM may list only subleaf 0 of the extended topology leaves (seen on
	 * AMD hosts). Without the core-level subleaf the guest puts every vCPU
	 * in a package of its own, and Linux then calibrates each AP's delay
	 * loop instead of taking the BSP's. Add subleaves 0 and 1; the
	 * per-vCPU values are filled in by cpuid_adjust().
	 */
	for (size_t i = 0; i < sizeof(topo_leaves) / sizeof(topo_leaves[0]); i++) {
		struct kvm_cpuid_entry2 *e0 = find_entry(c, topo_leaves[i], 0);

		if (!e0)
			continue;
		for (uint32_t sub = 1; sub <= 1; sub++) {
			if (find_entry(c, topo_leaves[i], sub))
				continue;
			c->entries[c->nent] = *e0;
			c->entries[c->nent].index = sub;
			c->entries[c->nent].flags |= KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
			c->nent++;
		}
	}
	return c;
}
