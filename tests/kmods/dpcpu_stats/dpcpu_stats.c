/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A test kmod that uses every public DPCPU macro.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/sysctl.h>
#include <sys/module.h>
#include <sys/pcpu.h>
#include <sys/smp.h>

struct dpcpu_stats_pair {
	long	hits;
	long	misses;
};

DPCPU_DEFINE(long, dpcpu_stats_count) = 0;
DPCPU_DEFINE_STATIC(struct dpcpu_stats_pair, dpcpu_stats_pair);
DPCPU_DEFINE_STATIC(int, dpcpu_stats_ring[4]);
DPCPU_DECLARE(long, dpcpu_stats_count);

long	dpcpu_stats_bump(long by);
long	dpcpu_stats_total(void);
long	dpcpu_stats_on(long cpu, long value);

long
dpcpu_stats_bump(long by)
{
	DPCPU_SET(dpcpu_stats_count, DPCPU_GET(dpcpu_stats_count) + by);
	/* FreeBSD's DPCPU_PTR is a cast without outer parentheses. */
	(DPCPU_PTR(dpcpu_stats_pair))->hits++;
	(*DPCPU_PTR(dpcpu_stats_ring))[0] = (int)by;
	return (DPCPU_GET(dpcpu_stats_count));
}

long
dpcpu_stats_total(void)
{
	return (DPCPU_SUM(dpcpu_stats_count) +
	    DPCPU_VARSUM(dpcpu_stats_pair, hits));
}

long
dpcpu_stats_on(long cpu, long value)
{
	DPCPU_ID_SET(cpu, dpcpu_stats_count, value);
	(DPCPU_ID_PTR(cpu, dpcpu_stats_pair))->misses = value;
	if (value == 0)
		DPCPU_ZERO(dpcpu_stats_pair);
	return (DPCPU_ID_GET(cpu, dpcpu_stats_count) +
	    (long)sizeof(DPCPU_SETNAME) + (long)sizeof(DPCPU_SYMPREFIX) +
	    DPCPU_MODMIN);
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
dpcpu_stats_call(SYSCTL_HANDLER_ARGS)
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
#define	DPCPU_STATS_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    dpcpu_stats_call, "L", "calls " #f)
DPCPU_STATS_CALL(dpcpu_stats_bump);
DPCPU_STATS_CALL(dpcpu_stats_total);
DPCPU_STATS_CALL(dpcpu_stats_on);

static int
dpcpu_stats_modevent(module_t mod __unused, int what, void *arg __unused)
{
	return (what == MOD_LOAD || what == MOD_UNLOAD ? 0 : EOPNOTSUPP);
}

static moduledata_t dpcpu_stats_mod = {
	"dpcpu_stats",
	dpcpu_stats_modevent,
	NULL
};
DECLARE_MODULE(dpcpu_stats, dpcpu_stats_mod, SI_SUB_DRIVERS, SI_ORDER_ANY);
