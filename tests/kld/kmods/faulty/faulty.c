/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: code that faults or panics, which the emulated kernel
 * reports without going down with it.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>

long	faulty_read(long addr);
long	faulty_panic(long value);
long	faulty_spin(long value);

/* Reads a long at an address the caller chooses. */
long
faulty_read(long addr)
{
	return (*(volatile long *)addr);
}

long
faulty_panic(long value)
{
	panic("faulty: %s %ld", "boom", value);
}

/* Never returns: the scenario's time limit must end it. */
long
faulty_spin(long value)
{
	volatile long spins = value;

	for (;;)
		spins++;
}
