/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: a subset of atomic(9), built on the
 * compiler's __atomic builtins so one file serves every target.  Plain
 * operations are relaxed; _acq and _rel add acquire and release order.
 * Only int, long and pointer widths are provided, which every target
 * handles without library calls.
 */

#ifndef _MACHINE_ATOMIC_H_
#define	_MACHINE_ATOMIC_H_

#include <sys/cdefs.h>
#include <sys/types.h>

#define	__ATOMIC_OPS(name, type)					\
static __inline void							\
atomic_add_ ## name(volatile type *p, type v)				\
{									\
	(void)__atomic_fetch_add(p, v, __ATOMIC_RELAXED);		\
}									\
static __inline void							\
atomic_subtract_ ## name(volatile type *p, type v)			\
{									\
	(void)__atomic_fetch_sub(p, v, __ATOMIC_RELAXED);		\
}									\
static __inline void							\
atomic_set_ ## name(volatile type *p, type v)				\
{									\
	(void)__atomic_fetch_or(p, v, __ATOMIC_RELAXED);		\
}									\
static __inline void							\
atomic_clear_ ## name(volatile type *p, type v)				\
{									\
	(void)__atomic_fetch_and(p, ~v, __ATOMIC_RELAXED);		\
}									\
static __inline type							\
atomic_fetchadd_ ## name(volatile type *p, type v)			\
{									\
	return (__atomic_fetch_add(p, v, __ATOMIC_SEQ_CST));		\
}									\
static __inline type							\
atomic_swap_ ## name(volatile type *p, type v)				\
{									\
	return (__atomic_exchange_n(p, v, __ATOMIC_SEQ_CST));		\
}									\
/* Store v if *p == old; non-zero on success. */			\
static __inline int							\
atomic_cmpset_ ## name(volatile type *p, type old, type v)		\
{									\
	return (__atomic_compare_exchange_n(p, &old, v, 0,		\
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));			\
}									\
/* As cmpset, but on failure *oldp receives the value seen. */		\
static __inline int							\
atomic_fcmpset_ ## name(volatile type *p, type *oldp, type v)		\
{									\
	return (__atomic_compare_exchange_n(p, oldp, v, 0,		\
	    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));			\
}									\
static __inline type							\
atomic_load_acq_ ## name(const volatile type *p)			\
{									\
	return (__atomic_load_n(p, __ATOMIC_ACQUIRE));			\
}									\
static __inline void							\
atomic_store_rel_ ## name(volatile type *p, type v)			\
{									\
	__atomic_store_n(p, v, __ATOMIC_RELEASE);			\
}									\
struct __hack

__ATOMIC_OPS(int, u_int);
__ATOMIC_OPS(long, u_long);
__ATOMIC_OPS(ptr, uintptr_t);

#define	atomic_add_32		atomic_add_int
#define	atomic_subtract_32	atomic_subtract_int
#define	atomic_fetchadd_32	atomic_fetchadd_int
#define	atomic_cmpset_32	atomic_cmpset_int

/* Plain loads and stores that the compiler may neither tear nor elide. */
#define	atomic_load_int(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define	atomic_load_long(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define	atomic_load_ptr(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define	atomic_store_int(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define	atomic_store_long(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define	atomic_store_ptr(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

#define	atomic_thread_fence_acq()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define	atomic_thread_fence_rel()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define	atomic_thread_fence_acq_rel()	__atomic_thread_fence(__ATOMIC_ACQ_REL)
#define	atomic_thread_fence_seq_cst()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif /* !_MACHINE_ATOMIC_H_ */
