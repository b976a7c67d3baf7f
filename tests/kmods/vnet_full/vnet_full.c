/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A test kmod that uses every public VNET macro: storage, accessors,
 * per-vnet constructors and destructors, the vnet list, sysctls, global
 * event handlers and counter(9) statistics.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/malloc.h>
#include <sys/counter.h>
#include <sys/eventhandler.h>
#include <sys/proc.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

#include "vnet_full.h"

/* A kernel VNET variable that the module only declares, as V_ifnet is used. */
VNET_DECLARE(int, ip_defttl);
#define	V_ip_defttl	VNET(ip_defttl)

/* Storage defined here; vnet_full_peer.c reaches it through VNET_DECLARE. */
VNET_DEFINE(long, vnet_full_counter) = 0;
VNET_DEFINE_STATIC(int, vnet_full_inits) = 0;
VNET_DEFINE_STATIC(int, vnet_full_table[8]);

/* A struct that wants more than pointer alignment. */
struct vnet_full_wide {
	uint64_t	lo;
	uint64_t	hi;
} __aligned(32);
VNET_DEFINE_STATIC(struct vnet_full_wide, vnet_full_wide);

struct vnet_full_stats {
	uint64_t	packets;
	uint64_t	bytes;
};
VNET_PCPUSTAT_DEFINE_STATIC(struct vnet_full_stats, vnet_full_stats);
VNET_PCPUSTAT_SYSINIT(vnet_full_stats);
VNET_PCPUSTAT_SYSUNINIT(vnet_full_stats);

SYSCTL_DECL(_net);
SYSCTL_INT(_net, OID_AUTO, vnet_full_inits, CTLFLAG_VNET | CTLFLAG_RD,
    &VNET_NAME(vnet_full_inits), 0, "constructors run in this vnet");
SYSCTL_VNET_PCPUSTAT(_net, OID_AUTO, vnet_full_stats, struct vnet_full_stats,
    vnet_full_stats, "vnet_full statistics");

static eventhandler_tag vnet_full_tag;

/* Every run of the per-vnet constructor and destructor, in any vnet. */
static int vnet_full_init_calls;
static int vnet_full_uninit_calls;

static void
vnet_full_shutdown(void *arg __unused, int howto __unused)
{
}

static void
vnet_full_mountroot(void *arg __unused)
{
}

static void
vnet_full_init(const void *unused __unused)
{
	VNET_ASSERT(curvnet != NULL || !VNET_ACTIVE(), ("no vnet"));
	CURVNET_ASSERT_SET();
	vnet_full_init_calls++;
	V_vnet_full_inits++;
	VNET(vnet_full_table)[0] = V_ip_defttl;
	VNET(vnet_full_wide).lo = 1;
	VNET_PCPUSTAT_ADD(struct vnet_full_stats, vnet_full_stats, packets, 1);
}
VNET_SYSINIT(vnet_full_init, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    vnet_full_init, NULL);

static void
vnet_full_uninit(const void *unused __unused)
{
	V_vnet_full_inits--;
	vnet_full_uninit_calls++;
	printf("vnet_full: uninit %d\n", vnet_full_uninit_calls);
}
VNET_SYSUNINIT(vnet_full_uninit, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    vnet_full_uninit, NULL);

long	vnet_full_sum(void);
long	vnet_full_default(void);
long	vnet_full_ttl(void);
long	vnet_full_ptrs(struct thread *td, struct proc *p);
long	vnet_full_inits_get(void);
long	vnet_full_init_calls_get(void);
long	vnet_full_add(long by);
long	vnet_full_foreach(void);

/* Accessors for the emulated kernel's scenarios (scenario.kld). */
long
vnet_full_inits_get(void)
{
	return (V_vnet_full_inits);
}

long
vnet_full_init_calls_get(void)
{
	return (vnet_full_init_calls);
}

/* Adds to this vnet's counter and returns it. */
long
vnet_full_add(long by)
{
	V_vnet_full_counter += by;
	return (V_vnet_full_counter);
}

/* How many times VNET_FOREACH runs its body. */
long
vnet_full_foreach(void)
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

