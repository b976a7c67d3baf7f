/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the reader/writer lock structure.
 */

#ifndef _SYS__RWLOCK_H_
#define	_SYS__RWLOCK_H_

#include <sys/_lock.h>

struct rwlock {
	struct lock_object	lock_object;	/* common lock properties */
	volatile uintptr_t	rw_lock;	/* owner or reader count */
};

#endif /* !_SYS__RWLOCK_H_ */
