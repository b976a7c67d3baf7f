/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Compiled by the mutation tests' `hygiene` check in every variant: each
 * statement macro used as the body of an if with an else.  A macro that is
 * not one statement (not wrapped in do { } while (0)) breaks the else.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>
#include <sys/smp.h>

#include <net/vnet.h>

DPCPU_DEFINE_STATIC(long, hygiene_pcpu);

int	hygiene_if_else(int c);

int
hygiene_if_else(int c)
{
	int r = 0;

	if (c)
		VNET_LIST_RLOCK();
	else
		r++;
	if (c)
		VNET_LIST_RUNLOCK();
	else
		r++;
	if (c)
		VNET_LIST_RLOCK_NOSLEEP();
	else
		r++;
	if (c)
		VNET_LIST_RUNLOCK_NOSLEEP();
	else
		r++;
	if (c)
		CURVNET_ASSERT_SET();
	else
		r++;
	if (c)
		VNET_ASSERT(c > 1, ("hygiene %d", c));
	else
		r++;
	if (c)
		DPCPU_ZERO(hygiene_pcpu);
	else
		r++;
	return (r);
}
