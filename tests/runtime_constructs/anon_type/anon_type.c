/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A VNET variable of an anonymous type, as if_bridge.c's bridge_list: the
 * type must be spelt once, or each spelling is a type of its own.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/queue.h>
#include <sys/pcpu.h>

#include <net/vnet.h>

struct anon_softc {
	LIST_ENTRY(anon_softc)	sc_list;
	int			sc_unit;
};

VNET_DEFINE_STATIC(LIST_HEAD(, anon_softc), anon_list);
#define	V_anon_list	VNET(anon_list)

int	anon_type_add(struct anon_softc *sc);

/* Puts sc on this vnet's list and returns the first unit on it. */
int
anon_type_add(struct anon_softc *sc)
{
	struct anon_softc *first;

	if (LIST_EMPTY(&V_anon_list))
		LIST_INIT(&V_anon_list);
	LIST_INSERT_HEAD(&V_anon_list, sc, sc_list);
	first = LIST_FIRST(&V_anon_list);
	return (first->sc_unit);
}
