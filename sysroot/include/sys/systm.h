/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: core kernel services (console output,
 * panics, assertions, memory copying, critical sections).
 */

#ifndef _SYS_SYSTM_H_
#define	_SYS_SYSTM_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <sys/libkern.h>
#include <sys/stddef.h>

int	printf(const char *, ...) __printflike(1, 2);
int	snprintf(char *, size_t, const char *, ...) __printflike(3, 4);
void	panic(const char *, ...) __dead2 __printflike(1, 2);
void	kassert_panic(const char *, ...) __printflike(1, 2);

/*
 * KASSERT(exp, ("fmt", args...)): the message is a parenthesised
 * argument list handed straight to kassert_panic, as in FreeBSD.  Only
 * INVARIANTS kernels evaluate the expression.
 */
#ifdef INVARIANTS
#define	KASSERT(exp, msg) do {						\
	if (__predict_false(!(exp)))					\
		kassert_panic msg;					\
} while (0)
#else
#define	KASSERT(exp, msg) do {						\
} while (0)
#endif

#define	MPASS4(ex, what, file, line)					\
	KASSERT((ex), ("Assertion %s failed at %s:%d", (what), (file), (line)))
#define	MPASS3(ex, file, line)	MPASS4((ex), #ex, (file), (line))
#define	MPASS2(ex, what)	MPASS4((ex), (what), __FILE__, __LINE__)
#define	MPASS(ex)		MPASS4((ex), #ex, __FILE__, __LINE__)

#define	CTASSERT(x)	_Static_assert((x), "compile-time assertion failed")

/*
 * Modules always go through the out-of-line critical section entry
 * points, which keeps struct thread's layout out of their code.
 */
void	critical_enter_KBI(void);
void	critical_exit_KBI(void);
#define	critical_enter()	critical_enter_KBI()
#define	critical_exit()		critical_exit_KBI()

void	bzero(void *, size_t);
void	bcopy(const void *, void *, size_t);
int	bcmp(const void *, const void *, size_t);
void	*memcpy(void *, const void *, size_t);
void	*memmove(void *, const void *, size_t);
void	*memset(void *, int, size_t);
int	memcmp(const void *, const void *, size_t);

/* Let the compiler expand small fixed-size copies in place. */
#define	bzero(buf, len)		__builtin_memset((buf), 0, (len))
#define	bcopy(from, to, len)	__builtin_memmove((to), (from), (len))
#define	bcmp(b1, b2, len)	__builtin_memcmp((b1), (b2), (len))
#define	memcpy(to, from, len)	__builtin_memcpy((to), (from), (len))
#define	memmove(dest, src, n)	__builtin_memmove((dest), (src), (n))
#define	memset(buf, c, len)	__builtin_memset((buf), (c), (len))
#define	memcmp(b1, b2, len)	__builtin_memcmp((b1), (b2), (len))

extern int	bootverbose;
extern int	cold;		/* nonzero during a cold boot */

#endif /* !_SYS_SYSTM_H_ */
