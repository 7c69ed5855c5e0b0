/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real-mode part of the test guests' bzImage: the boot sector and a
 * setup header (Linux boot protocol 2.15, Documentation/arch/x86/boot.rst).
 * The setup code itself only halts: the guests are entered at the 64-bit
 * entry point (load address + 0x200).
 */
	.section .bzsetup, "a"
	.code16
	.globl	bzsetup_start
bzsetup_start:
	cli
1:	hlt
	jmp	1b

	.org	0x1f1
setup_sects:		.byte	1		/* setup = sectors 0-1 */
root_flags:		.word	0
syssize:		.long	_syssize	/* protected-mode part, 16-byte units */
ram_size:		.word	0
vid_mode:		.word	0xffff		/* NORMAL_VGA */
root_dev:		.word	0
boot_flag:		.word	0xaa55

	.org	0x200
	jmp	setup_halt			/* short jump: 0xeb, offset */
header:			.ascii	"HdrS"
version:		.word	0x020f
realmode_swtch:		.long	0
start_sys_seg:		.word	0x1000
kernel_version:		.word	guest_version - 0x200
type_of_loader:		.byte	0
loadflags:		.byte	0x01		/* LOADED_HIGH */
setup_move_size:	.word	0x8000
code32_start:		.long	0x100000
ramdisk_image:		.long	0
ramdisk_size:		.long	0
bootsect_kludge:	.long	0
heap_end_ptr:		.word	0
ext_loader_ver:		.byte	0
ext_loader_type:	.byte	0
cmd_line_ptr:		.long	0
initrd_addr_max:	.long	0x7fffffff
kernel_alignment:	.long	0x200000
relocatable_kernel:	.byte	1		/* the guest moves itself to 1 MiB */
min_alignment:		.byte	12		/* 4 KiB */
xloadflags:		.word	0x0001		/* XLF_KERNEL_64 */
cmdline_size:		.long	4095
hardware_subarch:	.long	0
hardware_subarch_data:	.quad	0
payload_offset:		.long	0
payload_length:		.long	0
setup_data:		.quad	0
pref_address:		.quad	0x100000
init_size:		.long	_init_size
handover_offset:	.long	0
kernel_info_offset:	.long	0

setup_halt:
	cli
1:	hlt
	jmp	1b

guest_version:
	.asciz	"vmm-reference test guest"

	.org	0x400

	.section .note.GNU-stack, "", @progbits
