/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A test kmod with no VNET and no DPCPU at all: it must load everywhere.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
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
