/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Bench module (`vnetgen bench`): one small function per kind of access,
 * whose instructions the bench counts from the disassembly, and a loop per
 * access that calls it, whose executed instructions callgrind counts in the
 * emulated kernel.  Each probe function does one access and nothing else.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

/* Defined here: the compiler knows that vnet_entry_probe_value exists. */
VNET_DEFINE(long, probe_value) = 1;
/* Defined in vnet_probe_other.c: only declared in this unit. */
VNET_DECLARE(long, probe_other);
/* The kernel's own VNET variable. */
VNET_DECLARE(int, ip_defttl);
DPCPU_DEFINE(long, probe_pcpu) = 1;

long	probe_vnet_read(void);
void	probe_vnet_write(long v);
long	probe_vnet_read_declared(void);
int	probe_vnet_read_kernel(void);
long	probe_dpcpu_get(void);
void	probe_dpcpu_set(long v);
long	probe_loop_vnet_read(long n);
long	probe_loop_vnet_write(long n);
long	probe_loop_vnet_read_declared(long n);
long	probe_loop_vnet_read_kernel(long n);
long	probe_loop_dpcpu_get(long n);
long	probe_loop_dpcpu_set(long n);

__noinline long
probe_vnet_read(void)
{
	return (VNET(probe_value));
}

__noinline void
probe_vnet_write(long v)
{
	VNET(probe_value) = v;
}

__noinline long
probe_vnet_read_declared(void)
{
	return (VNET(probe_other));
}

__noinline int
probe_vnet_read_kernel(void)
{
	return (VNET(ip_defttl));
}

__noinline long
probe_dpcpu_get(void)
{
	return (DPCPU_GET(probe_pcpu));
}

__noinline void
probe_dpcpu_set(long v)
{
	DPCPU_SET(probe_pcpu, v);
}

/*
 * The loops: the empty asm with a memory clobber keeps the compiler from
 * hoisting a call that only reads memory out of the loop.
 */
#define	PROBE_LOOP(name, expr)						\
long									\
probe_loop_ ## name(long n)						\
{									\
	long i, s;							\
									\
	s = 0;								\
	for (i = 0; i < n; i++) {					\
		s += (expr);						\
		__asm__ __volatile__("" : : : "memory");		\
	}								\
	return (s);							\
}

PROBE_LOOP(vnet_read, probe_vnet_read())
PROBE_LOOP(vnet_read_declared, probe_vnet_read_declared())
PROBE_LOOP(vnet_read_kernel, probe_vnet_read_kernel())
PROBE_LOOP(dpcpu_get, probe_dpcpu_get())
PROBE_LOOP(vnet_write, (probe_vnet_write(1), 1))
PROBE_LOOP(dpcpu_set, (probe_dpcpu_set(1), 1))
