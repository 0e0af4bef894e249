/*
 * IP-tunnel encapsulation for LVS tunnel forwarding (-i): IPIP (RFC 2003) and GUE
 * (draft-ietf-intarea-gue, variant 0, as Linux's IPVS sends it), IPv4 outer headers.
 * The outer source varies per flow (address from a prefix, and the UDP source port for
 * GUE) so the real server's RSS spreads flows. Worker lcore; inline, no state.
 */
#ifndef XVS_DP_TUNNEL_H
#define XVS_DP_TUNNEL_H

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_csum.h"
#include "xvs/table.h"

#define XVS_GUE_HLEN 4 /* GUE header, variant 0, no extension fields */

/* Outer header bytes a tunnel adds: outer IP header (20 or 40), and UDP + GUE for GUE. */
static inline uint16_t xvs_tun_overhead_af(uint8_t outer_af, uint8_t tun_type)
{
	return (uint16_t)((outer_af == XVS_AF_INET6 ? 40 : sizeof(struct rte_ipv4_hdr)) +
			  (tun_type == XVS_TUN_TYPE_GUE ? sizeof(struct rte_udp_hdr) + XVS_GUE_HLEN : 0));
}

/*
 * Outer source for a flow with hash h: the prefix's host part chosen by h, avoiding the
 * network and broadcast addresses; the fixed address when the prefix is a /32 (or len 32).
 */
static inline uint32_t xvs_tun_src(uint32_t prefix_be, uint8_t len, uint32_t h)
{
	if (len >= 32)
		return prefix_be;
	uint32_t hosts = (uint32_t)(1ULL << (32 - len));
	uint32_t host = hosts > 2 ? 1 + h % (hosts - 2) : (h & (hosts - 1));
	return rte_cpu_to_be_32(rte_be_to_cpu_32(prefix_be) + host);
}

/* GUE's UDP source port for a flow: the ephemeral range 49152-65535 picked by h. */
static inline uint16_t xvs_tun_gue_sport(uint32_t h)
{
	return rte_cpu_to_be_16((uint16_t)(0xc000 | ((h ^ (h >> 16)) & 0x3fff)));
}

/* The inner packet's protocol number as an outer header names it: IPIP (4) or IPv6 (41). */
static inline uint8_t xvs_tun_inner_proto(uint8_t inner_af)
{
	return inner_af == XVS_AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
}

/* Write UDP + GUE (variant 0) after the outer header; the checksum is left to the caller. */
static inline struct rte_udp_hdr *xvs_tun_gue(uint8_t *at, uint16_t in_len, uint8_t inner_af,
					      uint16_t dport, uint16_t sport)
{
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)at;
	uint8_t *gue = (uint8_t *)(u + 1);
	u->src_port = sport;
	u->dst_port = dport;
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(in_len + sizeof(*u) + XVS_GUE_HLEN));
	u->dgram_cksum = 0;
	gue[0] = 0;                               /* version 0, C 0, hlen 0 */
	gue[1] = xvs_tun_inner_proto(inner_af);   /* protocol of the inner packet */
	gue[2] = gue[3] = 0;                      /* no flags */
	return u;
}

/*
 * One's complement sum of the whole inner packet without reading its payload, from its own
 * TCP/UDP checksum (local checksum offload, RFC 7605 style): a valid L4 checksum makes the
 * segment sum to the complement of its pseudo-header, and a valid IPv4 header sums to zero.
 * Returns -1 when that does not apply (another protocol, IPv6 extension headers, IPv4 options,
 * UDP without checksum): the caller sums the packet.
 */
