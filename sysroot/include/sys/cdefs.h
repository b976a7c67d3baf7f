/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: compiler helper macros.
 * Written for vnetgen, not taken from FreeBSD; the names and meanings
 * follow FreeBSD 14 so that kernel-module sources build unchanged.
 */

#ifndef _SYS_CDEFS_H_
#define	_SYS_CDEFS_H_

#ifdef __cplusplus
#define	__BEGIN_DECLS	extern "C" {
#define	__END_DECLS	}
#else
#define	__BEGIN_DECLS
#define	__END_DECLS
#endif

/* Token pasting and stringification; the X form expands its argument. */
#define	__CONCAT1(x, y)	x ## y
#define	__CONCAT(x, y)	__CONCAT1(x, y)
#define	__STRING(x)	#x
#define	__XSTRING(x)	__STRING(x)

/* Attributes, spelled the way FreeBSD sources expect to use them. */
#define	__unused	__attribute__((__unused__))
#define	__used		__attribute__((__used__))
#define	__packed	__attribute__((__packed__))
#define	__aligned(x)	__attribute__((__aligned__(x)))
#define	__section(x)	__attribute__((__section__(x)))
#define	__weak_symbol	__attribute__((__weak__))
#define	__dead2		__attribute__((__noreturn__))
#define	__pure2		__attribute__((__const__))
#define	__pure		__attribute__((__pure__))
#define	__noinline	__attribute__((__noinline__))
#define	__always_inline	__attribute__((__always_inline__))
#define	__malloc_like	__attribute__((__malloc__))
#define	__result_use_check	__attribute__((__warn_unused_result__))
#define	__alloc_size(x)	__attribute__((__alloc_size__(x)))
#define	__nonnull(x)	__attribute__((__nonnull__(x)))
#define	__nosanitizeaddress	__attribute__((__no_sanitize__("address")))
#define	__exported	__attribute__((__visibility__("default")))
#define	__hidden	__attribute__((__visibility__("hidden")))

/*
 * The kernel printf understands %b and %D; clang checks those when the
 * format kind is freebsd_kprintf (FreeBSD's kern.mk gets the same effect
 * by redefining __printf__ on the command line).
 */
#ifdef _KERNEL
#define	__printflike(fmtarg, firstvararg)				\
	__attribute__((__format__(__freebsd_kprintf__, fmtarg, firstvararg)))
#else
#define	__printflike(fmtarg, firstvararg)				\
	__attribute__((__format__(__printf__, fmtarg, firstvararg)))
#endif

#define	__predict_true(exp)	__builtin_expect((exp), 1)
#define	__predict_false(exp)	__builtin_expect((exp), 0)

#define	__offsetof(type, field)	__builtin_offsetof(type, field)

/* Emit an assembler directive naming sym global (or weak). */
#define	__GLOBL1(sym)	__asm__(".globl " #sym)
#define	__GLOBL(sym)	__GLOBL1(sym)
#define	__WEAK1(sym)	__asm__(".weak " #sym)
#define	__WEAK(sym)	__WEAK1(sym)

/* Keep the compiler from moving memory accesses across this point. */
#define	__compiler_membar()	__asm __volatile(" " : : : "memory")

/* Drop qualifiers by a detour through an integer; -Wcast-qual stays quiet. */
#define	__DECONST(type, var)	((type)(__uintptr_t)(const void *)(var))
#define	__DEVOLATILE(type, var)	((type)(__uintptr_t)(volatile void *)(var))
#define	__DEQUALIFY(type, var)						\
	((type)(__uintptr_t)(const volatile void *)(var))

/* From a pointer to member m, get back the enclosing s. */
#define	__containerof(x, s, m) __extension__ ({				\
	const volatile __typeof(((s *)0)->m) *__cp = (x);		\
	__DEQUALIFY(s *, (const volatile char *)__cp - __offsetof(s, m));\
})

#define	__FBSDID(s)	struct __hack

#endif /* !_SYS_CDEFS_H_ */
