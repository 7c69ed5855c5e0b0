// SPDX-License-Identifier: Apache-2.0
/*
 * Freestanding support code shared by the test guests: COM1 console, a tiny
 * printf, PASS/FAIL accounting, command line and E820 access, the MP table
 * parser, local APIC / IOAPIC helpers, an IDT, TSC delays and the i8042 reset.
 */
#include "guest.h"

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

struct boot_state boot_state;

/* ------------------------------------------------------------ strings */

void *memset(void *s, int c, size_t n)
{
	volatile u8 *p = s;

	while (n--)
		*p++ = (u8)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile u8 *dp = d;
	const u8 *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

const char *str_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!memcmp(hay, needle, n))
			return hay;
	return n ? NULL : hay;
}

/* ------------------------------------------------------------ console */

static volatile u32 console_lock;
static volatile u32 console_owner = ~0u;
static unsigned int console_depth;

static u32 this_cpu(void)
{
	u32 a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

/* Recursive lock: a fault while printing can still print. */
void lock_console(void)
{
	u32 me = this_cpu();

	if (console_owner == me) {
		console_depth++;
		return;
	}
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	console_owner = me;
	console_depth = 1;
}

void unlock_console(void)
{
	if (--console_depth)
		return;
	console_owner = ~0u;
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

/* Line settings only: the FIFOs are left alone, input may already be
 * waiting in the receiver. */
void serial_init(void)
{
	outb(COM1 + 1, 0x00);   /* IER: no interrupts */
	outb(COM1 + 3, 0x80);   /* LCR: DLAB */
	outb(COM1 + 0, 0x01);   /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1 */
	outb(COM1 + 4, 0x03);   /* DTR | RTS */
}

void con_putc(char c)
{
	unsigned int spin;

	/* Wait for THRE, but never forever: output still goes out. */
	for (spin = 0; spin < 100000; spin++)
		if (inb(COM1 + 5) & 0x20)
			break;
	outb(COM1, (u8)c);
}

void con_puts(const char *s)
{
	lock_console();
	while (*s)
		con_putc(*s++);
	unlock_console();
}

static void put_unsigned(u64 v, unsigned int base, unsigned int width)
{
	char buf[24];
	unsigned int n = 0;

	do {
		unsigned int d = (unsigned int)(v % base);

		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width && n < sizeof(buf))
		buf[n++] = '0';
	while (n)
		con_putc(buf[--n]);
}

void con_hex(u64 v)
{
	lock_console();
	con_putc('0');
	con_putc('x');
	put_unsigned(v, 16, 0);
	unlock_console();
}

void con_dec(u64 v)
{
	lock_console();
	put_unsigned(v, 10, 0);
	unlock_console();
}

static void vkprintf(const char *fmt, va_list ap)
{
	lock_console();
	for (; *fmt; fmt++) {
		unsigned int lng = 0, width = 0;

		if (*fmt != '%') {
			con_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		while (*fmt == 'l') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			while (*s)
				con_putc(*s++);
			break;
		}
		case 'c':
			con_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			s64 v = lng ? va_arg(ap, long) : va_arg(ap, int);

			if (v < 0) {
				con_putc('-');
				v = -v;
			}
			put_unsigned((u64)v, 10, width);
			break;
		}
		case 'u':
			put_unsigned(lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				     10, width);
			break;
		case 'x':
			put_unsigned(lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				     16, width);
			break;
		case '%':
			con_putc('%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			con_putc('%');
			con_putc(*fmt);
			break;
		}
	}
	unlock_console();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ results */

static volatile unsigned int failures;

void pass(const char *name)
{
	kprintf("PASS %s\n", name);
}

void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	lock_console();
	__atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
	kprintf("FAIL %s: ", name);
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	con_putc('\n');
	unlock_console();
}

unsigned int fail_count(void)
{
	return failures;
}

void halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt" ::: "memory");
}

/* The i8042 "pulse reset line" command: vmm-reference exits 0 on it. */
void reset(void)
{
	unsigned int i;

	for (i = 0; i < 3; i++)
		outb(I8042_CMD, 0xfe);
	kprintf("FAIL reset: the i8042 reset did not stop the VM\n");
	halt_forever();
}

void finish(void)
{
	/* Booted and done: the VMM's boot marker (logged at info level). */
	outb(BOOT_MARKER_PORT, BOOT_MARKER_MAGIC);
	if (failures)
		kprintf("RESULT FAIL %u\n", failures);
	else
		kprintf("RESULT PASS\n");
	reset();
}

