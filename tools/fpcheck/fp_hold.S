/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Load every vector/mask register from a block, make @yields sched_yield()
 * system calls with the registers live, then store them all back. A kernel
 * that switches to another thread in those calls and restores only part of
 * this thread's FP state hands back some of the other thread's values.
 *
 *   void fp_hold_sse(const void *in, void *out, long yields);     xmm0-15, MXCSR
 *   void fp_hold_avx(const void *in, void *out, long yields);     ymm0-15, MXCSR
 *   void fp_hold_avx512(const void *in, void *out, long yields);  zmm0-31, k0-7, MXCSR
 *
 * Layout of a block: the vector registers at 64-byte strides from 0, MXCSR
 * at 2048, the mask registers (8 bytes each) from 2056. Only rax, rcx and
 * r11 are used besides the arguments: all three are clobbered by syscall,
 * and none is callee-saved.
 */
#define MXCSR_AT	2048
#define KREGS_AT	2056
#define SYS_sched_yield	24

	.text

.macro yield_loop
1:	mov	$SYS_sched_yield, %eax
	syscall
	dec	%rdx
	jnz	1b
.endm

#define X16 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
#define Z32 X16,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
#define K8 0,1,2,3,4,5,6,7

/* fp_hold_sse and fp_hold_avx: 16 registers, @load is the move to use. */
.macro hold16 name, load, reg
	.globl	\name
	.type	\name, @function
\name:
	ldmxcsr	MXCSR_AT(%rdi)
	.irp n, X16
	\load	(\n * 64)(%rdi), %\reg\n
	.endr
	yield_loop
	.irp n, X16
	\load	%\reg\n, (\n * 64)(%rsi)
	.endr
	stmxcsr	MXCSR_AT(%rsi)
.endm

	hold16	fp_hold_sse, movdqu, xmm
	ret
	.size	fp_hold_sse, . - fp_hold_sse

	hold16	fp_hold_avx, vmovdqu, ymm
	vzeroupper
	ret
	.size	fp_hold_avx, . - fp_hold_avx

	.globl	fp_hold_avx512
	.type	fp_hold_avx512, @function
fp_hold_avx512:
	ldmxcsr	MXCSR_AT(%rdi)
	.irp n, Z32
	vmovdqu64 (\n * 64)(%rdi), %zmm\n
	.endr
	.irp n, K8
	kmovw	(KREGS_AT + \n * 8)(%rdi), %k\n
	.endr
	yield_loop
	.irp n, Z32
	vmovdqu64 %zmm\n, (\n * 64)(%rsi)
	.endr
	.irp n, K8
	kmovw	%k\n, (KREGS_AT + \n * 8)(%rsi)
	.endr
	stmxcsr	MXCSR_AT(%rsi)
	vzeroupper
	ret
	.size	fp_hold_avx512, . - fp_hold_avx512

	.section .note.GNU-stack, "", @progbits
