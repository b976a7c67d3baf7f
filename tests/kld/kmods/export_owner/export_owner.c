/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * kld test module: exports a VNET variable, a plain variable, a table of
 * operations that points to one of its static functions, and functions,
 * one of which says which build of the module runs.  export_user reaches
 * each of them.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/module.h>
#include <sys/sysctl.h>

#include <net/vnet.h>

#include "export_owner.h"

VNET_DEFINE(long, export_owner_count) = 3;
long	export_owner_hits;

/* Adds to this vnet's count and returns it; counts the calls. */
long
export_owner_add(long by)
{
	export_owner_hits++;
	V_export_owner_count += by;
	return (V_export_owner_count);
}

/* 1 where this is the VIMAGE build of the module, 0 elsewhere. */
long
export_owner_vimage(void)
{
#ifdef VIMAGE
	return (1);
#else
	return (0);
#endif
}

/* After the other functions: the table points past the start of .text. */
static long	export_owner_twice(long x);

/* Constant, but with pointers: i386 puts it in .data.rel.ro. */
static const char *const export_owner_names[] = { "first", "second" };

const struct export_owner_ops export_owner_ops = {
	.twice = export_owner_twice,
	.label = "owner",
	.names = export_owner_names,
};

static long
export_owner_twice(long x)
{
	return (2 * x);
}

MODULE_VERSION(export_owner, 1);
