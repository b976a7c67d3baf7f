/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The source of the small real objects in tests/elf/good/, from which
 * tests/elf/make_bad.rs derives the hostile ones: a VNET variable, a static
 * DPCPU one and a function that reaches both, so that each object has set
 * sections, symbols and relocations.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

VNET_DEFINE(int, tiny_counter) = 3;
#define	V_tiny_counter	VNET(tiny_counter)

DPCPU_DEFINE_STATIC(long, tiny_pcpu);

int	tiny_bump(void);

int
tiny_bump(void)
{
	DPCPU_SET(tiny_pcpu, DPCPU_GET(tiny_pcpu) + 1);
	return (++V_tiny_counter);
}
