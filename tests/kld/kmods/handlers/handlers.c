/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: a module event handler and SYSINITs declared out of
 * order, which the kernel linker runs sorted by (subsystem, order).
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>

#include <net/vnet.h>

static int handlers_loaded;
static int handlers_late_done;

static void
handlers_late(void *arg __unused)
{
	printf("handlers: late SYSINIT, loaded %d\n", handlers_loaded);
	handlers_late_done = 1;
}
SYSINIT(handlers_late, SI_SUB_LAST, SI_ORDER_FIRST, handlers_late, NULL);

/* A per-vnet constructor runs at its own subsystem, before the late SYSINIT. */
static void
handlers_vnet_init(const void *arg __unused)
{
	printf("handlers: vnet init, late done %d\n", handlers_late_done);
}
VNET_SYSINIT(handlers_vnet_init, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    handlers_vnet_init, NULL);

static void
handlers_uninit(void *arg __unused)
{
	printf("handlers: SYSUNINIT\n");
}
SYSUNINIT(handlers_uninit, SI_SUB_DRIVERS, SI_ORDER_ANY, handlers_uninit, NULL);

static void
handlers_early(void *arg __unused)
{
	printf("handlers: early SYSINIT, loaded %d\n", handlers_loaded);
}
SYSINIT(handlers_early, SI_SUB_DRIVERS, SI_ORDER_FIRST, handlers_early, NULL);

static int
handlers_modevent(module_t mod __unused, int what, void *arg __unused)
{
	switch (what) {
	case MOD_LOAD:
		handlers_loaded = 1;
		printf("handlers: MOD_LOAD\n");
		return (0);
	case MOD_UNLOAD:
		printf("handlers: MOD_UNLOAD\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t handlers_mod = {
	"handlers",
	handlers_modevent,
	NULL
};
DECLARE_MODULE(handlers, handlers_mod, SI_SUB_CONFIGURE, SI_ORDER_ANY);
