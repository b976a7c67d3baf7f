/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Lab case: storage put in set_pcpu by hand, without <sys/pcpu.h>, so
 * nothing references the set's bounds and a shared-object module does not
 * export them.
 */

#include <sys/param.h>
#include <sys/systm.h>

int pcpu_entry_no_bounds_count __section("set_pcpu") __used;

int	no_bounds_read(void);

int
no_bounds_read(void)
{
	return (pcpu_entry_no_bounds_count);
}
