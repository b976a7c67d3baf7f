/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: per-architecture constants.
 */

#ifndef _MACHINE_PARAM_H_
#define	_MACHINE_PARAM_H_

#if defined(__amd64__)
#define	MACHINE		"amd64"
#define	MACHINE_ARCH	"amd64"
#elif defined(__i386__)
#define	MACHINE		"i386"
#define	MACHINE_ARCH	"i386"
#elif defined(__aarch64__)
#define	MACHINE		"arm64"
#define	MACHINE_ARCH	"aarch64"
#elif defined(__arm__)
#define	MACHINE		"arm"
#define	MACHINE_ARCH	"armv7"
#elif defined(__powerpc64__)
#define	MACHINE		"powerpc"
#define	MACHINE_ARCH	"powerpc64"
#elif defined(__riscv)
#define	MACHINE		"riscv"
#define	MACHINE_ARCH	"riscv64"
#else
#error "vnetgen sysroot: unsupported target architecture"
#endif

/* Modules must cope with the largest CPU count a kernel may be built for. */
#ifndef MAXCPU
#define	MAXCPU		256
#endif

/* POWER caches use 128-byte lines; the other targets use 64. */
#ifdef __powerpc64__
#define	CACHE_LINE_SHIFT	7
#else
#define	CACHE_LINE_SHIFT	6
#endif
#define	CACHE_LINE_SIZE		(1 << CACHE_LINE_SHIFT)

/* 4 KiB base pages everywhere we build for. */
#define	PAGE_SHIFT	12
#define	PAGE_SIZE	(1 << PAGE_SHIFT)
#define	PAGE_MASK	(PAGE_SIZE - 1)

#endif /* !_MACHINE_PARAM_H_ */
