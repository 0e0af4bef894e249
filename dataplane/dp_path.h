/*
 * What the files of the packet path share (dp_worker.c: connections and the burst;
 * dp_resolve.c: owned addresses, ARP, neighbour discovery, the hold queue; dp_local.c: the
 * exception path, ICMP). Internal to the dataplane: worker lcore only, like everything here.
 */
#ifndef XVS_DP_PATH_H
#define XVS_DP_PATH_H

#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_csum.h"
#include "dp_parse.h"
#include "dp_worker.h"
#include "xvs/gen.h"

#define PROBE_INTERVAL_S 1 /* at most one ARP request / solicitation per neighbour per second */
#define HOLD_S 1           /* how long a frame waits for its next hop */

/* ---- counters and queues: dp_worker.c ---- */

/* Hand port's queued frames to the driver; what it does not take is dropped and counted. */
void xvs_path_tx_port(struct xvs_worker *w, uint16_t port);

static inline void drop(struct xvs_worker *w, struct rte_mbuf *m, enum xvs_drop why)
{
	w->st->drops[why]++;
	rte_pktmbuf_free(m);
}

static inline void enqueue(struct xvs_worker *w, uint16_t port, struct rte_mbuf *m)
{
	struct xvs_tx_buf *b = &w->txb[port];
	w->st->tx_bytes += m->pkt_len;
	b->pkts[b->n++] = m;
	if (b->n == RTE_DIM(b->pkts))
		xvs_path_tx_port(w, port);
}

/* ---- TTL and hop limit: dp_local.c ---- */

/* m's TTL or hop limit ran out here: a time exceeded to its sender (rate-limited; never for
 * an ICMP error), and m is dropped as ttl-exceeded. */
void xvs_ttl_expired(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p);

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

/* ---- the exception path to the kernel: dp_exc.c ---- */

/* Stage m for the kernel interface of in_port (flushed at the end of the burst). */
void xvs_exc_queue(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m);
/* Hand the staged frames to the main lcore's ring; a full ring drops them (exception-full). */
void xvs_exc_flush(struct xvs_worker *w);
/* Classify m (dp_exc.h) and stage it for the kernel, or drop it as why. */
void xvs_exc_offer(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		   struct rte_mbuf *m, enum xvs_drop why);
/* Worker 0 when the main lcore has no TX queue: send the kernel's frames. Returns how many. */
unsigned xvs_exc_worker_tx(struct xvs_worker *w);

/*
 * A frame the dataplane does not consume and would end for reason why: with an exception
 * interface on in_port, the kernel may take it (dp_exc.h decides); otherwise it is dropped and
 * counted, as it always was.
 */
static inline void xvs_unconsumed(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
				  struct rte_mbuf *m, enum xvs_drop why)
{
	if (likely(!w->dp->ports[in_port].exc))
		return drop(w, m, why);
	xvs_exc_offer(w, g, in_port, m, why);
}

/*
 * An ARP reply or neighbour advertisement the dataplane has learned from: done with it, or,
 * with an exception interface, the kernel's too (its own requests are answered this way).
 */
static inline void xvs_answered(struct xvs_worker *w, uint16_t in_port, struct rte_mbuf *m)
{
	if (likely(!w->dp->ports[in_port].exc) || !w->exc_ring) {
		rte_pktmbuf_free(m);
		return;
	}
	xvs_exc_queue(w, in_port, m);
}

/* ---- connections and forwarding: dp_worker.c ---- */

/*
 * Queue m (received on in_port) for the worker that owns its connection (dp_steer.h); hop
 * says which of the packet's owner candidates that worker is (xvs_steer).
 */
void xvs_handoff(struct xvs_worker *w, unsigned owner, uint16_t in_port, unsigned hop,
		 struct rte_mbuf *m);

/*
 * The worker that owns the connection of a packet with key k: the client is the source of a
 * packet to a service, the destination of a real server's reply (reply set).
 */
static inline unsigned xvs_steer_owner_of(const struct xvs_steer *s, const struct xvs_conn_key *k,
					  int reply)
{
	if (k->af == XVS_AF_INET6)
		return reply ? xvs_steer_owner6(s, &k->dst6, k->dport)
			     : xvs_steer_owner6(s, &k->src6, k->sport);
	return reply ? xvs_steer_owner4(s, k->dst, k->dport) : xvs_steer_owner4(s, k->src, k->sport);
}