/* Walks every vnet, as a protocol's timer does. */
long
vnet_full_sum(void)
{
	VNET_ITERATOR_DECL(vnet_iter);
	long sum;

	sum = 0;
	VNET_LIST_RLOCK();
	VNET_FOREACH(vnet_iter) {
		CURVNET_SET(vnet_iter);
		sum += V_vnet_full_counter + vnet_full_peer_read();
		CURVNET_RESTORE();
	}
	VNET_LIST_RUNLOCK();
	VNET_LIST_RLOCK_NOSLEEP();
	VNET_FOREACH(vnet_iter) {
		CURVNET_SET_QUIET(vnet_iter);
		sum += (long)VNET_FETCH_ONE();
		CURVNET_RESTORE();
	}
	VNET_LIST_RUNLOCK_NOSLEEP();
	return (sum);
}

/* Reads the kernel's own VNET variable. */
long
vnet_full_ttl(void)
{
	return (V_ip_defttl + VNET(vnet_full_table)[0]);
}

long
vnet_full_default(void)
{
	return (IS_DEFAULT_VNET(curvnet) ? 1 : 0);
}

long
vnet_full_ptrs(struct thread *td __unused, struct proc *p __unused)
{
	long n;

	n = (TD_TO_VNET(td) == P_TO_VNET(p));
	n += (CRED_TO_VNET(td->td_ucred) != NULL);
	n += (VNET_PTR(vnet_full_counter) != NULL);
	if (curvnet != NULL)
		n += VNET_VNET(curvnet, vnet_full_counter) +
		    *VNET_VNET_PTR(curvnet, vnet_full_inits);
	n += (long)VNET_PCPUSTAT_FETCH(struct vnet_full_stats,
	    vnet_full_stats, bytes);
	n += sizeof(VNET_SETNAME) + sizeof(VNET_SYMPREFIX);
	return (n);
}

/*
 * `call FUNC` on a real kernel (vnetgen vm): a kernel cannot call a
 * module's function, so each function the scenarios call is the sysctl
 * debug.FUNC, whose handler calls it with the longs written to the sysctl
 * and returns its result.
 */
static int
vnet_full_call(SYSCTL_HANDLER_ARGS)
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
#define	VNET_FULL_CALL(f)						\
	SYSCTL_PROC(_debug, OID_AUTO, f, CTLTYPE_LONG | CTLFLAG_RW |	\
	    CTLFLAG_ANYBODY | CTLFLAG_MPSAFE, (void *)(uintptr_t)f, 0,	\
	    vnet_full_call, "L", "calls " #f)
VNET_FULL_CALL(vnet_full_init_calls_get);
VNET_FULL_CALL(vnet_full_inits_get);
VNET_FULL_CALL(vnet_full_default);
VNET_FULL_CALL(vnet_full_ttl);
VNET_FULL_CALL(vnet_full_add);
VNET_FULL_CALL(vnet_full_sum);
VNET_FULL_CALL(vnet_full_foreach);

static int
vnet_full_modevent(module_t mod __unused, int what, void *arg __unused)
{
	switch (what) {
	case MOD_LOAD:
		/*
		 * The untagged form cannot be deregistered: only for an event
		 * that has happened for good (mountroot), never for one the
		 * kernel invokes after the module is gone, such as shutdown.
		 */
		VNET_GLOBAL_EVENTHANDLER_REGISTER(mountroot,
		    vnet_full_mountroot, NULL, EVENTHANDLER_PRI_ANY);
		VNET_GLOBAL_EVENTHANDLER_REGISTER_TAG(vnet_full_tag,
		    shutdown_post_sync, vnet_full_shutdown, NULL,
		    EVENTHANDLER_PRI_ANY);
		return (0);
	case MOD_UNLOAD:
		/* A handler left behind is called at shutdown, module gone. */
		EVENTHANDLER_DEREGISTER(shutdown_post_sync, vnet_full_tag);
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t vnet_full_mod = {
	"vnet_full",
	vnet_full_modevent,
	NULL
};
DECLARE_MODULE(vnet_full, vnet_full_mod, SI_SUB_PROTO_DOMAIN, SI_ORDER_ANY);
MODULE_VERSION(vnet_full, 1);
