/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: basic types for the six supported
 * targets (amd64, i386, arm64, armv7, powerpc64, riscv64).  The compiler's
 * own predefined type macros give the right widths for ILP32 and LP64.
 */

#ifndef _MACHINE__TYPES_H_
#define	_MACHINE__TYPES_H_

#if !defined(__amd64__) && !defined(__i386__) && !defined(__aarch64__) && \
    !defined(__arm__) && !defined(__powerpc64__) && !defined(__riscv)
#error "vnetgen sysroot: unsupported target architecture"
#endif

typedef	__INT8_TYPE__		__int8_t;
typedef	__UINT8_TYPE__		__uint8_t;
typedef	__INT16_TYPE__		__int16_t;
typedef	__UINT16_TYPE__		__uint16_t;
typedef	__INT32_TYPE__		__int32_t;
typedef	__UINT32_TYPE__		__uint32_t;
typedef	__INT64_TYPE__		__int64_t;
typedef	__UINT64_TYPE__		__uint64_t;

typedef	__INTPTR_TYPE__		__intptr_t;
typedef	__UINTPTR_TYPE__	__uintptr_t;
typedef	__INTMAX_TYPE__		__intmax_t;
typedef	__UINTMAX_TYPE__	__uintmax_t;
typedef	__PTRDIFF_TYPE__	__ptrdiff_t;
typedef	__SIZE_TYPE__		__size_t;
typedef	__PTRDIFF_TYPE__	__ssize_t;

/* A register is as wide as a pointer on every supported target. */
typedef	__intptr_t		__register_t;
typedef	__uintptr_t		__u_register_t;
typedef	__uintptr_t		__vm_offset_t;
typedef	__uintptr_t		__vm_size_t;

/* i386 runs PAE by default, so physical addresses are 64 bits there. */
#if defined(__i386__) || __SIZEOF_POINTER__ == 8
typedef	__uint64_t		__vm_paddr_t;
#else
typedef	__uint32_t		__vm_paddr_t;
#endif

/* Only i386 kept a 32-bit time_t. */
#ifdef __i386__
typedef	__int32_t		__time_t;
#else
typedef	__int64_t		__time_t;
#endif

#endif /* !_MACHINE__TYPES_H_ */
