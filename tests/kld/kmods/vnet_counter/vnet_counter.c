/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: one VNET variable and nothing else, so that every build
 * of it loads on every kernel, and only the scenario can tell whether each
 * vnet has its own instance.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

VNET_DEFINE_STATIC(long, vnet_counter_value) = 0;

long	vnet_counter_add(long by);

/* Adds to this vnet's counter and returns it. */
long
vnet_counter_add(long by)
{
	VNET(vnet_counter_value) += by;
	return (VNET(vnet_counter_value));
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
vnet_counter_call(SYSCTL_HANDLER_ARGS)
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
#define	VNET_COUNTER_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    vnet_counter_call, "L", "calls " #f)
VNET_COUNTER_CALL(vnet_counter_add);
