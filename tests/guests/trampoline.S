/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AP start-up code. The BSP copies [trampoline_start, trampoline_end) to
 * TRAMP_BASE (a page below 1 MiB), fills in the tr_* parameters and sends
 * INIT-SIPI-SIPI with vector TRAMP_BASE >> 12. The AP starts in real mode at
 * TRAMP_BASE:0, goes to 32-bit protected mode with the GDT below, enables
 * PAE, loads the BSP's page tables (tr_cr3), sets EFER.LME, turns paging on
 * and jumps to 64-bit code, takes a stack and calls tr_entry.
 */
#include "trampoline.h"

#define T(x)	(TRAMP_BASE + (x) - trampoline_start)

	.section .rodata.trampoline, "a"
	.balign	16
	.globl	trampoline_start
trampoline_start:
	.code16
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	tr_gdt_desc - trampoline_start
	mov	%cr0, %eax
	or	$1, %eax			/* PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $T(tr_pm32)

	.code32
tr_pm32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%cr4, %eax
	or	$0x20, %eax			/* PAE */
	mov	%eax, %cr4
	mov	T(tr_cr3), %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx		/* EFER */
	mov	T(tr_efer), %eax
	mov	T(tr_efer) + 4, %edx
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax		/* PG */
	mov	%eax, %cr0
	ljmp	$0x18, $T(tr_lm64)

	.code64
tr_lm64:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	/* Stack number = arrival order, from 1. */
	mov	$1, %eax
	lock xaddl %eax, T(tr_counter)
	inc	%eax
	cmp	$AP_MAX_STACKS, %eax
	ja	2f
	shl	$AP_STACK_SHIFT, %rax
	add	T(tr_stacks), %rax
	mov	%rax, %rsp
	xor	%ebp, %ebp
	mov	T(tr_entry), %rax
	call	*%rax
2:	cli
	hlt
	jmp	2b

	.balign	8
tr_gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
	.quad	0x00af9a000000ffff		/* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_desc:
	.word	tr_gdt_end - tr_gdt - 1
	.long	T(tr_gdt)

	.balign	8
	.globl	tr_cr3, tr_efer, tr_stacks, tr_entry, tr_counter
tr_cr3:		.quad	0
tr_efer:	.quad	0
tr_stacks:	.quad	0		/* base: stack n is [base + (n-1)*size, base + n*size) */
tr_entry:	.quad	0
tr_counter:	.long	0
	.balign	16
	.globl	trampoline_end
trampoline_end:

	.section .note.GNU-stack, "", @progbits
