/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A structure defined inside VNET_DEFINE_STATIC, as if_lagg.c's __trhead:
 * a second spelling of the type would redefine the tag.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

VNET_DEFINE_STATIC(struct tagged_head {
	struct tagged_head	*th_next;
	int			 th_count;
}, tagged_head);
#define	V_tagged_head	VNET(tagged_head)

int	tagged_type_count(void);

/* The count kept in this vnet's head. */
int
tagged_type_count(void)
{
	struct tagged_head *h;

	h = &V_tagged_head;
	h->th_count++;
	return (h->th_count);
}
