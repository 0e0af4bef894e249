/*
 * The packet path, per worker and per burst:
 *   prefetch -> parse -> hash + prefetch bucket -> scan + prefetch entry ->
 *   per packet: connection hit, or VIP lookup + schedule + insert, or the exception path
 *   (ARP, ICMP echo, drops) -> rewrite -> route + neighbour -> queue -> tx burst.
 * No locks, no allocation besides mbufs for ARP probes, no logging, no syscalls.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "dp_nat.h"
#include "dp_nd.h"
#include "dp_parse.h"
#include "dp_tunnel.h"
#include "dp_worker.h"
#include "xvs/gen.h"

volatile int xvs_quit;
struct xvs_dp_runtime xvs_rt;

#define PROBE_INTERVAL_S 1
#define XVS_ICMP_DEST_UNREACH 3
#define XVS_ICMP_FRAG_NEEDED 4
#define HOLD_S 1

static uint16_t tx_eth(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(w->dp->ports[port].port_id, (uint16_t)w->idx, pkts, n);
}

int xvs_worker_init(struct xvs_worker *w, struct xvs_dp *dp, unsigned idx, void *conn_mem)
{
	memset(w, 0, sizeof(*w));
	w->dp = dp;
	w->idx = idx;
	w->st = xvs_shm_stats(&dp->shm, idx);
	w->tx = tx_eth;
	w->start_tsc = rte_rdtsc();
	w->now_tsc = w->start_tsc;
	/*
	 * A new dataplane starts from zero: its connections are gone, and xvs-control resets its
	 * baselines when it sees a new dataplane pid.
	 */
	memset(w->st, 0, sizeof(*w->st));
	return xvs_conn_table_init(&w->conns, conn_mem, dp->cfg.conn_max);
}

/* ---- counters and queues ------------------------------------------------------------ */

static inline void drop(struct xvs_worker *w, struct rte_mbuf *m, enum xvs_drop why)
{
	w->st->drops[why]++;
	rte_pktmbuf_free(m);
}

/* Hand port's queued frames to the driver; what it does not take is dropped and counted. */
static void tx_port(struct xvs_worker *w, uint16_t port)
{
	struct xvs_tx_buf *b = &w->txb[port];
	uint16_t n = b->n;
	b->n = 0;
	uint16_t sent = w->tx(w, port, b->pkts, n);
	w->st->tx_pkts += sent;
	for (uint16_t i = sent; i < n; i++) {
		w->st->tx_bytes -= b->pkts[i]->pkt_len;
		drop(w, b->pkts[i], XVS_DROP_TX_FULL);
	}
}

static inline void enqueue(struct xvs_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct xvs_tx_buf *b = &w->txb[port];
	w->st->tx_bytes += m->pkt_len;
	b->pkts[b->n++] = m;
	if (b->n == RTE_DIM(b->pkts))
		tx_port(w, port);
}

void xvs_worker_flush(struct xvs_worker *w)
{
	for (uint16_t p = 0; p < w->dp->nb_ports; p++)
		if (w->txb[p].n)
			tx_port(w, p);
}

/* ---- owned addresses ---------------------------------------------------------------- */

static int is_port_addr(const struct xvs_dp *dp, uint32_t ip)
{
	for (unsigned p = 0; p < dp->nb_ports; p++)
		for (unsigned i = 0; i < dp->ports[p].nb_addrs; i++)
			if (dp->ports[p].addr[i] == ip)
				return 1;
	return 0;
}

static int is_vip_addr(const struct xvs_gen *g, uint32_t ip)
{
	if (!g)
		return 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++)
		if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].af == XVS_AF_INET &&
		    g->svcs[i].addr.v4 == ip)
			return 1;
	return 0;
}

static inline int is_owned(const struct xvs_dp *dp, const struct xvs_gen *g, uint32_t ip)
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
		    xvs_ip_eq(&g->svcs[i].addr, ip))
			return 1;
	return 0;
}

static inline int is_owned6(const struct xvs_dp *dp, const struct xvs_gen *g, const union xvs_ip *ip)
{
	return is_port_addr6(dp, ip) || is_vip_addr6(g, ip);
}

/* The port's IPv6 address to speak from towards ip: same prefix if any, else the first. */
static const union xvs_ip *port_src_addr6(const struct xvs_port *pt, const union xvs_ip *ip)
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
static uint32_t port_src_addr(const struct xvs_port *pt, uint32_t ip)
{
	for (unsigned i = 0; i < pt->nb_addrs; i++) {
		uint32_t mask = pt->plen[i] ? rte_cpu_to_be_32(~0u << (32 - pt->plen[i])) : 0;
		if ((pt->addr[i] & mask) == (ip & mask))
			return pt->addr[i];
	}
	return pt->nb_addrs ? pt->addr[0] : 0;
}

