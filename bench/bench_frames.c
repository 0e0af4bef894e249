/* Frame templates and the checks of forwarded frames (bench_frames.h). Any lcore. */
#include <errno.h>

#include <rte_udp.h>

#include "bench_frames.h"
#include "dp_conn.h"

const struct rte_ether_addr bench_port_mac[2] = {
	{ .addr_bytes = { 0x02, 0, 0, 0, 0x00, 0x01 } },
	{ .addr_bytes = { 0x02, 0, 0, 0, 0x01, 0x01 } },
};
const struct rte_ether_addr bench_gw_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0x00, 0xfe } };

/*
 * Template of a TCP segment without payload; the client's side (address and port) is left
 * zero and patched per flow with incremental checksum updates, as a NIC would deliver it.
 */
void bench_tmpl_build(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)t->hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(t->hdr + L3_OFF);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(t->hdr + L4_OFF);
	uint32_t peer = dir == DIR_CS ? svc_vip(k) : rs_addr(dest);
	uint16_t peer_port = rte_cpu_to_be_16(dir == DIR_CS ? VPORT : RS_PORT);

	memset(t, 0, sizeof(*t));
	eth->dst_addr = bench_port_mac[dir == DIR_CS ? 0 : 1];
	eth->src_addr = dir == DIR_CS ? bench_gw_mac : rs_mac(dest);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*tcp));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	tcp->sent_seq = rte_cpu_to_be_32(1000);
	if (dir == DIR_CS) {
		ip->dst_addr = peer;
		tcp->dst_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv4_hdr, src_addr);
		t->port_off = L4_OFF + offsetof(struct rte_tcp_hdr, src_port);
	} else {
		ip->src_addr = peer;
		tcp->src_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv4_hdr, dst_addr);
		t->port_off = L4_OFF + offsetof(struct rte_tcp_hdr, dst_port);
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	t->ip_csum = ip->hdr_checksum;
	t->l4_csum = tcp->cksum;
}

/* The IPv6 counterpart of bench_tmpl_build: the client's address is patched in its last 4 bytes. */
void bench_tmpl_build6(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)t->hdr;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(t->hdr + L3_OFF);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(t->hdr + L4_OFF6);
	union xvs_ip peer = dir == DIR_CS ? svc_vip6(k) : rs_addr6(dest), client = ip6(NET6_CLIENT, 0);
	uint16_t peer_port = rte_cpu_to_be_16(dir == DIR_CS ? VPORT : RS_PORT);

	memset(t, 0, sizeof(*t));
	t->is6 = 1;
	eth->dst_addr = bench_port_mac[dir == DIR_CS ? 0 : 1];
	eth->src_addr = dir == DIR_CS ? bench_gw_mac : rs_mac(dest);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(*tcp));
	ip->proto = IPPROTO_TCP;
	ip->hop_limits = 64;
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	tcp->sent_seq = rte_cpu_to_be_32(1000);
	memcpy(dir == DIR_CS ? ip->src_addr : ip->dst_addr, client.v6, 16);
	memcpy(dir == DIR_CS ? ip->dst_addr : ip->src_addr, peer.v6, 16);
	if (dir == DIR_CS) {
		tcp->dst_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv6_hdr, src_addr) + 12;
		t->port_off = L4_OFF6 + offsetof(struct rte_tcp_hdr, src_port);
	} else {
		tcp->src_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv6_hdr, dst_addr) + 12;
		t->port_off = L4_OFF6 + offsetof(struct rte_tcp_hdr, dst_port);
	}
	tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	t->l4_csum = tcp->cksum;
}

/* One's complement sum of the TCP segment and its pseudo-header: 0xffff when the checksum holds. */
static int tcp_csum_ok(const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *tcp)
{
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - (uint32_t)sizeof(*ip);
	return xvs_csum_fold((uint32_t)rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, len)) == 0xffff;
}

int bench_frame_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		   uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, L3_OFF);
	const struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, L4_OFF);
	return rte_is_same_ether_addr(&eth->dst_addr, dmac) &&
	       rte_is_same_ether_addr(&eth->src_addr, &bench_port_mac[port]) &&
	       rte_raw_cksum(ip, sizeof(*ip)) == 0xffff && tcp_csum_ok(ip, tcp) &&
	       ip->src_addr == src && tcp->src_port == sport && ip->dst_addr == dst &&
	       tcp->dst_port == dport;
}

