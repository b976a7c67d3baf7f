/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: set variables statically initialised with a pointer.
 * An instance copied before relocation holds the unrelocated value: always
 * for set_pcpu, and for set_vnet on kernels that copy it early.  Module
 * authors set such pointers at SYSINIT time instead.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/sysctl.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

static int set_pointers_target;
VNET_DEFINE_STATIC(int *, set_pointers_vnet_ptr) = &set_pointers_target;
DPCPU_DEFINE_STATIC(int *, set_pointers_pcpu_ptr) = &set_pointers_target;

long	set_pointers_vnet(void);
long	set_pointers_pcpu(void);

/* 1 when this vnet's copy of the pointer is relocated. */
long
set_pointers_vnet(void)
{
	return (VNET(set_pointers_vnet_ptr) == &set_pointers_target);
}

/* 1 when this CPU's copy of the pointer is relocated. */
long
set_pointers_pcpu(void)
{
	return (DPCPU_GET(set_pointers_pcpu_ptr) == &set_pointers_target);
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
set_pointers_call(SYSCTL_HANDLER_ARGS)
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
#define	SET_POINTERS_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    set_pointers_call, "L", "calls " #f)
SET_POINTERS_CALL(set_pointers_vnet);
SET_POINTERS_CALL(set_pointers_pcpu);
