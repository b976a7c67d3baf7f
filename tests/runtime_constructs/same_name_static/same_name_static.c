/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A file-scope static of the VNET variable's own name, as if_vlan.c's
 * vlan_cloner: the module's own VNET variable needs no declaration of the
 * plain name, which would clash with it.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

static int same_name_value;
VNET_DEFINE_STATIC(int, same_name_value);
#define	V_same_name_value	VNET(same_name_value)
VNET_DEFINE_STATIC(long, same_name_other);
#define	V_same_name_other	VNET(same_name_other)
static long same_name_other;

int	same_name_static_set(int v);

/* Sets both the plain static and this vnet's copy; returns their sum. */
int
same_name_static_set(int v)
{
	same_name_value = v;
	V_same_name_value = v + 1;
	same_name_other = v;
	V_same_name_other = v;
	return (same_name_value + V_same_name_value +
	    (int)(same_name_other - V_same_name_other));
}