static inline int32_t xvs_tun_inner_sum(const uint8_t *in, uint8_t inner_af, uint16_t in_len)
{
	uint32_t hl, pseudo, hdr = 0;
	uint8_t proto;
	if (inner_af == XVS_AF_INET6) {
		hl = 40;
		proto = in[6];
		pseudo = xvs_csum_sum_be(in + 8, 32, 0);
		hdr = xvs_csum_sum_be(in, 40, 0);
	} else {
		hl = (in[0] & 0xf) * 4u;
		proto = in[9];
		if (hl != 20)
			return -1;
		pseudo = xvs_csum_sum_be(in + 12, 8, 0);
	}
	uint32_t l4_len = in_len - hl;
	unsigned ckoff = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
	if (!ckoff || l4_len < ckoff + 2u)
		return -1;
	if (proto == IPPROTO_UDP && in[hl + 6] == 0 && in[hl + 7] == 0)
		return -1;
	pseudo += proto + (l4_len >> 16) + (l4_len & 0xffff);
	uint32_t seg = 0xffffu - xvs_csum_fold(pseudo);
	return xvs_csum_fold(hdr + seg);
}

/*
 * The outer UDP checksum of a GUE packet (outer header at o, UDP at u, the inner packet after
 * GUE), from the values just written rather than by reading them back (that would stall on
 * store forwarding), and from the inner checksum where it can stand in for the payload.
 */
static inline uint16_t xvs_tun_gue_cksum(const uint8_t *o, uint8_t outer_af, const uint8_t *u,
					 const union xvs_ip *src, const union xvs_ip *dst,
					 uint16_t sport, uint16_t dport, uint8_t inner_af, uint16_t in_len)
{
	uint16_t ulen = (uint16_t)(in_len + 8 + XVS_GUE_HLEN);
	int32_t inner = xvs_tun_inner_sum(u + 8 + XVS_GUE_HLEN, inner_af, in_len);
	if (inner < 0) /* sum it all */
		return outer_af == XVS_AF_INET6 ?
			rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)o, u) :
			rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)o, u);
	uint32_t s = outer_af == XVS_AF_INET6 ? xvs_csum_sum_be(src->v6, 16, xvs_csum_sum_be(dst->v6, 16, 0))
					      : xvs_csum_sum_be((const uint8_t *)&src->v4, 4,
							    xvs_csum_sum_be((const uint8_t *)&dst->v4, 4, 0));
	/* pseudo-header protocol and length, UDP ports and length; GUE adds the inner protocol */
	s += IPPROTO_UDP + 2u * ulen + rte_be_to_cpu_16(sport) + rte_be_to_cpu_16(dport) +
	     xvs_tun_inner_proto(inner_af) + (uint32_t)inner;
	uint16_t ck = (uint16_t)~xvs_csum_fold(s);
	return rte_cpu_to_be_16(ck ? ck : 0xffff);
}

/* Traffic class / TOS, TTL / hop limit and, for IPv4, the DF bit of the inner packet at l3. */
static inline void xvs_tun_inner_info(const uint8_t *l3, uint8_t inner_af, uint16_t *len,
				      uint8_t *tos, uint8_t *ttl, uint16_t *df)
{
	if (inner_af == XVS_AF_INET6) {
		*len = (uint16_t)(40 + ((uint16_t)l3[4] << 8 | l3[5]));
		*tos = (uint8_t)((l3[0] << 4) | (l3[1] >> 4));
		*ttl = l3[7];
		*df = 0;
		return;
	}
	const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)l3;
	*len = rte_be_to_cpu_16(in->total_length);
	*tos = in->type_of_service;
	*ttl = in->time_to_live;
	*df = in->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
}

/*
 * Prepend the outer headers (family outer_af, to dst from src) to the IPv4 or IPv6 packet
 * (inner_af) that starts at l3_off after the Ethernet header, which moves to the new front.
 * IPv4 outer: TOS, DF and TTL copied (the inner TTL, already decremented, as IPVS copies it),
 * id 0. IPv6 outer: traffic class and hop limit copied, flow label from the flow hash; GUE
 * over IPv6 always carries a UDP checksum (RFC 8200).
 * Returns 0, or -1 when the mbuf has no headroom.
 */
