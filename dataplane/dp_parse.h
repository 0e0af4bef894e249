/*
 * Parsing of received frames into the metadata the packet path uses. Reads only the
 * frame's first segment and never reads past data_len: every header is length-checked
 * before it is touched. Worker lcore, no side effects besides *p.
 */
#ifndef XVS_DP_PARSE_H
#define XVS_DP_PARSE_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_icmp.h>
#include <rte_arp.h>

#include "xvs/addr.h"
#include "xvs/drop.h"

enum xvs_pkt_kind {
	XVS_PKT_DROP = 0, /* p->drop says why */
	XVS_PKT_ARP,
	XVS_PKT_IP4,      /* TCP, UDP or ICMP over IPv4, headers validated */
};

struct xvs_pkt {
	uint8_t kind;
	uint8_t drop;    /* enum xvs_drop when kind == XVS_PKT_DROP */
	uint8_t proto;   /* IPPROTO_* */
	uint8_t tcp_flags;
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t ip_len; /* IPv4 total length */
	uint16_t sport;  /* network order; ICMP: 0 */
	uint16_t dport;
	uint32_t src;    /* IPv4, network order */
	uint32_t dst;
};

static inline int xvs_parse_drop(struct xvs_pkt *p, enum xvs_drop why)
{
	p->kind = XVS_PKT_DROP;
	p->drop = (uint8_t)why;
	return -1;
}

static inline int xvs_parse_l4(struct xvs_pkt *p, const uint8_t *l4, uint32_t l4_len)
{
	switch (p->proto) {
	case IPPROTO_TCP: {
		if (l4_len < sizeof(struct rte_tcp_hdr))
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)l4;
		uint32_t doff = (t->data_off >> 4) * 4u;
		if (doff < sizeof(*t) || doff > l4_len)
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		p->sport = t->src_port;
		p->dport = t->dst_port;
		p->tcp_flags = t->tcp_flags;
		return 0;
	}
	case IPPROTO_UDP: {
		if (l4_len < sizeof(struct rte_udp_hdr))
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)l4;
		uint32_t ulen = rte_be_to_cpu_16(u->dgram_len);
		if (ulen < sizeof(*u) || ulen > l4_len)
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		p->sport = u->src_port;
		p->dport = u->dst_port;
		return 0;
	}
	case IPPROTO_ICMP:
		if (l4_len < sizeof(struct rte_icmp_hdr))
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		p->sport = p->dport = 0;
		return 0;
	default:
		return xvs_parse_drop(p, XVS_DROP_L4_UNSUPPORTED);
	}
}

static inline int xvs_parse_ip4(struct xvs_pkt *p, const uint8_t *l3, uint32_t len)
{
	if (len < sizeof(struct rte_ipv4_hdr))
		return xvs_parse_drop(p, XVS_DROP_IP_TRUNCATED);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	if ((ip->version_ihl >> 4) != 4)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_VERSION);
	uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	if (ihl < sizeof(*ip))
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_IHL);
	if (ihl > len)
		return xvs_parse_drop(p, XVS_DROP_IP_TRUNCATED);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || tot > len)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_LEN);
	if (rte_raw_cksum(ip, ihl) != 0xffff)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_CSUM);
	if (ihl != sizeof(*ip))
		return xvs_parse_drop(p, XVS_DROP_IP_OPTIONS);
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return xvs_parse_drop(p, XVS_DROP_IP_FRAGMENT);
	/* Martian sources: unspecified, loopback, multicast or broadcast. */
	uint8_t s0 = ((const uint8_t *)&ip->src_addr)[0];
	if (ip->src_addr == 0 || s0 == 127 || s0 >= 224)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_ADDR);
	p->proto = ip->next_proto_id;
	p->ip_len = (uint16_t)tot;
	p->src = ip->src_addr;
	p->dst = ip->dst_addr;
	p->l4_off = (uint16_t)(p->l3_off + ihl);
	if (xvs_parse_l4(p, l3 + ihl, tot - ihl) < 0)
		return -1;
	p->kind = XVS_PKT_IP4;
	return 0;
}

/* Parse a frame of `len` contiguous bytes. Returns 0, or -1 with p->drop set. */
static inline int xvs_parse(struct xvs_pkt *p, const uint8_t *frame, uint32_t len)
{
	p->tcp_flags = 0;
	if (len < sizeof(struct rte_ether_hdr))
		return xvs_parse_drop(p, XVS_DROP_RUNT);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	p->l3_off = sizeof(*eth);
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return xvs_parse_ip4(p, frame + p->l3_off, len - p->l3_off);
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		if (len - p->l3_off < sizeof(struct rte_arp_hdr))
			return xvs_parse_drop(p, XVS_DROP_ARP_MALFORMED);
		p->kind = XVS_PKT_ARP;
		return 0;
	}
	return xvs_parse_drop(p, XVS_DROP_L2_UNSUPPORTED);
}

#endif