/* Write an IPv6 header (no extension headers) at l3. */
static void ip6_fill(uint8_t *l3, uint16_t plen, uint8_t nh, uint8_t hlim, const union xvs_ip *src,
		     const union xvs_ip *dst)
{
	l3[0] = 0x60;
	l3[1] = l3[2] = l3[3] = 0;
	l3[4] = (uint8_t)(plen >> 8);
	l3[5] = (uint8_t)plen;
	l3[6] = nh;
	l3[7] = hlim;
	memcpy(l3 + XVS_IP6_SRC_OFF, src->v6, 16);
	memcpy(l3 + XVS_IP6_DST_OFF, dst->v6, 16);
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

/* Send an ARP request for ip on port from a fresh mbuf (none left: the next probe retries). */
static void arp_request(struct xvs_worker *w, uint16_t port, uint32_t ip)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;
	const struct xvs_port *pt = &w->dp->ports[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(xvs_rt.pool);
	if (!m)
		return;
	arp_fill(m, RTE_ARP_OP_REQUEST, &pt->mac, &bcast, port_src_addr(pt, ip), &zero, ip);
	enqueue(w, port, m);
}

static void handle_arp(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
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
	if ((op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) ||
	    !rte_is_unicast_ether_addr(&a->arp_data.arp_sha))
		return drop(w, m, XVS_DROP_ARP_MALFORMED);
	if (!is_owned(w->dp, g, tip))
		return drop(w, m, XVS_DROP_ARP_NOT_OURS);
	if (sip && !is_owned(w->dp, g, sip) &&
	    xvs_neigh_learn(w->dp->neigh, sip, &a->arp_data.arp_sha, 0) < 0)
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
	if (op == RTE_ARP_OP_REPLY) {
		rte_pktmbuf_free(m);
		return;
	}
	struct rte_ether_addr sha = a->arp_data.arp_sha;
	arp_fill(m, RTE_ARP_OP_REPLY, &w->dp->ports[in_port].mac, &eth->src_addr, tip, &sha, sip);
	w->st->arp_replies++;
	enqueue(w, in_port, m);
}

/* ---- IPv4 output ---------------------------------------------------------------------- */

/* Send a neighbour solicitation for target on port (RFC 4861 §7.2.2), from a fresh mbuf. */
static void nd_solicit(struct xvs_worker *w, uint16_t port, const union xvs_ip *target)
{
	const struct xvs_port *pt = &w->dp->ports[port];
	struct rte_mbuf *m = rte_pktmbuf_alloc(xvs_rt.pool);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + XVS_IP6_HLEN + XVS_ND_MSG_LEN) : NULL;
	if (!d) {
		if (m)
			rte_pktmbuf_free(m);
		return;
	}
	union xvs_ip mc;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
	xvs_nd_solicited_node(target, &mc, &eth->dst_addr);
	eth->src_addr = pt->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	const union xvs_ip *src = port_src_addr6(pt, target);
	ip6_fill(d + RTE_ETHER_HDR_LEN, XVS_ND_MSG_LEN, IPPROTO_ICMPV6, 255, src, &mc);
	xvs_nd_build(d + RTE_ETHER_HDR_LEN + XVS_IP6_HLEN, XVS_ND_NS, 0, target, &pt->mac, src, &mc);
	enqueue(w, port, m);
}

/*
 * Next hop unresolved: ask for it (at most once a second per neighbour, whichever worker wins)
 * and hold the frame until the answer comes, for up to HOLD_S, like Linux's ARP queue; when
 * the queue is full the frame is dropped and counted.
 */
static void hold_unresolved(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			    const union xvs_ip *nh)
{
	struct xvs_neigh *n = xvs_neigh_get_ip(w->dp->neigh, af, nh);
	if (!n) {
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (xvs_neigh_probe_due(n, w->now_tsc, w->dp->tsc_hz * PROBE_INTERVAL_S)) {
		if (af == XVS_AF_INET)
			arp_request(w, port, nh->v4);
		else
			nd_solicit(w, port, nh);
	}
	if (w->nb_held == XVS_NEIGH_HOLD)
		return drop(w, m, XVS_DROP_NEIGH_UNRESOLVED);
	w->held[w->nb_held++] = (struct xvs_held){ .m = m, .tsc = w->now_tsc, .nh = *nh, .af = af,
						   .port = port };
}

/* Send the held frames whose next hop is now known, drop those held too long (in order). */
static void release_held(struct xvs_worker *w)
{
	unsigned keep = 0;
	for (unsigned i = 0; i < w->nb_held; i++) {
		struct xvs_held *h = &w->held[i];
		struct xvs_neigh *n = xvs_neigh_find_ip(w->dp->neigh, h->af, &h->nh);
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

/* Resolve nh (af) and queue m on port; or hold it until resolved. */
static inline void xmit_nh(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			   const union xvs_ip *nh)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct xvs_neigh *n = xvs_neigh_find_ip(w->dp->neigh, af, nh);
	if (unlikely(!n || xvs_neigh_mac(n, &eth->dst_addr) < 0))
		return hold_unresolved(w, m, port, af, nh);
	eth->src_addr = w->dp->ports[port].mac;
	enqueue(w, port, m);
}

/* Route m towards dst, fill its Ethernet header and queue it (or hold it, or drop it, counted). */
static inline void xmit4(struct xvs_worker *w, struct rte_mbuf *m, uint32_t dst)
{
	const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, dst);
	if (unlikely(!r))
		return drop(w, m, XVS_DROP_NO_ROUTE);
	union xvs_ip nh = { .d = { 0, 0 } };
	nh.v4 = r->gw ? r->gw : dst;
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

/* Either family: the connection's addresses carry theirs. */
static inline void xmit_af(struct xvs_worker *w, struct rte_mbuf *m, uint8_t af, const union xvs_ip *dst)
{
	if (af == XVS_AF_INET6)
		return xmit6(w, m, dst);
	xmit4(w, m, dst->v4);
}

/* ---- ICMP to owned addresses ---------------------------------------------------------- */

static void handle_icmp_local(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m,
			      const struct xvs_pkt *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0)
		return drop(w, m, XVS_DROP_ICMP_UNSUPPORTED);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = xvs_csum_replace2(ic->icmp_cksum, rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REQUEST << 8),
					   rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REPLY << 8));
	uint32_t s = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = s;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->dp->ports[in_port].mac;
	w->st->icmp_echo_replies++;
	enqueue(w, in_port, m);
}

/* ---- connections ---------------------------------------------------------------------- */

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
	if (c->state == XVS_TCP_ESTABLISHED)
		return g->timeouts.tcp;
	if (c->state == XVS_TCP_FIN_WAIT)
		return g->timeouts.tcpfin;
	return tcp_timeout_s[c->state < XVS_TCP_STATE_MAX ? c->state : 0];
}

static inline int tcp_state_active(uint8_t s)
{
	return s == XVS_TCP_ESTABLISHED || s == XVS_TCP_SYN_SENT || s == XVS_TCP_SYN_RECV ||
	       s == XVS_TCP_SYNACK;
}

/*
 * TCP state after a segment with `flags` in direction dir; a reduced form of IPVS's
 * tcp_states table (client segments are "input", real-server segments "output").
 */
