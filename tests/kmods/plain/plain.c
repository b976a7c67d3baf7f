/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A test kmod with no VNET and no DPCPU at all: it must load everywhere.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/sysctl.h>
#include <sys/module.h>
#include <sys/malloc.h>

MALLOC_DEFINE(M_PLAIN, "plain", "plain test module");

static int plain_loads;

long	plain_add(long a, long b);

long
plain_add(long a, long b)
{
	return (a + b + plain_loads);
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
plain_call(SYSCTL_HANDLER_ARGS)
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
#define	PLAIN_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    plain_call, "L", "calls " #f)
PLAIN_CALL(plain_add);

static int
plain_modevent(module_t mod __unused, int what, void *arg __unused)
{
	void *p;

	switch (what) {
	case MOD_LOAD:
		p = malloc(16, M_PLAIN, M_WAITOK | M_ZERO);
		free(p, M_PLAIN);
		plain_loads++;
		printf("plain: loaded\n");
		return (0);
	case MOD_UNLOAD:
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t plain_mod = {
	"plain",
	plain_modevent,
	NULL
};
DECLARE_MODULE(plain, plain_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
