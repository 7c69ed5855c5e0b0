/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Freestanding test guests for vmm-reference: common definitions.
 * Ring 0, 64-bit long mode, plain integer instructions only.
 */
#ifndef GUEST_H
#define GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long s64;
typedef unsigned long size_t;
typedef int bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define barrier() __asm__ __volatile__("" ::: "memory")

/* The layout the VMM promises (see lib/layout.h). */
#define ZERO_PAGE_ADDR          0x7000ul
#define BOOT_STACK_POINTER      0x8ff0ul
#define PML4_ADDR               0x9000ul
#define EBDA_START              0x9fc00ul
#define HIMEM_START             0x100000ul
#define MMIO_GAP_START          0xd0000000ul
#define SZ_4G                   0x100000000ul
#define SZ_1M                   0x100000ul
#define LAPIC_BASE              0xfee00000ul
#define IOAPIC_BASE             0xfec00000ul
#define COM1                    0x3f8
#define I8042_CMD               0x64

/* Zero page (struct boot_params) offsets, Documentation/arch/x86/boot.rst. */
#define BP_EXT_RAMDISK_IMAGE    0x0c0
#define BP_EXT_RAMDISK_SIZE     0x0c4
#define BP_EXT_CMD_LINE_PTR     0x0c8
#define BP_E820_ENTRIES         0x1e8
#define BP_HDR                  0x1f1
#define BP_BOOT_FLAG            0x1fe
#define BP_HEADER               0x202
#define BP_VERSION              0x206
#define BP_TYPE_OF_LOADER       0x210
#define BP_LOADFLAGS            0x211
#define BP_RAMDISK_IMAGE        0x218
#define BP_RAMDISK_SIZE         0x21c
#define BP_CMD_LINE_PTR         0x228
#define BP_CMDLINE_SIZE         0x238
#define BP_E820_TABLE           0x2d0
#define E820_MAX_ENTRIES        128

#define E820_RAM                1
#define E820_RESERVED           2

struct e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __attribute__((packed));

/* Entry state recorded by head.S before anything else ran. */
struct boot_state {
	u64 rsi;        /* zero page */
	u64 rsp;        /* stack pointer at entry */
	u64 rflags;
	u64 load_addr;  /* where the image was entered (runtime base) */
	u64 cr0, cr3, cr4, efer;
	u16 cs, ds, es, ss;
};
extern struct boot_state boot_state;

/* A pointer to guest physical (= virtual) address @a, hidden from the
 * compiler's object-size analysis (which warns on small constant addresses). */
static inline void *phys(u64 a)
{
	__asm__("" : "+r"(a));
	return (void *)a;
}

/* Port and MMIO access. */
static inline void outb(u16 port, u8 v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(u16 port, u16 v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outl(u16 port, u32 v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 mmio_read32(u64 addr)
{
	return *(volatile u32 *)addr;
}
static inline void mmio_write32(u64 addr, u32 v)
{
	*(volatile u32 *)addr = v;
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			     : "a"(leaf), "c"(sub));
}
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}
static inline void cli(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

/* lib.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* First occurrence of @needle in @hay, or NULL. */
const char *str_find(const char *hay, const char *needle);

void serial_init(void);
void lock_console(void);
void unlock_console(void);
void con_putc(char c);
void con_puts(const char *s);          /* no newline added */
void con_hex(u64 v);                /* 0x... */
void con_dec(u64 v);
/* Tiny printf: %s %c %d %u %x (with l/ll ignored: always 64-bit args cast
 * by the caller to u64 for %x/%u/%d) and %%. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Result accounting: pass()/fail() print "PASS name" or "FAIL name: why". */
void pass(const char *name);
void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned int fail_count(void);
/* VMM_BOOT_MARKER_PORT and _MAGIC of <vmmcore/vmm.h>. */
#define BOOT_MARKER_PORT  0x4f0
#define BOOT_MARKER_MAGIC 0x7b

/* Writes the boot marker, prints "RESULT PASS" or "RESULT FAIL <n>" and
 * resets the machine. */
void __attribute__((noreturn)) finish(void);

void __attribute__((noreturn)) reset(void);
void __attribute__((noreturn)) halt_forever(void);

/* Zero page and command line. */
const u8 *zero_page(void);
const char *cmdline(void);
/* Value of key=VALUE in the command line (first occurrence); copies it
 * (unquoted) into buf. Returns 0 when found, -1 otherwise. */
int cmdline_get(const char *key, char *buf, size_t len);
/* Numeric value (decimal or 0x hex); @def when absent or malformed. */
u64 cmdline_num(const char *key, u64 def);
bool cmdline_has(const char *key);
/* Parses decimal or 0x-prefixed hex; returns -1 when not a number. */
int parse_num(const char *s, u64 *v);

/* E820 */
unsigned int e820_count(void);
const struct e820_entry *e820_get(unsigned int i);
/* Whether [addr, addr + size) is entirely inside E820 RAM entries. */
bool e820_is_ram(u64 addr, u64 size);

/* MP table (Intel MP spec 1.4). */
#define MP_MAX_CPUS 256
struct mp_info {
	u64 fp_addr;            /* floating pointer */
	u64 cfg_addr;           /* configuration table */
	unsigned int ncpus;
	u8 apic_id[MP_MAX_CPUS];
	u8 cpu_flags[MP_MAX_CPUS];
	unsigned int nioapic;
	u8 ioapic_id;
	u32 ioapic_addr;
	u32 lapic_addr;
	bool isa_bus;
	int isa_irq4_pin;       /* IOAPIC pin ISA IRQ 4 goes to, -1: none */
};
/* Finds and checks the MP table; on a problem writes a reason into err and
 * returns -1. */
int mp_parse(struct mp_info *mp, char *err, size_t errlen);

/* Local APIC / IOAPIC */
#define LAPIC_ID        0x020
#define LAPIC_VER       0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define LAPIC_ESR       0x280
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3e0
static inline u32 lapic_read(u32 reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}
static inline void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
u32 cpu_apic_id(void);           /* CPUID.1:EBX[31:24] */

/* Delay / timeouts, TSC based. The TSC rate is not calibrated: callers use
 * generous bounds. */
u64 tsc_per_ms(void);
void delay_us(u64 us);

/* Interrupts: a 256-entry IDT whose vectors print a diagnostic and fail,
 * except those with a handler installed. */
typedef void (*irq_handler_t)(unsigned int vector);
void idt_init(void);
void idt_set_handler(unsigned int vector, irq_handler_t h);

/* Runs when an exception hits: prints "FAIL exception ..." and resets. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	u64 rip, cs, rflags, rsp, ss;
};
void trap_dispatch(struct trap_frame *f);

/* The guest's main, called by head.S on the BSP. */
void guest_main(void);

/* Symbols from the linker script. */
extern char _start_image[], _image_end[], _end[];

#endif
