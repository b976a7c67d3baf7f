/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the header common to every lock.
 */

#ifndef _SYS__LOCK_H_
#define	_SYS__LOCK_H_

#include <sys/types.h>

struct lock_object {
	const char	*lo_name;	/* individual lock name */
	u_int		lo_flags;	/* LO_* flags and lock class */
	u_int		lo_data;	/* class-specific data */
	void		*lo_witness;	/* WITNESS bookkeeping */
};

#endif /* !_SYS__LOCK_H_ */
