/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: machine-independent underscore types.
 */

#ifndef _SYS__TYPES_H_
#define	_SYS__TYPES_H_

#include <sys/cdefs.h>
#include <machine/_types.h>

typedef	__int64_t	__off_t;
typedef	__int64_t	__sbintime_t;
typedef	__int32_t	__pid_t;
typedef	__int32_t	__lwpid_t;
typedef	__uint32_t	__uid_t;
typedef	__uint32_t	__gid_t;
typedef	__int64_t	__id_t;

#endif /* !_SYS__TYPES_H_ */
