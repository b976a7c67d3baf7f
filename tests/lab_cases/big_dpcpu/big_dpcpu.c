/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Lab case: a DPCPU array larger than the kernel's module space (2048
 * bytes), which kldload refuses with ENOSPC.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/pcpu.h>

DPCPU_DEFINE(char, big_dpcpu_buffer[4096]);

int	big_dpcpu_first(void);

int
big_dpcpu_first(void)
{
	return ((*DPCPU_PTR(big_dpcpu_buffer))[0]);
}
