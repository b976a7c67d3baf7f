/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: SYSINITs whose order FreeBSD's sort decides.  The
 * kernel linker sorts the file's sysinit_set with an exchange sort that is
 * not stable: two entries of equal (subsystem, order) before a smaller one
 * come out reversed.  Entries of SI_SUB_DUMMY never run.  A sysctl whose
 * OID has CTLFLAG_VNET and a NULL arg1 gets arg1 NULL, not a vnet base.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

/* Each SYSINIT appends its digit. */
static long sysinit_order_seen;

static void
sysinit_order_run(void *arg)
{
	sysinit_order_seen = sysinit_order_seen * 10 + (long)(uintptr_t)arg;
}

/* In the set in this order: 9 a dummy, 1 and 2 equal, 3 smaller. */
SYSINIT(sysinit_order_9, SI_SUB_DUMMY, SI_ORDER_ANY, sysinit_order_run,
    (void *)9);
SYSINIT(sysinit_order_1, SI_SUB_DRIVERS, SI_ORDER_MIDDLE, sysinit_order_run,
    (void *)1);
SYSINIT(sysinit_order_2, SI_SUB_DRIVERS, SI_ORDER_MIDDLE, sysinit_order_run,
    (void *)2);
SYSINIT(sysinit_order_3, SI_SUB_DRIVERS, SI_ORDER_FIRST, sysinit_order_run,
    (void *)3);

long	sysinit_order_get(void);

long
sysinit_order_get(void)
{
	return (sysinit_order_seen);
}

/* The arg1 the handler gets: NULL stays NULL, with or without VIMAGE. */
static int
sysinit_order_arg1(SYSCTL_HANDLER_ARGS)
{
	long v = (long)(uintptr_t)arg1;

	(void)oidp;
	(void)arg2;
	return (SYSCTL_OUT(req, &v, sizeof(v)));
}
SYSCTL_PROC(_debug, OID_AUTO, sysinit_order_null_arg1,
    CTLTYPE_LONG | CTLFLAG_VNET | CTLFLAG_RD | CTLFLAG_MPSAFE, NULL, 0,
    sysinit_order_arg1, "L", "arg1 of a CTLFLAG_VNET OID without one");

/*
 * `call FUNC` on a real kernel (vnetgen vm): the sysctl debug.FUNC calls
 * FUNC with the longs written to it and returns its result.
 */
static int
sysinit_order_call(SYSCTL_HANDLER_ARGS)
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
#define	SYSINIT_ORDER_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    sysinit_order_call, "L", "calls " #f)
SYSINIT_ORDER_CALL(sysinit_order_get);
