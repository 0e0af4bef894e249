/*
 * IPv6 Neighbour Discovery (RFC 4861) messages and the ICMPv6 checksum: building
 * solicitations and advertisements, and validating received ones. Pure functions on byte
 * buffers (no mbufs, no state) so they are unit-tested without EAL. Worker lcore.
 */
#ifndef XVS_DP_ND_H
#define XVS_DP_ND_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "dp_csum.h"
#include "xvs/addr.h"

#define XVS_ICMP6_DEST_UNREACH  1
#define XVS_ICMP6_PKT_TOO_BIG   2
#define XVS_ICMP6_TIME_EXCEEDED 3
#define XVS_ICMP6_PARAM_PROBLEM 4
#define XVS_ICMP6_ECHO_REQUEST  128
#define XVS_ICMP6_ECHO_REPLY    129
#define XVS_ND_NS 135
#define XVS_ND_NA 136

#define XVS_ND_OPT_SLL 1 /* source link-layer address */
#define XVS_ND_OPT_TLL 2 /* target link-layer address */

#define XVS_ND_NA_R 0x80 /* router */
#define XVS_ND_NA_S 0x40 /* solicited */
#define XVS_ND_NA_O 0x20 /* override */

/* Bytes of an NS or NA with one link-layer option: ICMPv6 header, target, option. */
#define XVS_ND_MSG_LEN (8 + 16 + 8)

/* What a valid NS/NA says. */
struct xvs_nd_info {
	uint8_t type;
	uint8_t flags;           /* NA flags */
	union xvs_ip target;
	int has_lladdr;          /* the SLL (NS) or TLL (NA) option was present */
	struct rte_ether_addr lladdr;
};

/*
 * ICMPv6 checksum (RFC 4443 §2.3) of the message at l4 (len bytes, its checksum field
 * included as it is) with the IPv6 pseudo-header of src, dst and next header 58. Returns the
 * value to store (network order).
 */
static inline uint16_t xvs_icmp6_cksum(const union xvs_ip *src, const union xvs_ip *dst,
				       const uint8_t *l4, uint32_t len, uint8_t nh)
{
	uint32_t s = xvs_csum_sum_be(src->v6, 16, 0);
	s = xvs_csum_sum_be(dst->v6, 16, s);
	s += (len >> 16) + (len & 0xffff) + nh;
	s = xvs_csum_sum_be(l4, len, s);
	return rte_cpu_to_be_16((uint16_t)~xvs_csum_fold(s));
}

/* The solicited-node multicast address of ip (ff02::1:ffXX:XXXX) and its MAC. */
static inline void xvs_nd_solicited_node(const union xvs_ip *ip, union xvs_ip *mcast,
					 struct rte_ether_addr *mac)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };
	memcpy(mcast->v6, pfx, 13);
	memcpy(mcast->v6 + 13, ip->v6 + 13, 3);
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(mac->addr_bytes + 2, mcast->v6 + 12, 4);
}

/* The MAC of an IPv6 multicast address (33:33 + its last 32 bits). */
static inline void xvs_nd_mcast_mac(const union xvs_ip *ip, struct rte_ether_addr *mac)
{
	mac->addr_bytes[0] = 0x33;
	mac->addr_bytes[1] = 0x33;
	memcpy(mac->addr_bytes + 2, ip->v6 + 12, 4);
}

/*
 * Write an NS or NA body (ICMPv6 header + target + one link-layer option) at msg, checksum
 * included. type: XVS_ND_NS (SLL option) or XVS_ND_NA (flags, TLL option).
 */
static inline void xvs_nd_build(uint8_t *msg, uint8_t type, uint8_t flags, const union xvs_ip *target,
				const struct rte_ether_addr *lladdr, const union xvs_ip *src,
				const union xvs_ip *dst)
{
	memset(msg, 0, XVS_ND_MSG_LEN);
	msg[0] = type;
	if (type == XVS_ND_NA)
		msg[4] = flags;
	memcpy(msg + 8, target->v6, 16);
	msg[24] = type == XVS_ND_NS ? XVS_ND_OPT_SLL : XVS_ND_OPT_TLL;
	msg[25] = 1; /* length in units of 8 bytes */
	memcpy(msg + 26, lladdr->addr_bytes, 6);
	uint16_t ck = xvs_icmp6_cksum(src, dst, msg, XVS_ND_MSG_LEN, 58);
	memcpy(msg + 2, &ck, 2);
}

/*
 * Validate an NS/NA of len bytes received with hop limit hlim (RFC 4861 §7.1): hop limit
 * 255, code 0, at least 24 bytes, target not multicast, options of non-zero length wholly
 * inside the message. Returns 0 with *nd filled, or -1.
 */
static inline int xvs_nd_parse(const uint8_t *msg, uint32_t len, uint8_t hlim, struct xvs_nd_info *nd)
{
	if (hlim != 255 || len < 24 || msg[1] != 0 || (msg[0] != XVS_ND_NS && msg[0] != XVS_ND_NA))
		return -1;
	nd->type = msg[0];
	nd->flags = msg[0] == XVS_ND_NA ? msg[4] : 0;
	memcpy(nd->target.v6, msg + 8, 16);
	if (nd->target.v6[0] == 0xff)
		return -1;
	nd->has_lladdr = 0;
	uint8_t want = msg[0] == XVS_ND_NS ? XVS_ND_OPT_SLL : XVS_ND_OPT_TLL;
	for (uint32_t off = 24; off < len;) {
		if (off + 2 > len || msg[off + 1] == 0)
			return -1;
		uint32_t olen = msg[off + 1] * 8u;
		if (off + olen > len)
			return -1;
		if (msg[off] == want && olen >= 8) {
			memcpy(nd->lladdr.addr_bytes, msg + off + 2, 6);
			nd->has_lladdr = 1;
		}
		off += olen;
	}
	return 0;
}

#endif
