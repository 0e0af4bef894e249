/*
 * Transmit (dp_xmit.c): a connection's packets forwarded by its method, and the hot inline
 * steps every frame xvs sends takes: TTL decrement, route, neighbour, Ethernet header, queue.
 * Worker lcores.
 */
#ifndef XVS_DP_XMIT_H
#define XVS_DP_XMIT_H

#include "dp_icmp.h"
#include "dp_neighproto.h"
#include "dp_path.h"

/*
 * Decrement the TTL (IPv4, with the header checksum updated, RFC 1624) or the hop limit
 * (IPv6) of a packet xvs forwards, as a router does and as IPVS does for every forwarding
 * method; at 1 or 0 it goes no further. Returns 0 to go on, -1 when m was consumed.
 */
static inline int xvs_ttl_dec(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			      const struct xvs_pkt *p)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	if ((l3[0] >> 4) == 6) {
		if (likely(l3[7] > 1)) {
			l3[7]--;
			return 0;
		}
	} else if (likely(l3[8] > 1)) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;
		uint16_t was = rte_cpu_to_be_16((uint16_t)(l3[8] << 8 | l3[9]));
		ip->time_to_live--;
		ip->hdr_checksum = xvs_csum_replace2(ip->hdr_checksum, was,
						     rte_cpu_to_be_16((uint16_t)(l3[8] << 8 | l3[9])));
		return 0;
	}
	xvs_ttl_expired(w, g, m, p);
	return -1;
}

/* Resolve nh (af) and queue m on port; or hold it until resolved. */
static inline void xmit_nh(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			   const union xvs_ip *nh)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint64_t ll;
	struct xvs_neigh *n = xvs_neigh_lookup(w->dp->neigh, port, af, nh, &ll);
	if (unlikely(!n || !(ll & XVS_NEIGH_VALID)))
		return xvs_hold_unresolved(w, m, port, af, nh);
	xvs_neigh_ll_mac(ll, &eth->dst_addr);
	xvs_neigh_used(n, w->now_tsc);
	eth->src_addr = w->dp->ports[port].mac;
	enqueue(w, port, m);
}

/* Route m towards dst, fill its Ethernet header and queue it (or hold it, or drop it, counted). */
static inline void xmit4(struct xvs_worker *w, struct rte_mbuf *m, uint32_t dst)
{
	const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, dst);
	if (unlikely(!r))
		return drop(w, m, XVS_DROP_NO_ROUTE);
	/* whole 64-bit stores: a 32-bit store read back as 64 bits stalls store forwarding */
	union xvs_ip nh = { .d = { r->gw ? r->gw : dst, 0 } };
	xmit_nh(w, m, r->port, XVS_AF_INET, &nh);
}

/* The same for IPv6. */
static inline void xmit6(struct xvs_worker *w, struct rte_mbuf *m, const union xvs_ip *dst)
{
	const struct xvs_route6 *r = xvs_route6_lookup(&w->dp->routes6, dst);
	if (unlikely(!r))
		return drop(w, m, XVS_DROP_NO_ROUTE);
	xmit_nh(w, m, r->port, XVS_AF_INET6, r->has_gw ? &r->gw : dst);
}

/*
 * Forward a packet of connection c seen in direction dir (NAT, DR or a tunnel): state, counts,
 * TTL, rewrite, transmit. `fresh` for the packet that created it.
 */
void xvs_conn_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		      const struct xvs_pkt *p, struct xvs_conn *c, unsigned dir, int fresh);

/* Encapsulate towards the connection's real server (its flow hash spreads outer sources). */
void xvs_tun_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p, const struct xvs_conn *c);

#endif
