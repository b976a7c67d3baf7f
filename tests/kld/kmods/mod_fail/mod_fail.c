/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: a module whose MOD_LOAD fails.  FreeBSD sends it
 * MOD_UNLOAD, runs the file's other SYSINITs, and, every module of the
 * file having failed, runs its SYSUNINITs (per-vnet destructors included)
 * and unloads the file: kldload fails with ENOEXEC.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

static void
mod_fail_late(void *arg __unused)
{
	printf("mod_fail: late SYSINIT\n");
}
SYSINIT(mod_fail_late, SI_SUB_LAST, SI_ORDER_ANY, mod_fail_late, NULL);

static void
mod_fail_uninit(void *arg __unused)
{
	printf("mod_fail: SYSUNINIT\n");
}
SYSUNINIT(mod_fail_uninit, SI_SUB_DRIVERS, SI_ORDER_ANY, mod_fail_uninit, NULL);

static void
mod_fail_vnet_uninit(const void *arg __unused)
{
	printf("mod_fail: VNET_SYSUNINIT\n");
}
VNET_SYSUNINIT(mod_fail_vnet_uninit, SI_SUB_PROTO_IFATTACHDOMAIN, SI_ORDER_ANY,
    mod_fail_vnet_uninit, NULL);

static int
mod_fail_modevent(module_t mod __unused, int what, void *arg __unused)
{
	switch (what) {
	case MOD_LOAD:
		printf("mod_fail: MOD_LOAD fails\n");
		return (EIO);
	case MOD_UNLOAD:
		printf("mod_fail: MOD_UNLOAD\n");
		return (0);
	default:
		return (EOPNOTSUPP);
	}
}

static moduledata_t mod_fail_mod = {
	"mod_fail",
	mod_fail_modevent,
	NULL
};
DECLARE_MODULE(mod_fail, mod_fail_mod, SI_SUB_DRIVERS, SI_ORDER_MIDDLE);
