/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: sx(9) sleepable shared/exclusive locks.
 */

#ifndef _SYS_SX_H_
#define	_SYS_SX_H_

#include <sys/_lock.h>
#include <sys/_sx.h>
#include <sys/lock.h>

/* Options for sx_init_flags(). */
#define	SX_DUPOK		0x01
#define	SX_NOPROFILE		0x02
#define	SX_NOWITNESS		0x04
#define	SX_QUIET		0x08
#define	SX_NOADAPTIVE		0x10
#define	SX_RECURSE		0x20
#define	SX_NEW			0x40

/* Option for the lock calls: let a signal interrupt the sleep. */
#define	SX_INTERRUPTIBLE	0x40

void	sx_init_flags(struct sx *sx, const char *description, int opts);
void	sx_destroy(struct sx *sx);
int	sx_try_slock_(struct sx *sx, const char *file, int line);
int	sx_try_xlock_(struct sx *sx, const char *file, int line);
int	_sx_slock(struct sx *sx, int opts, const char *file, int line);
int	_sx_xlock(struct sx *sx, int opts, const char *file, int line);
void	_sx_sunlock(struct sx *sx, const char *file, int line);
void	_sx_xunlock(struct sx *sx, const char *file, int line);
#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
void	_sx_assert(const struct sx *sx, int what, const char *file, int line);
#endif

#define	sx_init(sx, desc)	sx_init_flags((sx), (desc), 0)
#define	sx_slock(sx)		(void)_sx_slock((sx), 0, LOCK_FILE, LOCK_LINE)
#define	sx_xlock(sx)		(void)_sx_xlock((sx), 0, LOCK_FILE, LOCK_LINE)
#define	sx_slock_sig(sx)						\
	_sx_slock((sx), SX_INTERRUPTIBLE, LOCK_FILE, LOCK_LINE)
#define	sx_xlock_sig(sx)						\
	_sx_xlock((sx), SX_INTERRUPTIBLE, LOCK_FILE, LOCK_LINE)
#define	sx_sunlock(sx)		_sx_sunlock((sx), LOCK_FILE, LOCK_LINE)
#define	sx_xunlock(sx)		_sx_xunlock((sx), LOCK_FILE, LOCK_LINE)
#define	sx_try_slock(sx)	sx_try_slock_((sx), LOCK_FILE, LOCK_LINE)
#define	sx_try_xlock(sx)	sx_try_xlock_((sx), LOCK_FILE, LOCK_LINE)

#if defined(INVARIANTS) || defined(INVARIANT_SUPPORT)
#define	SA_LOCKED	LA_LOCKED
#define	SA_SLOCKED	LA_SLOCKED
#define	SA_XLOCKED	LA_XLOCKED
#define	SA_UNLOCKED	LA_UNLOCKED
#define	SA_RECURSED	LA_RECURSED
#define	SA_NOTRECURSED	LA_NOTRECURSED
#endif

#ifdef INVARIANTS
#define	sx_assert(sx, what)						\
	_sx_assert((sx), (what), __FILE__, __LINE__)
#else
#define	sx_assert(sx, what)	do { } while (0)
#endif

#endif /* !_SYS_SX_H_ */