/* ------------------------------------------------------------ entry */

void head_c(u64 rsi, u64 rsp, u64 rflags, u64 load_addr);
void head_c(u64 rsi, u64 rsp, u64 rflags, u64 load_addr)
{
	u64 v;
	u16 s;
	u32 lo, hi;

	boot_state.rsi = rsi;
	boot_state.rsp = rsp;
	boot_state.rflags = rflags;
	boot_state.load_addr = load_addr;
	__asm__ __volatile__("mov %%cr0, %0" : "=r"(v));
	boot_state.cr0 = v;
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	boot_state.cr3 = v;
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(v));
	boot_state.cr4 = v;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
	boot_state.efer = ((u64)hi << 32) | lo;
	__asm__ __volatile__("mov %%cs, %0" : "=r"(s));
	boot_state.cs = s;
	__asm__ __volatile__("mov %%ds, %0" : "=r"(s));
	boot_state.ds = s;
	__asm__ __volatile__("mov %%es, %0" : "=r"(s));
	boot_state.es = s;
	__asm__ __volatile__("mov %%ss, %0" : "=r"(s));
	boot_state.ss = s;

	serial_init();
	guest_main();
	finish();
}

/* ------------------------------------------------------------ zero page */

const u8 *zero_page(void)
{
	return (const u8 *)boot_state.rsi;
}

static u32 zp_u32(unsigned int off)
{
	const u8 *zp = zero_page();

	return (u32)zp[off] | (u32)zp[off + 1] << 8 | (u32)zp[off + 2] << 16 |
	       (u32)zp[off + 3] << 24;
}

const char *cmdline(void)
{
	u64 p;

	if (!zero_page())
		return "";
	p = zp_u32(BP_CMD_LINE_PTR) | (u64)zp_u32(BP_EXT_CMD_LINE_PTR) << 32;
	if (!p || p >= SZ_4G)
		return "";
	return (const char *)p;
}

/* Finds key=value at a word start; returns a pointer to the value. */
static const char *cmdline_find(const char *key)
{
	const char *s = cmdline();
	size_t klen = strlen(key);
	bool quoted = false;
	bool word_start = true;

	for (; *s; s++) {
		if (word_start && !quoted && !memcmp(s, key, klen) && s[klen] == '=')
			return s + klen + 1;
		if (*s == '"')
			quoted = !quoted;
		word_start = (*s == ' ' && !quoted);
	}
	return NULL;
}

int cmdline_get(const char *key, char *buf, size_t len)
{
	const char *v = cmdline_find(key);
	bool quoted = false;
	size_t n = 0;

	if (!v)
		return -1;
	for (; *v; v++) {
		if (*v == '"') {
			quoted = !quoted;
			continue;
		}
		if (*v == ' ' && !quoted)
			break;
		if (n + 1 < len)
			buf[n++] = *v;
	}
	if (len)
		buf[n] = '\0';
	return 0;
}

bool cmdline_has(const char *key)
{
	return cmdline_find(key) != NULL;
}

int parse_num(const char *s, u64 *v)
{
	u64 r = 0;
	unsigned int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return -1;
		r = r * base + d;
	}
	*v = r;
	return 0;
}

u64 cmdline_num(const char *key, u64 def)
{
	char buf[32];
	u64 v;

	if (cmdline_get(key, buf, sizeof(buf)) || parse_num(buf, &v))
		return def;
	return v;
}

/* ------------------------------------------------------------ E820 */

unsigned int e820_count(void)
{
	unsigned int n;

	if (!zero_page())
		return 0;
	n = zero_page()[BP_E820_ENTRIES];
	return n > E820_MAX_ENTRIES ? E820_MAX_ENTRIES : n;
}

const struct e820_entry *e820_get(unsigned int i)
{
	return (const struct e820_entry *)(zero_page() + BP_E820_TABLE) + i;
}

bool e820_is_ram(u64 addr, u64 size)
{
	unsigned int i, n = e820_count();
	u64 end = addr + size;
	bool progress = true;

	/* Entries may be adjacent: extend the covered prefix until done. */
	while (addr < end && progress) {
		progress = false;
		for (i = 0; i < n; i++) {
			const struct e820_entry *e = e820_get(i);

			if (e->type == E820_RAM && e->addr <= addr && addr < e->addr + e->size) {
				addr = e->addr + e->size;
				progress = true;
			}
		}
	}
	return addr >= end;
}

