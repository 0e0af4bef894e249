/* NAT header rewrites with incremental IPv4 and TCP/UDP checksum updates (RFC 1624). */
#ifndef XVS_DP_NAT_H
#define XVS_DP_NAT_H

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_hash_crc.h>

#include <string.h>

#include "dp_csum.h"
#include "xvs/addr.h"

/* Rewrite one address and one port of the L4 header; `is_dst` picks which pair. */
static inline void xvs_nat_rewrite_l4(uint8_t proto, void *l4, uint32_t old_addr, uint32_t new_addr,
				      uint16_t old_port, uint16_t new_port, int is_dst)
{
	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = l4;
		uint16_t c = xvs_csum_replace4(t->cksum, old_addr, new_addr);
		t->cksum = xvs_csum_replace2(c, old_port, new_port);
		if (is_dst)
			t->dst_port = new_port;
		else
			t->src_port = new_port;
	} else if (proto == IPPROTO_UDP) {
		struct rte_udp_hdr *u = l4;
		if (u->dgram_cksum) {
			uint16_t c = xvs_csum_replace4(u->dgram_cksum, old_addr, new_addr);
			c = xvs_csum_replace2(c, old_port, new_port);
			u->dgram_cksum = xvs_csum_udp_fix(u->dgram_cksum, c);
		}
		if (is_dst)
			u->dst_port = new_port;
		else
			u->src_port = new_port;
	} else if (proto == IPPROTO_SCTP) {
		/* the addresses are not in SCTP's checksum: xvs_sctp_csum redoes it afterwards */
		memcpy((uint8_t *)l4 + (is_dst ? 2 : 0), &new_port, 2);
	}
}

/*
 * SCTP's CRC32c over the whole packet (RFC 9260, Appendix A), to redo after a port
 * rewrite: the checksum field zeroed, the register started at ~0, inverted at the end and
 * stored least significant byte first, as Linux's sctp_compute_cksum stores it.
 */
static inline void xvs_sctp_csum(uint8_t *l4, uint32_t len)
{
	memset(l4 + 8, 0, 4);
	/* 8 bytes at a time through memcpy: the packet's L4 header need not be aligned */
	uint32_t crc = 0xffffffffu, i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, l4 + i, 8);
		crc = rte_hash_crc_8byte(v, crc);
	}
	for (; i < len; i++)
		crc = rte_hash_crc_1byte(l4[i], crc);
	crc = ~crc;
	uint8_t b[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24) };
	memcpy(l4 + 8, b, 4);
}

/* Whether an SCTP packet's CRC32c is right (len bytes of it, at least 16), checked before NAT
 * redoes it: a corrupted packet must not leave with a fresh, valid checksum. */
static inline int xvs_sctp_csum_ok(const uint8_t *l4, uint32_t len)
{
	uint64_t v;
	uint32_t crc = 0xffffffffu, i = 16;
	memcpy(&v, l4, 8);
	crc = rte_hash_crc_8byte(v, crc);
	memcpy(&v, l4 + 8, 8);
	crc = rte_hash_crc_8byte(v & ~0xffffffffULL, crc); /* the checksum field read as zero */
	for (; i + 8 <= len; i += 8) {
		memcpy(&v, l4 + i, 8);
		crc = rte_hash_crc_8byte(v, crc);
	}
	for (; i < len; i++)
		crc = rte_hash_crc_1byte(l4[i], crc);
	crc = ~crc;
	const uint8_t b[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24) };
	return memcmp(l4 + 8, b, 4) == 0;
}

/* Client -> real server: destination becomes (addr, port). Values in network order. */
static inline void xvs_nat_dnat4(struct rte_ipv4_hdr *ip, void *l4, uint32_t addr, uint16_t port,
				 uint16_t old_port)
{
	uint32_t old = ip->dst_addr;
	ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, old, addr);
	ip->dst_addr = addr;
	xvs_nat_rewrite_l4(ip->next_proto_id, l4, old, addr, old_port, port, 1);
}

/* Real server -> client: source becomes (addr, port), the VIP. */
static inline void xvs_nat_snat4(struct rte_ipv4_hdr *ip, void *l4, uint32_t addr, uint16_t port,
				 uint16_t old_port)
{
	uint32_t old = ip->src_addr;
	ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, old, addr);
	ip->src_addr = addr;
	xvs_nat_rewrite_l4(ip->next_proto_id, l4, old, addr, old_port, port, 0);
}

/*
 * IPv6: no header checksum; the L4 checksum covers the 128-bit address through the
 * pseudo-header. addr_off is XVS_IP6_SRC_OFF or XVS_IP6_DST_OFF (8 or 24) from l3.
 */
static inline void xvs_nat_rewrite6(uint8_t *l3, unsigned addr_off, uint8_t proto, void *l4,
				    const union xvs_ip *addr, uint16_t old_port, uint16_t port, int is_dst)
{
	/* checksum offset within the L4 header: TCP 16, UDP 6 */
	unsigned ckoff = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
	if (ckoff) {
		uint16_t c;
		memcpy(&c, (uint8_t *)l4 + ckoff, 2);
		for (unsigned i = 0; i < 4; i++) {
			uint32_t o;
			memcpy(&o, l3 + addr_off + 4 * i, 4);
			c = xvs_csum_replace4(c, o, addr->w[i]);
		}
		c = xvs_csum_replace2(c, old_port, port);
		/* UDP over IPv6 must carry a checksum: 0 is sent as 0xffff */
		if (proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		memcpy((uint8_t *)l4 + ckoff, &c, 2);
		memcpy((uint8_t *)l4 + (is_dst ? 2 : 0), &port, 2);
	} else if (proto == IPPROTO_SCTP) {
		memcpy((uint8_t *)l4 + (is_dst ? 2 : 0), &port, 2); /* then xvs_sctp_csum */
	}
	memcpy(l3 + addr_off, addr->v6, 16);
}

#endif
