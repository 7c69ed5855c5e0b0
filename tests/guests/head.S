/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry of every test guest, for both the ELF and the bzImage form.
 *
 * Offset 0x000: the 32-bit boot protocol entry (not supported: halts).
 * Offset 0x200: the 64-bit entry (Linux startup_64 convention), reached
 * with paging on, %rsi = zero page. The image is linked at 1 MiB; when the
 * VMM put it elsewhere (bzImage kernel_load_addr), it first moves itself
 * to its link address with position-independent code, then clears .bss,
 * switches to its own stack and calls head_c(rsi, rsp, rflags, load_addr).
 */
	.section .head.text, "ax"
	.code64
	.globl _start32
_start32:
	hlt
	jmp	_start32

	.org	0x200
	.globl	startup_64
startup_64:
	mov	%rsi, %r8		/* zero page */
	mov	%rsp, %r9		/* entry stack pointer */
	pushfq
	pop	%r10			/* entry flags */
	cli
	cld
	lea	_start32(%rip), %r11	/* runtime base */
	mov	$_start_image, %rdi	/* link base */
	cmp	%rdi, %r11
	je	.Lrelocated_jump

	/* memmove(link base, runtime base, image size), 8 bytes at a time. */
	mov	$_image_end, %rcx
	sub	%rdi, %rcx
	shr	$3, %rcx
	jz	.Lrelocated_jump
	mov	%r11, %rsi
	cmp	%rsi, %rdi
	jb	.Lforward
	lea	-8(%rsi,%rcx,8), %rsi
	lea	-8(%rdi,%rcx,8), %rdi
.Lbackward:
	mov	(%rsi), %rax
	mov	%rax, (%rdi)
	sub	$8, %rsi
	sub	$8, %rdi
	dec	%rcx
	jnz	.Lbackward
	jmp	.Lrelocated_jump
.Lforward:
	mov	(%rsi), %rax
	mov	%rax, (%rdi)
	add	$8, %rsi
	add	$8, %rdi
	dec	%rcx
	jnz	.Lforward

.Lrelocated_jump:
	mov	$.Lrelocated, %rax
	jmp	*%rax

.Lrelocated:
	/* Clear .bss (8-byte aligned by the linker script). */
	mov	$_bss_start, %rdi
	mov	$_bss_end, %rcx
	sub	%rdi, %rcx
	shr	$3, %rcx
	jz	2f
	xor	%eax, %eax
1:	mov	%rax, (%rdi)
	add	$8, %rdi
	dec	%rcx
	jnz	1b
2:
	mov	$boot_stack_top, %rsp
	xor	%ebp, %ebp
	mov	%r8, %rdi
	mov	%r9, %rsi
	mov	%r10, %rdx
	mov	%r11, %rcx
	call	head_c
3:	cli
	hlt
	jmp	3b

	.section .bss
	.balign	16
boot_stack:
	.skip	16384
	.globl	boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
