/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: reaches vnet_owner's VNET variable, as pfsync reaches
 * pf's.  The kernel links it against vnet_owner (MODULE_DEPEND) on kernels
 * with and without VIMAGE.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

#include "../vnet_owner/vnet_owner.h"

long	vnet_user_get(long unused);
long	vnet_user_add(long by);

/* vnet_owner's count in this vnet. */
long
vnet_user_get(long unused)
{
	(void)unused;
	return (V_vnet_owner_count);
}

/* Adds to vnet_owner's count in this vnet and returns it. */
long
vnet_user_add(long by)
{
	V_vnet_owner_count += by;
	return (V_vnet_owner_count);
}

/* `call FUNC` on a real kernel: the sysctl debug.FUNC calls it. */
static int
vnet_user_call(SYSCTL_HANDLER_ARGS)
{
	long (*fn)(long);
	long a, r;
	int error;

	(void)oidp;
	(void)arg2;
	a = 0;
	if (req->newptr != NULL) {
		if (req->newlen > sizeof(a))
			return (EINVAL);
		error = SYSCTL_IN(req, &a, req->newlen);
		if (error != 0)
			return (error);
	}
	fn = (long (*)(long))(uintptr_t)arg1;
	r = fn(a);
	return (SYSCTL_OUT(req, &r, sizeof(r)));
}
#define	VNET_USER_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    vnet_user_call, "L", "calls " #f)
VNET_USER_CALL(vnet_user_get);
VNET_USER_CALL(vnet_user_add);

MODULE_VERSION(vnet_user, 1);
MODULE_DEPEND(vnet_user, vnet_owner, 1, 1, 1);
