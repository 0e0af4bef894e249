/*
 * The neighbour protocols: ARP and IPv6 neighbour discovery received (answers for owned
 * addresses, what they teach) and sent (requests, solicitations, NUD's unicast probes), the
 * hold queue of frames waiting for a next hop, the probing of real servers' next hops and the
 * NUD tick. The table itself is dp_neigh.c's. Worker lcores.
 */
#include <rte_arp.h>
#include <rte_byteorder.h>

#include "dp_addr.h"
#include "dp_nd.h"
#include "dp_neighproto.h"
#include "dp_path.h"

#define PROBE_INTERVAL_S 1 /* at most one ARP request / solicitation per neighbour per second */
#define HOLD_S 1           /* how long a frame waits for its next hop */

/* ---- ARP ------------------------------------------------------------------------------ */

static void arp_fill(struct rte_mbuf *m, uint16_t op, const struct rte_ether_addr *src_mac,
		     const struct rte_ether_addr *dst_mac, uint32_t sip,
		     const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = *src_mac;
	a->arp_data.arp_sip = sip;
	a->arp_data.arp_tha = *tha;
	a->arp_data.arp_tip = tip;
	m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*a);
}

/* Send an ARP request for ip on port from a fresh mbuf (none left: the next probe retries):
 * broadcast, or to `to` (NUD's unicast probe). */
static void arp_request(struct xvs_worker *w, uint16_t port, uint32_t ip, const struct rte_ether_addr *to)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;
	const struct xvs_port *pt = &w->dp->ports[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	if (!m)
		return;
	arp_fill(m, RTE_ARP_OP_REQUEST, &pt->mac, to ? to : &bcast, xvs_port_src4(pt, ip), &zero, ip);
	enqueue(w, port, m);
}

/*
 * vip_neigh = kernel: a request for a VIP (not a port's own address) is the kernel
 * interface's to answer, which it does only while the VIP is assigned to it (by keepalived's
 * VRRP instance as master): a backup node stays silent and the router keeps the master.
 */
static int vip_to_kernel(const struct xvs_worker *w, uint16_t in_port, uint8_t af,
			 const union xvs_ip *target)
{
	const struct xvs_port *pt = &w->dp->ports[in_port];
	if (likely(!pt->vip_neigh_kernel) || !w->exc_ring)
		return 0;
	/* owned and not a port's address (the NULL generation leaves those only): a VIP */
	if (af == XVS_AF_INET)
		return !xvs_owned4(w->dp, NULL, target->v4);
	return !xvs_owned6(w->dp, NULL, target);
}

void xvs_handle_arp(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		       struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4)
		return drop(w, m, XVS_DROP_ARP_MALFORMED);
	uint16_t op = rte_be_to_cpu_16(a->arp_opcode);
	uint32_t sip = a->arp_data.arp_sip, tip = a->arp_data.arp_tip;
	/* a sender hardware address no station has (zero, multicast, broadcast) is never learned
	 * nor answered: replies to it would leave for nobody, or for everybody */
	if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_valid_assigned_ether_addr(&a->arp_data.arp_sha))
		return drop(w, m, XVS_DROP_ARP_MALFORMED);
	if (!xvs_owned4(w->dp, g, tip))
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_ARP_NOT_OURS);
	/* a neighbour of this port only, and only from this port (Linux keeps them per
	 * interface): a station on one side never redirects traffic meant for the other */
	if (sip && !xvs_owned4(w->dp, g, sip) && xvs_port_on_link4(&w->dp->ports[in_port], sip) &&
	    xvs_neigh_learn(w->dp->neigh, in_port, sip, &a->arp_data.arp_sha,
			    op == RTE_ARP_OP_REPLY ? XVS_NEIGH_CONFIRMED : XVS_NEIGH_SEEN, w->now_tsc) < 0)
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
	if (op == RTE_ARP_OP_REPLY)
		return xvs_answered(w, in_port, m);
	if (vip_to_kernel(w, in_port, XVS_AF_INET, &(union xvs_ip){ .d = { tip, 0 } }))
		return xvs_answered(w, in_port, m);
	if (m->nb_segs > 1) /* the reply is built in place, in the first segment */
		return drop(w, m, XVS_DROP_ARP_MALFORMED);
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	arp_fill(m, RTE_ARP_OP_REPLY, &w->dp->ports[in_port].mac, &eth->src_addr, tip, &sha, sip);
	w->st->arp_replies++;
	enqueue(w, in_port, m);
}


