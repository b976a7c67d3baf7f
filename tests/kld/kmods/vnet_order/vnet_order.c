/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: what a per-vnet constructor and destructor see.  A new
 * vnet's constructors run before it is on the vnet list, with vnet_state
 * set to each one's subsystem; a dying vnet is off the list, with
 * vnet_shutdown set, when its destructors run.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

/* In each vnet: how many vnets its constructor saw listed, and vnet_state. */
VNET_DEFINE_STATIC(long, vnet_order_listed);
VNET_DEFINE_STATIC(long, vnet_order_state);
/* The last destructor run: vnet_shutdown * 100 + the vnets it saw listed. */
static long vnet_order_last_destructor;

static long
vnet_order_count(void)
{
	VNET_ITERATOR_DECL(vnet_iter);
	long n;

	n = 0;
	VNET_LIST_RLOCK();
	VNET_FOREACH(vnet_iter) {
		n++;
	}
	VNET_LIST_RUNLOCK();
	return (n);
}

static void
vnet_order_init(const void *arg __unused)
{
	VNET(vnet_order_listed) = vnet_order_count();
	VNET(vnet_order_state) = curvnet != NULL ? (long)curvnet->vnet_state : -1;
}
VNET_SYSINIT(vnet_order_init, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    vnet_order_init, NULL);

static void
vnet_order_uninit(const void *arg __unused)
{
	vnet_order_last_destructor = vnet_order_count() +
	    (curvnet != NULL && curvnet->vnet_shutdown ? 100 : 0);
}
VNET_SYSUNINIT(vnet_order_uninit, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    vnet_order_uninit, NULL);

long	vnet_order_listed_get(void);
long	vnet_order_state_get(void);
long	vnet_order_destructor_get(void);

long
vnet_order_listed_get(void)
{
	return (VNET(vnet_order_listed));
}

long
vnet_order_state_get(void)
{
	return (VNET(vnet_order_state));
}

long
vnet_order_destructor_get(void)
{
	return (vnet_order_last_destructor);
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): the sysctl debug.FUNC calls
 * FUNC with the longs written to it and returns its result.
 */
static int
vnet_order_call(SYSCTL_HANDLER_ARGS)
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
#define	VNET_ORDER_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    vnet_order_call, "L", "calls " #f)
VNET_ORDER_CALL(vnet_order_listed_get);
VNET_ORDER_CALL(vnet_order_state_get);
VNET_ORDER_CALL(vnet_order_destructor_get);
