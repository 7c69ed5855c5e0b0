/* SPDX-License-Identifier: Apache-2.0 */
/* Guest physical memory layout used by libvmmcore (x86_64). */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#define SZ_1K                   0x400ull
#define SZ_1M                   0x100000ull
#define SZ_1G                   0x40000000ull
#define SZ_4G                   0x100000000ull

/* Low memory. */
#define BOOT_GDT_ADDR           0x500ull      /* 4 entries: null, code64, data, tss */
#define BOOT_IDT_ADDR           0x520ull      /* empty IDT */
#define ZERO_PAGE_ADDR          0x7000ull     /* struct boot_params */
#define BOOT_STACK_POINTER      0x8ff0ull
#define PML4_ADDR               0x9000ull
#define PDPT_ADDR               0xa000ull
#define PD_ADDR                 0xb000ull     /* 4 page directories: 0xb000..0xefff */
#define IDENTITY_MAP_SIZE       SZ_4G         /* 2 MiB pages, first 4 GiB */
#define CMDLINE_ADDR            0x20000ull
#define CMDLINE_MAX_SIZE        0x10000ull    /* room reserved; the kernel's own limit applies */
#define EBDA_START              0x9fc00ull    /* end of usable base memory */
#define MPTABLE_ADDR            0xf0000ull    /* BIOS area: scanned by Linux for _MP_ */
#define MPTABLE_MAX_SIZE        0x10000ull
#define HIMEM_START             SZ_1M

/* The 32-bit MMIO gap: [MMIO_GAP_START, 4 GiB) has no RAM. */
#define MMIO_GAP_SIZE           (768ull * SZ_1M)
#define MMIO_GAP_START          (SZ_4G - MMIO_GAP_SIZE)  /* 0xd0000000 */
#define MMIO_GAP_END            SZ_4G

/* What the VM core hands out to devices that ask for an MMIO window and
 * any IRQ (the virtio-mmio devices): windows from the start of the gap,
 * IOAPIC pins from VIRTIO_IRQ_BASE (0..4 are the PIT, the keyboard, the
 * cascade, COM2 and COM1). */
#define VIRTIO_MMIO_BASE        MMIO_GAP_START
#define VIRTIO_MMIO_END         IOAPIC_ADDR
#define VIRTIO_IRQ_BASE         5u
#define IRQ_MAX                 23u           /* IOAPIC pins 0..23 */

/* Legacy devices. */
#define IOAPIC_ADDR             0xfec00000ull
#define LAPIC_ADDR              0xfee00000ull
#define SERIAL_COM1_PORT        0x3f8
#define SERIAL_COM1_IRQ         4u
#define I8042_IRQ               1u
#define I8042_DATA_PORT         0x60
#define I8042_CMD_PORT          0x64
#define SPEAKER_PORT            0x61

/* KVM's private addresses (inside the gap, below the IOAPIC). */
#define KVM_TSS_ADDR            0xfffbd000ull
#define KVM_IDENTITY_MAP_ADDR   0xfffbc000ull

#endif
