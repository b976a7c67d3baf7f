/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: reaches what export_owner exports, through the kernel
 * linker (MODULE_DEPEND), as if_bridge reaches bridgestp.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

#include "../export_owner/export_owner.h"

long	export_user_add(long by);
long	export_user_count(long unused);
long	export_user_hits(long unused);
long	export_user_twice(long x);
long	export_user_label(long unused);
long	export_user_vimage(long unused);
long	export_user_name(long which);

long
export_user_add(long by)
{
	return (export_owner_add(by));
}

long
export_user_count(long unused)
{
	(void)unused;
	return (V_export_owner_count);
}

long
export_user_hits(long unused)
{
	(void)unused;
	return (export_owner_hits);
}

/* Through the owner's table: its static function, by a pointer. */
long
export_user_twice(long x)
{
	return (export_owner_ops.twice(x));
}

/* The first letter of the owner's label. */
long
export_user_label(long unused)
{
	(void)unused;
	return (export_owner_ops.label[0]);
}

/* The first letter of the owner's name number `which`. */
long
export_user_name(long which)
{
	return (export_owner_ops.names[which][0]);
}

long
export_user_vimage(long unused)
{
	(void)unused;
	return (export_owner_vimage());
}

/* `call FUNC` on a real kernel: the sysctl debug.FUNC calls it. */
static int
export_user_call(SYSCTL_HANDLER_ARGS)
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
#define	EXPORT_USER_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    export_user_call, "L", "calls " #f)
EXPORT_USER_CALL(export_user_add);
EXPORT_USER_CALL(export_user_count);
EXPORT_USER_CALL(export_user_hits);
EXPORT_USER_CALL(export_user_twice);
EXPORT_USER_CALL(export_user_label);
EXPORT_USER_CALL(export_user_vimage);
EXPORT_USER_CALL(export_user_name);

MODULE_VERSION(export_user, 1);
MODULE_DEPEND(export_user, export_owner, 1, 1, 1);
