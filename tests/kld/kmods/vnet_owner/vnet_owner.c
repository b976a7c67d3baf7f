/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: defines a VNET variable that another module (vnet_user)
 * reaches.  The header's VNET_DECLARE comes first, as in pf: the definition
 * must still be STB_GLOBAL, since the kernel linker links other modules
 * against global definitions only.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

#include "vnet_owner.h"

VNET_DEFINE(long, vnet_owner_count) = 7;

long	vnet_owner_get(void);

/* This vnet's count, as the owner sees it. */
long
vnet_owner_get(void)
{
	return (V_vnet_owner_count);
}

/* `call FUNC` on a real kernel: the sysctl debug.FUNC calls it. */
static int
vnet_owner_call(SYSCTL_HANDLER_ARGS)
{
	long (*fn)(void);
	long r;

	(void)oidp;
	(void)arg2;
	fn = (long (*)(void))(uintptr_t)arg1;
	r = fn();
	return (SYSCTL_OUT(req, &r, sizeof(r)));
}
SYSCTL_PROC(_debug, OID_AUTO, vnet_owner_get, CTLTYPE_LONG | CTLFLAG_RW |
    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)vnet_owner_get, 0,
    vnet_owner_call, "L", "calls vnet_owner_get");

/* A module named vnet_owner, for vnet_user's MODULE_DEPEND. */
MODULE_VERSION(vnet_owner, 1);
