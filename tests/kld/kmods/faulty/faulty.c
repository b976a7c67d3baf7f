/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: code that faults or panics, which the emulated kernel
 * reports without going down with it.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/sysctl.h>

long	faulty_read(long addr);
long	faulty_panic(long value);
long	faulty_spin(long value);

/* Reads a long at an address the caller chooses. */
long
faulty_read(long addr)
{
	return (*(volatile long *)addr);
}

long
faulty_panic(long value)
{
	panic("faulty: %s %ld", "boom", value);
}

/* Never returns: the scenario's time limit must end it. */
long
faulty_spin(long value)
{
	volatile long spins = value;

	for (;;)
		spins++;
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
faulty_call(SYSCTL_HANDLER_ARGS)
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
#define	FAULTY_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    faulty_call, "L", "calls " #f)
FAULTY_CALL(faulty_read);
FAULTY_CALL(faulty_panic);
FAULTY_CALL(faulty_spin);
