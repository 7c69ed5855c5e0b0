// SPDX-License-Identifier: Apache-2.0
/*
 * crash guest: misbehaves on purpose, as the command line asks.
 *   crash=triple    empty IDT, then ud2: #UD -> #DF -> triple fault
 *                   (KVM_EXIT_SHUTDOWN). The VMM must exit 1 and say so.
 *   crash=mmio-exec jumps into the MMIO gap (no memory, no device): KVM
 *                   cannot fetch the instruction (KVM_EXIT_INTERNAL_ERROR).
 *   crash=fuzz      reads and writes every legacy I/O port (except the
 *                   i8042 and COM1 ones, and known reset ports), a sample of
 *                   the others, and unbacked MMIO addresses with every access
 *                   width; then prints "FUZZ DONE" and resets: the VMM must
 *                   survive and exit 0.
 *   crash=i8042     talks to the i8042 (self tests, command byte, keyboard
 *                   reset), prints "I8042 PASS", then resets the machine
 *                   through the output port (0xd1, bit 0 low) instead of
 *                   the usual 0xfe pulse.
 *   crash=mmio-x87  an x87 load from unbacked MMIO: KVM's emulator has no
 *                   x87 loads (KVM_EXIT_INTERNAL_ERROR, emulation failure).
 *   crash=flood     writes flood_kib=N KiB (default 1024) to COM1 with
 *                   "rep outsb", never looking at the line status, then
 *                   prints "FLOOD DONE <N> KiB" and resets.
 *   crash=mmio-hammer  bad accesses to the first virtio-mmio window (the
 *                   test gives an entropy device, whose config space is
 *                   empty) for hammer_ms=N ms (default 2000): every width
 *                   at every offset of the window but the 4-byte aligned
 *                   ones below the config space (those are the registers;
 *                   only reads there, and notifies of queues that do not
 *                   exist), and page-straddling ones. Then prints "HAMMER
 *                   DONE <accesses>" and resets.
 * Before crashing it prints "CRASH <mode> rip 0x<address>".
 */
#include "guest.h"

#define CRASH_MMIO_ADDR 0xe0000000ul

extern char crash_ud2[], crash_fld[];

static void __attribute__((noreturn)) crash_triple(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) d = { 0, 0 };

	kprintf("CRASH triple rip 0x%lx\n", (u64)crash_ud2);
	__asm__ __volatile__("lidt %0\n\t"
			     ".globl crash_ud2\n"
			     "crash_ud2:\n\t"
			     "ud2" : : "m"(d));
	__builtin_unreachable();
}

static void __attribute__((noreturn)) crash_mmio_exec(void)
{
	kprintf("CRASH mmio-exec rip 0x%lx\n", CRASH_MMIO_ADDR);
	__asm__ __volatile__("jmp *%0" : : "r"(CRASH_MMIO_ADDR));
	__builtin_unreachable();
}

static void __attribute__((noreturn)) crash_mmio_x87(void)
{
	kprintf("CRASH mmio-x87 rip 0x%lx\n", (u64)crash_fld);
	__asm__ __volatile__(".globl crash_fld\n"
			     "crash_fld:\n\t"
			     "fildl (%0)" : : "r"(CRASH_MMIO_ADDR) : "memory");
	__builtin_unreachable();
}

/* ------------------------------------------------------------ flood */

#define COM1_THR 0x3f8

static u8 flood_buf[4096];

static void flood(u64 kib)
{
	unsigned int i;
	u64 k;

	for (i = 0; i < sizeof(flood_buf); i++)
		flood_buf[i] = (i & 63) == 63 ? '\n' : (u8)('!' + i % 64);
	for (k = 0; k < kib; k += sizeof(flood_buf) / 1024) {
		const u8 *p = flood_buf;
		u64 n = sizeof(flood_buf);

		__asm__ __volatile__("rep outsb" : "+S"(p), "+c"(n) : "d"(COM1_THR) : "memory");
	}
	kprintf("FLOOD DONE %lu KiB\n", kib);
}

/* ------------------------------------------------------------ MMIO hammer */

#define HAMMER_WINDOW 0xd0000000ul
#define HAMMER_SIZE 0x1000u
#define HAMMER_CONFIG 0x100u
#define HAMMER_NOTIFY 0x50u

