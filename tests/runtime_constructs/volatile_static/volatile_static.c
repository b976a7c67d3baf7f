/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A qualifier before the macro, as pf.c's "volatile
 * VNET_DEFINE_STATIC(int, pf_pfil_hooked)": it must apply to the storage,
 * and must not meet a "struct _hack;" first.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

volatile VNET_DEFINE_STATIC(int, volatile_hooked);
#define	V_volatile_hooked	VNET(volatile_hooked)
volatile DPCPU_DEFINE_STATIC(int, volatile_busy);

int	volatile_static_hook(int on);

/* Sets the hook in this vnet and counts on this CPU; returns the hook. */
int
volatile_static_hook(int on)
{
	V_volatile_hooked = on;
	DPCPU_SET(volatile_busy, DPCPU_GET(volatile_busy) + 1);
	return (V_volatile_hooked);
}
