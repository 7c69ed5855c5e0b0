// SPDX-License-Identifier: Apache-2.0
/*
 * smp guest: the BSP finds the APs in the MP table and starts each with
 * INIT-SIPI-SIPI through the local APIC ICR. Every AP runs the real-mode
 * trampoline (trampoline.S) up to long mode, prints "AP <id> up" and halts.
 * The BSP waits, with a time limit, and prints "SMP PASS <cpus>" or
 * "SMP FAIL ...", then resets. Optional: expect_cpus=N on the command line.
 */
#include "guest.h"
#include "trampoline.h"

extern char trampoline_start[], trampoline_end[];
extern char tr_cr3[], tr_efer[], tr_stacks[], tr_entry[], tr_counter[];
void idt_load_ap(void);

#define TR(sym)         phys(TRAMP_BASE + (u64)((char *)(sym) - trampoline_start))
#define AP_WAIT_MS      5000

static u8 ap_stacks[AP_MAX_STACKS << AP_STACK_SHIFT] __attribute__((aligned(4096)));
static volatile u32 ap_count;
static volatile u32 ap_seen[256];

static void ap_main(void)
{
	u32 id = lapic_read(LAPIC_ID) >> 24;
	u32 cid = cpu_apic_id();
	u32 a, b, c, d;

	idt_load_ap();
	cpuid(1, 0, &a, &b, &c, &d);
	lock_console();
	kprintf("AP %u up\n", id);
	if (cid != id)
		fail("ap-apic-id", "AP with LAPIC ID %u reports CPUID APIC ID %u", id, cid);
	if (!(c & (1u << 31)))
		fail("ap-cpuid", "AP %u: CPUID.1:ECX hypervisor bit clear", id);
	unlock_console();
	__atomic_fetch_add(&ap_seen[id & 255], 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
	halt_forever();
}

static bool icr_wait_idle(void)
{
	unsigned int i;

	for (i = 0; i < 100000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & (1u << 12)))
			return true;
		cpu_relax();
	}
	return false;
}

static void send_ipi(u32 apic_id, u32 icr_lo, const char *what)
{
	u32 esr;

	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	if (!icr_wait_idle())
		fail("ipi", "%s to APIC ID %u: delivery status stays pending", what, apic_id);
	lapic_write(LAPIC_ESR, 0);
	esr = lapic_read(LAPIC_ESR);
	if (esr)
		kprintf("INFO %s to APIC ID %u: ESR 0x%x\n", what, apic_id, esr);
}

static bool wait_for(u32 count, u64 ms)
{
	u64 start = rdtsc(), limit = tsc_per_ms() * ms;

	while (ap_count < count) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	return true;
}

void guest_main(void)
{
	struct mp_info mp;
	char err[96];
	u64 want = cmdline_num("expect_cpus", 0);
	u32 me = lapic_read(LAPIC_ID) >> 24;
	size_t tsize = (size_t)(trampoline_end - trampoline_start);
	unsigned int i, started = 0, bad = 0;
	u32 lo, hi;

	idt_init();
	kprintf("SMP guest started, BSP APIC ID %u\n", me);
	if (mp_parse(&mp, err, sizeof(err))) {
		fail("smp-mptable", "%s", err);
		kprintf("SMP FAIL mptable\n");
		return;
	}
	if (want && mp.ncpus != want) {
		fail("smp-cpus", "MP table lists %u CPUs, expected %lu", mp.ncpus, want);
		bad++;
	}
	if (mp.ncpus > AP_MAX_STACKS) {
		fail("smp-cpus", "%u CPUs: this guest starts at most %u", mp.ncpus,
		     AP_MAX_STACKS);
		kprintf("SMP FAIL too many cpus\n");
		return;
	}
	if (!e820_is_ram(TRAMP_BASE, 0x1000) || tsize > 0x1000) {
		fail("smp-trampoline", "page 0x%x is not RAM or trampoline too big (%lu)",
		     TRAMP_BASE, (u64)tsize);
		kprintf("SMP FAIL trampoline\n");
		return;
	}

	memcpy(phys(TRAMP_BASE), trampoline_start, tsize);
	*(volatile u64 *)TR(tr_cr3) = boot_state.cr3;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
	*(volatile u64 *)TR(tr_efer) = (((u64)hi << 32) | lo) & ~0x400ul;  /* not LMA */
	*(volatile u64 *)TR(tr_stacks) = (u64)ap_stacks;
	*(volatile u64 *)TR(tr_entry) = (u64)ap_main;
	*(volatile u32 *)TR(tr_counter) = 0;
	barrier();

	/* Software-enable the local APIC, spurious vector 0xff. */
	lapic_write(LAPIC_SVR, 0x1ff);

	for (i = 0; i < mp.ncpus; i++) {
		u32 id = mp.apic_id[i];

		if (id == me)
			continue;
		started++;
		send_ipi(id, 0x00004500, "INIT");               /* INIT, assert */
		delay_us(10000);
		send_ipi(id, 0x00004600 | (TRAMP_BASE >> 12), "SIPI");
		delay_us(200);
		if (ap_count < started)
			send_ipi(id, 0x00004600 | (TRAMP_BASE >> 12), "SIPI");
		if (!wait_for(started, AP_WAIT_MS)) {
			fail("smp-ap-start", "APIC ID %u did not come up within %u ms", id,
			     AP_WAIT_MS);
			bad++;
			/* Keep the count consistent for the next AP. */
			started = ap_count;
		}
	}
	if (!wait_for(started, AP_WAIT_MS))
		bad++;

	for (i = 0; i < mp.ncpus; i++) {
		u32 id = mp.apic_id[i];

		if (id != me && ap_seen[id] != 1) {
			fail("smp-ap-once", "APIC ID %u checked in %u times", id, ap_seen[id]);
			bad++;
		}
	}
	if (*(volatile u32 *)TR(tr_counter) != ap_count) {
		fail("smp-trampoline", "%u APs ran the trampoline, %u checked in",
		     *(volatile u32 *)TR(tr_counter), ap_count);
		bad++;
	}
	if (bad || fail_count())
		kprintf("SMP FAIL %u of %u APs up\n", ap_count, started);
	else
		kprintf("SMP PASS %u\n", ap_count + 1);
}
