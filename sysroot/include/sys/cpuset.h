/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the CPU set operations modules use.
 */

#ifndef _SYS_CPUSET_H_
#define	_SYS_CPUSET_H_

#include <sys/_cpuset.h>

#define	CPU_ISSET(n, p)							\
	(((p)->__bits[__bitset_word((n))] & __bitset_mask((n))) != 0)
#define	CPU_SET(n, p) do {						\
	(p)->__bits[__bitset_word((n))] |= __bitset_mask((n));		\
} while (0)
#define	CPU_CLR(n, p) do {						\
	(p)->__bits[__bitset_word((n))] &= ~__bitset_mask((n));		\
} while (0)
#define	CPU_ZERO(p) do {						\
	__size_t __cz_i;						\
									\
	for (__cz_i = 0; __cz_i < __bitset_words(CPU_SETSIZE); __cz_i++)\
		(p)->__bits[__cz_i] = 0;				\
} while (0)

#endif /* !_SYS_CPUSET_H_ */
