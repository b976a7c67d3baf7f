/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Stub for vnetgen's test sysroot: fixed-size bit set structures.
 */

#ifndef _SYS__BITSET_H_
#define	_SYS__BITSET_H_

/* Bits are kept in longs, least significant bit first. */
#define	_BITSET_BITS		(sizeof(long) * 8)
#define	__bitset_words(_s)	(((_s) + _BITSET_BITS - 1) / _BITSET_BITS)

#define	__BITSET_DEFINE(_t, _s)						\
struct _t {								\
	long	__bits[__bitset_words((_s))];				\
}

/* Word index and in-word mask of bit n; n may be signed or unsigned. */
#define	__bitset_word(n)	((__size_t)(n) / _BITSET_BITS)
#define	__bitset_mask(n)	(1UL << ((__size_t)(n) % _BITSET_BITS))

#endif /* !_SYS__BITSET_H_ */
