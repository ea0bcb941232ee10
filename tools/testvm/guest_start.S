/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of the freestanding test guest. The VMM starts us in 32-bit
 * protected mode with flat segments but no GDT in memory: install one so
 * that iret can reload CS, then an IDT, then call guest_main(). Extra vCPUs
 * start here too with their number in %ebx, and go to racer_main(id).
 */
	.section .text.start, "ax"
	.code32
	.globl _start
_start:
	cli
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movl	$0x10, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	testl	%ebx, %ebx
	jnz	racer
	movl	$0x00f00000, %esp
	/* clear .bss */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	call	guest_main
	/* guest_main reports its exit through a port; never returns */
2:	hlt
	jmp	2b

/* A racing vCPU: its own 16 KiB stack below vCPU 0's; no .bss clearing. */
racer:
	movl	%ebx, %eax
	shll	$14, %eax
	movl	$0x00e00000, %esp
	subl	%eax, %esp
	pushl	%ebx
	call	racer_main
3:	hlt
	jmp	3b

/* Interrupt stubs: save the caller-saved registers, call C, iret. */
	.globl irq_stub_ac97
irq_stub_ac97:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	cld
	call	ac97_irq
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

	.globl irq_stub_unexpected
irq_stub_unexpected:
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	cld
	call	unexpected_irq
	popl	%edx
	popl	%ecx
	popl	%eax
	iret

/*
 * Exceptions: none is expected, so each one ends the vCPU with exit code
 * 0x100 + vector, which says what went wrong instead of a triple fault.
 */
	.macro	EXC n
exc_\n:
	movl	$(0x100 + \n), %eax
	movl	$0x51c, %edx		/* TV_PORT_EXIT */
	outl	%eax, %dx
1:	hlt
	jmp	1b
	.endm
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC	\n
	.endr

	.section .rodata
	.align	4
	.globl	exc_table
exc_table:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long	exc_\n
	.endr

	.align	8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code, flat, 32-bit */
	.quad	0x00cf92000000ffff	/* 0x10: data, flat */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.section .note.GNU-stack, "", @progbits