/* ---- neighbour discovery received --------------------------------------------------- */

/* Answer a neighbour solicitation for an owned target: an advertisement, in m's buffer. */
static void nd_advertise(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m,
			 const union xvs_ip *sol_src, const struct xvs_nd_info *nd)
{
	static const union xvs_ip all_nodes = { .v6 = { 0xff, 0x02, [15] = 1 } };
	const struct xvs_port *pt = &w->dp->ports[in_port];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr to = eth->src_addr;
	int dad = sol_src->d[0] == 0 && sol_src->d[1] == 0;
	const union xvs_ip *dst = dad ? &all_nodes : sol_src;
	uint32_t len = RTE_ETHER_HDR_LEN + XVS_IP6_HLEN + XVS_ND_MSG_LEN;
	if (m->nb_segs > 1 || rte_pktmbuf_tailroom(m) + m->data_len < len)
		return drop(w, m, XVS_DROP_ND_MALFORMED);
	m->data_len = m->pkt_len = len;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	if (dad)
		xvs_nd_mcast_mac(&all_nodes, &eth->dst_addr);
	else
		eth->dst_addr = to;
	eth->src_addr = pt->mac;
	ip6_fill(d + RTE_ETHER_HDR_LEN, XVS_ND_MSG_LEN, IPPROTO_ICMPV6, 255, &nd->target, dst);
	xvs_nd_build(d + RTE_ETHER_HDR_LEN + XVS_IP6_HLEN, XVS_ND_NA,
		     (uint8_t)((dad ? 0 : XVS_ND_NA_S) | XVS_ND_NA_O), &nd->target, &pt->mac, &nd->target, dst);
	w->st->arp_replies++;
	enqueue(w, in_port, m);
}

/* RFC 4861 §7.1: a neighbour discovery message must carry a valid ICMPv6 checksum. */
static int nd_cksum_ok(const uint8_t *l3, const uint8_t *msg, uint32_t len)
{
	union xvs_ip src, dst;
	memcpy(src.v6, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(dst.v6, l3 + XVS_IP6_DST_OFF, 16);
	return xvs_icmp6_cksum(&src, &dst, msg, len, IPPROTO_ICMPV6) == 0;
}

void xvs_handle_nd(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, const struct xvs_pkt *p, const union xvs_ip *src)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
	const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	uint32_t len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct xvs_nd_info nd;
	int dad = src->d[0] == 0 && src->d[1] == 0;
	if (xvs_nd_parse(msg, len, l3[7], &nd) < 0 || (dad && nd.has_lladdr) ||
	    (nd.has_lladdr && !rte_is_valid_assigned_ether_addr(&nd.lladdr)) ||
	    !nd_cksum_ok(l3, msg, len))
		return drop(w, m, XVS_DROP_ND_MALFORMED);
	if (!xvs_owned6(w->dp, g, &nd.target))
		return xvs_unconsumed(w, g, in_port, m, XVS_DROP_ARP_NOT_OURS);
	if (nd.type == XVS_ND_NA) {
		/* an answer about a neighbour: the target is theirs, which our table never holds */
		rte_pktmbuf_free(m);
		return;
	}
	if (!dad && nd.has_lladdr && !xvs_owned6(w->dp, g, src) &&
	    xvs_port_on_link6(&w->dp->ports[in_port], src) &&
	    xvs_neigh_learn_ip(w->dp->neigh, in_port, XVS_AF_INET6, src, &nd.lladdr, XVS_NEIGH_SEEN,
			       w->now_tsc) < 0)
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
	if (vip_to_kernel(w, in_port, XVS_AF_INET6, &nd.target))
		return xvs_answered(w, in_port, m);
	nd_advertise(w, in_port, m, src, &nd);
}

