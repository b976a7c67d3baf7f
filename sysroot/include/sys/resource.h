/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: CPU time state indices (struct pcpu
 * keeps a pc_cp_time[CPUSTATES] array).
 */

#ifndef _SYS_RESOURCE_H_
#define	_SYS_RESOURCE_H_

#define	CP_USER		0
#define	CP_NICE		1
#define	CP_SYS		2
#define	CP_INTR		3
#define	CP_IDLE		4
#define	CPUSTATES	5

#endif /* !_SYS_RESOURCE_H_ */