/*
 * With several workers, hand m (key k, found in no connection here) to the worker that owns
 * its connection; returns 1 if it did. svc: the service k is addressed to, or -1 (a reply, or
 * nothing at all). A packet to a persistent service goes to the owner of its client's prefix;
 * a reply tries the owner of its client's address and port, then the owner of each
 * persistence granularity in use, one hop at a time (dp_worker.c).
 */
int xvs_steer_slow(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_conn_key *k,
		   int svc, uint16_t in_port, struct rte_mbuf *m);

static inline int xvs_steer(struct xvs_worker *w, const struct xvs_gen *g,
			    const struct xvs_conn_key *k, int svc, uint16_t in_port, struct rte_mbuf *m)
{
	if (likely(w->dp->steer.nb_workers <= 1))
		return 0;
	return xvs_steer_slow(w, g, k, svc, in_port, m);
}

/* The service a packet to addr:port (network order) is for: exact, else a port-0 service. */
static inline int xvs_svc_lookup(const struct xvs_gen *g, uint8_t proto, const union xvs_ip *addr,
				 uint16_t port_be)
{
	int svc = xvs_gen_vip_lookup(g, proto, addr, port_be);
	return svc >= 0 || port_be == 0 ? svc : xvs_gen_vip_lookup(g, proto, addr, 0);
}

/*
 * A packet of family af for no service: the firewall-mark service its mark rule selects, or
 * -1 (IPVS sees a fwmark only when no proto/addr/port service took the packet first).
 */
static inline int xvs_fwmark_lookup(const struct xvs_gen *g, uint8_t af, uint8_t proto,
				    const union xvs_ip *addr, uint16_t port_be)
{
	if (likely(g->nb_marks == 0))
		return -1;
	return xvs_gen_mark_lookup(g, af, proto, addr, port_be);
}

static inline int conn_expired(const struct xvs_worker *w, const struct xvs_conn *c)
{
	return (int32_t)(c->expire - w->now) < 0;
}

static inline int dest_gone(const struct xvs_gen *g, const struct xvs_conn *c)
{
	return c->dest >= g->nb_dests || g->dests[c->dest].state != XVS_SLOT_USED;
}

/* Encapsulate towards the connection's real server (its flow hash spreads outer sources). */
void xvs_tun_forward(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p, const struct xvs_conn *c);

/* ---- addresses, resolution and the hold queue: dp_resolve.c ---- */

int xvs_owned4(const struct xvs_dp *dp, const struct xvs_gen *g, uint32_t ip);
int xvs_owned6(const struct xvs_dp *dp, const struct xvs_gen *g, const union xvs_ip *ip);
/* Whether ip is on one of pt's connected subnets (IPv6: or link-local): only there does what
 * arrives on pt teach xvs a neighbour. */
int xvs_port_on_link4(const struct xvs_port *pt, uint32_t ip);
int xvs_port_on_link6(const struct xvs_port *pt, const union xvs_ip *ip);
/* Run the neighbour table's timers over a share of it and send the unicast probes due. */
void xvs_neigh_tick(struct xvs_worker *w);
uint32_t xvs_port_src4(const struct xvs_port *pt, uint32_t ip);
const union xvs_ip *xvs_port_src6(const struct xvs_port *pt, const union xvs_ip *ip);
void xvs_hold_unresolved(struct xvs_worker *w, struct rte_mbuf *m, uint16_t port, uint8_t af,
			 const union xvs_ip *nh);
void xvs_release_held(struct xvs_worker *w);
void xvs_handle_arp(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port, struct rte_mbuf *m);
void xvs_probe_dests(struct xvs_worker *w, const struct xvs_gen *g);

/* Write an IPv6 header (no extension headers) at l3. */
static inline void ip6_fill(uint8_t *l3, uint16_t plen, uint8_t nh, uint8_t hlim, const union xvs_ip *src,
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

/* ---- the exception path and ICMP: dp_local.c ---- */

/* Not a connection's packet and no service: ARP/ND are elsewhere; ICMP to us, ICMP errors, drops. */
void xvs_exception_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
		      struct rte_mbuf *m, const struct xvs_pkt *p);
void xvs_send_frag_needed(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint16_t mtu);
void xvs_send_pkt_too_big(struct xvs_worker *w, struct rte_mbuf *orig, const struct xvs_pkt *p,
			  uint32_t mtu);

#endif
