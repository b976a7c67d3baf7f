/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: system parameters and the small
 * arithmetic helpers kernel code expects from <sys/param.h>.
 */

#ifndef _SYS_PARAM_H_
#define	_SYS_PARAM_H_

/*
 * The release a module is built for: FreeBSD 15.1 unless the build says
 * otherwise (vnetgen passes its release's -D__FreeBSD_version).  The
 * structures a module hands the kernel follow it: 13.2's layouts before
 * 1500000, 15.1's from it (see <sys/_kld_abi.h>, <sys/sysctl.h> and
 * <sys/malloc.h>).
 */
#ifndef __FreeBSD_version
#define	__FreeBSD_version	1501000
#endif

#include <sys/types.h>
#include <machine/param.h>

#define	MAXCOMLEN	19		/* longest command name */
#define	MAXHOSTNAMELEN	256		/* longest host name */
#define	NBBY		8		/* bits per byte */

#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#define	howmany(x, y)	(((x) + ((y) - 1)) / (y))
#define	roundup(x, y)	((((x) + ((y) - 1)) / (y)) * (y))
#define	rounddown(x, y)	(((x) / (y)) * (y))
/* The "2" forms require y to be a power of two. */
#define	roundup2(x, y)	(((x) + ((y) - 1)) & (~((y) - 1)))
#define	rounddown2(x, y)	((x) & (~((y) - 1)))
#define	powerof2(x)	((((x) - 1) & (x)) == 0)

#define	MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define	MAX(a, b)	(((a) > (b)) ? (a) : (b))

#endif /* !_SYS_PARAM_H_ */
