/*
 * IP-tunnel encapsulation for LVS tunnel forwarding (-i): IPIP (RFC 2003) and GUE
 * (draft-ietf-intarea-gue, variant 0, as Linux's IPVS sends it), IPv4 outer headers.
 * The outer source varies per flow (address from a prefix, and the UDP source port for
 * GUE) so the real server's RSS spreads flows. Worker lcore; inline, no state.
 */
#ifndef XVS_DP_TUNNEL_H
#define XVS_DP_TUNNEL_H

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "xvs/table.h"

#define XVS_GUE_HLEN 4 /* GUE header, variant 0, no extension fields */

/* Outer header bytes a tunnel adds to an IPv4 packet. */
static inline uint16_t xvs_tun_overhead(uint8_t tun_type)
{
	return (uint16_t)(sizeof(struct rte_ipv4_hdr) +
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

/*
 * Prepend the outer headers to the IPv4 packet that starts at l3_off (after the Ethernet
 * header, which is moved to the new front). The inner packet is untouched. Returns a
 * pointer to the outer IPv4 header, or NULL when the mbuf has no headroom.
 */
static inline struct rte_ipv4_hdr *xvs_tun_encap4(struct rte_mbuf *m, uint16_t l3_off,
						  uint8_t tun_type, uint16_t tun_flags,
						  uint32_t src, uint32_t dst, uint16_t gue_dport,
						  uint16_t gue_sport)
{
	uint16_t add = xvs_tun_overhead(tun_type);
	const struct rte_ipv4_hdr *in = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, l3_off);
	uint16_t in_len = rte_be_to_cpu_16(in->total_length);
	uint8_t tos = in->type_of_service;
	uint16_t df = in->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	/* trim Ethernet padding so the outer lengths are exact */
	uint32_t want = (uint32_t)l3_off + in_len;
	if (m->pkt_len > want && m->nb_segs == 1)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - want));
	char *old = rte_pktmbuf_mtod(m, char *);
	char *front = rte_pktmbuf_prepend(m, add);
	if (!front)
		return NULL;
	memmove(front, old, l3_off); /* the Ethernet header moves to the front */
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(front + l3_off);
	*ip = (struct rte_ipv4_hdr){
		.version_ihl = RTE_IPV4_VHL_DEF,
		.type_of_service = tos,
		.total_length = rte_cpu_to_be_16((uint16_t)(in_len + add)),
		.packet_id = 0,
		.fragment_offset = df,
		.time_to_live = 64,
		.next_proto_id = tun_type == XVS_TUN_TYPE_GUE ? IPPROTO_UDP : IPPROTO_IPIP,
		.src_addr = src,
		.dst_addr = dst,
	};
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (tun_type != XVS_TUN_TYPE_GUE)
		return ip;
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *gue = (uint8_t *)(u + 1);
	u->src_port = gue_sport;
	u->dst_port = gue_dport;
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(in_len + sizeof(*u) + XVS_GUE_HLEN));
	u->dgram_cksum = 0;
	gue[0] = 0;           /* version 0, C 0, hlen 0 */
	gue[1] = IPPROTO_IPIP; /* protocol of the inner packet */
	gue[2] = gue[3] = 0;  /* no flags */
	if (tun_flags == XVS_TUN_F_CSUM)
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return ip;
}

#endif