/* ------------------------------------------------------------ MP table */

static u8 checksum(const u8 *p, size_t n)
{
	u8 s = 0;

	while (n--)
		s = (u8)(s + *p++);
	return s;
}

static u64 mp_scan(u64 start, u64 len)
{
	u64 a;

	for (a = start; a + 16 <= start + len; a += 16) {
		const u8 *p = (const u8 *)a;

		if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && p[8] == 1 &&
		    checksum(p, 16) == 0)
			return a;
	}
	return 0;
}

static void set_err(char *err, size_t errlen, const char *msg, u64 v)
{
	size_t n = 0;
	char tmp[20];
	unsigned int t = 0;

	while (*msg && n + 1 < errlen)
		err[n++] = *msg++;
	if (v != ~0ul) {
		if (n + 1 < errlen)
			err[n++] = ' ';
		if (n + 1 < errlen)
			err[n++] = '0';
		if (n + 1 < errlen)
			err[n++] = 'x';
		do {
			unsigned int d = (unsigned int)(v & 15);

			tmp[t++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
			v >>= 4;
		} while (v);
		while (t && n + 1 < errlen)
			err[n++] = tmp[--t];
	}
	if (errlen)
		err[n] = '\0';
}

static u16 rd16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

int mp_parse(struct mp_info *mp, char *err, size_t errlen)
{
	const u8 *fp, *cfg, *e, *end;
	u64 ebda = (u64)(*(volatile u16 *)phys(0x40e)) << 4;
	unsigned int i, count, len;

	memset(mp, 0, sizeof(*mp));
	mp->isa_irq4_pin = -1;
	mp->fp_addr = mp_scan(0, 0x400);
	if (!mp->fp_addr)
		mp->fp_addr = mp_scan(EBDA_START, 0x400);
	if (!mp->fp_addr && ebda >= 0x400 && ebda < 0xa0000)
		mp->fp_addr = mp_scan(ebda, 0x400);
	if (!mp->fp_addr)
		mp->fp_addr = mp_scan(0xf0000, 0x10000);
	if (!mp->fp_addr) {
		set_err(err, errlen, "no _MP_ floating pointer with a valid checksum", ~0ul);
		return -1;
	}
	fp = (const u8 *)mp->fp_addr;
	if (fp[9] != 1 && fp[9] != 4) {
		set_err(err, errlen, "floating pointer spec revision", fp[9]);
		return -1;
	}
	if (fp[11] != 0) {
		set_err(err, errlen, "floating pointer names a default configuration", fp[11]);
		return -1;
	}
	mp->cfg_addr = rd32(fp + 4);
	if (mp->cfg_addr < 0x400 || mp->cfg_addr >= HIMEM_START - 44) {
		set_err(err, errlen, "configuration table pointer out of range", mp->cfg_addr);
		return -1;
	}
	cfg = (const u8 *)mp->cfg_addr;
	if (memcmp(cfg, "PCMP", 4)) {
		set_err(err, errlen, "no PCMP signature at", mp->cfg_addr);
		return -1;
	}
	len = rd16(cfg + 4);
	if (len < 44 || mp->cfg_addr + len > HIMEM_START) {
		set_err(err, errlen, "bad base table length", len);
		return -1;
	}
	if (checksum(cfg, len) != 0) {
		set_err(err, errlen, "base table checksum is wrong, sum", checksum(cfg, len));
		return -1;
	}
	if (cfg[6] != 1 && cfg[6] != 4) {
		set_err(err, errlen, "table spec revision", cfg[6]);
		return -1;
	}
	if (rd16(cfg + 40)) {
		const u8 *ext = cfg + len;
		u8 s = (u8)(checksum(ext, rd16(cfg + 40)) + cfg[42]);

		if (s != 0) {
			set_err(err, errlen, "extended table checksum is wrong, sum", s);
			return -1;
		}
	} else if (cfg[42] != 0) {
		set_err(err, errlen, "extended checksum without an extended table", cfg[42]);
		return -1;
	}
	mp->lapic_addr = rd32(cfg + 36);
	count = rd16(cfg + 34);
	e = cfg + 44;
	end = cfg + len;
	for (i = 0; i < count; i++) {
		unsigned int elen = e[0] == 0 ? 20 : 8;

		if (e >= end || e[0] > 4) {
			set_err(err, errlen, "bad entry type at index", i);
			return -1;
		}
		if (e + elen > end) {
			set_err(err, errlen, "entry runs past the table at index", i);
			return -1;
		}
		switch (e[0]) {
		case 0:
			if (mp->ncpus >= MP_MAX_CPUS) {
				set_err(err, errlen, "too many processor entries", mp->ncpus);
				return -1;
			}
			mp->apic_id[mp->ncpus] = e[1];
			mp->cpu_flags[mp->ncpus] = e[3];
			mp->ncpus++;
			break;
		case 1:
			if (!memcmp(e + 2, "ISA", 3))
				mp->isa_bus = true;
			break;
		case 2:
			if (mp->nioapic++ == 0) {
				mp->ioapic_id = e[1];
				mp->ioapic_addr = rd32(e + 4);
			}
			break;
		case 3:
			/* type, irqtype, irqflag(2), srcbus, srcbusirq, dstapic, dstirq */
			if (e[1] == 0 && e[5] == 4 && mp->isa_bus)
				mp->isa_irq4_pin = e[7];
			break;
		default:
			break;
		}
		e += elen;
	}
	if (e != end) {
		set_err(err, errlen, "entries do not fill the base table, bytes left",
			(u64)(end - e));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ APICs */

u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC_BASE, reg);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC_BASE, reg);
	mmio_write32(IOAPIC_BASE + 0x10, v);
}

