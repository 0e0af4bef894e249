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
#include <rte_mbuf_core.h>
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
	XVS_PKT_IP6,      /* TCP, UDP or ICMPv6 over IPv6, extension headers walked */
};

/* Extension headers the parser walks before it gives up (RFC 8200 order is at most 6 deep). */
#ifndef XVS_IP6_MAX_EXT
#define XVS_IP6_MAX_EXT 8
#endif
#define XVS_IP6_HLEN 40
/* Offsets of the addresses in an IPv6 header. */
#define XVS_IP6_SRC_OFF 8
#define XVS_IP6_DST_OFF 24

struct xvs_pkt {
	uint8_t kind;
	uint8_t drop;    /* enum xvs_drop when kind == XVS_PKT_DROP */
	uint8_t proto;   /* IPPROTO_* */
	uint8_t tcp_flags; /* TCP: the flags; SCTP: the chunk type that drives its state */
	uint16_t l3_off;
	uint16_t l4_off;
	uint16_t ip_len; /* IPv4 total length; IPv6: 40 + payload length */
	uint16_t sport;  /* network order; ICMP: 0 */
	uint16_t dport;
	uint32_t src;    /* IPv4, network order (IPv6: at l3_off + XVS_IP6_SRC_OFF) */
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
		/* bytes after the datagram inside the IP payload: its checksum does not cover them */
		if (ulen < l4_len)
			return xvs_parse_drop(p, XVS_DROP_UDP_BAD_LEN);
		p->sport = u->src_port;
		p->dport = u->dst_port;
		return 0;
	}
	case IPPROTO_SCTP: {
		/* common header (ports, tag, CRC32c) and at least one chunk header */
		if (l4_len < 16)
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		memcpy(&p->sport, l4, 2);
		memcpy(&p->dport, l4 + 2, 2);
		uint8_t type = l4[12];
		/* a COOKIE ECHO or COOKIE ACK bundled with an ABORT counts as the ABORT (IPVS) */
		if (type == 10 || type == 11) {
			uint32_t clen = (uint32_t)l4[14] << 8 | l4[15];
			uint32_t next = 12 + ((clen + 3) & ~3u);
			if (clen >= 4 && next + 4 <= l4_len && l4[next] == 6)
				type = 6;
		}
		p->tcp_flags = type;
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (l4_len < sizeof(struct rte_icmp_hdr))
			return xvs_parse_drop(p, XVS_DROP_L4_TRUNCATED);
		p->sport = p->dport = 0;
		return 0;
	default:
		return xvs_parse_drop(p, XVS_DROP_L4_UNSUPPORTED);
	}
}

/*
 * Whether a 20-byte IPv4 header's checksum verifies: its five 32-bit words summed with end-
 * around carry and folded to 16 bits give all ones (byte order does not matter to that).
 * About a dozen instructions, against rte_raw_cksum's general loop.
 */
static inline int xvs_ip4_hdr_sum_ok(const void *hdr)
{
	uint32_t w[5];
	memcpy(w, hdr, sizeof(w));
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	uint32_t t = ((uint32_t)s & 0xffff) + ((uint32_t)s >> 16);
	t = (t & 0xffff) + (t >> 16);
	return t == 0xffff;
}

/*
 * What a NIC with receive checksum offload says of a frame (mbuf ol_flags): the drop reason
 * for a bad IPv4 header or L4 checksum, or XVS_DROP_MAX (good, or not checked: software
 * decides).
 */
