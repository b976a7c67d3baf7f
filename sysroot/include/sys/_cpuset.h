/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the cpuset_t type, one bit per CPU.
 */

#ifndef _SYS__CPUSET_H_
#define	_SYS__CPUSET_H_

#include <sys/_types.h>
#include <sys/_bitset.h>
#include <machine/param.h>

/* The kernel sizes CPU sets by MAXCPU. */
#define	CPU_SETSIZE	MAXCPU

__BITSET_DEFINE(_cpuset, CPU_SETSIZE);
typedef struct _cpuset cpuset_t;

#endif /* !_SYS__CPUSET_H_ */
