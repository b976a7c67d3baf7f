/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The definition of the variable that vnet_probe.c only declares.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>

#include <net/vnet.h>

VNET_DEFINE(long, probe_other) = 1;
