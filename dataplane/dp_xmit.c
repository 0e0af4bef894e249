/*
 * Transmit: a connection's packets forwarded by NAT, DR or a tunnel (state, counts, TTL, the
 * rewrite), then routed and handed to the neighbour (dp_xmit.h). Worker lcores.
 */
#include <rte_ip.h>

#include "dp_addr.h"
#include "dp_icmp.h"
#include "dp_nat.h"
#include "dp_sctp.h"
#include "dp_sync.h"
#include "dp_tcp.h"
#include "dp_tunnel.h"
#include "dp_xmit.h"
#include "xvs/gen.h"

/* ---- a connection's state and counts as its packets pass ------------------------------ */

static const uint16_t tcp_timeout_s[XVS_TCP_STATE_MAX] = {
	[XVS_TCP_NONE] = 2, [XVS_TCP_ESTABLISHED] = 900, [XVS_TCP_SYN_SENT] = 120,
	[XVS_TCP_SYN_RECV] = 60, [XVS_TCP_FIN_WAIT] = 120, [XVS_TCP_TIME_WAIT] = 120,
	[XVS_TCP_CLOSE] = 10, [XVS_TCP_CLOSE_WAIT] = 60, [XVS_TCP_LAST_ACK] = 30,
	[XVS_TCP_LISTEN] = 120, [XVS_TCP_SYNACK] = 120,
};

static inline uint32_t conn_timeout(const struct xvs_gen *g, const struct xvs_conn *c)
{
	if (c->proto == IPPROTO_UDP)
		return g->timeouts.udp;
	if (c->proto == IPPROTO_SCTP)
		return xvs_sctp_timeout_s[c->state < XVS_SCTP_STATE_MAX ? c->state : 0];
	if (c->state == XVS_TCP_ESTABLISHED)
		return g->timeouts.tcp;
	if (c->state == XVS_TCP_FIN_WAIT)
		return g->timeouts.tcpfin;
	return tcp_timeout_s[c->state < XVS_TCP_STATE_MAX ? c->state : 0];
}

/* Move the destination's active/inactive counts when a connection changes state. */
static inline void conn_account(struct xvs_worker *w, struct xvs_conn *c, int active)
{
	if (!!(c->flags & XVS_CONN_F_ACTIVE) == !!active)
		return;
	struct xvs_stats_ctr *d = &w->st->dest[c->dest];
	if (active) {
		c->flags |= XVS_CONN_F_ACTIVE;
		d->active++;
		d->inactive--;
	} else {
		c->flags &= ~XVS_CONN_F_ACTIVE;
		d->active--;
		d->inactive++;
	}
}

static inline void count_packet(struct xvs_worker *w, const struct xvs_gen *g,
				const struct xvs_conn *c, unsigned dir, uint32_t len)
{
	struct xvs_stats_ctr *d = &w->st->dest[c->dest];
	struct xvs_stats_ctr *s = &w->st->svc[g->dests[c->dest].svc];
	if (dir == XVS_CONN_DIR_ORIG) {
		d->inpkts++;
		d->inbytes += len;
		s->inpkts++;
		s->inbytes += len;
	} else {
		d->outpkts++;
		d->outbytes += len;
		s->outpkts++;
		s->outbytes += len;
	}
}

/* ---- forwarding by method ------------------------------------------------------------ */

/*
 * Encapsulate towards the connection's real server, in the real server's family; the flow
 * hash spreads the outer source (IPv4 tunnel_src prefix, GUE source port, IPv6 flow label).
 */
