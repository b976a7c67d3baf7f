/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: three modules in one file, the last one failing its
 * MOD_LOAD.  The file stays loaded with the other two.  At unload FreeBSD
 * quiesces every module of the file before unloading any, the most
 * recently loaded first.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

/* Every event, one digit each: a LOAD 1, b LOAD 2, bad LOAD 3, bad UNLOAD 4. */
static long mod_two_seen;

long	mod_two_events(void);

long
mod_two_events(void)
{
	return (mod_two_seen);
}

static int
mod_two_event(const char *name, int what, int load_digit, int fail)
{
	switch (what) {
	case MOD_LOAD:
		mod_two_seen = mod_two_seen * 10 + load_digit;
		printf("%s: MOD_LOAD\n", name);
		return (fail ? EIO : 0);
	case MOD_QUIESCE:
		printf("%s: MOD_QUIESCE\n", name);
		return (0);
	case MOD_UNLOAD:
		if (fail)
			mod_two_seen = mod_two_seen * 10 + 4;
		printf("%s: MOD_UNLOAD\n", name);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static int
mod_two_a_modevent(module_t mod __unused, int what, void *arg __unused)
{
	return (mod_two_event("mod_two_a", what, 1, 0));
}

static int
mod_two_b_modevent(module_t mod __unused, int what, void *arg __unused)
{
	return (mod_two_event("mod_two_b", what, 2, 0));
}

static int
mod_two_bad_modevent(module_t mod __unused, int what, void *arg __unused)
{
	return (mod_two_event("mod_two_bad", what, 3, 1));
}

static moduledata_t mod_two_a_mod = { "mod_two_a", mod_two_a_modevent, NULL };
DECLARE_MODULE(mod_two_a, mod_two_a_mod, SI_SUB_DRIVERS, SI_ORDER_FIRST);
static moduledata_t mod_two_b_mod = { "mod_two_b", mod_two_b_modevent, NULL };
DECLARE_MODULE(mod_two_b, mod_two_b_mod, SI_SUB_DRIVERS, SI_ORDER_SECOND);
static moduledata_t mod_two_bad_mod = {
	"mod_two_bad",
	mod_two_bad_modevent,
	NULL
};
DECLARE_MODULE(mod_two_bad, mod_two_bad_mod, SI_SUB_DRIVERS, SI_ORDER_THIRD);

/*
 * `call FUNC` on a real kernel (vnetgen vm): the sysctl debug.FUNC calls
 * FUNC with the longs written to it and returns its result.
 */
static int
mod_two_call(SYSCTL_HANDLER_ARGS)
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
#define	MOD_TWO_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    mod_two_call, "L", "calls " #f)
MOD_TWO_CALL(mod_two_events);