int bench_nat_frame_ok(const struct rte_mbuf *m, enum dir dir, uint64_t f, unsigned d)
{
	struct rte_ether_addr dmac = rs_mac(d);
	if (dir == DIR_CS)
		return bench_frame_ok(m, &dmac, 1, flow_ip(f), flow_port(f), rs_addr(d),
				      rte_cpu_to_be_16(RS_PORT));
	return bench_frame_ok(m, &bench_gw_mac, 0, svc_vip(SVC_NAT), rte_cpu_to_be_16(VPORT),
			      flow_ip(f), flow_port(f));
}

int bench_nat_frame_flow(const struct rte_mbuf *m, uint32_t *flow, unsigned *dest)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, L3_OFF);
	const struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, L4_OFF);
	uint32_t d = rte_be_to_cpu_32(ip->dst_addr) - (RS_BASE + 1);
	uint32_t host = rte_be_to_cpu_32(ip->src_addr) - (CLIENT_NET + 1);
	uint32_t port = rte_be_to_cpu_16(tcp->src_port) - 1024u;
	/* the headers only: the dataplane trims the Ethernet padding of what it forwards */
	if (m->data_len < L4_OFF + sizeof(struct rte_tcp_hdr) || d >= NB_DESTS ||
	    host >= CLIENT_HOSTS || port >= CLIENT_PORTS)
		return -EINVAL;
	*flow = host * CLIENT_PORTS + port;
	*dest = d;
	return 0;
}

/*
 * A tunnelled frame of flow 0 to real server d: Ethernet to its MAC, an outer IPv4 header
 * (checksum, length, the inner TTL, protocol) from the tunnel_src prefix to d, GUE's UDP
 * header and 4-byte header where kind is SVC_GUE, then the client's packet with its TTL one
 * less (63).
 */
int bench_tun_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind)
{
	uint16_t add = kind == SVC_GUE ? 20 + 8 + 4 : 20;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv4_hdr *o = (const struct rte_ipv4_hdr *)(f + L3_OFF);
	const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)(f + L3_OFF + add);
	const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)(in + 1);
	struct rte_ether_addr dmac = rs_mac(d);
	uint32_t src = rte_be_to_cpu_32(o->src_addr);
	int ok = m->pkt_len == L3_OFF + add + 40u && rte_is_same_ether_addr(&eth->dst_addr, &dmac) &&
		 rte_is_same_ether_addr(&eth->src_addr, &bench_port_mac[1]) &&
		 rte_raw_cksum(o, sizeof(*o)) == 0xffff && o->time_to_live == 63 && in->time_to_live == 63 &&
		 rte_be_to_cpu_16(o->total_length) == add + 40u && o->dst_addr == rs_addr(d) &&
		 src >> (32 - TUN_SRC_LEN) == TUN_SRC >> (32 - TUN_SRC_LEN) &&
		 src != TUN_SRC && src != (TUN_SRC | ((1u << (32 - TUN_SRC_LEN)) - 1)) &&
		 in->src_addr == flow_ip(0) && in->dst_addr == svc_vip(kind) &&
		 tcp->src_port == flow_port(0) && tcp->dst_port == rte_cpu_to_be_16(VPORT) &&
		 rte_raw_cksum(in, sizeof(*in)) == 0xffff && tcp_csum_ok(in, tcp);
	if (kind == SVC_IPIP)
		return ok && o->next_proto_id == IPPROTO_IPIP;
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(o + 1);
	static const uint8_t gue[4] = { 0, IPPROTO_IPIP, 0, 0 };
	return ok && o->next_proto_id == IPPROTO_UDP && u->dst_port == rte_cpu_to_be_16(GUE_PORT) &&
	       rte_be_to_cpu_16(u->src_port) >= 0xc000 && u->dgram_cksum == 0 &&
	       !memcmp(u + 1, gue, sizeof(gue));
}

