/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the shared/exclusive lock structure.
 */

#ifndef _SYS__SX_H_
#define	_SYS__SX_H_

#include <sys/_lock.h>

struct sx {
	struct lock_object	lock_object;	/* common lock properties */
	volatile uintptr_t	sx_lock;	/* owner or sharer count */
};

#endif /* !_SYS__SX_H_ */
