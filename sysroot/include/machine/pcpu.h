/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: per-CPU data access.
 *
 * The generated <sys/pcpu.h> includes this file before it completes
 * struct pcpu, and ends struct pcpu with "PCPU_MD_FIELDS;".  Hence
 * everything here that needs struct pcpu's layout is a macro, expanded
 * only where it is used.  __curthread() needs no layout: pc_curthread
 * is the first member of struct pcpu (OFFSETOF_CURTHREAD is 0) on the
 * targets that read it through the per-CPU base.
 *
 * How each target finds its per-CPU data (as FreeBSD does):
 *	amd64		%gs segment base; curthread at %gs:0
 *	i386		%fs segment base; curthread at %fs:0
 *	arm64		register x18 holds &pcpu; curthread at [x18]
 *	riscv64		register tp holds &pcpu; curthread at 0(tp)
 *	powerpc64	SPRG0 holds &pcpu; r13 holds curthread
 *	armv7		TPIDRPRW holds curthread; &pcpu is pcpup[cpu id]
 */

#ifndef _MACHINE_PCPU_H_
#define	_MACHINE_PCPU_H_

#include <sys/cdefs.h>
#include <sys/types.h>

struct pcpu;
struct pmap;
struct thread;

#define	OFFSETOF_CURTHREAD	0

/*
 * Machine-dependent tail of struct pcpu: a few named members and padding.
 * Note that the last member carries no ';', the includer supplies it.
 */
#if defined(__amd64__)
/*
 * x86: FreeBSD's first MD member is a cache-line monitor buffer aligned to
 * 128 bytes, and struct pcpu is a page: pc_prvspace at FreeBSD's offset
 * (384 on amd64, 256 on i386, in 13.2 and 15.1).
 */
#define	PCPU_MD_FIELDS							\
	char		pc_monitorbuf[128] __aligned(128);		\
	struct pcpu	*pc_prvspace;	/* self-reference */		\
	struct pmap	*pc_curpmap;					\
	char		__pc_md_pad[3696]
#elif defined(__i386__)
#define	PCPU_MD_FIELDS							\
	char		pc_monitorbuf[128] __aligned(128);		\
	struct pcpu	*pc_prvspace;	/* self-reference */		\
	struct pmap	*pc_curpmap;					\
	char		__pc_md_pad[3832]
#elif defined(__aarch64__)
#define	PCPU_MD_FIELDS							\
	u_int		pc_acpi_id;	/* ACPI CPU id */		\
	u_int		pc_midr;	/* MIDR value */		\
	uint64_t	pc_clock;					\
	struct pmap	*pc_curpmap;					\
	uint64_t	pc_mpidr;	/* MPIDR value */		\
	char		__pc_md_pad[216]
#elif defined(__arm__)
#define	PCPU_MD_FIELDS							\
	u_int		pc_vfpsid;					\
	u_int		pc_mpidr;	/* MPIDR value */		\
	struct pmap	*pc_curpmap;					\
	char		__pc_md_pad[244]
#elif defined(__powerpc64__)
#define	PCPU_MD_FIELDS							\
	int		pc_inside_intr;					\
	struct pmap	*pc_curpmap;					\
	uintptr_t	pc_hwref;					\
	int		pc_bsp;						\
	volatile int	pc_awake;					\
	char		__pc_md_pad[224]
#elif defined(__riscv)
#define	PCPU_MD_FIELDS							\
	struct pmap	*pc_curpmap;					\
	uint32_t	pc_pending_ipis; /* IPIs pending */		\
	uint32_t	pc_hart;	/* hart id */			\
	char		__pc_md_pad[240]
#else
#error "vnetgen sysroot: unsupported target architecture"
#endif

#ifdef _KERNEL

#define	__pcpu_offset(name)	__offsetof(struct pcpu, name)
#define	__pcpu_type(name)	__typeof(((struct pcpu *)0)->name)

#if defined(__amd64__) || defined(__i386__)

/*
 * x86 reaches the current CPU's struct pcpu through a segment register,
 * so an access is a single instruction that cannot be split by
 * migration to another CPU.  clang's __seg_gs/__seg_fs address spaces
 * make the compiler emit exactly that segment-relative access.
 */
#ifdef __amd64__
#define	__PCPU_SEG		__seg_gs
#else
#define	__PCPU_SEG		__seg_fs
#endif

/* The member's lvalue, addressed relative to the segment base. */
#define	__PCPU_LVAL(name)						\
	(*(volatile __pcpu_type(name) __PCPU_SEG *)__pcpu_offset(name))

#define	PCPU_GET(member)	(__PCPU_LVAL(pc_ ## member))
#define	PCPU_SET(member, val)	(__PCPU_LVAL(pc_ ## member) = (val))
#define	PCPU_ADD(member, val)	(__PCPU_LVAL(pc_ ## member) += (val))
#define	PCPU_INC(member)	PCPU_ADD(member, 1)
/* A normal pointer needs the linear address: pc_prvspace gives it. */
#define	get_pcpu()		(PCPU_GET(prvspace))
#define	PCPU_PTR(member)	(&get_pcpu()->pc_ ## member)

#else /* !x86 */

#if defined(__aarch64__)
static __inline struct pcpu *
__pcpu_base(void)
{
	struct pcpu *pc;

	__asm __volatile("mov %0, x18" : "=&r" (pc));
	return (pc);
}
#define	get_pcpu()		(__pcpu_base())

#elif defined(__riscv)
static __inline struct pcpu *
__pcpu_base(void)
{
	struct pcpu *pc;

	__asm __volatile("mv %0, tp" : "=&r" (pc));
	return (pc);
}
#define	get_pcpu()		(__pcpu_base())

#elif defined(__powerpc64__)
static __inline struct pcpu *
__pcpu_base(void)
{
	struct pcpu *pc;

	__asm __volatile("mfsprg %0, 0" : "=r" (pc));
	return (pc);
}
#define	get_pcpu()		(__pcpu_base())

#elif defined(__arm__)
/*
 * The per-CPU areas form an array; index it by the low bits of MPIDR
 * (the CPU number within the cluster).  A macro, as it needs
 * sizeof(struct pcpu).
 */
extern struct pcpu	*pcpup;
#define	__PCPU_CPU_MASK		0xf
#define	get_pcpu() __extension__ ({					\
	u_int __mpidr;							\
									\
	__asm __volatile("mrc p15, 0, %0, c0, c0, 5" : "=r" (__mpidr));	\
	(pcpup + (__mpidr & __PCPU_CPU_MASK));				\
})
#endif

#define	PCPU_GET(member)	(get_pcpu()->pc_ ## member)
#define	PCPU_SET(member, val)	(get_pcpu()->pc_ ## member = (val))
#define	PCPU_ADD(member, val)	(get_pcpu()->pc_ ## member += (val))
#define	PCPU_INC(member)	PCPU_ADD(member, 1)
#define	PCPU_PTR(member)	(&get_pcpu()->pc_ ## member)

#endif /* x86 */

#endif /* _KERNEL */

#endif /* !_MACHINE_PCPU_H_ */
