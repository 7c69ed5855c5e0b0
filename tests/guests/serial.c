// SPDX-License-Identifier: Apache-2.0
/*
 * serial-in guest: COM1 receive interrupts through the IOAPIC.
 *
 * Routes IOAPIC pin 4 (ISA IRQ 4, COM1) edge-triggered to vector 0x24 on
 * APIC ID 0, software-enables the local APIC, masks the 8259 PICs, enables
 * the UART's received-data interrupt (IER bit 0, MCR OUT2), then idles in
 * sti; hlt. The handler drains the receiver (LSR bit 0), echoes every byte,
 * and EOIs. Bytes that arrived before interrupts were on are picked up by
 * one poll after enabling. On the terminator 'q' it prints
 *   "SERIAL RX <bytes> sum <weighted sum> irqs <n> polled <m>"
 * (the sum, modulo 2^32, of (i + 1) * byte[i] over the bytes before 'q')
 * and "SERIAL PASS", then resets.
 */
#include "guest.h"

#define SERIAL_VECTOR   0x24
#define COM1_PIN        4
#define TERMINATOR      'q'

static volatile u32 rx_bytes, rx_sum, irqs, polled, done;

static void drain(void)
{
	unsigned int spin = 0;

	while (!done && (inb(COM1 + 5) & 0x01) && spin++ < 4096) {
		u8 c = inb(COM1);

		if (c == TERMINATOR) {
			done = 1;
			break;
		}
		con_putc((char)c);
		rx_bytes++;
		rx_sum += rx_bytes * c;
	}
}

static void serial_irq(unsigned int vector)
{
	irqs++;
	(void)inb(COM1 + 2);    /* IIR: acknowledge */
	drain();
	lapic_write(LAPIC_EOI, 0);
}

void guest_main(void)
{
	u32 iir;

	idt_init();
	idt_set_handler(SERIAL_VECTOR, serial_irq);

	/* Legacy PICs off: everything goes through the IOAPIC. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, 1u << 16);         /* masked */
	lapic_write(LAPIC_SVR, 0x100 | 0xff);           /* enabled, spurious 0xff */

	/* Redirection entry: edge, active high, physical, fixed, APIC ID 0. */
	ioapic_write(0x10 + 2 * COM1_PIN + 1, 0u << 24);
	ioapic_write(0x10 + 2 * COM1_PIN, SERIAL_VECTOR);
	if ((ioapic_read(0x10 + 2 * COM1_PIN) & 0x1ffff) != SERIAL_VECTOR)
		fail("ioapic-redir", "pin 4 reads back 0x%x", ioapic_read(0x10 + 2 * COM1_PIN));

	outb(COM1 + 4, 0x0b);   /* MCR: DTR | RTS | OUT2 */
	outb(COM1 + 1, 0x01);   /* IER: received data available */
	iir = inb(COM1 + 2);
	kprintf("INFO ier 0x%x iir 0x%x lsr 0x%x\n", inb(COM1 + 1), iir, inb(COM1 + 5));
	if (inb(COM1 + 1) != 0x01)
		fail("uart-ier", "IER reads 0x%x, expected 0x01", inb(COM1 + 1));

	/* Bytes that came in before the interrupt was on: poll once. */
	cli();
	if (inb(COM1 + 5) & 0x01) {
		polled++;
		drain();
	}
	kprintf("SERIAL READY\n");
	while (!done) {
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		/* The handler stops after a bounded number of bytes: an edge
		 * triggered line does not fire again for what it left. */
		if (!done && (inb(COM1 + 5) & 0x01)) {
			polled++;
			drain();
		}
	}

	kprintf("\nSERIAL RX %u sum %u irqs %u polled %u\n", rx_bytes, rx_sum, irqs, polled);
	if (!fail_count())
		kprintf("SERIAL PASS\n");
}
