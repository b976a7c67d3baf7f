/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The second file of vnet_full: reads a VNET variable that the first file
 * defines, through VNET_DECLARE only.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>

#include <net/vnet.h>

#include "vnet_full.h"

long
vnet_full_peer_read(void)
{
	return (V_vnet_full_counter);
}