static inline uint8_t tcp_next_state(uint8_t s, uint8_t flags, unsigned dir)
{
	if (flags & RTE_TCP_RST_FLAG)
		return XVS_TCP_CLOSE;
	if (dir == XVS_CONN_DIR_ORIG) {
		if (flags & RTE_TCP_SYN_FLAG)
			return s == XVS_TCP_ESTABLISHED ? s : XVS_TCP_SYN_RECV;
		if (flags & RTE_TCP_FIN_FLAG)
			return s == XVS_TCP_CLOSE_WAIT ? XVS_TCP_LAST_ACK : XVS_TCP_FIN_WAIT;
		if ((flags & RTE_TCP_ACK_FLAG) && s == XVS_TCP_SYN_RECV)
			return XVS_TCP_ESTABLISHED;
		if ((flags & RTE_TCP_ACK_FLAG) && s == XVS_TCP_LAST_ACK)
			return XVS_TCP_TIME_WAIT;
		return s;
	}
	if (flags & RTE_TCP_SYN_FLAG)
		return s == XVS_TCP_NONE ? XVS_TCP_SYN_RECV : s;
	if (flags & RTE_TCP_FIN_FLAG)
		return s == XVS_TCP_FIN_WAIT ? XVS_TCP_TIME_WAIT : XVS_TCP_CLOSE_WAIT;
	return s;
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

static void conn_release(struct xvs_worker *w, uint32_t idx)
{
	struct xvs_conn *c = &w->conns.conns[idx];
	struct xvs_stats_ctr *d = &w->st->dest[c->dest];
	if (c->flags & XVS_CONN_F_ACTIVE)
		d->active--;
	else
		d->inactive--;
	w->st->conns_cur--;
	w->st->conns_expired++;
	xvs_conn_free(&w->conns, idx);
}

static inline int conn_expired(const struct xvs_worker *w, const struct xvs_conn *c)
{
	return (int32_t)(c->expire - w->now) < 0;
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

/*
 * ICMP "fragmentation needed" (RFC 792/1191) to the sender of orig, which does not fit a
 * tunnel towards the real server, quoting its IP header and 8 bytes; orig is dropped.
 */
static void send_frag_needed(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			     uint16_t mtu)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, p->l3_off);
	uint16_t qlen = sizeof(*oip) + 8;
	struct rte_mbuf *m = p->proto == IPPROTO_ICMP ? NULL : rte_pktmbuf_alloc(xvs_rt.pool);
	char *d = m ? rte_pktmbuf_append(m, sizeof(struct rte_ether_hdr) + sizeof(*oip) +
						sizeof(struct rte_icmp_hdr) + qlen) : NULL;
	if (d) {
		struct rte_ether_hdr *eth = (struct rte_ether_hdr *)d;
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		*ip = (struct rte_ipv4_hdr){
			.version_ihl = RTE_IPV4_VHL_DEF, .type_of_service = 0xc0,
			.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*ic) + qlen)),
			.time_to_live = 64, .next_proto_id = IPPROTO_ICMP,
			.src_addr = oip->dst_addr, .dst_addr = oip->src_addr,
		};
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		*ic = (struct rte_icmp_hdr){ .icmp_type = XVS_ICMP_DEST_UNREACH, .icmp_code = XVS_ICMP_FRAG_NEEDED,
					     .icmp_seq_nb = rte_cpu_to_be_16(mtu) };
		memcpy(ic + 1, oip, qlen);
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + qlen);
		xmit4(w, m, oip->src_addr);
	} else if (m) {
		rte_pktmbuf_free(m);
	}
	drop(w, orig, XVS_DROP_TOO_BIG);
}

/*
 * ICMPv6 "packet too big" (RFC 4443 §3.2) to the sender of orig, from the address it sent to,
 * quoting as much of it as keeps the error within the minimum MTU; orig is dropped.
 */
static void send_pkt_too_big(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			     uint32_t mtu)
{
	const uint8_t *oip = rte_pktmbuf_mtod_offset(orig, const uint8_t *, p->l3_off);
	uint32_t qlen = RTE_MIN((uint32_t)p->ip_len, 1280u - XVS_IP6_HLEN - 8u);
	qlen = RTE_MIN(qlen, (uint32_t)rte_pktmbuf_data_len(orig) - p->l3_off);
	struct rte_mbuf *m = p->proto == IPPROTO_ICMPV6 ? NULL : rte_pktmbuf_alloc(xvs_rt.pool);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + XVS_IP6_HLEN + 8 + qlen)) : NULL;
	if (d) {
		union xvs_ip src, dst;
		memcpy(src.v6, oip + XVS_IP6_DST_OFF, 16);
		memcpy(dst.v6, oip + XVS_IP6_SRC_OFF, 16);
		((struct rte_ether_hdr *)d)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		uint8_t *l3 = d + RTE_ETHER_HDR_LEN, *ic = l3 + XVS_IP6_HLEN;
		ip6_fill(l3, (uint16_t)(8 + qlen), IPPROTO_ICMPV6, 64, &src, &dst);
		memset(ic, 0, 8);
		ic[0] = XVS_ICMP6_PKT_TOO_BIG;
		uint32_t be = rte_cpu_to_be_32(mtu);
		memcpy(ic + 4, &be, 4);
		memcpy(ic + 8, oip, qlen);
		uint16_t ck = xvs_icmp6_cksum(&src, &dst, ic, 8 + qlen, IPPROTO_ICMPV6);
		memcpy(ic + 2, &ck, 2);
		xmit6(w, m, &dst);
	} else if (m) {
		rte_pktmbuf_free(m);
	}
	drop(w, orig, XVS_DROP_TOO_BIG);
}

/*
 * Encapsulate towards the connection's real server, in the real server's family; the flow
 * hash h spreads the outer source (IPv4 tunnel_src prefix, GUE source port, IPv6 flow label).
 */
