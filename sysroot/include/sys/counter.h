/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: counter(9) per-CPU statistics.
 */

#ifndef _SYS_COUNTER_H_
#define	_SYS_COUNTER_H_

#include <sys/cdefs.h>
#include <sys/types.h>
#include <machine/counter.h>

counter_u64_t	counter_u64_alloc(int wait);
void		counter_u64_free(counter_u64_t c);
void		counter_u64_zero(counter_u64_t c);
uint64_t	counter_u64_fetch(counter_u64_t c);

/* Whole arrays of counters, e.g. a statistics structure's worth. */
#define	COUNTER_ARRAY_ALLOC(a, n, wait) do {				\
	__size_t _ca_i;							\
									\
	for (_ca_i = 0; _ca_i < (__size_t)(n); _ca_i++)			\
		(a)[_ca_i] = counter_u64_alloc((wait));			\
} while (0)

#define	COUNTER_ARRAY_FREE(a, n) do {					\
	__size_t _ca_i;							\
									\
	for (_ca_i = 0; _ca_i < (__size_t)(n); _ca_i++) {		\
		counter_u64_free((a)[_ca_i]);				\
		(a)[_ca_i] = NULL;					\
	}								\
} while (0)

#define	COUNTER_ARRAY_ZERO(a, n) do {					\
	__size_t _ca_i;							\
									\
	for (_ca_i = 0; _ca_i < (__size_t)(n); _ca_i++)			\
		counter_u64_zero((a)[_ca_i]);				\
} while (0)

/* Sum each counter over all CPUs into the uint64_t array at dstp. */
#define	COUNTER_ARRAY_COPY(a, dstp, n) do {				\
	__size_t _ca_i;							\
									\
	for (_ca_i = 0; _ca_i < (__size_t)(n); _ca_i++)			\
		((uint64_t *)(dstp))[_ca_i] =				\
		    counter_u64_fetch((a)[_ca_i]);			\
} while (0)

#endif /* !_SYS_COUNTER_H_ */