static inline enum xvs_drop xvs_rx_csum_verdict(uint64_t ol_flags)
{
	if ((ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return XVS_DROP_IP_BAD_CSUM;
	if ((ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return XVS_DROP_L4_BAD_CSUM;
	return XVS_DROP_MAX;
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
	if (!(ihl == sizeof(*ip) ? xvs_ip4_hdr_sum_ok(ip) : rte_raw_cksum(ip, ihl) == 0xffff))
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_CSUM);
	if (ihl != sizeof(*ip))
		return xvs_parse_drop(p, XVS_DROP_IP_OPTIONS);
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return xvs_parse_drop(p, XVS_DROP_IP_FRAGMENT);
	/* Martian sources: unspecified, loopback, multicast or broadcast. */
	uint8_t s0 = ((const uint8_t *)&ip->src_addr)[0];
	if (ip->src_addr == 0 || s0 == 127 || s0 >= 224)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_ADDR);
	if (ip->next_proto_id == IPPROTO_ICMPV6)
		return xvs_parse_drop(p, XVS_DROP_L4_UNSUPPORTED);
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

/*
 * Walk IPv6 extension headers from `nh` at offset `off` (from l3) up to `end`. Hop-by-hop
 * only first, no routing header with segments left, no fragments, at most XVS_IP6_MAX_EXT
 * headers, each wholly inside the packet. Returns the offset of the L4 header (*nh set to its
 * protocol) or -1 with p->drop set.
 */
static inline int xvs_parse_ip6_ext(struct xvs_pkt *p, const uint8_t *l3, uint8_t *nh, uint32_t off,
				    uint32_t end)
{
	for (unsigned n = 0; n <= XVS_IP6_MAX_EXT; n++) {
		switch (*nh) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
		case IPPROTO_SCTP:
		case IPPROTO_ICMPV6:
			return (int)off;
		case IPPROTO_FRAGMENT:
			return xvs_parse_drop(p, XVS_DROP_IP_FRAGMENT);
		case IPPROTO_HOPOPTS:
			if (n != 0)
				return xvs_parse_drop(p, XVS_DROP_IP6_BAD_EXT);
			break;
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			break;
		default:
			return xvs_parse_drop(p, XVS_DROP_L4_UNSUPPORTED);
		}
		if (n == XVS_IP6_MAX_EXT || off + 8 > end)
			return xvs_parse_drop(p, XVS_DROP_IP6_BAD_EXT);
		uint32_t hl = (l3[off + 1] + 1u) * 8u;
		if (*nh == IPPROTO_ROUTING && l3[off + 3] != 0) /* segments left: not for us to skip */
			return xvs_parse_drop(p, XVS_DROP_IP6_BAD_EXT);
		if (off + hl > end)
			return xvs_parse_drop(p, XVS_DROP_IP6_BAD_EXT);
		*nh = l3[off];
		off += hl;
	}
	return xvs_parse_drop(p, XVS_DROP_IP6_BAD_EXT);
}

static inline int xvs_parse_ip6(struct xvs_pkt *p, const uint8_t *l3, uint32_t len)
{
	if (len < XVS_IP6_HLEN)
		return xvs_parse_drop(p, XVS_DROP_IP_TRUNCATED);
	if ((l3[0] >> 4) != 6)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_VERSION);
	uint32_t plen = (uint32_t)l3[4] << 8 | l3[5];
	if (XVS_IP6_HLEN + plen > len)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_LEN);
	/* Martian sources: multicast and loopback (:: stays legal: DAD probes use it). */
	const uint8_t *src = l3 + XVS_IP6_SRC_OFF;
	static const uint8_t loop[16] = { [15] = 1 };
	if (src[0] == 0xff || memcmp(src, loop, 16) == 0)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_ADDR);
	uint8_t nh = l3[6];
	int off = xvs_parse_ip6_ext(p, l3, &nh, XVS_IP6_HLEN, XVS_IP6_HLEN + plen);
	if (off < 0)
		return -1;
	/* :: is a source only for duplicate-address probes (ICMPv6), never for a connection */
	static const uint8_t unspec[16];
	if (nh != IPPROTO_ICMPV6 && memcmp(src, unspec, 16) == 0)
		return xvs_parse_drop(p, XVS_DROP_IP_BAD_ADDR);
	p->proto = nh;
	p->ip_len = (uint16_t)(XVS_IP6_HLEN + plen);
	p->src = p->dst = 0;
	p->l4_off = (uint16_t)(p->l3_off + off);
	if (xvs_parse_l4(p, l3 + off, XVS_IP6_HLEN + plen - (uint32_t)off) < 0)
		return -1;
	/* UDP over IPv6 must carry a checksum (RFC 8200 §8.1) */
	if (nh == IPPROTO_UDP && l3[off + 6] == 0 && l3[off + 7] == 0)
		return xvs_parse_drop(p, XVS_DROP_UDP6_NO_CSUM);
	p->kind = XVS_PKT_IP6;
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
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6))
		return xvs_parse_ip6(p, frame + p->l3_off, len - p->l3_off);
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		if (len - p->l3_off < sizeof(struct rte_arp_hdr))
			return xvs_parse_drop(p, XVS_DROP_ARP_MALFORMED);
		p->kind = XVS_PKT_ARP;
		return 0;
	}
	return xvs_parse_drop(p, XVS_DROP_L2_UNSUPPORTED);
}

#endif
