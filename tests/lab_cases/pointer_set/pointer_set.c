/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Lab case: a DPCPU variable statically initialised with a pointer, which
 * existing instances may hold unrelocated.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/pcpu.h>

static int pointer_set_target;
DPCPU_DEFINE(int *, pointer_set_ptr) = &pointer_set_target;

int	pointer_set_read(void);

int
pointer_set_read(void)
{
	return (*DPCPU_GET(pointer_set_ptr));
}
