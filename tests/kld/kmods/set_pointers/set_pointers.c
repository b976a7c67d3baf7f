/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: set variables statically initialised with a pointer.
 * An instance copied before relocation holds the unrelocated value: always
 * for set_pcpu, and for set_vnet on kernels that copy it early.  Module
 * authors set such pointers at SYSINIT time instead.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

static int set_pointers_target;
VNET_DEFINE_STATIC(int *, set_pointers_vnet_ptr) = &set_pointers_target;
DPCPU_DEFINE_STATIC(int *, set_pointers_pcpu_ptr) = &set_pointers_target;

long	set_pointers_vnet(void);
long	set_pointers_pcpu(void);

/* 1 when this vnet's copy of the pointer is relocated. */
long
set_pointers_vnet(void)
{
	return (VNET(set_pointers_vnet_ptr) == &set_pointers_target);
}

/* 1 when this CPU's copy of the pointer is relocated. */
long
set_pointers_pcpu(void)
{
	return (DPCPU_GET(set_pointers_pcpu_ptr) == &set_pointers_target);
}
