/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the public kernel types.
 */

#ifndef _SYS_TYPES_H_
#define	_SYS_TYPES_H_

#include <sys/cdefs.h>
#include <sys/_types.h>
#include <sys/_null.h>

typedef	__int8_t	int8_t;
typedef	__uint8_t	uint8_t;
typedef	__int16_t	int16_t;
typedef	__uint16_t	uint16_t;
typedef	__int32_t	int32_t;
typedef	__uint32_t	uint32_t;
typedef	__int64_t	int64_t;
typedef	__uint64_t	uint64_t;

/* BSD spellings of the unsigned types. */
typedef	__uint8_t	u_int8_t;
typedef	__uint16_t	u_int16_t;
typedef	__uint32_t	u_int32_t;
typedef	__uint64_t	u_int64_t;
typedef	unsigned char	u_char;
typedef	unsigned short	u_short;
typedef	unsigned int	u_int;
typedef	unsigned long	u_long;

typedef	__intptr_t	intptr_t;
typedef	__uintptr_t	uintptr_t;
typedef	__intmax_t	intmax_t;
typedef	__uintmax_t	uintmax_t;
typedef	__ptrdiff_t	ptrdiff_t;
typedef	__size_t	size_t;
typedef	__ssize_t	ssize_t;
typedef	__off_t		off_t;
typedef	__time_t	time_t;
typedef	__sbintime_t	sbintime_t;
typedef	__pid_t		pid_t;
typedef	__lwpid_t	lwpid_t;
typedef	__uid_t		uid_t;
typedef	__gid_t		gid_t;
typedef	__id_t		id_t;

typedef	char		*caddr_t;
typedef	const char	*c_caddr_t;
typedef	__register_t	register_t;
typedef	__u_register_t	u_register_t;
typedef	__vm_offset_t	vm_offset_t;
typedef	__vm_size_t	vm_size_t;
typedef	__vm_paddr_t	vm_paddr_t;

/* The kernel uses C's own boolean rather than <stdbool.h>. */
#if defined(_KERNEL) && !defined(__bool_true_false_are_defined) && \
    !defined(__cplusplus)
#define	__bool_true_false_are_defined	1
#define	false	0
#define	true	1
typedef	_Bool	bool;
#endif

#endif /* !_SYS_TYPES_H_ */