/* The TCP checksum of an IPv6 packet (no extension headers) verifies. */
static int tcp6_csum_ok(const struct rte_ipv6_hdr *ip, const struct rte_tcp_hdr *tcp)
{
	uint32_t len = rte_be_to_cpu_16(ip->payload_len);
	return xvs_csum_fold((uint32_t)rte_ipv6_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, len)) == 0xffff;
}

int bench_frame6_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		    const union xvs_ip *src, uint16_t sport, const union xvs_ip *dst, uint16_t dport)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, L3_OFF);
	const struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, L4_OFF6);
	return m->pkt_len == FRAME6_LEN && rte_is_same_ether_addr(&eth->dst_addr, dmac) &&
	       rte_is_same_ether_addr(&eth->src_addr, &bench_port_mac[port]) &&
	       eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) && ip->hop_limits == 63 &&
	       !memcmp(ip->src_addr, src->v6, 16) && !memcmp(ip->dst_addr, dst->v6, 16) &&
	       tcp->src_port == sport && tcp->dst_port == dport && tcp6_csum_ok(ip, tcp);
}

/*
 * A 6in6 tunnelled frame of flow 0 to real server d: Ethernet to its MAC, an outer IPv6
 * header (payload length, the inner hop limit, next header, flow label from the flow hash)
 * from port 1's address to d, for GUE a UDP header with a valid checksum and a GUE header
 * naming IPv6, then the client's packet with its hop limit one less (63).
 */
int bench_tun6_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind)
{
	uint16_t add = kind == SVC_GUE6 ? 40 + 8 + 4 : 40;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv6_hdr *o = (const struct rte_ipv6_hdr *)(f + L3_OFF);
	const struct rte_ipv6_hdr *in = (const struct rte_ipv6_hdr *)(f + L3_OFF + add);
	const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)(in + 1);
	struct rte_ether_addr dmac = rs_mac(d);
	struct xvs_conn_key k = { .sport = flow_port(0), .dport = rte_cpu_to_be_16(VPORT),
				  .proto = IPPROTO_TCP, .af = XVS_AF_INET6, .src6 = flow_ip6(0),
				  .dst6 = svc_vip6(kind) };
	union xvs_ip osrc = ip6(NET6_PORT1, rte_cpu_to_be_32(1)), odst = rs_addr6(d);
	union xvs_ip isrc = flow_ip6(0), idst = svc_vip6(kind);
	uint32_t vtc = rte_be_to_cpu_32(o->vtc_flow);
	int ok = m->pkt_len == L3_OFF + add + 60u && rte_is_same_ether_addr(&eth->dst_addr, &dmac) &&
		 rte_is_same_ether_addr(&eth->src_addr, &bench_port_mac[1]) &&
		 eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
		 vtc == (6u << 28 | (xvs_flow_hash(&k) & 0xfffff)) && o->hop_limits == 63 && in->hop_limits == 63 &&
		 rte_be_to_cpu_16(o->payload_len) == add - 40 + 60u &&
		 !memcmp(o->src_addr, osrc.v6, 16) && !memcmp(o->dst_addr, odst.v6, 16) &&
		 !memcmp(in->src_addr, isrc.v6, 16) && !memcmp(in->dst_addr, idst.v6, 16) &&
		 tcp->src_port == flow_port(0) && tcp->dst_port == rte_cpu_to_be_16(VPORT) &&
		 tcp6_csum_ok(in, tcp);
	if (kind == SVC_IPIP6)
		return ok && o->proto == IPPROTO_IPV6;
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(o + 1);
	static const uint8_t gue[4] = { 0, IPPROTO_IPV6, 0, 0 };
	return ok && o->proto == IPPROTO_UDP && u->dst_port == rte_cpu_to_be_16(GUE_PORT) &&
	       rte_be_to_cpu_16(u->src_port) >= 0xc000 && u->dgram_cksum != 0 &&
	       xvs_csum_fold((uint32_t)rte_ipv6_phdr_cksum(o, 0) +
			     rte_raw_cksum(u, rte_be_to_cpu_16(u->dgram_len))) == 0xffff &&
	       !memcmp(u + 1, gue, sizeof(gue));
}