static void tun_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			const struct xvs_pkt *p, const struct xvs_conn *c, uint32_t h)
{
	const struct xvs_dest *d = &g->dests[c->dest];
	union xvs_ip src = { .d = { 0, 0 } };
	const struct xvs_port *pt;
	if (d->af == XVS_AF_INET6) {
		const struct xvs_route6 *r = xvs_route6_lookup(&w->dp->routes6, &c->daddr);
		if (unlikely(!r))
			return drop(w, m, XVS_DROP_NO_ROUTE);
		pt = &w->dp->ports[r->port];
		src = *port_src_addr6(pt, &c->daddr);
	} else {
		const struct xvs_route *r = xvs_route_lookup(&w->dp->routes, c->daddr.v4);
		if (unlikely(!r))
			return drop(w, m, XVS_DROP_NO_ROUTE);
		pt = &w->dp->ports[r->port];
		src.v4 = pt->tun_src_len ? xvs_tun_src(pt->tun_src, pt->tun_src_len, h)
					 : port_src_addr(pt, c->daddr.v4);
	}
	uint16_t add = xvs_tun_overhead_af(d->af, d->tun_type);
	if (unlikely((uint32_t)p->ip_len + add > pt->mtu)) {
		if (c->af == XVS_AF_INET6)
			return send_pkt_too_big(w, m, p, (uint32_t)(pt->mtu - add));
		return send_frag_needed(w, m, p, (uint16_t)(pt->mtu - add));
	}
	if (unlikely(xvs_tun_encap(m, p->l3_off, c->af, d->af, d->tun_type, d->tun_flags, &src,
				   &c->daddr, d->tun_port_be, xvs_tun_gue_sport(h), h) < 0))
		return drop(w, m, XVS_DROP_NO_HEADROOM);
	xmit_af(w, m, d->af, &c->daddr);
}

/* IPv6 connections: NAT rewrites (no IP checksum), DR. */
static void conn_forward6(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			  const struct xvs_pkt *p, const struct xvs_conn *c, unsigned dir, uint32_t h,
			  unsigned fwd, void *l4)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	if (dir == XVS_CONN_DIR_REPLY) {
		xvs_nat_rewrite6(l3, XVS_IP6_SRC_OFF, p->proto, l4, &c->vaddr, p->sport, c->vport, 0);
		return xmit6(w, m, &c->caddr);
	}
	switch (fwd) {
	case XVS_FWD_MASQ:
		xvs_nat_rewrite6(l3, XVS_IP6_DST_OFF, p->proto, l4, &c->daddr, p->dport, c->dport, 1);
		return xmit6(w, m, &c->daddr);
	case XVS_FWD_DROUTE:
		return xmit6(w, m, &c->daddr);
	case XVS_FWD_TUNNEL:
		return tun_forward(w, g, m, p, c, h);
	default:
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	}
}

static inline int dest_gone(const struct xvs_gen *g, const struct xvs_conn *c)
{
	return c->dest >= g->nb_dests || g->dests[c->dest].state != XVS_SLOT_USED;
}

/* Forward a packet of connection c seen in direction dir; h is the packet's flow hash. */
static inline void conn_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
				const struct xvs_pkt *p, struct xvs_conn *c, unsigned dir, uint32_t h)
{
	if (unlikely(dest_gone(g, c)))
		return drop(w, m, XVS_DROP_DEST_GONE);
	if (c->proto == IPPROTO_TCP) {
		uint8_t ns = tcp_next_state(c->state, p->tcp_flags, dir);
		if (ns != c->state) {
			c->state = ns;
			conn_account(w, c, tcp_state_active(ns));
		}
	}
	c->expire = w->now + conn_timeout(g, c);
	count_packet(w, g, c, dir, p->ip_len);

	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	void *l4 = rte_pktmbuf_mtod_offset(m, void *, p->l4_off);
	if (c->af == XVS_AF_INET6)
		return conn_forward6(w, g, m, p, c, dir, h, fwd, l4);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	if (dir == XVS_CONN_DIR_REPLY) {
		xvs_nat_snat4(ip, l4, c->vaddr.v4, c->vport, p->sport);
		return xmit4(w, m, c->caddr.v4);
	}
	switch (fwd) {
	case XVS_FWD_MASQ:
		xvs_nat_dnat4(ip, l4, c->daddr.v4, c->dport, p->dport);
		return xmit4(w, m, c->daddr.v4);
	case XVS_FWD_DROUTE:
		return xmit4(w, m, c->daddr.v4);
	case XVS_FWD_TUNNEL:
		return tun_forward(w, g, m, p, c, h);
	default:
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	}
}

/* A new connection for service svc: schedule, insert, forward. */
static void conn_new(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p, const struct xvs_conn_key *k, uint32_t h, int svc)
{
	const struct xvs_svc *s = &g->svcs[svc];
	if (p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) != RTE_TCP_SYN_FLAG)
		return drop(w, m, XVS_DROP_NOT_SYN);
	struct xvs_sched_key sk = { .cport_be = p->sport, .dest_ctr = w->st->dest };
	if (k->af == XVS_AF_INET6)
		sk.caddr = k->src6;
	else
		sk.caddr.v4 = p->src;
	int slot = xvs_sched_all[s->sched]->pick(g, s, &w->sched[svc], &sk);
	if (slot < 0)
		return drop(w, m, XVS_DROP_NO_DEST);
	const struct xvs_dest *d = &g->dests[slot];
	if (unlikely((d->fwd != XVS_FWD_MASQ && d->fwd != XVS_FWD_DROUTE && d->fwd != XVS_FWD_TUNNEL) ||
		     (d->af != s->af && d->fwd != XVS_FWD_TUNNEL)))
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	int64_t idx = xvs_conn_alloc(&w->conns);
	if (idx < 0)
		return drop(w, m, XVS_DROP_CONN_FULL);
	struct xvs_conn *c = &w->conns.conns[idx];
	*c = (struct xvs_conn){
		.daddr = d->addr, .cport = p->sport, .vport = p->dport, .dport = d->port_be,
		.proto = p->proto, .af = s->af, .flags = d->fwd, .dest = (uint16_t)slot,
	};
	if (s->af == XVS_AF_INET6) {
		c->caddr = k->src6;
		c->vaddr = k->dst6;
	} else {
		c->caddr.v4 = p->src;
		c->vaddr.v4 = p->dst;
	}
	if (xvs_conn_insert_key(&w->conns, h, (uint32_t)idx, XVS_CONN_DIR_ORIG) < 0) {
		c->proto = 0;
		w->conns.free_stack[w->conns.nb_free++] = (uint32_t)idx;
		return drop(w, m, XVS_DROP_CONN_FULL);
	}
	if (d->fwd == XVS_FWD_MASQ) {
		struct xvs_conn_key ko, kr;
		xvs_conn_keys(c, &ko, &kr);
		if (xvs_conn_insert_key(&w->conns, xvs_conn_hash(&kr), (uint32_t)idx, XVS_CONN_DIR_REPLY) < 0) {
			xvs_conn_free(&w->conns, (uint32_t)idx);
			return drop(w, m, XVS_DROP_CONN_FULL);
		}
		c->flags |= XVS_CONN_F_REPLY;
	}
	struct xvs_stats_ctr *dc = &w->st->dest[slot];
	dc->conns++;
	dc->inactive++;
	w->st->svc[svc].conns++;
	w->st->conns_new++;
	w->st->conns_cur++;
	conn_forward(w, g, m, p, c, XVS_CONN_DIR_ORIG, h);
}

