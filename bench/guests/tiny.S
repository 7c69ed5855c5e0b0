/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmarks' tiny guest: it writes the boot marker (0x7b to port
 * 0x4f0) and resets the machine through the i8042 (0xfe to port 0x64).
 * Built in three variants:
 *   -DEXITS=N   first N writes to port 0x4f8, which no device claims;
 *   -DIDLE      marks, then halts with interrupts off (stays alive);
 *   neither     marks and resets at once.
 * The same bytes run in 32-bit protected mode (QEMU's PVH entry) and in
 * 64-bit mode (vmm-reference's ELF entry, and bench/kvm-floor's): every
 * instruction below decodes alike in both, which is why there is no
 * "dec" (a REX prefix in 64-bit mode) and why immediates are 16-bit
 * behind an operand-size prefix or 32-bit without one.
 */
	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
#ifdef EXITS
	movl	$EXITS, %ecx
	movw	$0x4f8, %dx
1:	outb	%al, %dx
	subl	$1, %ecx
	jnz	1b
#endif
	movw	$0x4f0, %dx
	movb	$0x7b, %al
	outb	%al, %dx
#ifdef IDLE
2:	cli
	hlt
	jmp	2b
#else
	movb	$0xfe, %al
	outb	%al, $0x64
3:	hlt
	jmp	3b
#endif

	/* PVH: XEN_ELFNOTE_PHYS32_ENTRY, the 32-bit entry QEMU jumps to. */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4, 4, 18
	.asciz	"Xen"
	.long	_start

	.section .note.GNU-stack, "", @progbits
