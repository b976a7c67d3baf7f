/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: the NULL pointer constant.
 */

#ifndef NULL
#define	NULL	((void *)0)
#endif