/* ---- the burst ------------------------------------------------------------------------ */

struct pkt_state {
	struct xvs_pkt p;
	struct xvs_conn_key k;
	uint32_t h;
	uint8_t lookup; /* TCP/UDP: has a key */
};

/* Our MAC, broadcast, or IPv6 multicast (33:33:..., for neighbour discovery). */
static inline int l2_ours(const struct xvs_port *pt, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	return rte_is_same_ether_addr(&eth->dst_addr, &pt->mac) ||
	       rte_is_broadcast_ether_addr(&eth->dst_addr) ||
	       (eth->dst_addr.addr_bytes[0] == 0x33 && eth->dst_addr.addr_bytes[1] == 0x33 &&
		eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6));
}

/* Not a connection's packet and no service: ICMP to us, or a drop. */
/* ---- ICMP errors quoting a connection ------------------------------------------------ */

static inline int icmp_is_error(uint8_t type)
{
	return type == XVS_ICMP_DEST_UNREACH || type == 11 /* time exceeded */ ||
	       type == 12 /* parameter problem */ || type == 4 /* source quench */;
}

/*
 * Rewrite one address and port of the quoted packet (is_dst: its destination) and keep its
 * IPv4 checksum and, where the quote holds it, its L4 checksum right. qlen: bytes quoted.
 */
static void quote_rewrite(struct rte_ipv4_hdr *in, uint8_t *l4, uint32_t qlen, uint32_t addr,
			  uint16_t port, int is_dst)
{
	uint32_t old = is_dst ? in->dst_addr : in->src_addr;
	uint16_t oldp, ck;
	unsigned poff = is_dst ? 2 : 0, ckoff = 0;
	uint32_t l4_len = qlen - sizeof(*in);
	memcpy(&oldp, l4 + poff, 2);
	if (in->next_proto_id == IPPROTO_UDP && l4_len >= 8)
		ckoff = 6;
	else if (in->next_proto_id == IPPROTO_TCP && l4_len >= 18)
		ckoff = 16;
	if (ckoff) {
		memcpy(&ck, l4 + ckoff, 2);
		if (ck || in->next_proto_id == IPPROTO_TCP) {
			ck = xvs_csum_replace2(xvs_csum_replace4(ck, old, addr), oldp, port);
			memcpy(l4 + ckoff, &ck, 2);
		}
	}
	in->hdr_checksum = xvs_csum_replace4(in->hdr_checksum, old, addr);
	if (is_dst)
		in->dst_addr = addr;
	else
		in->src_addr = addr;
	memcpy(l4 + poff, &port, 2);
}

/*
 * An ICMP error that quotes a packet of a known connection goes to the right party with the
 * quote rewritten consistently: from the real-server side towards the client (NAT replies),
 * or from the client side (a router quoting our reply to the client) towards the real server
 * by the connection's method. That keeps path-MTU discovery working through xvs.
 */
static void handle_icmp_error(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			      const struct xvs_pkt *p)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, p->l3_off);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *, p->l4_off);
	uint32_t icmp_len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct rte_ipv4_hdr *in = (struct rte_ipv4_hdr *)(ic + 1);
	if (icmp_len < sizeof(*ic) + sizeof(*in) + 8 || in->version_ihl != RTE_IPV4_VHL_DEF)
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	uint32_t qlen = icmp_len - sizeof(*ic);
	uint8_t *l4 = (uint8_t *)(in + 1);
	if (!g || (in->next_proto_id != IPPROTO_TCP && in->next_proto_id != IPPROTO_UDP))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	uint16_t qs, qd;
	memcpy(&qs, l4, 2);
	memcpy(&qd, l4 + 2, 2);
	struct xvs_conn_key k = { .src = in->dst_addr, .dst = in->src_addr, .sport = qd, .dport = qs,
				  .proto = in->next_proto_id };
	uint32_t h = xvs_conn_hash(&k);
	uint32_t v = xvs_conn_find(&w->conns, &k, h);
	struct xvs_conn *c = v ? &w->conns.conns[(v - 1) >> 1] : NULL;
	if (!c || conn_expired(w, c))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	if (dest_gone(g, c))
		return drop(w, m, XVS_DROP_DEST_GONE);
	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	if (((v - 1) & 1) == XVS_CONN_DIR_REPLY) {
		/* quotes client -> real server as sent by us: show the client the VIP instead */
		quote_rewrite(in, l4, qlen, c->vaddr.v4, c->vport, 1);
		if (ip->src_addr == c->daddr.v4) {
			ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, ip->src_addr, c->vaddr.v4);
			ip->src_addr = c->vaddr.v4;
		}
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);
		return xmit4(w, m, ip->dst_addr);
	}
	/* quotes VIP -> client: the real server sent it (DR/TUN) or we did (NAT) */
	if (fwd == XVS_FWD_MASQ) {
		quote_rewrite(in, l4, qlen, c->daddr.v4, c->dport, 0);
		ip->hdr_checksum = xvs_csum_replace4(ip->hdr_checksum, ip->dst_addr, c->daddr.v4);
		ip->dst_addr = c->daddr.v4;
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);
	}
	if (fwd == XVS_FWD_TUNNEL)
		return tun_forward(w, g, m, p, c, h);
	xmit4(w, m, c->daddr.v4);
}

