/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: one VNET variable and nothing else, so that every build
 * of it loads on every kernel, and only the scenario can tell whether each
 * vnet has its own instance.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>

#include <net/vnet.h>

VNET_DEFINE_STATIC(long, vnet_counter_value) = 0;

long	vnet_counter_add(long by);

/* Adds to this vnet's counter and returns it. */
long
vnet_counter_add(long by)
{
	VNET(vnet_counter_value) += by;
	return (VNET(vnet_counter_value));
}