static inline int xvs_tun_encap(struct rte_mbuf *m, uint16_t l3_off, uint8_t inner_af, uint8_t outer_af,
				uint8_t tun_type, uint16_t tun_flags, const union xvs_ip *src,
				const union xvs_ip *dst, uint16_t gue_dport, uint16_t gue_sport,
				uint32_t flow_label)
{
	uint16_t add = xvs_tun_overhead_af(outer_af, tun_type), in_len, df;
	uint8_t tos, ttl;
	xvs_tun_inner_info(rte_pktmbuf_mtod_offset(m, const uint8_t *, l3_off), inner_af, &in_len, &tos,
			   &ttl, &df);
	/* trim Ethernet padding so the outer lengths are exact */
	uint32_t want = (uint32_t)l3_off + in_len;
	if (m->pkt_len > want && m->nb_segs == 1)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - want));
	char *front = rte_pktmbuf_prepend(m, add);
	if (!front)
		return -1;
	/* The Ethernet header is rebuilt at the new front: the caller's transmit fills both MACs
	 * (l3_off is the Ethernet header's length); only the type is written here. */
	uint8_t *l3 = (uint8_t *)front + l3_off;
	uint8_t proto = tun_type == XVS_TUN_TYPE_GUE ? IPPROTO_UDP : xvs_tun_inner_proto(inner_af);
	uint16_t olen = (uint16_t)(add - (outer_af == XVS_AF_INET6 ? 40 : 20) + in_len);
	if (outer_af == XVS_AF_INET6) {
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)front;
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		uint32_t vtf = 6u << 28 | (uint32_t)tos << 20 | (flow_label & 0xfffff);
		vtf = rte_cpu_to_be_32(vtf);
		memcpy(l3, &vtf, 4);
		l3[4] = (uint8_t)(olen >> 8);
		l3[5] = (uint8_t)olen;
		l3[6] = proto;
		l3[7] = ttl;
		memcpy(l3 + 8, src->v6, 16);
		memcpy(l3 + 24, dst->v6, 16);
		if (tun_type == XVS_TUN_TYPE_GUE) {
			struct rte_udp_hdr *u = xvs_tun_gue(l3 + 40, in_len, inner_af, gue_dport, gue_sport);
			u->dgram_cksum = xvs_tun_gue_cksum(l3, XVS_AF_INET6, (const uint8_t *)u, src, dst,
							   gue_sport, gue_dport, inner_af, in_len);
		}
		return 0;
	}
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)front;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
	uint16_t tot = (uint16_t)(in_len + add);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.type_of_service = tos,
		.total_length = rte_cpu_to_be_16(tot),
		.packet_id = 0,
		.fragment_offset = df,
		.time_to_live = ttl,
		.next_proto_id = proto,
		.src_addr = src->v4,
		.dst_addr = dst->v4,
	};
	/* checksum from the values just written, not by reading the header back (that stalls) */
	uint32_t sa = rte_be_to_cpu_32(src->v4), da = rte_be_to_cpu_32(dst->v4);
	uint32_t sum = (uint32_t)(RTE_IPV4_VHL_DEF << 8 | tos) + tot + rte_be_to_cpu_16(df) +
		       ((uint32_t)ttl << 8 | proto) + (sa >> 16) + (sa & 0xffff) + (da >> 16) + (da & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
	if (tun_type == XVS_TUN_TYPE_GUE) {
		struct rte_udp_hdr *u = xvs_tun_gue((uint8_t *)(ip + 1), in_len, inner_af, gue_dport, gue_sport);
		if (tun_flags == XVS_TUN_F_CSUM)
			u->dgram_cksum = xvs_tun_gue_cksum(l3, XVS_AF_INET, (const uint8_t *)u, src, dst,
							   gue_sport, gue_dport, inner_af, in_len);
	}
	return 0;
}

#endif