static void exception_ip4(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			  struct rte_mbuf *m, const struct xvs_pkt *p)
{
	if (p->proto == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, const struct rte_icmp_hdr *, p->l4_off);
		if (icmp_is_error(ic->icmp_type))
			return handle_icmp_error(w, g, m, p);
		if (is_owned(w->dp, g, p->dst))
			return handle_icmp_local(w, in_port, m, p);
	}
	drop(w, m, XVS_DROP_NO_VIP);
}

/* ---- IPv6 exception path: ND, ICMPv6 echo --------------------------------------------- */

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

static void handle_nd(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		      struct rte_mbuf *m, const struct xvs_pkt *p, const union xvs_ip *src)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
	const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	uint32_t len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct xvs_nd_info nd;
	int dad = src->d[0] == 0 && src->d[1] == 0;
	if (xvs_nd_parse(msg, len, l3[7], &nd) < 0 || (dad && nd.has_lladdr))
		return drop(w, m, XVS_DROP_ND_MALFORMED);
	if (!is_owned6(w->dp, g, &nd.target))
		return drop(w, m, XVS_DROP_ARP_NOT_OURS);
	if (nd.type == XVS_ND_NA) {
		/* an answer about a neighbour: the target is theirs, which our table never holds */
		rte_pktmbuf_free(m);
		return;
	}
	if (!dad && nd.has_lladdr && !is_owned6(w->dp, g, src) &&
	    xvs_neigh_learn_ip(w->dp->neigh, XVS_AF_INET6, src, &nd.lladdr, 0) < 0)
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
	nd_advertise(w, in_port, m, src, &nd);
}

/* Learn from an advertisement for an address that is not ours. */
static void handle_na(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		      const struct xvs_pkt *p)
{
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
	const uint8_t *msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	uint32_t len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	struct xvs_nd_info nd;
	if (xvs_nd_parse(msg, len, l3[7], &nd) < 0)
		return drop(w, m, XVS_DROP_ND_MALFORMED);
	if (nd.has_lladdr && !is_owned6(w->dp, g, &nd.target) &&
	    xvs_neigh_learn_ip(w->dp->neigh, XVS_AF_INET6, &nd.target, &nd.lladdr, 0) < 0)
		w->st->drops[XVS_DROP_NEIGH_FULL]++;
	rte_pktmbuf_free(m);
}

static void echo_reply6(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m,
			const struct xvs_pkt *p)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	uint8_t *ic = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l4_off);
	uint8_t tmp[16];
	uint16_t ck;
	memcpy(tmp, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(l3 + XVS_IP6_SRC_OFF, l3 + XVS_IP6_DST_OFF, 16);
	memcpy(l3 + XVS_IP6_DST_OFF, tmp, 16);
	l3[7] = 64;
	ic[0] = XVS_ICMP6_ECHO_REPLY;
	memcpy(&ck, ic + 2, 2);
	ck = xvs_csum_replace2(ck, rte_cpu_to_be_16(XVS_ICMP6_ECHO_REQUEST << 8),
			       rte_cpu_to_be_16(XVS_ICMP6_ECHO_REPLY << 8));
	memcpy(ic + 2, &ck, 2);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = w->dp->ports[in_port].mac;
	w->st->icmp_echo_replies++;
	enqueue(w, in_port, m);
}

/* Rewrite one address and port of a quoted IPv6 packet, its L4 checksum too where quoted. */
static void quote_rewrite6(uint8_t *in, uint8_t *l4, uint32_t l4_len, const union xvs_ip *addr,
			   uint16_t port, int is_dst)
{
	unsigned ckoff = in[6] == IPPROTO_TCP ? 16 : 6;
	if (l4_len >= ckoff + 2) {
		uint16_t old;
		memcpy(&old, l4 + (is_dst ? 2 : 0), 2);
		xvs_nat_rewrite6(in, is_dst ? XVS_IP6_DST_OFF : XVS_IP6_SRC_OFF, in[6], l4, addr, old, port, is_dst);
		return;
	}
	memcpy(in + (is_dst ? XVS_IP6_DST_OFF : XVS_IP6_SRC_OFF), addr->v6, 16);
	memcpy(l4 + (is_dst ? 2 : 0), &port, 2);
}

/* The ICMPv6 counterpart of handle_icmp_error(): same directions, same rewrites. */
static void handle_icmp6_error(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
			       const struct xvs_pkt *p)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
	uint8_t *ic = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l4_off);
	uint32_t icmp_len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	uint8_t *in = ic + 8, *l4 = in + XVS_IP6_HLEN;
	if (icmp_len < 8 + XVS_IP6_HLEN + 8 || (in[0] >> 4) != 6)
		return drop(w, m, XVS_DROP_ICMP_QUOTE_BAD);
	if (!g || (in[6] != IPPROTO_TCP && in[6] != IPPROTO_UDP))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	struct xvs_conn_key k = { .af = XVS_AF_INET6, .proto = in[6] };
	memcpy(k.src6.v6, in + XVS_IP6_DST_OFF, 16);
	memcpy(k.dst6.v6, in + XVS_IP6_SRC_OFF, 16);
	memcpy(&k.sport, l4 + 2, 2);
	memcpy(&k.dport, l4, 2);
	uint32_t h = xvs_conn_hash(&k);
	uint32_t v = xvs_conn_find(&w->conns, &k, h);
	struct xvs_conn *c = v ? &w->conns.conns[(v - 1) >> 1] : NULL;
	if (!c || conn_expired(w, c))
		return drop(w, m, XVS_DROP_ICMP_QUOTE_NO_CONN);
	if (dest_gone(g, c))
		return drop(w, m, XVS_DROP_DEST_GONE);
	unsigned fwd = c->flags & XVS_CONN_F_FWD_MASK;
	uint32_t l4_len = icmp_len - 8 - XVS_IP6_HLEN;
	union xvs_ip osrc, odst;
	if (((v - 1) & 1) == XVS_CONN_DIR_REPLY) {
		quote_rewrite6(in, l4, l4_len, &c->vaddr, c->vport, 1);
		if (memcmp(l3 + XVS_IP6_SRC_OFF, c->daddr.v6, 16) == 0)
			memcpy(l3 + XVS_IP6_SRC_OFF, c->vaddr.v6, 16);
	} else if (fwd == XVS_FWD_MASQ) {
		quote_rewrite6(in, l4, l4_len, &c->daddr, c->dport, 0);
		memcpy(l3 + XVS_IP6_DST_OFF, c->daddr.v6, 16);
	}
	memcpy(osrc.v6, l3 + XVS_IP6_SRC_OFF, 16);
	memcpy(odst.v6, l3 + XVS_IP6_DST_OFF, 16);
	if (((v - 1) & 1) == XVS_CONN_DIR_REPLY || fwd == XVS_FWD_MASQ) {
		memset(ic + 2, 0, 2);
		uint16_t ck = xvs_icmp6_cksum(&osrc, &odst, ic, icmp_len, IPPROTO_ICMPV6);
		memcpy(ic + 2, &ck, 2);
	}
	if (((v - 1) & 1) == XVS_CONN_DIR_REPLY)
		return xmit6(w, m, &odst);
	if (fwd == XVS_FWD_TUNNEL)
		return tun_forward(w, g, m, p, c, h);
	xmit6(w, m, &c->daddr);
}

