/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: offsetof for kernel code, which has no
 * <stddef.h>.
 */

#ifndef _SYS_STDDEF_H_
#define	_SYS_STDDEF_H_

#include <sys/cdefs.h>

#ifndef offsetof
#define	offsetof(type, field)	__offsetof(type, field)
#endif

#endif /* !_SYS_STDDEF_H_ */
