/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: rwlock(9).
 *
 * The kernel functions take the address of the lock word (a "cookie")
 * rather than the structure; the macros below hand it over, which also
 * makes passing anything that is not a struct rwlock a compile error.
 */

#ifndef _SYS_RWLOCK_H_
#define	_SYS_RWLOCK_H_

#include <sys/_lock.h>
#include <sys/_rwlock.h>
#include <sys/lock.h>

/* Options for rw_init_flags(). */
#define	RW_DUPOK	0x01
#define	RW_NOPROFILE	0x02
#define	RW_NOWITNESS	0x04
#define	RW_QUIET	0x08
#define	RW_RECURSE	0x10
#define	RW_NEW		0x20

void	_rw_init_flags(volatile uintptr_t *c, const char *name, int opts);
void	_rw_destroy(volatile uintptr_t *c);
int	_rw_wowned(const volatile uintptr_t *c);
void	_rw_wlock_cookie(volatile uintptr_t *c, const char *file, int line);
int	__rw_try_wlock(volatile uintptr_t *c, const char *file, int line);
void	_rw_wunlock_cookie(volatile uintptr_t *c, const char *file, int line);
void	__rw_rlock(volatile uintptr_t *c, const char *file, int line);
int	__rw_try_rlock(volatile uintptr_t *c, const char *file, int line);
void	_rw_runlock_cookie(volatile uintptr_t *c, const char *file, int line);
#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
void	__rw_assert(const volatile uintptr_t *c, int what, const char *file,
	    int line);
#endif

#define	rw_init(rw, name)	_rw_init_flags(&(rw)->rw_lock, (name), 0)
#define	rw_init_flags(rw, name, opts)					\
	_rw_init_flags(&(rw)->rw_lock, (name), (opts))
#define	rw_destroy(rw)		_rw_destroy(&(rw)->rw_lock)
#define	rw_wowned(rw)		_rw_wowned(&(rw)->rw_lock)
#define	rw_wlock(rw)							\
	_rw_wlock_cookie(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_wunlock(rw)							\
	_rw_wunlock_cookie(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_try_wlock(rw)						\
	__rw_try_wlock(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_rlock(rw)							\
	__rw_rlock(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_runlock(rw)							\
	_rw_runlock_cookie(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_try_rlock(rw)						\
	__rw_try_rlock(&(rw)->rw_lock, LOCK_FILE, LOCK_LINE)
#define	rw_unlock(rw) do {						\
	if (rw_wowned((rw)))						\
		rw_wunlock((rw));					\
	else								\
		rw_runlock((rw));					\
} while (0)

#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
#define	RA_LOCKED	LA_LOCKED
#define	RA_RLOCKED	LA_SLOCKED
#define	RA_WLOCKED	LA_XLOCKED
#define	RA_UNLOCKED	LA_UNLOCKED
#define	RA_RECURSED	LA_RECURSED
#define	RA_NOTRECURSED	LA_NOTRECURSED
#endif

#ifdef INVARIANTS
#define	rw_assert(rw, what)						\
	__rw_assert(&(rw)->rw_lock, (what), LOCK_FILE, LOCK_LINE)
#else
#define	rw_assert(rw, what)	do { } while (0)
#endif

#endif /* !_SYS_RWLOCK_H_ */
