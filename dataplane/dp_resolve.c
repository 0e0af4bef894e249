/*
 * Addresses the dataplane owns, next-hop resolution (ARP, IPv6 neighbour discovery) and the
 * hold queue of frames waiting for it. Worker lcores.
 */
#include <rte_arp.h>
#include <rte_byteorder.h>

#include "dp_nd.h"
#include "dp_path.h"

/* ---- owned addresses ---------------------------------------------------------------- */

static int is_port_addr(const struct xvs_dp *dp, uint32_t ip)
{
	for (unsigned p = 0; p < dp->nb_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].nb_addrs; i++)
			if (dp->ports[p].addr[i] == ip)
				return 1;
	return 0;
}

/*
 * A host mark rule (/32, /128) that leads to a fwmark service names a VIP as a service does;
 * wider prefixes are routed to the node, as IPVS users route them to the director.
 */
static int is_mark_host(const struct xvs_gen *g, uint8_t af, const union xvs_ip *ip)
{
	for (uint32_t i = 0; i < g->nb_marks; i++) {
		const struct xvs_mark_rule *r = &g->marks[i];
		if (r->svc && r->af == af && r->plen == (af == XVS_AF_INET6 ? 128 : 32) &&
		    xvs_ip_eq(&r->prefix, ip))
			return 1;
	}
	return 0;
}

static int is_vip_addr(const struct xvs_gen *g, uint32_t ip)
{
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].af == XVS_AF_INET &&
		    !g->svcs[i].fwmark && g->svcs[i].addr.v4 == ip)
			return 1;
	union xvs_ip a = { .d = { ip, 0 } };
	return is_mark_host(g, XVS_AF_INET, &a);
}

int xvs_owned4(const struct xvs_dp *dp, const struct xvs_gen *g, uint32_t ip)
{
	return is_port_addr(dp, ip) || is_vip_addr(g, ip);
}

static int is_port_addr6(const struct xvs_dp *dp, const union xvs_ip *ip)
{
	for (unsigned p = 0; p < dp->nb_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].nb_addrs6; i++)
			if (xvs_ip_eq(&dp->ports[p].addr6[i], ip))
				return 1;
	return 0;
}

static int is_vip_addr6(const struct xvs_gen *g, const union xvs_ip *ip)
{
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].af == XVS_AF_INET6 &&
		    !g->svcs[i].fwmark && xvs_ip_eq(&g->svcs[i].addr, ip))
			return 1;
	return is_mark_host(g, XVS_AF_INET6, ip);
}

int xvs_owned6(const struct xvs_dp *dp, const struct xvs_gen *g, const union xvs_ip *ip)
{
	return is_port_addr6(dp, ip) || is_vip_addr6(g, ip);
}

/* The port's IPv6 address to speak from towards ip: same prefix if any, else the first. */
const union xvs_ip *xvs_port_src6(const struct xvs_port *pt, const union xvs_ip *ip)
{
	static const union xvs_ip none;
	for (unsigned i = 0; i < pt->nb_addrs6; i++) {
		union xvs_ip mask;
		xvs_ip6_mask(&mask, pt->plen6[i]);
		if (((pt->addr6[i].d[0] ^ ip->d[0]) & mask.d[0]) == 0 &&
		    ((pt->addr6[i].d[1] ^ ip->d[1]) & mask.d[1]) == 0)
			return &pt->addr6[i];
	}
	return pt->nb_addrs6 ? &pt->addr6[0] : &none;
}

/* The port's address to speak from towards ip: the one whose prefix holds ip, else the first. */
uint32_t xvs_port_src4(const struct xvs_port *pt, uint32_t ip)
{
	for (unsigned i = 0; i < pt->nb_addrs; i++) {
		uint32_t mask = pt->plen[i] ? rte_cpu_to_be_32(~0u << (32 - pt->plen[i])) : 0;
		if ((pt->addr[i] & mask) == (ip & mask))
			return pt->addr[i];
	}
	return pt->nb_addrs ? pt->addr[0] : 0;
}

int xvs_port_on_link4(const struct xvs_port *pt, uint32_t ip)
{
	for (unsigned i = 0; i < pt->nb_addrs; i++) {
		uint32_t mask = pt->plen[i] ? rte_cpu_to_be_32(~0u << (32 - pt->plen[i])) : 0;
		if ((pt->addr[i] & mask) == (ip & mask))
			return 1;
	}
	return 0;
}

int xvs_port_on_link6(const struct xvs_port *pt, const union xvs_ip *ip)
{
	if (ip->v6[0] == 0xfe && (ip->v6[1] & 0xc0) == 0x80)
		return 1; /* fe80::/10 is on every link */
	for (unsigned i = 0; i < pt->nb_addrs6; i++) {
		union xvs_ip mask;
		xvs_ip6_mask(&mask, pt->plen6[i]);
		if (((pt->addr6[i].d[0] ^ ip->d[0]) & mask.d[0]) == 0 &&
		    ((pt->addr6[i].d[1] ^ ip->d[1]) & mask.d[1]) == 0)
			return 1;
	}
	return 0;
}

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
	if (m->nb_segs > 1) /* the reply is built in place, in the first segment */
		return drop(w, m, XVS_DROP_ARP_MALFORMED);
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	arp_fill(m, RTE_ARP_OP_REPLY, &w->dp->ports[in_port].mac, &eth->src_addr, tip, &sha, sip);
	w->st->arp_replies++;
	enqueue(w, in_port, m);
}

/* ---- neighbour discovery and the hold queue ----------------------------------------- */

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
