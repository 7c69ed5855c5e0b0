/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 table: the floating pointer
 * structure followed by the configuration table (base entries only).
 * The layouts follow the MP specification (and Linux's mpspec_def.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"

#define MP_SPEC_REV             4       /* MP spec 1.4 */
#define MP_MAX_CPUS             254     /* APIC ID 255 is the broadcast ID */

#define MP_ENTRY_PROCESSOR      0
#define MP_ENTRY_BUS            1
#define MP_ENTRY_IOAPIC         2
#define MP_ENTRY_INTSRC         3
#define MP_ENTRY_LINTSRC        4

#define MP_CPU_ENABLED          0x01
#define MP_CPU_BSP              0x02
#define MP_APIC_VERSION         0x14    /* integrated local APIC */
#define MP_IOAPIC_VERSION       0x11
#define MP_IOAPIC_USABLE        0x01
#define MP_CPU_SIGNATURE        0x600   /* family 6, model 0, stepping 0 */
#define MP_CPU_FEATURES         0x201   /* FPU | APIC (CPUID.1:EDX) */

#define MP_IRQ_INT              0
#define MP_IRQ_NMI              1
#define MP_IRQ_EXTINT           3
#define MP_IRQFLAG_CONFORMING   0       /* polarity and trigger of the bus */
#define MP_APIC_ALL             0xff

#define MP_ISA_BUS_ID           0

struct mp_floating {
	char signature[4];              /* "_MP_" */
	uint32_t physptr;               /* configuration table */
	uint8_t length;                 /* in 16-byte paragraphs: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature1;               /* 0: a configuration table is present */
	uint8_t feature2;               /* bit 7: IMCR present (PIC mode) */
	uint8_t feature3[3];
} __attribute__((packed));

struct mp_config {
	char signature[4];              /* "PCMP" */
	uint16_t length;                /* base table length */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t cpu_flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_version;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

struct mp_intsrc {                      /* I/O and local interrupt entries */
	uint8_t type;
	uint8_t irq_type;
	uint16_t irq_flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == 16, "MP floating pointer size");
_Static_assert(sizeof(struct mp_config) == 44, "MP config header size");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry size");
_Static_assert(sizeof(struct mp_bus) == 8, "MP bus entry size");
_Static_assert(sizeof(struct mp_ioapic) == 8, "MP IOAPIC entry size");
_Static_assert(sizeof(struct mp_intsrc) == 8, "MP interrupt entry size");

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static size_t mp_size(unsigned int ncpus)
{
	return sizeof(struct mp_floating) + sizeof(struct mp_config) +
	       ncpus * sizeof(struct mp_processor) + sizeof(struct mp_bus) +
	       sizeof(struct mp_ioapic) +
	       (IRQ_MAX + 1) * sizeof(struct mp_intsrc) + 2 * sizeof(struct mp_intsrc);
}

/* Append @len bytes at *@p. */
static void put(uint8_t **p, const void *src, size_t len)
{
	memcpy(*p, src, len);
	*p += len;
}

static void put_intsrc(uint8_t **p, uint8_t type, uint8_t irq_type, uint8_t src_irq,
		       uint8_t dst_apic, uint8_t dst_pin)
{
	const struct mp_intsrc e = {
		.type = type,
		.irq_type = irq_type,
		.irq_flags = MP_IRQFLAG_CONFORMING,
		.src_bus = MP_ISA_BUS_ID,
		.src_irq = src_irq,
		.dst_apic = dst_apic,
		.dst_pin = dst_pin,
	};

	put(p, &e, sizeof(e));
}

int mptable_build(void *buf, size_t buflen, uint64_t gpa, unsigned int ncpus)
{
	const struct mp_bus bus = {
		.type = MP_ENTRY_BUS,
		.bus_id = MP_ISA_BUS_ID,
		.bus_type = { 'I', 'S', 'A', ' ', ' ', ' ' },
	};
	const struct mp_ioapic ioapic = {
		.type = MP_ENTRY_IOAPIC,
		.apic_id = (uint8_t)ncpus,
		.apic_version = MP_IOAPIC_VERSION,
		.flags = MP_IOAPIC_USABLE,
		.addr = (uint32_t)IOAPIC_ADDR,
	};
	uint8_t *base = buf, *p;
	struct mp_floating mpf;
	struct mp_config mpc;
	size_t total, cfg_len;
	unsigned int i;

	if (!buf || ncpus == 0 || ncpus > MP_MAX_CPUS)
		return -EINVAL;
	/* Linux looks for the floating pointer on 16-byte boundaries and the
	 * physical pointer is 32 bits wide. */
	if (gpa & 0xf)
		return -EINVAL;
	total = mp_size(ncpus);
	if (buflen < total)
		return -ENOSPC;
	if (gpa > UINT32_MAX - total)
		return -EINVAL;

	memset(base, 0, total);
	p = base + sizeof(mpf) + sizeof(mpc);

	for (i = 0; i < ncpus; i++) {
		const struct mp_processor cpu = {
			.type = MP_ENTRY_PROCESSOR,
			.apic_id = (uint8_t)i,
			.apic_version = MP_APIC_VERSION,
			.cpu_flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = MP_CPU_SIGNATURE,
			.features = MP_CPU_FEATURES,
		};

		put(&p, &cpu, sizeof(cpu));
	}
	put(&p, &bus, sizeof(bus));
	put(&p, &ioapic, sizeof(ioapic));
	/* ISA IRQ n -> IOAPIC pin n, for every pin. */
	for (i = 0; i <= IRQ_MAX; i++)
		put_intsrc(&p, MP_ENTRY_INTSRC, MP_IRQ_INT, (uint8_t)i, ioapic.apic_id, (uint8_t)i);
	/* Every local APIC: LINT0 is the 8259's ExtINT, LINT1 the NMI. */
	put_intsrc(&p, MP_ENTRY_LINTSRC, MP_IRQ_EXTINT, 0, MP_APIC_ALL, 0);
	put_intsrc(&p, MP_ENTRY_LINTSRC, MP_IRQ_NMI, 0, MP_APIC_ALL, 1);

	cfg_len = (size_t)(p - base) - sizeof(mpf);

	memset(&mpc, 0, sizeof(mpc));
	memcpy(mpc.signature, "PCMP", 4);
	mpc.length = (uint16_t)cfg_len;
	mpc.spec_rev = MP_SPEC_REV;
	memcpy(mpc.oem_id, "VMMREF  ", sizeof(mpc.oem_id));
	memcpy(mpc.product_id, "vmm-ref     ", sizeof(mpc.product_id));
	mpc.entry_count = (uint16_t)(ncpus + 2 + IRQ_MAX + 1 + 2);
	mpc.lapic_addr = (uint32_t)LAPIC_ADDR;
	memcpy(base + sizeof(mpf), &mpc, sizeof(mpc));
	base[sizeof(mpf) + offsetof(struct mp_config, checksum)] =
		mp_checksum(base + sizeof(mpf), cfg_len);

	memset(&mpf, 0, sizeof(mpf));
	memcpy(mpf.signature, "_MP_", 4);
	mpf.physptr = (uint32_t)(gpa + sizeof(mpf));
	mpf.length = 1;
	mpf.spec_rev = MP_SPEC_REV;
	memcpy(base, &mpf, sizeof(mpf));
	base[offsetof(struct mp_floating, checksum)] = mp_checksum(base, sizeof(mpf));

	return (int)total;
}