/* Learn from an advertisement for an address that is not ours (the kernel's too, if it has one). */
void xvs_handle_na(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, const struct xvs_pkt *p)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
	const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	uint32_t len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct xvs_nd_info nd;
	if (xvs_nd_parse(msg, len, l3[7], &nd) < 0 || !nd_cksum_ok(l3, msg, len) ||
	    (nd.has_lladdr && !rte_is_valid_assigned_ether_addr(&nd.lladdr)))
		return drop(w, m, XVS_DROP_ND_MALFORMED);
	/* RFC 4861 §7.2.5: an advertisement updates an entry of this port, it never creates one;
	 * a different address replaces a known one only with the override flag; solicited, it
	 * confirms the neighbour (REACHABLE), else the entry is STALE if its address moved */
	uint64_t ll;
	struct xvs_neigh *n = xvs_neigh_lookup(w->dp->neigh, in_port, XVS_AF_INET6, &nd.target, &ll);
	if (nd.has_lladdr && n && !xvs_owned6(w->dp, g, &nd.target)) {
		struct rte_ether_addr known;
		xvs_neigh_ll_mac(ll, &known);
		int moved = !(ll & XVS_NEIGH_VALID) || !rte_is_same_ether_addr(&known, &nd.lladdr);
		if (!moved || !(ll & XVS_NEIGH_VALID) || (nd.flags & XVS_ND_NA_O))
			xvs_neigh_learn_ip(w->dp->neigh, in_port, XVS_AF_INET6, &nd.target, &nd.lladdr,
					   (nd.flags & XVS_ND_NA_S) ? XVS_NEIGH_CONFIRMED
									    : XVS_NEIGH_SEEN,
					   w->now_tsc);
	}
	xvs_answered(w, in_port, m);
}

/* ---- solicitations and the hold queue ----------------------------------------------- */

/* Send a neighbour solicitation for target on port (RFC 4861 §7.2.2), from a fresh mbuf: to
 * its solicited-node group, or to the target itself at `to` (NUD's unicast probe). */
static void nd_solicit(struct xvs_worker *w, uint16_t port, const union xvs_ip *target,
		       const struct rte_ether_addr *to)
{
	const struct xvs_port *pt = &w->dp->ports[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + XVS_IP6_HLEN + XVS_ND_MSG_LEN) : NULL;
	if (!d) {
		if (m)
			rte_pktmbuf_free(m);
		return;
	}
	union xvs_ip mc;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	xvs_nd_solicited_node(target, &mc, &eth->dst_addr);
	if (to) {
		mc = *target;
		eth->dst_addr = *to;
	}
	eth->src_addr = pt->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	const union xvs_ip *src = xvs_port_src6(pt, target);
	ip6_fill(d + RTE_ETHER_HDR_LEN, XVS_ND_MSG_LEN, IPPROTO_ICMPV6, 255, src, &mc);
	xvs_nd_build(d + RTE_ETHER_HDR_LEN + XVS_IP6_HLEN, XVS_ND_NS, 0, target, &pt->mac, src, &mc);
	enqueue(w, port, m);
}

/*
 * Next hop unresolved: ask for it (at most once a second per neighbour, whichever worker wins)
 * and hold the frame until the answer comes, for up to HOLD_S, like Linux's ARP queue; when
 * the queue is full the frame is dropped and counted.
 */