void xvs_tun_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			const struct xvs_pkt *p, const struct xvs_conn *c)
{
	const struct xvs_dest *d = &g->dests[c->dest];
	union xvs_ip src, nh, daddr = xvs_conn_daddr(c);
	const struct xvs_port *pt;
	uint32_t h = xvs_conn_flow_hash(c);
	uint16_t port;
	if (d->af == XVS_AF_INET6) {
		const struct xvs_route6 *r = xvs_route6_lookup(&w->dp->routes6, &daddr);
		if (unlikely(!r))
			return drop(w, m, XVS_DROP_NO_ROUTE);
		port = r->port;
		pt = &w->dp->ports[port];
		src = *xvs_port_src6(pt, &daddr);
		nh = r->has_gw ? r->gw : daddr;
	} else {
		const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, daddr.v4);
		if (unlikely(!r))
			return drop(w, m, XVS_DROP_NO_ROUTE);
		port = r->port;
		pt = &w->dp->ports[port];
		uint32_t s4 = pt->tun_src_len ? xvs_tun_src(pt->tun_src, pt->tun_src_len, h)
					      : xvs_port_src4(pt, daddr.v4);
		src = (union xvs_ip){ .d = { s4, 0 } };
		nh = (union xvs_ip){ .d = { r->gw ? r->gw : daddr.v4, 0 } };
	}
	uint16_t add = xvs_tun_overhead_af(d->af, d->tun_type);
	if (unlikely((uint32_t)p->ip_len + add > pt->mtu)) {
		/* the true figure even below 1280: hosts then keep 1280 (RFC 8201) and a link
		 * that cannot carry 1280 + tunnel overhead is a configuration error (docs) */
		if (c->af == XVS_AF_INET6)
			return xvs_send_pkt_too_big(w, m, p, (uint32_t)(pt->mtu - add));
		return xvs_send_frag_needed(w, m, p, (uint16_t)(pt->mtu - add));
	}
	if (unlikely(xvs_tun_encap(m, p->l3_off, c->af, d->af, d->tun_type, d->tun_flags, &src,
				   &daddr, d->tun_port_be, xvs_tun_gue_sport(h), h) < 0))
		return drop(w, m, XVS_DROP_NO_HEADROOM);
	xmit_nh(w, m, port, d->af, &nh); /* the route is known: no second lookup */
}

/* After a NAT rewrite of an SCTP packet: its CRC32c covers the ports (not the addresses). */
static inline void sctp_csum_redo(const struct xvs_pkt *p, void *l4)
{
	if (unlikely(p->proto == IPPROTO_SCTP))
		xvs_sctp_csum(l4, (uint32_t)(p->ip_len - (p->l4_off - p->l3_off)));
}

/* Wide connections (an IPv6 address anywhere): NAT rewrites (no IP checksum), DR, tunnels. */
static void conn_forward_wide(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			      const struct xvs_pkt *p, const struct xvs_conn *c, unsigned dir,
			      unsigned fwd, void *l4)
{
	if (fwd == XVS_FWD_TUNNEL && dir == XVS_CONN_DIR_ORIG)
		return xvs_tun_forward(w, g, m, p, c);
	if (c->af != XVS_AF_INET6)
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED); /* NAT and DR keep the family */
	const struct xvs_conn_ext *e = xvs_conn_ext(c);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	if (dir == XVS_CONN_DIR_REPLY) {
		xvs_nat_rewrite6(l3, XVS_IP6_SRC_OFF, p->proto, l4, &e->vaddr, p->sport, c->vport, 0);
		sctp_csum_redo(p, l4);
		return xmit6(w, m, &e->caddr);
	}
	switch (fwd) {
	case XVS_FWD_MASQ:
		xvs_nat_rewrite6(l3, XVS_IP6_DST_OFF, p->proto, l4, &c->daddr, p->dport, c->dport, 1);
		sctp_csum_redo(p, l4);
		return xmit6(w, m, &c->daddr);
	case XVS_FWD_DROUTE:
		return xmit6(w, m, &c->daddr);
	default:
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	}
}

/*
 * Forward a packet of connection c seen in direction dir; `fresh` for the packet that created
 * it. A connection stops being embryonic (evictable) once TCP is established, or when a UDP
 * flow sees its second packet.
 */