static void exception_ip6(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			  struct rte_mbuf *m, const struct xvs_pkt *p)
{
	union xvs_ip src, dst;
	memcpy(src.v6, rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off + XVS_IP6_SRC_OFF), 16);
	memcpy(dst.v6, rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off + XVS_IP6_DST_OFF), 16);
	if (p->proto != IPPROTO_ICMPV6)
		return drop(w, m, XVS_DROP_NO_VIP);
	const uint8_t *ic = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);
	if (ic[0] == XVS_ND_NS)
		return handle_nd(w, g, in_port, m, p, &src);
	if (ic[0] == XVS_ND_NA)
		return handle_na(w, g, m, p);
	if (ic[0] >= XVS_ICMP6_DEST_UNREACH && ic[0] <= XVS_ICMP6_PARAM_PROBLEM)
		return handle_icmp6_error(w, g, m, p);
	if (!is_owned6(w->dp, g, &dst))
		return drop(w, m, XVS_DROP_NO_VIP);
	if (ic[0] == XVS_ICMP6_ECHO_REQUEST && ic[1] == 0)
		return echo_reply6(w, in_port, m, p);
	drop(w, m, XVS_DROP_ICMP_UNSUPPORTED);
}

static inline void exception_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
				struct rte_mbuf *m, const struct xvs_pkt *p)
{
	if (p->kind == XVS_PKT_IP6)
		return exception_ip6(w, g, in_port, m, p);
	exception_ip4(w, g, in_port, m, p);
}

