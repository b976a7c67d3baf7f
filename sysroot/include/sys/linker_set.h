/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: linker sets.
 *
 * A linker set is an array of pointers that the linker assembles from
 * every object file: each entry is a pointer placed in section
 * "set_<name>", and the linker brackets the section with the symbols
 * __start_set_<name> and __stop_set_<name>.  The kernel linker walks
 * those bounds in loaded modules (sysinits, sysctls, module metadata).
 */

#ifndef _SYS_LINKER_SET_H_
#define	_SYS_LINKER_SET_H_

#include <sys/cdefs.h>

/*
 * Entries are const, except on powerpc64 where FreeBSD keeps them
 * writable; DATA_WSET entries are always writable because the kernel
 * sorts some sets (sysinits) in place.
 */
#ifdef __powerpc64__
#define	__MAKE_SET_CONST
#else
#define	__MAKE_SET_CONST	const
#endif

#define	__MAKE_SET_QV(set, sym, qv)					\
	__GLOBL(__CONCAT(__start_set_, set));				\
	__GLOBL(__CONCAT(__stop_set_, set));				\
	static void const * qv						\
	__set_##set##_sym_##sym __section("set_" #set)			\
	__aligned(sizeof(void *)) __used = &(sym)
#define	__MAKE_SET(set, sym)	__MAKE_SET_QV(set, sym, __MAKE_SET_CONST)

#define	TEXT_SET(set, sym)	__MAKE_SET(set, sym)
#define	DATA_SET(set, sym)	__MAKE_SET(set, sym)
#define	DATA_WSET(set, sym)	__MAKE_SET_QV(set, sym, )
#define	BSS_SET(set, sym)	__MAKE_SET(set, sym)
#define	ABS_SET(set, sym)	__MAKE_SET(set, sym)
#define	SET_ENTRY(set, sym)	__MAKE_SET(set, sym)

/* Declare the bounds of a set whose entries point at ptype. */
#define	SET_DECLARE(set, ptype)						\
	extern ptype __weak_symbol *__CONCAT(__start_set_, set);	\
	extern ptype __weak_symbol *__CONCAT(__stop_set_, set)

#define	SET_BEGIN(set)		(&__CONCAT(__start_set_, set))
#define	SET_LIMIT(set)		(&__CONCAT(__stop_set_, set))

/* pvar is a ptype **; *pvar is the entry. */
#define	SET_FOREACH(pvar, set)						\
	for ((pvar) = SET_BEGIN(set); (pvar) < SET_LIMIT(set); (pvar)++)
#define	SET_ITEM(set, i)	((SET_BEGIN(set))[(i)])
#define	SET_COUNT(set)		(SET_LIMIT(set) - SET_BEGIN(set))

#endif /* !_SYS_LINKER_SET_H_ */
