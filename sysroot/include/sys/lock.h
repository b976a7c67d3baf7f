/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: shared lock definitions.
 */

#ifndef _SYS_LOCK_H_
#define	_SYS_LOCK_H_

#include <sys/_lock.h>

/*
 * Modules are built with lock debugging hooks on, so that one binary
 * works with debug and non-debug kernels: every lock operation is an
 * out-of-line call that passes the caller's file and line.
 */
#if defined(KLD_MODULE) || defined(WITNESS) || defined(INVARIANTS) || \
    defined(LOCK_PROFILING) || defined(KTR)
#define	LOCK_DEBUG	1
#else
#define	LOCK_DEBUG	0
#endif

#if LOCK_DEBUG > 0
#define	LOCK_FILE	__FILE__
#define	LOCK_LINE	__LINE__
#else
#define	LOCK_FILE	NULL
#define	LOCK_LINE	0
#endif

/* Options shared by the lock-specific *_init() flag sets. */
#define	LOP_QUIET	0x00000002	/* don't log locking operations */
#define	LOP_DUPOK	0x00000010	/* don't check for duplicate acquires */

/* What lock assertions may check. */
#define	LA_UNLOCKED	0x00000000
#define	LA_LOCKED	0x00000001
#define	LA_SLOCKED	0x00000002
#define	LA_XLOCKED	0x00000004
#define	LA_RECURSED	0x00000008
#define	LA_NOTRECURSED	0x00000010

#define	LO_INITIALIZED	0x00010000	/* lock has been initialised */
#define	lock_initialized(lo)	((lo)->lo_flags & LO_INITIALIZED)

#endif /* !_SYS_LOCK_H_ */
