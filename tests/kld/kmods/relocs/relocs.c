/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: relocations FreeBSD's amd64 kernel linker does not
 * apply (elf_machdep.c): R_X86_64_PC64 and R_X86_64_32, against a global
 * symbol.  clang emits them for such data; the kernel refuses the module,
 * naming the type, then the symbol, as undefined.  amd64 only.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

long	relocs_target = 42;

/* 64-bit PC-relative, and 32-bit absolute, references to relocs_target. */
__asm__(
    ".data\n"
    ".globl relocs_pc64\n"
    ".p2align 3\n"
    "relocs_pc64: .quad relocs_target - .\n"
    ".globl relocs_abs32\n"
    "relocs_abs32: .long relocs_target\n"
    ".text\n");

extern long	relocs_pc64;

long	relocs_read(void);

long
relocs_read(void)
{
	return (*(long *)((char *)&relocs_pc64 + relocs_pc64));
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): the sysctl debug.FUNC calls
 * FUNC with the longs written to it and returns its result.
 */
static int
relocs_call(SYSCTL_HANDLER_ARGS)
{
	long (*fn)(long, long, long, long, long, long);
	long a[6] = { 0, 0, 0, 0, 0, 0 };
	long r;
	int error;

	(void)oidp;
	(void)arg2;
	if (req->newptr != NULL) {
		if (req->newlen > sizeof(a))
			return (EINVAL);
		error = SYSCTL_IN(req, a, req->newlen);
		if (error != 0)
			return (error);
	}
	fn = (long (*)(long, long, long, long, long, long))(uintptr_t)arg1;
	r = fn(a[0], a[1], a[2], a[3], a[4], a[5]);
	return (SYSCTL_OUT(req, &r, sizeof(r)));
}
#define	RELOCS_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    relocs_call, "L", "calls " #f)
RELOCS_CALL(relocs_read);
