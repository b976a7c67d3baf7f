/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * VNET_DECLARE, then VNET_DEFINE in the same unit, as pf.c after pfvar.h:
 * the definitions must stay STB_GLOBAL, since the kernel links other
 * modules (pfsync) against global definitions only.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

#include "declare_then_define.h"

VNET_DEFINE(int, dtd_status) = 1;
VNET_DEFINE(int, dtd_limits[4]);

int	declare_then_define_get(int i);

/* This vnet's status plus its limit i. */
int
declare_then_define_get(int i)
{
	return (V_dtd_status + V_dtd_limits[i & 3]);
}