void xvs_conn_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		      const struct xvs_pkt *p, struct xvs_conn *c, unsigned dir, int fresh)
{
	if (unlikely(dest_gone(g, c)))
		return drop(w, m, XVS_DROP_DEST_GONE); /* expire_nodest_conn: handle_ip expires it */
	if (c->proto == IPPROTO_TCP || c->proto == IPPROTO_SCTP) {
		/* DR and TUN replies bypass xvs: their client packets use the input-only row */
		enum xvs_tcp_dir td = XVS_TCP_DIR_INPUT_ONLY;
		if ((c->flags & XVS_CONN_F_FWD_MASK) == XVS_FWD_MASQ)
			td = dir == XVS_CONN_DIR_ORIG ? XVS_TCP_DIR_INPUT : XVS_TCP_DIR_OUTPUT;
		int tcp = c->proto == IPPROTO_TCP;
		uint8_t est = tcp ? XVS_TCP_ESTABLISHED : XVS_SCTP_ESTABLISHED;
		uint8_t ns = tcp ? xvs_tcp_next_state(c->state, p->tcp_flags, td)
				 : xvs_sctp_next_state(c->state, p->tcp_flags, td);
		if (ns != c->state) {
			c->state = ns;
			/* IPVS: TCP's handshake states count as active, SCTP's do not */
			conn_account(w, c, tcp ? xvs_tcp_state_active(ns) : ns == est);
			if (ns == est)
				c->flags |= XVS_CONN_F_CONFIRMED;
		}
	} else if (!fresh) {
		c->flags |= XVS_CONN_F_CONFIRMED;
	}
	c->expire = w->now + conn_timeout(g, c);
	count_packet(w, g, c, dir, p->ip_len);
	/* a master syncs on the client's packets, as IPVS's ip_vs_in does */
	if (unlikely(g->sync[XVS_SYNC_MASTER].on) && dir == XVS_CONN_DIR_ORIG && w->sync_out)
		xvs_sync_master_packet(w, g, c);
	/* a short frame's Ethernet padding stays behind: only the IP datagram goes on */
	uint32_t want = (uint32_t)p->l3_off + p->ip_len;
	if (unlikely(m->pkt_len > want) && m->nb_segs == 1)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - want));

	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	void *l4 = rte_pktmbuf_mtod_offset(m, void *, p->l4_off);
	/* NAT recomputes SCTP's CRC32c: check it first, unless the NIC did (IPVS checks too) */
	if (unlikely(p->proto == IPPROTO_SCTP) &&
	    (fwd == XVS_FWD_MASQ || dir == XVS_CONN_DIR_REPLY) &&
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD &&
	    !xvs_sctp_csum_ok(l4, (uint32_t)(p->ip_len - (p->l4_off - p->l3_off))))
		return drop(w, m, XVS_DROP_L4_BAD_CSUM);
	if (unlikely(xvs_ttl_dec(w, g, m, p) < 0))
		return;
	if (unlikely(c->flags & XVS_CONN_F_WIDE))
		return conn_forward_wide(w, g, m, p, c, dir, fwd, l4);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	if (dir == XVS_CONN_DIR_REPLY) {
		xvs_nat_snat4(ip, l4, c->a4.vaddr, c->vport, p->sport);
		sctp_csum_redo(p, l4);
		return xmit4(w, m, c->a4.caddr);
	}
	switch (fwd) {
	case XVS_FWD_MASQ:
		xvs_nat_dnat4(ip, l4, c->a4.daddr, c->dport, p->dport);
		sctp_csum_redo(p, l4);
		return xmit4(w, m, c->a4.daddr);
	case XVS_FWD_DROUTE:
		return xmit4(w, m, c->a4.daddr);
	case XVS_FWD_TUNNEL:
		return xvs_tun_forward(w, g, m, p, c);
	default:
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	}
}