/* IPv4 or IPv6 through the connection table, the services, or the exception path. */
static inline void handle_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			     struct rte_mbuf *m, struct pkt_state *ps)
{
	const struct xvs_pkt *p = &ps->p;
	if (!ps->lookup || !g)
		return exception_ip(w, g, in_port, m, p);
	uint32_t v = xvs_conn_find(&w->conns, &ps->k, ps->h);
	if (v) {
		v--;
		struct xvs_conn *c = &w->conns.conns[v >> 1];
		unsigned dir = v & 1;
		int reuse = p->proto == IPPROTO_TCP && dir == XVS_CONN_DIR_ORIG &&
			    (p->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG &&
			    (c->state == XVS_TCP_TIME_WAIT || c->state == XVS_TCP_CLOSE);
		if (!conn_expired(w, c) && !reuse)
			return conn_forward(w, g, m, p, c, dir, ps->h);
		conn_release(w, v >> 1);
	}
	int svc;
	if (ps->k.af == XVS_AF_INET6) {
		svc = xvs_gen_vip_lookup(g, p->proto, &ps->k.dst6, p->dport);
	} else {
		union xvs_ip dst = { .v4 = p->dst };
		svc = xvs_gen_vip_lookup(g, p->proto, &dst, p->dport);
	}
	if (svc >= 0 && g->svcs[svc].af == (ps->k.af == XVS_AF_INET6 ? XVS_AF_INET6 : XVS_AF_INET))
		return conn_new(w, g, m, p, &ps->k, ps->h, svc);
	exception_ip(w, g, in_port, m, p);
}

void xvs_worker_process(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			struct rte_mbuf **pkts, uint16_t n)
{
	struct pkt_state ps[XVS_BURST];
	const struct xvs_port *pt = &w->dp->ports[in_port];

	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct pkt_state *s = &ps[i];
		w->st->rx_pkts++;
		w->st->rx_bytes += m->pkt_len;
		xvs_parse(&s->p, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		s->lookup = (s->p.kind == XVS_PKT_IP4 && s->p.proto != IPPROTO_ICMP) ||
			    (s->p.kind == XVS_PKT_IP6 && s->p.proto != IPPROTO_ICMPV6);
		if (!s->lookup)
			continue;
		s->k = (struct xvs_conn_key){ .src = s->p.src, .dst = s->p.dst, .sport = s->p.sport,
					      .dport = s->p.dport, .proto = s->p.proto };
		if (s->p.kind == XVS_PKT_IP6) {
			const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, s->p.l3_off);
			s->k.af = XVS_AF_INET6;
			memcpy(s->k.src6.v6, l3 + XVS_IP6_SRC_OFF, 16);
			memcpy(s->k.dst6.v6, l3 + XVS_IP6_DST_OFF, 16);
		}
		s->h = xvs_conn_hash(&s->k);
		rte_prefetch0(xvs_conn_bucket_of(&w->conns, s->h));
	}
	for (uint16_t i = 0; i < n; i++) {
		if (!ps[i].lookup)
			continue;
		/* prefetch the first candidate entry of the home bucket */
		const struct xvs_conn_bucket *bk = xvs_conn_bucket_of(&w->conns, ps[i].h);
		uint32_t sig = xvs_conn_sig(&w->conns, ps[i].h);
		for (unsigned j = 0; j < XVS_CONN_BUCKET_SLOTS; j++) {
			uint32_t sl = bk->slot[j];
			if (sl && (sl & w->conns.sig_mask) == sig) {
				rte_prefetch0(&w->conns.conns[((sl & ~w->conns.sig_mask) - 1) >> 1]);
				break;
			}
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (unlikely(ps[i].p.kind == XVS_PKT_DROP && ps[i].p.drop == XVS_DROP_RUNT)) {
			drop(w, m, XVS_DROP_RUNT);
			continue;
		}
		if (unlikely(!l2_ours(pt, m))) {
			drop(w, m, XVS_DROP_L2_NOT_OURS);
			continue;
		}
		switch (ps[i].p.kind) {
		case XVS_PKT_IP4:
		case XVS_PKT_IP6:
			handle_ip(w, g, in_port, m, &ps[i]);
			break;
		case XVS_PKT_ARP:
			handle_arp(w, g, in_port, m);
			break;
		default:
			drop(w, m, (enum xvs_drop)ps[i].p.drop);
			break;
		}
	}
	if (unlikely(w->nb_held))
		release_held(w);
}

/* ---- periodic work -------------------------------------------------------------------- */

#define SWEEP_PER_TICK 256

static void sweep(struct xvs_worker *w)
{
	struct xvs_conn_table *t = &w->conns;
	for (unsigned i = 0; i < SWEEP_PER_TICK; i++) {
		uint32_t idx = t->sweep_pos++ & (t->capacity - 1);
		struct xvs_conn *c = &t->conns[idx];
		if (c->proto && conn_expired(w, c))
			conn_release(w, idx);
	}
}

/* Answer a connection-dump request from control with one bounded page (include/xvs/shm.h). */
static void serve_dump(struct xvs_worker *w, const struct xvs_gen *g)
{
	struct xvs_shm_mailbox *mb = xvs_shm_mailbox(&w->dp->shm, w->idx);
	uint64_t req = atomic_load_explicit(&mb->req_seq, memory_order_acquire);
	if (req == atomic_load_explicit(&mb->resp_seq, memory_order_relaxed))
		return;
	const struct xvs_conn_table *t = &w->conns;
	uint64_t pos = mb->req_cursor, end = pos + XVS_CONN_DUMP_SCAN;
	uint32_t nb = 0;
	if (end > t->capacity)
		end = t->capacity;
	for (; pos < end && nb < XVS_CONN_DUMP_MAX; pos++) {
		const struct xvs_conn *c = &t->conns[pos];
		if (!c->proto || conn_expired(w, c))
			continue;
		uint16_t svc = g && c->dest < g->nb_dests ? g->dests[c->dest].svc : XVS_MAX_SVCS;
		mb->e[nb++] = (struct xvs_conn_dump_entry){
			.af = c->af, .proto = c->proto, .state = c->state,
			.fwd = c->flags & XVS_CONN_F_FWD_MASK, .dest = c->dest, .svc = svc,
			.expire = c->expire - w->now, .cport = c->cport, .vport = c->vport,
			.dport = c->dport, .caddr = c->caddr, .vaddr = c->vaddr, .daddr = c->daddr,
		};
	}
	mb->nb = nb;
	mb->capacity = t->capacity;
	mb->next_cursor = pos >= t->capacity ? UINT64_MAX : pos;
	atomic_store_explicit(&mb->resp_seq, req, memory_order_release);
}

/* Resolve every destination's next hop ahead of its first packet. */
static void probe_dests(struct xvs_worker *w, const struct xvs_gen *g)
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
		struct xvs_neigh *n = xvs_neigh_get_ip(w->dp->neigh, d->af, &nh);
		struct rte_ether_addr mac;
		if (!n || xvs_neigh_mac(n, &mac) == 0 ||
		    !xvs_neigh_probe_due(n, w->now_tsc, w->dp->tsc_hz * PROBE_INTERVAL_S))
			continue;
		if (d->af == XVS_AF_INET)
			arp_request(w, port, nh.v4);
		else
			nd_solicit(w, port, &nh);
	}
}

void xvs_worker_tick(struct xvs_worker *w, const struct xvs_gen *g)
{
	w->now = (uint32_t)((w->now_tsc - w->start_tsc) / w->dp->tsc_hz);
	sweep(w);
	serve_dump(w, g);
	if (w->nb_held)
		release_held(w);
	if (w->idx == 0 && g && w->now_tsc >= w->next_probe_tsc) {
		w->next_probe_tsc = w->now_tsc + w->dp->tsc_hz / 4;
		probe_dests(w, g);
	}
	if (w->idx == 0 && xvs_rt.housekeeping)
		xvs_rt.housekeeping();
}

int xvs_worker_loop(void *arg)
{
	struct xvs_worker *w = arg;
	struct rte_mbuf *pkts[XVS_BURST];
	uint64_t tick = w->dp->tsc_hz / 1000;
	w->lcore = rte_lcore_id();
	atomic_store(&xvs_shm_lcore(&w->dp->shm, w->idx)->lcore_id, w->lcore);

	while (!xvs_quit) {
		struct xvs_gen *g = xvs_dp_gen_get(&w->dp->gens, w->idx);
		w->now_tsc = rte_rdtsc();
		if (w->now_tsc >= w->next_tick_tsc) {
			w->next_tick_tsc = w->now_tsc + tick;
			xvs_worker_tick(w, g);
		}
		for (uint16_t p = 0; p < w->dp->nb_ports; p++) {
			uint16_t n = rte_eth_rx_burst(w->dp->ports[p].port_id, (uint16_t)w->idx, pkts, XVS_BURST);
			if (!n)
				continue;
			atomic_store_explicit(&xvs_rt.last_rx_tsc, w->now_tsc, memory_order_relaxed);
			xvs_worker_process(w, g, p, pkts, n);
		}
		xvs_worker_flush(w);
	}
	for (unsigned i = 0; i < w->nb_held; i++)
		rte_pktmbuf_free(w->held[i].m);
	w->nb_held = 0;
	xvs_worker_flush(w);
	return 0;
}