/* One pass over the window; returns the number of accesses. */
static u64 hammer_pass(u32 salt)
{
	volatile u8 *w = (volatile u8 *)HAMMER_WINDOW;
	u64 n = 0;
	u32 off;

	for (off = 0; off < HAMMER_SIZE; off++) {
		u32 v = off * 0x9e3779b1u ^ salt;

		(void)w[off];
		w[off] = (u8)v;
		n += 2;
		if (off + 2 <= HAMMER_SIZE) {
			(void)*(volatile u16 *)(w + off);
			*(volatile u16 *)(w + off) = (u16)v;
			n += 2;
		}
		if (off + 8 <= HAMMER_SIZE) {
			(void)*(volatile u64 *)(w + off);
			*(volatile u64 *)(w + off) = (u64)v << 32 | v;
			n += 2;
		}
		if (off + 4 > HAMMER_SIZE)
			continue;
		(void)*(volatile u32 *)(w + off);
		n++;
		if ((off & 3) || off >= HAMMER_CONFIG) {
			*(volatile u32 *)(w + off) = v;
			n++;
		}
	}
	/* Notifies of queues an entropy device does not have. */
	*(volatile u32 *)(w + HAMMER_NOTIFY) = 1 + salt % 0xffff;
	/* Straddling the window's end, into the next window or the gap. */
	*(volatile u32 *)(w + HAMMER_SIZE - 2) = salt;
	(void)*(volatile u64 *)(w + HAMMER_SIZE - 4);
	return n + 3;
}

static void mmio_hammer(u64 ms)
{
	u64 end = rdtsc() + ms * tsc_per_ms(), n = 0;
	u32 salt = 0;

	if (*(volatile u32 *)HAMMER_WINDOW != 0x74726976u) {
		fail("mmio-hammer", "no virtio-mmio device at 0x%lx", HAMMER_WINDOW);
		return;
	}
	do
		n += hammer_pass(salt++);
	while (rdtsc() < end);
	if (*(volatile u32 *)HAMMER_WINDOW != 0x74726976u)
		fail("mmio-hammer", "the window's magic is gone");
	kprintf("HAMMER DONE %lu accesses in %u passes\n", n, salt);
}

static bool port_skipped(u32 p)
{
	return (p >= 0x60 && p <= 0x64) ||      /* i8042: 0xfe on 0x64 resets */
	       (p >= 0x3f8 && p <= 0x3ff) ||    /* COM1: our console */
	       p == 0x92 ||                     /* fast reset (port A) */
	       (p >= 0xcf8 && p <= 0xcff);      /* 0xcf9: reset control */
}

static void poke_port(u32 p, u32 v)
{
	(void)inb((u16)p);
	(void)inw((u16)p);
	(void)inl((u16)p);
	outb((u16)p, (u8)v);
	outw((u16)p, (u16)v);
	outl((u16)p, v);
}

static void poke_mmio(u64 a)
{
	volatile u8 *p = (volatile u8 *)a;

	(void)*(volatile u8 *)p;
	(void)*(volatile u16 *)(p + 2);
	(void)*(volatile u32 *)(p + 4);
	(void)*(volatile u64 *)(p + 8);
	(void)*(volatile u32 *)(p + 1);         /* unaligned */
	*(volatile u8 *)p = 0xa5;
	*(volatile u16 *)(p + 2) = 0xa5a5;
	*(volatile u32 *)(p + 4) = 0xa5a5a5a5;
	*(volatile u64 *)(p + 8) = 0xa5a5a5a5a5a5a5a5ul;
	*(volatile u32 *)(p + 0xffd) = 0xdeadbeef;      /* straddles a page */
}

static void fuzz(void)
{
	u64 low_end = 0;
	unsigned int i, n = e820_count(), ports = 0, mmio = 0;
	u32 p;
	static const u64 addrs[] = {
		0xd0100000ul,   /* in the gap, past the virtio-mmio windows */
		0xdffff000ul,
		CRASH_MMIO_ADDR,
		0xfeb00000ul,
		0xfed00000ul,   /* HPET, not emulated */
		0xffff0000ul,   /* BIOS ROM area, nothing there */
	};

	for (p = 0; p < 0x400; p++) {
		if (port_skipped(p))
			continue;
		poke_port(p, p * 0x01010101u);
		ports++;
	}
	for (p = 0x400; p < 0x10000; p += 0x3f1) {
		if (port_skipped(p))
			continue;
		poke_port(p, 0xffffffffu);
		ports++;
	}
	/* The PICs got garbage: mask them again (interrupts stay off). */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		poke_mmio(addrs[i]);
		mmio++;
	}
	/* Just past the end of low RAM, when that is not the gap already. */
	for (i = 0; i < n; i++) {
		const struct e820_entry *e = e820_get(i);

		if (e->addr < SZ_4G && e->addr + e->size > low_end)
			low_end = e->addr + e->size;
	}
	if (low_end && low_end + 0x2000 <= MMIO_GAP_START) {
		poke_mmio(low_end + 0x10);
		mmio++;
	}
	kprintf("FUZZ DONE ports %u mmio %u\n", ports, mmio);
}

