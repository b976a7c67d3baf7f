/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the kernel malloc(9) interface.
 */

#ifndef _SYS_MALLOC_H_
#define	_SYS_MALLOC_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/kernel.h>

/* Allocation flags. */
#define	M_NOWAIT	0x0001		/* may fail rather than sleep */
#define	M_WAITOK	0x0002		/* may sleep, never fails */
#define	M_NORECLAIM	0x0080		/* do not reclaim memory to satisfy */
#define	M_ZERO		0x0100		/* return zeroed memory */
#define	M_NOVM		0x0200		/* do not ask the VM for pages */
#define	M_USE_RESERVE	0x0400		/* may dip into reserved pages */
#define	M_NODUMP	0x0800		/* keep out of crash dumps */
#define	M_EXEC		0x4000		/* memory may be executed */

/*
 * Bumped by FreeBSD whenever struct malloc_type changes; malloc_init()
 * panics on a type of another version.
 */
#if __FreeBSD_version >= 1500000
#define	M_VERSION	2024073001
#else
#define	M_VERSION	2020110501
#endif

struct malloc_type_stats;

/* Bookkeeping the kernel fills in; modules only reserve the space. */
struct malloc_type_internal {
	uint32_t	mti_probes[2];		/* DTrace probe ids */
	u_char		mti_zone;
	struct malloc_type_stats *mti_stats;	/* per-CPU statistics */
	u_long		mti_spare[8];
};

/* A named accounting bucket for allocations, see MALLOC_DEFINE. */
struct malloc_type {
	struct malloc_type	*ks_next;	/* kernel's list of types */
	u_long			ks_version;	/* M_VERSION */
	const char		*ks_shortdesc;	/* vmstat -m name */
	struct malloc_type_internal ks_mti;
};

/*
 * Define a malloc type and register it with the allocator when the
 * module loads (SI_SUB_KMEM) and unregister it when it unloads.
 */
#define	MALLOC_DEFINE(type, shortdesc, longdesc)			\
	struct malloc_type type[1] = {					\
		{							\
			.ks_next = NULL,				\
			.ks_version = M_VERSION,			\
			.ks_shortdesc = (shortdesc),			\
		}							\
	};								\
	SYSINIT(type##_init, SI_SUB_KMEM, SI_ORDER_THIRD, malloc_init,	\
	    type);							\
	SYSUNINIT(type##_uninit, SI_SUB_KMEM, SI_ORDER_ANY,		\
	    malloc_uninit, type)

#define	MALLOC_DECLARE(type)						\
	extern struct malloc_type type[1]

MALLOC_DECLARE(M_CACHE);
MALLOC_DECLARE(M_DEVBUF);
MALLOC_DECLARE(M_TEMP);

void	*malloc(size_t, struct malloc_type *, int) __malloc_like
	    __result_use_check __alloc_size(1);
void	*realloc(void *, size_t, struct malloc_type *, int)
	    __result_use_check __alloc_size(2);
void	free(void *, struct malloc_type *);
void	zfree(void *, struct malloc_type *);
void	malloc_init(void *);
void	malloc_uninit(void *);

#endif /* !_SYS_MALLOC_H_ */