void xvs_hold_unresolved(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			    const union xvs_ip *nh)
{
	struct xvs_neigh *n = xvs_neigh_get_ip(w->dp->neigh, port, af, nh, w->now_tsc);
	if (!n) {
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (xvs_neigh_probe_due(n, w->now_tsc, w->dp->tsc_hz * PROBE_INTERVAL_S)) {
		if (af == XVS_AF_INET)
			arp_request(w, port, nh->v4, NULL);
		else
			nd_solicit(w, port, nh, NULL);
	}
	if (w->nb_held == XVS_NEIGH_HOLD)
		return drop(w, m, XVS_DROP_NEIGH_UNRESOLVED);
	w->held[w->nb_held++] = (struct xvs_held){ .m = m, .tsc = w->now_tsc, .nh = *nh, .af = af,
						   .port = port };
}

/* Send the held frames whose next hop is now known, drop those held too long (in order). */
void xvs_release_held(struct xvs_worker *w)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < w->nb_held; i++) {
		struct xvs_held *h = &w->held[i];
		struct xvs_neigh *n = xvs_neigh_find_ip(w->dp->neigh, h->port, h->af, &h->nh);
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(h->m, struct rte_ether_hdr *);
		if (n && xvs_neigh_mac(n, &eth->dst_addr) == 0) {
			eth->src_addr = w->dp->ports[h->port].mac;
			enqueue(w, h->port, h->m);
		} else if (w->now_tsc - h->tsc > w->dp->tsc_hz * HOLD_S) {
			drop(w, h->m, XVS_DROP_NEIGH_UNRESOLVED);
		} else {
			w->held[keep++] = *h;
		}
	}
	w->nb_held = keep;
}

/* Resolve every destination's next hop ahead of its first packet. */
void xvs_probe_dests(struct xvs_worker *w, const struct xvs_gen *g)
{
	for (uint32_t i = 0; i < g->nb_dests; i++) {
		const struct xvs_dest *d = &g->dests[i];
		if (d->state != XVS_SLOT_USED)
			continue;
		union xvs_ip nh = { .d = { 0, 0 } };
		uint16_t port;
		if (d->af == XVS_AF_INET) {
			const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, d->addr.v4);
			if (!r)
				continue;
			nh.v4 = r->gw ? r->gw : d->addr.v4;
			port = r->port;
		} else {
			const struct xvs_route6 *r = xvs_route6_lookup(&w->dp->routes6, &d->addr);
			if (!r)
				continue;
			nh = r->has_gw ? r->gw : d->addr;
			port = r->port;
		}
		struct xvs_neigh *n = xvs_neigh_get_ip(w->dp->neigh, port, d->af, &nh, w->now_tsc);
		struct rte_ether_addr mac;
		if (!n || xvs_neigh_mac(n, &mac) == 0 ||
		    !xvs_neigh_probe_due(n, w->now_tsc, w->dp->tsc_hz * PROBE_INTERVAL_S))
			continue;
		if (d->af == XVS_AF_INET)
			arp_request(w, port, nh.v4, NULL);
		else
			nd_solicit(w, port, &nh, NULL);
	}
}

#define NUD_SCAN_PER_TICK 512 /* entries a tick looks at: the whole table every 64 ticks */

void xvs_neigh_tick(struct xvs_worker *w)
{
	struct xvs_neigh_table *t = w->dp->neigh;
	for (unsigned k = 0; k < NUD_SCAN_PER_TICK; k++) {
		struct xvs_neigh *n = &t->e[w->nud_pos];
		w->nud_pos = (w->nud_pos + 1) & (XVS_NEIGH_SIZE - 1);
		if (atomic_load_explicit(&n->state, memory_order_relaxed) != XVS_NEIGH_READY)
			continue;
		enum xvs_nud_act act = xvs_neigh_nud_step(t, n, w->now_tsc, &w->dp->nud);
		if (act == XVS_NUD_ACT_EVICT) {
			w->st->neigh_evicted++;
			continue;
		}
		struct rte_ether_addr mac;
		if (act != XVS_NUD_ACT_PROBE || n->port >= w->dp->nb_ports || xvs_neigh_mac(n, &mac) < 0)
			continue;
		if (n->af == XVS_AF_INET)
			arp_request(w, n->port, n->ip.v4, &mac);
		else
			nd_solicit(w, n->port, &n->ip, &mac);
	}
}
