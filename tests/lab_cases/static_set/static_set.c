/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Lab case: static storage in set_pcpu written by hand, bypassing
 * DPCPU_DEFINE_STATIC: on architectures whose modules reach local data
 * PC-relative, the kernel's copy is missed.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/pcpu.h>

static int pcpu_entry_static_set_hits __section("set_pcpu") __used;

int	static_set_read(void);

int
static_set_read(void)
{
	return (*(int *)(PCPU_GET(dynamic) +
	    (uintptr_t)&pcpu_entry_static_set_hits));
}
