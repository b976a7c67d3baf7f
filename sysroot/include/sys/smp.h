/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: which CPUs exist.
 */

#ifndef _SYS_SMP_H_
#define	_SYS_SMP_H_

#include <sys/types.h>
#include <sys/cpuset.h>

extern int	mp_ncpus;	/* number of CPUs present */
extern u_int	mp_maxid;	/* highest CPU id in use */
extern cpuset_t	all_cpus;	/* ids of the CPUs present */

/* CPU ids may have holes, so walk 0..mp_maxid and skip absent ones. */
#define	CPU_ABSENT(i)	(!CPU_ISSET((i), &all_cpus))
#define	CPU_FOREACH(i)							\
	for ((i) = 0; (i) <= mp_maxid; (i)++)				\
		if (!CPU_ABSENT((i)))

#endif /* !_SYS_SMP_H_ */
