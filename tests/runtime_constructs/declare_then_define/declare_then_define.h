/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The header of declare_then_define, as pfvar.h is pf's.
 */

#ifndef _DECLARE_THEN_DEFINE_H_
#define	_DECLARE_THEN_DEFINE_H_

VNET_DECLARE(int, dtd_status);
#define	V_dtd_status	VNET(dtd_status)
VNET_DECLARE(int, dtd_limits[4]);
#define	V_dtd_limits	VNET(dtd_limits)

#endif /* !_DECLARE_THEN_DEFINE_H_ */
