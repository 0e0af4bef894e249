/*
 * What every file of the packet path shares: dropping and queueing a frame, writing an IPv6
 * header, handing a frame to the kernel (dp_exc.c) or to another worker, service lookup and a
 * connection's liveness. The files: dp_worker.c (the burst and connections), dp_xmit.c/.h
 * (forwarding and transmit), dp_icmp.c (ICMP, the exception path), dp_neighproto.c (ARP, ND,
 * the hold queue), dp_addr.c (owned addresses). Internal to the dataplane: worker lcore only,
 * like everything here.
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

/* ---- headers of the frames xvs builds ---- */

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

/* ---- steering and services: dp_worker.c ---- */

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

#endif
