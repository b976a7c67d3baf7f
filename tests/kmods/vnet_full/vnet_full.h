/*-
 * SPDX-License-Identifier: BSD-2-Clause
 */

#ifndef _VNET_FULL_H_
#define	_VNET_FULL_H_

VNET_DECLARE(long, vnet_full_counter);
#define	V_vnet_full_counter	VNET(vnet_full_counter)
#define	V_vnet_full_inits	VNET(vnet_full_inits)
#define	VNET_FETCH_ONE()	(V_vnet_full_counter + 1)

long	vnet_full_peer_read(void);

#endif /* !_VNET_FULL_H_ */
