/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the mutex structure alone, so that
 * other structures can embed one without the full interface.
 */

#ifndef _SYS__MUTEX_H_
#define	_SYS__MUTEX_H_

#include <sys/_lock.h>

struct mtx {
	struct lock_object	lock_object;	/* common lock properties */
	volatile uintptr_t	mtx_lock;	/* owner and flags */
};

#endif /* !_SYS__MUTEX_H_ */
