/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: what <sys/pcpu.h> includes once struct
 * pcpu is complete.  As in FreeBSD, curthread comes from here, not from
 * <machine/pcpu.h>, so a <sys/pcpu.h> that leaves this file out does not
 * compile.
 */

#ifndef _MACHINE_PCPU_AUX_H_
#define	_MACHINE_PCPU_AUX_H_

#ifndef _KERNEL
#error "machine/pcpu_aux.h is for the kernel"
#endif

#ifndef _SYS_PCPU_H_
#error "machine/pcpu_aux.h is included by sys/pcpu.h only"
#endif

#if defined(__amd64__) || defined(__i386__)
static __inline __pure2 struct thread *
__curthread(void)
{
	struct thread *td;

#ifdef __amd64__
	__asm("movq %%gs:0,%0" : "=r" (td));
#else
	__asm("movl %%fs:0,%0" : "=r" (td));
#endif
	return (td);
}

#else /* !x86 */

/* A thread's curthread never changes, so the read may be reused. */
static __inline __pure2 struct thread *
__curthread(void)
{
	struct thread *td;

#if defined(__aarch64__)
	__asm("ldr %0, [x18]" : "=r" (td));
#elif defined(__riscv)
	__asm("ld %0, 0(tp)" : "=r" (td));
#elif defined(__powerpc64__)
	__asm("mr %0, 13" : "=r" (td));
#elif defined(__arm__)
	__asm("mrc p15, 0, %0, c13, c0, 4" : "=r" (td));
#endif
	return (td);
}

#endif /* x86 */

#define	curthread	(__curthread())

#endif /* !_MACHINE_PCPU_AUX_H_ */