/* ------------------------------------------------------------ i8042 */

static bool kbc_wait_input_empty(void)
{
	unsigned int i;

	for (i = 0; i < 100000; i++)
		if (!(inb(0x64) & 0x02))
			return true;
	return false;
}

/* The next output byte, or -1 when none comes. */
static int kbc_read(void)
{
	unsigned int i;

	for (i = 0; i < 100000; i++)
		if (inb(0x64) & 0x01)
			return inb(0x60);
	return -1;
}

static void kbc_cmd(u8 c)
{
	kbc_wait_input_empty();
	outb(0x64, c);
}

static void kbc_data(u8 v)
{
	kbc_wait_input_empty();
	outb(0x60, v);
}

static void expect_byte(const char *name, int want)
{
	int got = kbc_read();

	if (got != want)
		fail(name, "read 0x%x, expected 0x%x", (unsigned int)got, (unsigned int)want);
	else
		pass(name);
}

static void i8042(void)
{
	unsigned int i;
	u8 st = inb(0x64);
	int ctr;

	kprintf("INFO i8042 status 0x%x\n", st);
	if (!(st & 0x04))
		fail("i8042-status", "system flag clear (status 0x%x)", st);
	for (i = 0; i < 32 && (inb(0x64) & 0x01); i++)
		(void)inb(0x60);
	if (inb(0x64) & 0x01)
		fail("i8042-drain", "output buffer does not empty");
	(void)inb(0x60);        /* reading an empty buffer must not hurt */

	kbc_cmd(0xaa);
	expect_byte("i8042-self-test", 0x55);
	kbc_cmd(0xab);
	expect_byte("i8042-kbd-test", 0x00);

	kbc_cmd(0x20);
	ctr = kbc_read();
	kprintf("INFO i8042 command byte 0x%x\n", (unsigned int)ctr);
	kbc_cmd(0x60);
	kbc_data(0x44);         /* no keyboard interrupt, system flag, translate */
	kbc_cmd(0x20);
	expect_byte("i8042-command-byte", 0x44);

	kbc_data(0xff);         /* keyboard reset: ACK, then self-test passed */
	expect_byte("i8042-kbd-reset-ack", 0xfa);
	expect_byte("i8042-kbd-reset-bat", 0xaa);
	if (inb(0x64) & 0x01)
		fail("i8042-queue", "more output than expected");

	if (fail_count())
		return;
	kprintf("I8042 PASS\n");
	kprintf("I8042 OUTPORT RESET\n");
	kbc_cmd(0xd1);
	kbc_data(0xfe);         /* output port, bit 0 (reset line) low */
	for (i = 0; i < 1000; i++)
		cpu_relax();
	fail("i8042-outport-reset", "the VM still runs after the output port reset");
}

void guest_main(void)
{
	char mode[32];

	if (cmdline_get("crash", mode, sizeof(mode))) {
		fail("crash", "no crash= on the command line");
		return;
	}
	if (!memcmp(mode, "triple", 7))
		crash_triple();
	if (!memcmp(mode, "mmio-exec", 10))
		crash_mmio_exec();
	if (!memcmp(mode, "mmio-x87", 9))
		crash_mmio_x87();
	if (!memcmp(mode, "flood", 6)) {
		flood(cmdline_num("flood_kib", 1024));
		return;
	}
	if (!memcmp(mode, "mmio-hammer", 12)) {
		mmio_hammer(cmdline_num("hammer_ms", 2000));
		return;
	}
	if (!memcmp(mode, "fuzz", 5)) {
		idt_init();
		fuzz();
		return;
	}
	if (!memcmp(mode, "i8042", 6)) {
		i8042();
		return;
	}
	fail("crash", "unknown mode '%s'", mode);
}
