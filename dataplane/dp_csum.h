/* Incremental Internet checksum updates (RFC 1624), for rewriting headers in place. */
#ifndef XVS_DP_CSUM_H
#define XVS_DP_CSUM_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

/* Fold a 32-bit one's complement sum into 16 bits. */
static inline uint16_t xvs_csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * One's complement sum of len bytes as big-endian 16-bit words, added to s (not folded).
 * rte_raw_cksum sums host-order (little-endian) words; a one's complement sum commutes with
 * swapping bytes, so swapping its result gives the big-endian sum.
 */
static inline uint32_t xvs_csum_sum_be(const void *p, uint32_t len, uint32_t s)
{
	return s + rte_bswap16(rte_raw_cksum(p, len));
}

/*
 * New checksum after 32 bits changed from `from` to `to` (all values as stored in the
 * packet, i.e. network order): HC' = ~(~HC + ~m + m').
 */
static inline uint16_t xvs_csum_replace4(uint16_t csum, uint32_t from, uint32_t to)
{
	uint32_t s = (uint16_t)~csum;
	s += (uint16_t)~from + (uint16_t)~(from >> 16);
	s += (to & 0xffff) + (to >> 16);
	return (uint16_t)~xvs_csum_fold(s);
}

static inline uint16_t xvs_csum_replace2(uint16_t csum, uint16_t from, uint16_t to)
{
	uint32_t s = (uint16_t)~csum;
	s += (uint16_t)~from;
	s += to;
	return (uint16_t)~xvs_csum_fold(s);
}

/*
 * UDP: a zero checksum means "none" and must stay zero; a computed zero is sent as 0xffff.
 */
static inline uint16_t xvs_csum_udp_fix(uint16_t old, uint16_t csum)
{
	if (old == 0)
		return 0;
	return csum == 0 ? 0xffff : csum;
}

#endif