u32 cpu_apic_id(void)
{
	return this_cpu();
}

/* ------------------------------------------------------------ time */

u64 tsc_per_ms(void)
{
	static u64 cached;
	u32 a, b, c, d;

	if (cached)
		return cached;
	/* Hypervisor timing leaf (kHz) where offered, else CPUID 0x16 (MHz). */
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a >= 0x40000010) {
		cpuid(0x40000010, 0, &a, &b, &c, &d);
		if (a)
			cached = a;
	}
	if (!cached) {
		cpuid(0, 0, &a, &b, &c, &d);
		if (a >= 0x16) {
			cpuid(0x16, 0, &a, &b, &c, &d);
			if (a)
				cached = (u64)a * 1000;
		}
	}
	if (!cached)
		cached = 3000000;   /* assume 3 GHz */
	return cached;
}

void delay_us(u64 us)
{
	u64 start = rdtsc();
	u64 ticks = tsc_per_ms() * us / 1000;

	while (rdtsc() - start < ticks)
		cpu_relax();
}

/* ------------------------------------------------------------ IDT */

struct idt_gate {
	u16 off0;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off1;
	u32 off2;
	u32 zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler_t handlers[256];
extern char isr_stubs[];

static void idt_load(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) d = { sizeof(idt) - 1, (u64)idt };

	__asm__ __volatile__("lidt %0" : : "m"(d));
}

void idt_init(void)
{
	unsigned int v;
	u16 cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	for (v = 0; v < 256; v++) {
		u64 a = (u64)isr_stubs + v * 16;

		idt[v].off0 = (u16)a;
		idt[v].sel = cs;
		idt[v].ist = 0;
		idt[v].type = 0x8e;     /* present, DPL 0, 64-bit interrupt gate */
		idt[v].off1 = (u16)(a >> 16);
		idt[v].off2 = (u32)(a >> 32);
		idt[v].zero = 0;
	}
	idt_load();
}

/* APs load the BSP's IDT. */
void idt_load_ap(void);
void idt_load_ap(void)
{
	idt_load();
}

void idt_set_handler(unsigned int vector, irq_handler_t h)
{
	if (vector < 256)
		handlers[vector] = h;
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned int v = (unsigned int)f->vector;
	u64 cr2;

	if (v < 256 && handlers[v]) {
		handlers[v]((unsigned int)v);
		return;
	}
	if (v == 0xff)          /* spurious LAPIC interrupt: no EOI */
		return;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	lock_console();
	kprintf("FAIL exception: vector %u error 0x%lx rip 0x%lx cs 0x%lx rflags 0x%lx "
		"rsp 0x%lx cr2 0x%lx cpu %u\n", v, f->error, f->rip, f->cs, f->rflags,
		f->rsp, cr2, cpu_apic_id());
	unlock_console();
	__atomic_fetch_add(&failures, 1, __ATOMIC_SEQ_CST);
	finish();
}
