/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: mutex(9).
 *
 * Every operation calls the kernel's out-of-line entry point that takes
 * the address of the lock word; that is the path FreeBSD modules use.
 */

#ifndef _SYS_MUTEX_H_
#define	_SYS_MUTEX_H_

#include <sys/_lock.h>
#include <sys/_mutex.h>
#include <sys/lock.h>

#define	MTX_DEF		0x00000000	/* sleep mutex */
#define	MTX_SPIN	0x00000001	/* spin mutex, disables interrupts */
#define	MTX_RECURSE	0x00000004	/* may be acquired recursively */
#define	MTX_NOWITNESS	0x00000008	/* skip WITNESS checks */
#define	MTX_NOPROFILE	0x00000020	/* skip lock profiling */
#define	MTX_NEW		0x00000040	/* memory is not zeroed yet */
#define	MTX_QUIET	LOP_QUIET
#define	MTX_DUPOK	LOP_DUPOK

#define	MTX_NETWORK_LOCK	"network driver"

void	_mtx_init(volatile uintptr_t *c, const char *name, const char *type,
	    int opts);
void	_mtx_destroy(volatile uintptr_t *c);
void	__mtx_lock_flags(volatile uintptr_t *c, int opts, const char *file,
	    int line);
void	__mtx_unlock_flags(volatile uintptr_t *c, int opts, const char *file,
	    int line);
void	__mtx_lock_spin_flags(volatile uintptr_t *c, int opts,
	    const char *file, int line);
void	__mtx_unlock_spin_flags(volatile uintptr_t *c, int opts,
	    const char *file, int line);
int	_mtx_trylock_flags_(volatile uintptr_t *c, int opts, const char *file,
	    int line);
#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
void	__mtx_assert(const volatile uintptr_t *c, int what, const char *file,
	    int line);
#endif

#define	mtx_init(m, name, type, opts)					\
	_mtx_init(&(m)->mtx_lock, (name), (type), (opts))
#define	mtx_destroy(m)		_mtx_destroy(&(m)->mtx_lock)
#define	mtx_lock_flags(m, opts)						\
	__mtx_lock_flags(&(m)->mtx_lock, (opts), LOCK_FILE, LOCK_LINE)
#define	mtx_unlock_flags(m, opts)					\
	__mtx_unlock_flags(&(m)->mtx_lock, (opts), LOCK_FILE, LOCK_LINE)
#define	mtx_lock_spin_flags(m, opts)					\
	__mtx_lock_spin_flags(&(m)->mtx_lock, (opts), LOCK_FILE, LOCK_LINE)
#define	mtx_unlock_spin_flags(m, opts)					\
	__mtx_unlock_spin_flags(&(m)->mtx_lock, (opts), LOCK_FILE, LOCK_LINE)
#define	mtx_trylock_flags(m, opts)					\
	_mtx_trylock_flags_(&(m)->mtx_lock, (opts), LOCK_FILE, LOCK_LINE)

#define	mtx_lock(m)		mtx_lock_flags((m), 0)
#define	mtx_unlock(m)		mtx_unlock_flags((m), 0)
#define	mtx_lock_spin(m)	mtx_lock_spin_flags((m), 0)
#define	mtx_unlock_spin(m)	mtx_unlock_spin_flags((m), 0)
#define	mtx_trylock(m)		mtx_trylock_flags((m), 0)
#define	mtx_name(m)		((m)->lock_object.lo_name)

#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
#define	MA_OWNED	LA_XLOCKED
#define	MA_NOTOWNED	LA_UNLOCKED
#define	MA_RECURSED	LA_RECURSED
#define	MA_NOTRECURSED	LA_NOTRECURSED
#endif

#ifdef INVARIANTS
#define	mtx_assert(m, what)						\
	__mtx_assert(&(m)->mtx_lock, (what), __FILE__, __LINE__)
#else
#define	mtx_assert(m, what)	do { } while (0)
#endif

#endif /* !_SYS_MUTEX_H_ */
