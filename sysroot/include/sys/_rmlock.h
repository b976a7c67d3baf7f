/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: read-mostly lock queue linkage, which
 * struct pcpu embeds (pc_rm_queue).
 */

#ifndef _SYS__RMLOCK_H_
#define	_SYS__RMLOCK_H_

struct rm_queue {
	struct rm_queue *volatile rmq_next;
	struct rm_queue *volatile rmq_prev;
};

#endif /* !_SYS__RMLOCK_H_ */
