/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * What export_owner exports to the modules that depend on it: a VNET
 * variable, a plain variable, a table of operations and functions, as a
 * module such as bridgestp or netgraph exports its interface.
 */

#ifndef _EXPORT_OWNER_H_
#define	_EXPORT_OWNER_H_

struct export_owner_ops {
	long		(*twice)(long);
	const char	*label;
	const char *const *names;
};

VNET_DECLARE(long, export_owner_count);
#define	V_export_owner_count	VNET(export_owner_count)

extern long	export_owner_hits;
extern const struct export_owner_ops export_owner_ops;

long	export_owner_add(long by);
long	export_owner_vimage(void);

#endif /* !_EXPORT_OWNER_H_ */
