/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * What vnet_owner shares with the modules that depend on it, as pfvar.h
 * does for pf and pfsync: a VNET variable declared here, defined by
 * vnet_owner after this declaration.
 */

#ifndef _VNET_OWNER_H_
#define	_VNET_OWNER_H_

VNET_DECLARE(long, vnet_owner_count);
#define	V_vnet_owner_count	VNET(vnet_owner_count)

#endif /* !_VNET_OWNER_H_ */
