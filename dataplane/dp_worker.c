/*
 * The packet path, per worker and per burst:
 *   prefetch -> parse -> hash + prefetch bucket -> scan + prefetch entry ->
 *   per packet: connection hit, or VIP lookup + schedule + insert, or the exception path
 *   (dp_icmp.c, dp_neighproto.c) -> rewrite + route + neighbour (dp_xmit.c) -> queue -> tx burst.
 * No locks, no allocation besides mbufs for probes and ICMP errors, no logging, no syscalls.
 * This file: the burst, steering to the owning worker, connections (creation, persistence
 * templates, expiry), periodic work.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dp_exc.h"
#include "dp_icmp.h"
#include "dp_neighproto.h"
#include "dp_sctp.h"
#include "dp_sync.h"
#include "dp_tcp.h"
#include "dp_xmit.h"
#include "xvs/gen.h"

volatile int xvs_quit;
struct xvs_dp_runtime xvs_rt;

static uint16_t tx_eth(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(w->dp->ports[port].port_id, w->txq, pkts, n);
}

int xvs_worker_init(struct xvs_worker *w, struct xvs_dp *dp, unsigned idx, void *conn_mem)
{
	memset(w, 0, sizeof(*w));
	w->dp = dp;
	w->idx = idx;
	w->txq = (uint16_t)(idx == XVS_WORKER_MAIN ? dp->nb_workers : idx);
	w->st = xvs_shm_stats(&dp->shm, idx == XVS_WORKER_MAIN ? XVS_SHM_MAIN_STATS : idx);
	w->probes = idx == 0 || idx == XVS_WORKER_MAIN; /* main() takes them off worker 0 */
	w->tx = tx_eth;
	w->pool = xvs_rt.pool;
	w->start_tsc = rte_rdtsc();
	w->now_tsc = w->start_tsc;
	/*
	 * A new dataplane starts from zero: its connections are gone, and xvs-control resets its
	 * baselines when it sees a new dataplane pid.
	 */
	memset(w->st, 0, sizeof(*w->st));
	if (!conn_mem)
		return 0; /* the main lcore's: it forwards nothing */
	return xvs_conn_table_init(&w->conns, conn_mem, dp->cfg.conn_max, rte_rand());
}

/* ---- counters and queues ------------------------------------------------------------ */

void xvs_path_tx_port(struct xvs_worker *w, uint16_t port)
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

void xvs_worker_flush(struct xvs_worker *w)
{
	for (uint16_t p = 0; p < w->dp->nb_ports; p++)
		if (w->txb[p].n)
			xvs_path_tx_port(w, p);
}

/* ---- hand-off to the owning worker (dp_steer.h) ---------------------------------------- */

static void handoff_flush_one(struct xvs_worker *w, unsigned owner)
{
	struct xvs_handoff_buf *b = &w->ho[owner];
	unsigned n = b->n;
	b->n = 0;
	w->ho_mask &= ~(1u << owner);
	unsigned sent = rte_ring_sp_enqueue_burst(w->ho_ring[owner], (void **)b->pkts, n, NULL);
	w->st->handoff_out += sent;
	for (unsigned i = sent; i < n; i++)
		drop(w, b->pkts[i], XVS_DROP_HANDOFF_FULL);
}

static void handoff_flush(struct xvs_worker *w)
{
	while (w->ho_mask)
		handoff_flush_one(w, (unsigned)__builtin_ctz(w->ho_mask));
}

void xvs_handoff(struct xvs_worker *w, unsigned owner, uint16_t in_port, unsigned hop,
		 struct rte_mbuf *m)
{
	struct xvs_handoff_buf *b = &w->ho[owner];
	m->hash.usr = in_port | hop << 16; /* the owner needs the port it came in on */
	b->pkts[b->n++] = m;
	w->ho_mask |= 1u << owner;
	if (b->n == XVS_BURST)
		handoff_flush_one(w, owner);
}

unsigned xvs_worker_drain(struct xvs_worker *w, const struct xvs_gen *g)
{
	struct rte_mbuf *pkts[XVS_BURST];
	unsigned total = 0;
	for (unsigned v = 0; v < w->dp->nb_workers; v++) {
		if (!w->hi_ring[v])
			continue;
		unsigned n = rte_ring_sc_dequeue_burst(w->hi_ring[v], (void **)pkts, XVS_BURST, NULL);
		if (!n)
			continue;
		total += n;
		w->st->handoff_in += n;
		w->handed = 1;
		for (unsigned i = 0, j; i < n; i = j) {
			uint32_t usr = pkts[i]->hash.usr;
			for (j = i + 1; j < n && pkts[j]->hash.usr == usr; j++)
				;
			w->hop = (uint8_t)(usr >> 16);
			xvs_worker_process(w, g, (uint16_t)usr, pkts + i, (uint16_t)(j - i));
		}
		w->handed = 0;
	}
	return total;
}

/* The distinct persistence granularities of generation g, for reply steering. */
static void pm_refresh(struct xvs_worker *w, const struct xvs_gen *g)
{
	if (w->pm_gen == g->gen)
		return;
	w->pm_gen = g->gen;
	w->nb_pm4 = w->nb_pm6 = 0;
	for (uint32_t i = 0; i < g->nb_svcs; i++) {
		const struct xvs_svc *s = &g->svcs[i];
		if (s->state != XVS_SLOT_USED || !(s->flags & XVS_SVC_F_PERSISTENT))
			continue;
		unsigned k;
		if (s->af == XVS_AF_INET6) {
			for (k = 0; k < w->nb_pm6 && w->pm6[k] != s->netmask; k++)
				;
			if (k == w->nb_pm6 && k < XVS_STEER_MASKS)
				w->pm6[w->nb_pm6++] = (uint8_t)s->netmask;
		} else {
			for (k = 0; k < w->nb_pm4 && w->pm4[k] != s->netmask; k++)
				;
			if (k == w->nb_pm4 && k < XVS_STEER_MASKS)
				w->pm4[w->nb_pm4++] = s->netmask;
		}
	}
}

int xvs_steer_slow(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_conn_key *k,
		   int svc, uint16_t in_port, struct rte_mbuf *m)
{
	const struct xvs_steer *st = &w->dp->steer;
	int v6 = k->af == XVS_AF_INET6;
	if (svc >= 0) {
		if (w->handed)
			return 0; /* the sender chose this worker */
		const struct xvs_svc *s = &g->svcs[svc];
		unsigned o;
		if (!(s->flags & XVS_SVC_F_PERSISTENT))
			o = xvs_steer_owner_of(st, k, 0);
		else if (v6) {
			union xvs_ip pfx = xvs_ip6_prefix(&k->src6, s->netmask);
			o = xvs_steer_owner6_prefix(st, &pfx);
		} else {
			o = xvs_steer_owner4_prefix(st, k->src & s->netmask);
		}
		if (o == w->idx)
			return 0;
		xvs_handoff(w, o, in_port, 0, m);
		return 1;
	}
	/* a reply: its client's own owner, then the owner of each granularity in use */
	unsigned cand[1 + XVS_STEER_MASKS], n = 0;
	cand[n++] = xvs_steer_owner_of(st, k, 1);
	if (g) {
		pm_refresh(w, g);
		for (unsigned i = 0; v6 && i < w->nb_pm6; i++) {
			union xvs_ip pfx = xvs_ip6_prefix(&k->dst6, w->pm6[i]);
			cand[n++] = xvs_steer_owner6_prefix(st, &pfx);
		}
		for (unsigned i = 0; !v6 && i < w->nb_pm4; i++)
			cand[n++] = xvs_steer_owner4_prefix(st, k->dst & w->pm4[i]);
	}
	for (unsigned j = w->handed ? w->hop + 1u : 0; j < n; j++) {
		int tried = cand[j] == w->idx;
		for (unsigned i = 0; i < j && !tried; i++)
			tried = cand[i] == cand[j];
		if (tried)
			continue;
		xvs_handoff(w, cand[j], in_port, j, m);
		return 1;
	}
	return 0;
}

/* ---- connections ---------------------------------------------------------------------- */

/* ---- persistence templates (docs/dataplane.md, "Persistence") ---- */

#define TPL_REARM_S 60 /* a template that still controls connections lives on this much longer */

/* A template's real-server port is its destination's: the field holds the count instead. */
static inline uint32_t tpl_count(const struct xvs_conn *t)
{
	return t->dport | (uint32_t)t->state << 16;
}

static inline void tpl_count_set(struct xvs_conn *t, uint32_t n)
{
	t->dport = (uint16_t)n;
	t->state = (uint8_t)(n >> 16);
}

static inline int is_tpl(const struct xvs_conn *c)
{
	return xvs_conn_proto_is_tpl(c->proto);
}

/*
 * The key of the template for client caddr of persistent service s: the client masked by
 * the service's granularity, port 0, the VIP, and the virtual port (0 for port-0 and FTP
 * services, as IPVS keeps them). A fwmark service's template is IPVS's <IP, client, 0, mark,
 * 0>: protocol 0, the mark as the address (0.0.0.1 for mark 1; IPv6: the mark in the first
 * 32 bits), so that the client's TCP and UDP connections share it.
 */
static void tpl_key(const struct xvs_svc *s, const union xvs_ip *caddr, struct xvs_conn_key *k)
{
	uint16_t vport = s->port_be == 0 || s->port_be == rte_cpu_to_be_16(21) ? 0 : s->port_be;
	union xvs_ip vaddr = s->addr;
	if (s->fwmark)
		vaddr = (union xvs_ip){ .d = { rte_cpu_to_be_32(s->fwmark), 0 } };
	*k = (struct xvs_conn_key){ .dport = vport, .proto = xvs_conn_tpl_proto(s->proto) };
	if (s->af == XVS_AF_INET6) {
		k->af = XVS_AF_INET6;
		k->src6 = xvs_ip6_prefix(caddr, s->netmask);
		k->dst6 = vaddr;
	} else {
		k->src = caddr->v4 & s->netmask;
		k->dst = vaddr.v4;
	}
}

/* The template that controls connection c (NULL if its service is no longer persistent). */
static struct xvs_conn *tpl_of(struct xvs_worker *w, const struct xvs_gen *g,
			       const struct xvs_conn *c)
{
	if (!g || c->dest >= g->nb_dests)
		return NULL;
	const struct xvs_svc *s = &g->svcs[g->dests[c->dest].svc];
	if (!(s->flags & XVS_SVC_F_PERSISTENT))
		return NULL;
	struct xvs_conn_key k;
	union xvs_ip ca = xvs_conn_caddr(c);
	tpl_key(s, &ca, &k);
	uint32_t v = xvs_conn_find(&w->conns, &k, xvs_conn_hash(&w->conns, &k));
	return v ? &w->conns.conns[(v - 1) >> 1] : NULL;
}

static void tpl_remove(struct xvs_worker *w, uint32_t idx)
{
	w->st->dest[w->conns.conns[idx].dest].persist--;
	xvs_conn_free(&w->conns, idx);
}

/* A template whose service or server is gone, or whose service is no longer persistent. */
static int tpl_stale(const struct xvs_gen *g, const struct xvs_conn *t)
{
	if (!g || t->dest >= g->nb_dests || g->dests[t->dest].state != XVS_SLOT_USED)
		return 1;
	const struct xvs_svc *s = &g->svcs[g->dests[t->dest].svc];
	return s->state != XVS_SLOT_USED || !(s->flags & XVS_SVC_F_PERSISTENT);
}

/* ---- the table's entries and their counts ---- */

/* Take a connection out of the table and its counts; `ctr` says why (expired or evicted). */
static void conn_remove(struct xvs_worker *w, const struct xvs_gen *g, uint32_t idx, uint64_t *ctr)
{
	struct xvs_conn *c = &w->conns.conns[idx];
	struct xvs_stats_ctr *d = &w->st->dest[c->dest];
	if (c->flags & XVS_CONN_F_ACTIVE)
		d->active--;
	else
		d->inactive--;
	if (c->flags & XVS_CONN_F_CONTROLLED) {
		struct xvs_conn *t = tpl_of(w, g, c);
		if (t && tpl_count(t))
			tpl_count_set(t, tpl_count(t) - 1);
	}
	w->st->conns_cur--;
	(*ctr)++;
	xvs_conn_free(&w->conns, idx);
}

static void conn_release(struct xvs_worker *w, const struct xvs_gen *g, uint32_t idx)
{
	conn_remove(w, g, idx, &w->st->conns_expired);
}

/*
 * Insert the reply key (the real server's side: server:port -> client:port) of NAT connection
 * idx. A client that reuses a source port towards another VIP or port of the same server
 * makes a second connection with the same reply key; the server holds one connection per
 * tuple, and its new one (the SYN took over the old tuple's TIME_WAIT) is this. The older
 * entry leaves, as an expired one: left in place, it would take the server's replies and give
 * them the old VIP and port (IPVS, whose newest entry shadows the older, sends them to the
 * newest too). 0, or -1 when the table has no room.
 */
static int reply_key_insert(struct xvs_worker *w, const struct xvs_gen *g, uint32_t idx)
{
	struct xvs_conn_key ko, kr;
	xvs_conn_keys(&w->conns.conns[idx], &ko, &kr);
	uint32_t hr = xvs_conn_hash(&w->conns, &kr);
	uint32_t v = xvs_conn_find(&w->conns, &kr, hr);
	if (unlikely(v) && ((v - 1) & 1) == XVS_CONN_DIR_REPLY) /* idx's own is not in yet */
		conn_release(w, g, (v - 1) >> 1);
	return xvs_conn_insert_key(&w->conns, hr, idx, XVS_CONN_DIR_REPLY);
}

/* Evict the oldest connection that is still embryonic; 0 if there is none. */
static int conn_evict(struct xvs_worker *w, const struct xvs_gen *g)
{
	int64_t victim = xvs_conn_embryo_pop(&w->conns, 16);
	if (victim < 0)
		return 0;
	conn_remove(w, g, (uint32_t)victim, &w->st->conns_evicted);
	return 1;
}

/*
 * Cells for a new connection. When free cells run low (or none fit), the oldest embryonic
 * connection makes room: a SYN flood churns embryonic entries only, never an established
 * one, and a new client keeps its entry while the flood creates the free margin's worth of
 * new ones after it (docs/dataplane.md, "A full table and SYN floods").
 */
static int64_t conn_alloc(struct xvs_worker *w, const struct xvs_gen *g, int wide)
{
	struct xvs_conn_table *t = &w->conns;
	if (unlikely(t->nb_free < t->low_water))
		conn_evict(w, g);
	int64_t idx = xvs_conn_alloc(t, wide);
	for (unsigned i = 0; unlikely(idx < 0) && i < 3 && conn_evict(w, g); i++)
		idx = xvs_conn_alloc(t, wide);
	return idx;
}

/*
 * A new template <client prefix, 0, VIP, vport, server> for destination slot, replacing the
 * stale one in cell `old` (-1: none) and taking over its count of controlled connections.
 * The cells come first: making room may evict a connection the old template still counts.
 * Returns the new cell, or -1 when the table has no room (the old template stays).
 */
static int64_t tpl_create(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_svc *s,
			  int slot, const struct xvs_conn_key *tk, uint32_t th, int64_t old)
{
	const struct xvs_dest *d = &g->dests[slot];
	int wide = s->af == XVS_AF_INET6 || d->af == XVS_AF_INET6;
	int64_t idx = conn_alloc(w, g, wide);
	if (idx < 0)
		return -1;
	uint32_t count = 0;
	if (old >= 0) {
		count = tpl_count(&w->conns.conns[old]);
		tpl_remove(w, (uint32_t)old);
	}
	struct xvs_conn *t = &w->conns.conns[idx];
	*t = (struct xvs_conn){
		.vport = tk->dport, .proto = tk->proto,
		.af = s->af, .flags = (uint8_t)(d->fwd | XVS_CONN_F_CONFIRMED), .dest = (uint16_t)slot,
		.expire = w->now + s->persist_timeout,
	};
	if (!wide) {
		t->a4.caddr = tk->src;
		t->a4.vaddr = tk->dst;
		t->a4.daddr = d->addr.v4;
	} else {
		struct xvs_conn_ext *e = xvs_conn_ext(t);
		t->flags |= XVS_CONN_F_WIDE;
		t->daddr = d->addr;
		e->caddr = tk->af == XVS_AF_INET6 ? tk->src6 : (union xvs_ip){ .d = { tk->src, 0 } };
		e->vaddr = tk->af == XVS_AF_INET6 ? tk->dst6 : (union xvs_ip){ .d = { tk->dst, 0 } };
	}
	tpl_count_set(t, count);
	if (xvs_conn_insert_key(&w->conns, th, (uint32_t)idx, XVS_CONN_DIR_ORIG) < 0) {
		xvs_conn_unalloc(&w->conns, (uint32_t)idx);
		return -1;
	}
	w->st->dest[slot].persist++;
	return idx;
}

/*
 * The destination for a new connection of persistent service svc from client caddr: the
 * live template's, or the scheduler's choice recorded in a new template (IPVS's
 * ip_vs_sched_persist). A template still leads to a quiescent server (weight 0), as IPVS
 * does without expire_quiescent_template; one whose server was deleted is rebound to the
 * scheduler's new choice, keeping its count. Returns the slot, or -1 with *why set.
 */
static int persist_pick(struct xvs_worker *w, const struct xvs_gen *g, int svc,
			const union xvs_ip *caddr, struct xvs_sched_key *sk, int64_t *tpl_idx,
			enum xvs_drop *why)
{
	const struct xvs_svc *s = &g->svcs[svc];
	struct xvs_conn_key tk;
	tpl_key(s, caddr, &tk);
	uint32_t th = xvs_conn_hash(&w->conns, &tk);
	uint32_t v = xvs_conn_find(&w->conns, &tk, th);
	int64_t stale = -1;
	if (v) {
		uint32_t idx = (v - 1) >> 1;
		struct xvs_conn *t = &w->conns.conns[idx];
		int quiescent = w->dp->cfg.expire_quiescent_template && t->dest < g->nb_dests &&
				g->dests[t->dest].weight == 0;
		if (!tpl_stale(g, t) && !quiescent && (!conn_expired(w, t) || tpl_count(t))) {
			*tpl_idx = idx;
			return t->dest;
		}
		stale = idx;
	}
	int slot = xvs_sched_all[s->sched]->pick(g, s, &w->sched[svc], sk);
	if (slot < 0) {
		*why = XVS_DROP_NO_DEST;
		return -1;
	}
	*tpl_idx = tpl_create(w, g, s, slot, &tk, th, stale);
	if (*tpl_idx < 0) {
		*why = XVS_DROP_CONN_FULL;
		return -1;
	}
	return slot;
}

/* A new connection for service svc: schedule, insert, forward. */
static void conn_new(struct xvs_worker *w, const struct xvs_gen *g, struct rte_mbuf *m,
		     const struct xvs_pkt *p, const struct xvs_conn_key *k, uint32_t h, int svc)
{
	const struct xvs_svc *s = &g->svcs[svc];
	/*
	 * As IPVS: a SYN (SYN+ACK too) without RST, or any but RST with sloppy_tcp. Beyond IPVS:
	 * with a consistent scheduler (sh, dh, mh) another segment without RST is scheduled too,
	 * for a server reached by DR or TUN, as a flow that ECMP moved here from another node
	 * (whose choice this node repeats) continues.
	 */
	int midflow = 0;
	if (p->proto == IPPROTO_TCP &&
	    ((p->tcp_flags & RTE_TCP_RST_FLAG) ||
	     (!(p->tcp_flags & RTE_TCP_SYN_FLAG) && !w->dp->cfg.sloppy_tcp))) {
		if ((p->tcp_flags & RTE_TCP_RST_FLAG) || !w->dp->cfg.consistent_midflow ||
		    !xvs_sched_all[s->sched]->consistent)
			return drop(w, m, XVS_DROP_NOT_SYN);
		midflow = 1;
	}
	/* as IPVS: an SCTP association starts with an INIT chunk (or anything, sloppy_sctp) */
	if (p->proto == IPPROTO_SCTP && p->tcp_flags != XVS_SCTP_CHUNK_INIT && !w->dp->cfg.sloppy_sctp)
		return drop(w, m, XVS_DROP_SCTP_NOT_INIT);
	struct xvs_sched_key sk = { .cport_be = p->sport, .now = w->now, .dest_ctr = w->st->dest,
				    .others = w->others, .overload = w->overload };
	if (k->af == XVS_AF_INET6) {
		sk.caddr = k->src6;
		sk.daddr = k->dst6;
	} else {
		sk.caddr.v4 = p->src;
		sk.daddr.v4 = p->dst;
	}
	int slot;
	int64_t tpl = -1;
	if (unlikely(s->flags & XVS_SVC_F_PERSISTENT)) {
		enum xvs_drop why = XVS_DROP_NO_DEST;
		slot = persist_pick(w, g, svc, &sk.caddr, &sk, &tpl, &why);
		if (slot < 0)
			return drop(w, m, why);
	} else {
		slot = xvs_sched_all[s->sched]->pick(g, s, &w->sched[svc], &sk);
		if (slot < 0)
			return drop(w, m, XVS_DROP_NO_DEST);
	}
	const struct xvs_dest *d = &g->dests[slot];
	/* NAT's replies come back through the node that holds the connection: no mid-stream */
	if (unlikely(midflow) && d->fwd != XVS_FWD_DROUTE && d->fwd != XVS_FWD_TUNNEL)
		return drop(w, m, XVS_DROP_NOT_SYN);
	if (unlikely((d->fwd != XVS_FWD_MASQ && d->fwd != XVS_FWD_DROUTE && d->fwd != XVS_FWD_TUNNEL) ||
		     (d->af != s->af && d->fwd != XVS_FWD_TUNNEL)))
		return drop(w, m, XVS_DROP_FWD_UNSUPPORTED);
	int wide = s->af == XVS_AF_INET6 || d->af == XVS_AF_INET6;
	/* one-packet scheduling (-o, UDP): the entry lives for this packet only, off the table */
	int one_packet = (s->flags & XVS_SVC_F_ONEPACKET) && p->proto == IPPROTO_UDP;
	struct xvs_conn one[2] __attribute__((aligned(64)));
	int64_t idx = -1;
	struct xvs_conn *c = one;
	if (likely(!one_packet)) {
		idx = conn_alloc(w, g, wide);
		if (idx < 0)
			return drop(w, m, XVS_DROP_CONN_FULL);
		c = &w->conns.conns[idx];
	}
	/* a real server on port 0 (port-0 services) keeps the packet's port */
	*c = (struct xvs_conn){
		.cport = p->sport, .vport = p->dport, .dport = d->port_be ? d->port_be : p->dport,
		.proto = p->proto, .af = s->af, .flags = d->fwd, .dest = (uint16_t)slot,
	};
	if (likely(!wide)) {
		c->a4.caddr = p->src;
		c->a4.vaddr = p->dst;
		c->a4.daddr = d->addr.v4;
	} else {
		struct xvs_conn_ext *e = xvs_conn_ext(c);
		c->flags |= XVS_CONN_F_WIDE;
		c->daddr = d->addr;
		if (s->af == XVS_AF_INET6) {
			e->caddr = k->src6;
			e->vaddr = k->dst6;
		} else {
			e->caddr = (union xvs_ip){ .d = { p->src, 0 } };
			e->vaddr = (union xvs_ip){ .d = { p->dst, 0 } };
		}
	}
	struct xvs_stats_ctr *dc = &w->st->dest[slot];
	if (unlikely(one_packet)) {
		/* counted as a connection that starts and ends with this packet, as IPVS does */
		dc->conns++;
		w->st->svc[svc].conns++;
		w->st->conns_new++;
		w->st->conns_expired++;
		return xvs_conn_forward(w, g, m, p, c, XVS_CONN_DIR_ORIG, 1);
	}
	if (xvs_conn_insert_key(&w->conns, h, (uint32_t)idx, XVS_CONN_DIR_ORIG) < 0) {
		xvs_conn_unalloc(&w->conns, (uint32_t)idx);
		return drop(w, m, XVS_DROP_CONN_FULL);
	}
	if (d->fwd == XVS_FWD_MASQ) {
		if (reply_key_insert(w, g, (uint32_t)idx) < 0) {
			xvs_conn_free(&w->conns, (uint32_t)idx);
			return drop(w, m, XVS_DROP_CONN_FULL);
		}
		c->flags |= XVS_CONN_F_REPLY;
	}
	if (tpl >= 0) {
		/* the template counts it and lives another persistence timeout from now */
		struct xvs_conn *t = &w->conns.conns[tpl];
		c->flags |= XVS_CONN_F_CONTROLLED;
		tpl_count_set(t, tpl_count(t) + 1);
		t->expire = w->now + s->persist_timeout;
	}
	xvs_conn_embryo_push(&w->conns, (uint32_t)idx);
	if (w->sync_cells) /* IPVS's in_pkts and old_state of a new connection */
		w->sync_cells[idx] = (struct xvs_sync_cell){ 0, XVS_TCP_NONE };
	dc->conns++;
	dc->inactive++;
	w->st->svc[svc].conns++;
	w->st->conns_new++;
	w->st->conns_cur++;
	w->st->conns_midflow += (uint64_t)midflow;
	xvs_conn_forward(w, g, m, p, c, XVS_CONN_DIR_ORIG, 1);
}

/* ---- connection synchronisation (dp_sync.h) ---- */

/* The entry of connection or template c, as IPVS's master sends it; 0, or -1 when none can be. */
static int sync_entry(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_conn *c,
		      struct xvs_sync_conn *s)
{
	if (c->dest >= g->nb_dests)
		return -1;
	const struct xvs_dest *d = &g->dests[c->dest];
	const struct xvs_svc *sv = &g->svcs[d->svc];
	/* IPVS syncs one family per entry: a service with a server of the other (a tunnel) has none */
	if (d->af != c->af)
		return -1;
	int tpl = is_tpl(c);
	uint32_t fwd = c->flags & XVS_CONN_F_FWD_MASK;
	*s = (struct xvs_sync_conn){
		.af = c->af, .proto = xvs_conn_proto_base(c->proto), .cport = c->cport,
		.vport = c->vport, .dport = c->dport, .fwmark = sv->fwmark,
		.caddr = xvs_conn_caddr(c), .vaddr = xvs_conn_vaddr(c), .daddr = xvs_conn_daddr(c),
	};
	if (tpl) {
		/* a template: IPVS's flags, no state, the server's port (0 with port-0 and FTP
		 * services, as the listing shows it), the persistence timeout */
		s->flags = XVS_SYNC_F_TEMPLATE | XVS_SYNC_F_INACTIVE | fwd;
		s->dport = c->vport ? d->port_be : 0;
		s->timeout = sv->persist_timeout;
	} else {
		s->flags = fwd | (c->flags & XVS_CONN_F_ACTIVE ? 0 : XVS_SYNC_F_INACTIVE);
		s->state = c->state;
		s->timeout = (int32_t)(c->expire - w->now) > 0 ? c->expire - w->now : 0;
	}
	return 0;
}

static void sync_queue(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_conn *c)
{
	struct xvs_sync_conn s;
	if (sync_entry(w, g, c, &s) < 0)
		return;
	if (xvs_sync_ring_put(w->sync_out, &s) < 0)
		w->st->sync.ring_full++;
	else
		w->st->sync.queued++;
}

/* IPVS's states in which a connection is synced (ip_vs_sync_conn_needed). */
#define SYNC_TCP_STATES                                                                        \
	(1u << XVS_TCP_ESTABLISHED | 1u << XVS_TCP_FIN_WAIT | 1u << XVS_TCP_CLOSE |            \
	 1u << XVS_TCP_CLOSE_WAIT | 1u << XVS_TCP_TIME_WAIT)
#define SYNC_SCTP_STATES                                                                       \
	(1u << XVS_SCTP_ESTABLISHED | 1u << XVS_SCTP_SHUTDOWN_SENT |                           \
	 1u << XVS_SCTP_SHUTDOWN_RECEIVED | 1u << XVS_SCTP_SHUTDOWN_ACK_SENT |                 \
	 1u << XVS_SCTP_CLOSED)

void xvs_sync_master_packet(struct xvs_worker *w, const struct xvs_gen *g, struct xvs_conn *c)
{
	if (!w->sync_cells || c < w->conns.conns || c >= w->conns.conns + w->conns.capacity)
		return; /* no rings, or a one-packet connection (IPVS does not sync those) */
	struct xvs_sync_cell *sc = &w->sync_cells[c - w->conns.conns];
	sc->pkts = (uint8_t)(sc->pkts + 1 >= XVS_SYNC_PERIOD ? 0 : sc->pkts + 1);
	uint32_t est = 0, states = 0;
	if (c->proto == IPPROTO_TCP) {
		est = XVS_TCP_ESTABLISHED;
		states = SYNC_TCP_STATES;
	} else if (c->proto == IPPROTO_SCTP) {
		est = XVS_SCTP_ESTABLISHED;
		states = SYNC_SCTP_STATES;
	}
	if (states) {
		if (c->state >= 32 || !(states & 1u << c->state))
			return;
		/* a change into a closing state is sent at once; ESTABLISHED waits for the
		 * threshold packet, as every refresh does */
		if (!(c->state != sc->old_state && c->state != est) &&
		    sc->pkts != XVS_SYNC_THRESHOLD)
			return;
	} else if (sc->pkts != XVS_SYNC_THRESHOLD) {
		return;
	}
	sc->old_state = c->state;
	sync_queue(w, g, c);
	if (c->flags & XVS_CONN_F_CONTROLLED) {
		const struct xvs_conn *t = tpl_of(w, g, c);
		if (t)
			sync_queue(w, g, t);
	}
}

/* The service an entry names: by its mark, else by protocol, address and port (IPVS's
 * ip_vs_service_find, a persistent port-0 service too; a template of port 0 may be an FTP
 * service's); -1 when this node has none. */
static int sync_svc(const struct xvs_gen *g, const struct xvs_sync_conn *s)
{
	if (s->fwmark) {
		for (uint32_t i = 0; i < g->nb_svcs; i++)
			if (g->svcs[i].state == XVS_SLOT_USED && g->svcs[i].fwmark == s->fwmark &&
			    g->svcs[i].af == s->af)
				return (int)i;
	}
	if (!s->proto)
		return -1;
	int svc = xvs_gen_vip_lookup(g, s->proto, &s->vaddr, s->vport);
	if (svc < 0 && s->vport)
		svc = xvs_gen_vip_lookup(g, s->proto, &s->vaddr, 0);
	/* a template of an FTP service has virtual port 0, as a port-0 service's */
	if (svc < 0 && !s->vport && (s->flags & XVS_SYNC_F_TEMPLATE))
		svc = xvs_gen_vip_lookup(g, s->proto, &s->vaddr, rte_cpu_to_be_16(21));
	if (svc >= 0 && (g->svcs[svc].af != s->af || g->svcs[svc].fwmark))
		return -1;
	if (svc >= 0 && !g->svcs[svc].port_be && s->vport &&
	    !(g->svcs[svc].flags & XVS_SVC_F_PERSISTENT))
		return -1;
	return svc;
}

/* The real server of service svc that an entry names (address, port; any port for a port-0
 * server or a template without one), or -1. */
static int sync_dest(const struct xvs_gen *g, int svc, const struct xvs_sync_conn *s)
{
	const struct xvs_svc *sv = &g->svcs[svc];
	for (unsigned k = 0; k < sv->nb_dests; k++) {
		uint16_t slot = g->svc_dests[sv->dest_first + k];
		const struct xvs_dest *d = &g->dests[slot];
		if (d->state != XVS_SLOT_USED || d->af != s->af || !xvs_ip_eq(&d->addr, &s->daddr))
			continue;
		if (d->port_be == s->dport || d->port_be == 0 ||
		    ((s->flags & XVS_SYNC_F_TEMPLATE) && s->dport == 0))
			return slot;
	}
	return -1;
}

static int sync_active(const struct xvs_sync_conn *s)
{
	return !(s->flags & XVS_SYNC_F_INACTIVE);
}

/* A connection or template made from an entry (cells from conn_alloc), keys inserted. */
static void sync_insert(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_sync_conn *s,
			int slot, const struct xvs_conn_key *k, uint32_t h, uint32_t timeout)
{
	const struct xvs_dest *d = &g->dests[slot];
	int tpl = !!(s->flags & XVS_SYNC_F_TEMPLATE), wide = s->af == XVS_AF_INET6;
	int64_t idx = conn_alloc(w, g, wide);
	if (idx < 0) {
		w->st->sync.no_room++;
		return;
	}
	struct xvs_conn *c = &w->conns.conns[idx];
	*c = (struct xvs_conn){
		.cport = tpl ? 0 : s->cport, .vport = s->vport,
		.dport = tpl ? 0 : (d->port_be ? d->port_be : s->dport), .proto = k->proto,
		.state = tpl ? 0 : (uint8_t)s->state, .af = s->af, .flags = d->fwd,
		.dest = (uint16_t)slot, .expire = w->now + timeout,
	};
	if (!wide) {
		c->a4.caddr = s->caddr.v4;
		c->a4.vaddr = s->vaddr.v4;
		c->a4.daddr = d->addr.v4;
	} else {
		c->flags |= XVS_CONN_F_WIDE;
		c->daddr = d->addr;
		xvs_conn_ext(c)->caddr = s->caddr;
		xvs_conn_ext(c)->vaddr = s->vaddr;
	}
	int est = s->proto == IPPROTO_TCP    ? s->state == XVS_TCP_ESTABLISHED
		  : s->proto == IPPROTO_SCTP ? s->state == XVS_SCTP_ESTABLISHED
					     : 1;
	if (tpl || est)
		c->flags |= XVS_CONN_F_CONFIRMED;
	if (xvs_conn_insert_key(&w->conns, h, (uint32_t)idx, XVS_CONN_DIR_ORIG) < 0) {
		xvs_conn_unalloc(&w->conns, (uint32_t)idx);
		w->st->sync.no_room++;
		return;
	}
	if (!tpl && d->fwd == XVS_FWD_MASQ) {
		if (reply_key_insert(w, g, (uint32_t)idx) < 0) {
			xvs_conn_free(&w->conns, (uint32_t)idx);
			w->st->sync.no_room++;
			return;
		}
		c->flags |= XVS_CONN_F_REPLY;
	}
	if (w->sync_cells) /* IPVS's backup: in_pkts = sync_threshold, old_state = state */
		w->sync_cells[idx] = (struct xvs_sync_cell){ XVS_SYNC_THRESHOLD, c->state };
	w->st->sync.applied++;
	if (tpl) {
		w->st->dest[slot].persist++;
		return;
	}
	if (!(c->flags & XVS_CONN_F_CONFIRMED))
		xvs_conn_embryo_push(&w->conns, (uint32_t)idx);
	if (sync_active(s)) {
		c->flags |= XVS_CONN_F_ACTIVE;
		w->st->dest[slot].active++;
	} else {
		w->st->dest[slot].inactive++;
	}
	w->st->conns_cur++;
}

void xvs_sync_apply(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_sync_conn *s)
{
	int svc = g ? sync_svc(g, s) : -1;
	int slot = svc >= 0 ? sync_dest(g, svc, s) : -1;
	if (slot < 0) {
		w->st->sync.no_dest++;
		return;
	}
	int tpl = !!(s->flags & XVS_SYNC_F_TEMPLATE);
	uint32_t timeout = s->timeout ? s->timeout : 180; /* IPVS: 3 minutes when none is given */
	if (timeout > XVS_MAX_TIMEOUT)
		timeout = XVS_MAX_TIMEOUT;
	struct xvs_conn_key k = {
		.sport = tpl ? 0 : s->cport, .dport = s->vport,
		.proto = tpl ? xvs_conn_tpl_proto(g->svcs[svc].proto) : s->proto,
	};
	if (s->af == XVS_AF_INET6) {
		k.af = XVS_AF_INET6;
		k.src6 = s->caddr;
		k.dst6 = s->vaddr;
	} else {
		k.src = s->caddr.v4;
		k.dst = s->vaddr.v4;
	}
	uint32_t h = xvs_conn_hash(&w->conns, &k);
	uint32_t v = xvs_conn_find(&w->conns, &k, h);
	if (v && ((v - 1) & 1) != XVS_CONN_DIR_ORIG)
		return; /* the key of another connection's replies: not ours to replace */
	if (v) {
		uint32_t idx = (v - 1) >> 1;
		struct xvs_conn *c = &w->conns.conns[idx];
		if (tpl) { /* IPVS keeps a template's server: only its life is refreshed */
			c->expire = w->now + timeout;
			w->st->sync.applied++;
			return;
		}
		if (c->dest == slot) {
			int active = sync_active(s);
			if (!!(c->flags & XVS_CONN_F_ACTIVE) != active) {
				struct xvs_stats_ctr *dc = &w->st->dest[c->dest];
				c->flags ^= XVS_CONN_F_ACTIVE;
				dc->active += active ? 1 : -1;
				dc->inactive += active ? -1 : 1;
			}
			c->state = (uint8_t)s->state;
			if ((s->proto == IPPROTO_TCP && s->state == XVS_TCP_ESTABLISHED) ||
			    (s->proto == IPPROTO_SCTP && s->state == XVS_SCTP_ESTABLISHED))
				c->flags |= XVS_CONN_F_CONFIRMED;
			c->expire = w->now + timeout;
			if (w->sync_cells)
				w->sync_cells[idx] = (struct xvs_sync_cell){ XVS_SYNC_THRESHOLD, c->state };
			w->st->sync.applied++;
			return;
		}
		/* another server: the master replaced the connection; an inactive entry is the
		 * end of the one it replaced, which changes nothing (IPVS) */
		if (!sync_active(s))
			return;
		conn_release(w, g, idx);
	}
	sync_insert(w, g, s, slot, &k, h, timeout);
}

void xvs_sync_worker_tick(struct xvs_worker *w, const struct xvs_gen *g, unsigned budget)
{
	struct xvs_sync_conn s;
	while (budget-- && xvs_sync_ring_get(w->sync_in, &s))
		xvs_sync_apply(w, g, &s);
}

/* ---- the burst ------------------------------------------------------------------------ */

struct pkt_state {
	struct xvs_pkt p;
	struct xvs_conn_key k;
	uint32_t h;
	uint8_t lookup; /* TCP/UDP: has a key */
};

/* Our MAC, broadcast ARP, or IPv6 multicast (33:33:..., for neighbour discovery). */
static inline int l2_ours(const struct xvs_port *pt, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	return rte_is_same_ether_addr(&eth->dst_addr, &pt->mac) ||
	       (rte_is_broadcast_ether_addr(&eth->dst_addr) &&
		eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) ||
	       (eth->dst_addr.addr_bytes[0] == 0x33 && eth->dst_addr.addr_bytes[1] == 0x33 &&
		eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6));
}

/*
 * A frame for another L2 destination. With an exception interface, the broadcast and
 * multicast frames the dataplane does not take (IPv4 multicast such as VRRP's and OSPF's,
 * LLDP, DHCP) are the kernel's, unless malformed (then they end as the parser said); another
 * host's unicast never is (dp_exc.h), and is dropped without asking.
 */
static inline void l2_reject(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			     struct rte_mbuf *m, const struct xvs_pkt *p)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (likely(!w->dp->ports[in_port].exc || !rte_is_multicast_ether_addr(&eth->dst_addr)))
		return drop(w, m, XVS_DROP_L2_NOT_OURS);
	xvs_exc_offer(w, g, in_port, m,
		      p->kind == XVS_PKT_DROP ? (enum xvs_drop)p->drop : XVS_DROP_L2_NOT_OURS);
}

/* IPv4 or IPv6 through the connection table, the services, or the exception path. */
/*
 * A source no honest packet carries: an address of ours (a port's, a VIP's: the "land"
 * attack) or the broadcast address of a connected IPv4 subnet. Asked only where a packet
 * would create state or an answer (no connection matched), never on a connection's packets.
 */
static int martian_src(struct xvs_worker *w, const struct xvs_gen *g, const struct rte_mbuf *m,
		       const struct xvs_pkt *p)
{
	const struct xvs_dp *dp = w->dp;
	union xvs_ip src = { .d = { p->src, 0 } };
	uint8_t af = p->kind == XVS_PKT_IP6 ? XVS_AF_INET6 : XVS_AF_INET;
	if (af == XVS_AF_INET6)
		memcpy(src.v6, rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off) + XVS_IP6_SRC_OFF, 16);
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		const struct xvs_port *pt = &dp->ports[i];
		for (unsigned a = 0; af == XVS_AF_INET && a < pt->nb_addrs; a++) {
			/* /31 and /32 have no broadcast address (RFC 3021) */
			uint32_t host = pt->plen[a] >= 31 ? 0 : rte_cpu_to_be_32(~0u >> pt->plen[a]);
			if (src.v4 == pt->addr[a] || (host && src.v4 == (pt->addr[a] | host)))
				return 1;
		}
		for (unsigned a = 0; af == XVS_AF_INET6 && a < pt->nb_addrs6; a++)
			if (xvs_ip_eq(&src, &pt->addr6[a]))
				return 1;
	}
	if (!w->vips || !g)
		return 0;
	if (w->vips->gen != g->gen)
		xvs_vip_set_build(w->vips, g);
	return xvs_vip_set_has(w->vips, af, &src);
}

static inline void handle_ip(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			     struct rte_mbuf *m, struct pkt_state *ps)
{
	const struct xvs_pkt *p = &ps->p;
	if (!ps->lookup || !g) {
		if (unlikely(martian_src(w, g, m, p)))
			return drop(w, m, XVS_DROP_MARTIAN_SRC);
		return xvs_exception_ip(w, g, in_port, m, p);
	}
	uint32_t v = xvs_conn_find(&w->conns, &ps->k, ps->h);
	if (v) {
		v--;
		struct xvs_conn *c = &w->conns.conns[v >> 1];
		unsigned dir = v & 1;
		int syn = p->proto == IPPROTO_TCP && dir == XVS_CONN_DIR_ORIG &&
			  (p->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG;
		int closed = c->state == XVS_TCP_TIME_WAIT || c->state == XVS_TCP_CLOSE;
		/* conn_reuse_mode: a new SYN on a closing connection is scheduled afresh */
		int reuse = syn && closed;
		/* a server's SYN-ACK on a closed connection's reply key: the client reused its port
		 * towards another service of this server, and that connection is another worker's
		 * (one worker's own replaces the old entry in reply_key_insert): this one ends,
		 * and the reply goes on to the other owners (xvs_steer) */
		reuse |= closed && dir == XVS_CONN_DIR_REPLY && w->dp->steer.nb_workers > 1 &&
			 p->proto == IPPROTO_TCP &&
			 (p->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) ==
				 (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		if (unlikely(w->dp->cfg.expire_nodest_conn)) {
			/* IPVS's expire_nodest_conn: a deleted server's connection ends at its next
			 * packet, which is dropped; a new SYN to a quiescent one is rescheduled */
			if (dest_gone(g, c)) {
				conn_release(w, g, v >> 1);
				return drop(w, m, XVS_DROP_DEST_GONE);
			}
			reuse |= syn && g->dests[c->dest].weight == 0;
		}
		if (!conn_expired(w, c) && !reuse)
			return xvs_conn_forward(w, g, m, p, c, dir, 0);
		conn_release(w, g, v >> 1);
	}
	if (unlikely(martian_src(w, g, m, p)))
		return drop(w, m, XVS_DROP_MARTIAN_SRC);
	int svc;
	uint8_t af = ps->k.af == XVS_AF_INET6 ? XVS_AF_INET6 : XVS_AF_INET;
	union xvs_ip dst4 = { .d = { p->dst, 0 } }; /* 64-bit stores: see xmit4 */
	const union xvs_ip *dst = af == XVS_AF_INET6 ? &ps->k.dst6 : &dst4;
	svc = xvs_svc_lookup(g, p->proto, dst, p->dport);
	if (svc >= 0 && g->svcs[svc].af != af)
		svc = -1;
	if (svc < 0) /* mark rules only see what no service took; a rule's service has its family */
		svc = xvs_fwmark_lookup(g, af, p->proto, dst, p->dport);
	/* to a service, the client is the source; anything else may be a reply to a client */
	if (xvs_steer(w, g, &ps->k, svc, in_port, m))
		return;
	if (svc >= 0)
		return conn_new(w, g, m, p, &ps->k, ps->h, svc);
	xvs_exception_ip(w, g, in_port, m, p);
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
		if (likely(!w->handed)) {
			w->st->rx_pkts++;
			w->st->rx_bytes += m->pkt_len;
		}
		xvs_parse(&s->p, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
		/* a NIC with receive checksum offload may know better than the parser */
		if (unlikely(m->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK))) {
			enum xvs_drop why = xvs_rx_csum_verdict(m->ol_flags);
			if (why != XVS_DROP_MAX && s->p.kind != XVS_PKT_DROP)
				xvs_parse_drop(&s->p, why);
		}
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
		s->h = xvs_conn_hash(&w->conns, &s->k);
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
			l2_reject(w, g, in_port, m, &ps[i].p);
			continue;
		}
		switch (ps[i].p.kind) {
		case XVS_PKT_IP4:
		case XVS_PKT_IP6:
			handle_ip(w, g, in_port, m, &ps[i]);
			break;
		case XVS_PKT_ARP:
			xvs_handle_arp(w, g, in_port, m);
			break;
		default:
			xvs_unconsumed(w, g, in_port, m, (enum xvs_drop)ps[i].p.drop);
			break;
		}
	}
	if (unlikely(w->nb_held))
		xvs_release_held(w);
	if (w->ho_mask)
		handoff_flush(w);
	if (w->exc.n)
		xvs_exc_flush(w);
}

/* ---- periodic work -------------------------------------------------------------------- */

static void sweep(struct xvs_worker *w, const struct xvs_gen *g)
{
	struct xvs_conn_table *t = &w->conns;
	for (uint32_t i = 0, n = xvs_conn_sweep_step(t); i < n; i++) {
		uint32_t idx = t->sweep_pos++ & (t->capacity - 1);
		struct xvs_conn *c = xvs_conn_live(t, idx);
		if (!c || !conn_expired(w, c))
			continue;
		if (!is_tpl(c))
			conn_release(w, g, idx);
		else if (tpl_count(c) && !tpl_stale(g, c))
			c->expire = w->now + TPL_REARM_S; /* still controls connections */
		else
			tpl_remove(w, idx);
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
		const struct xvs_conn *c = xvs_conn_live(t, (uint32_t)pos);
		if (!c || conn_expired(w, c))
			continue;
		uint16_t svc = g && c->dest < g->nb_dests ? g->dests[c->dest].svc : XVS_MAX_SVCS;
		/* a template shows as IPVS shows it: state NONE, client port 0 */
		int tpl = is_tpl(c);
		uint16_t dport = c->dport;
		if (tpl) /* 0 with the virtual port (port-0 and FTP services), else the server's */
			dport = c->vport && g && c->dest < g->nb_dests ? g->dests[c->dest].port_be : 0;
		mb->e[nb++] = (struct xvs_conn_dump_entry){
			.af = c->af, .proto = xvs_conn_proto_base(c->proto),
			.state = tpl ? XVS_TCP_NONE : c->state, .fwd = c->flags & XVS_CONN_F_FWD_MASK,
			.dest = c->dest, .svc = svc, .expire = c->expire - w->now, .cport = c->cport,
			.vport = c->vport, .dport = dport, .caddr = xvs_conn_caddr(c),
			.vaddr = xvs_conn_vaddr(c), .daddr = xvs_conn_daddr(c),
		};
	}
	mb->nb = nb;
	mb->capacity = t->capacity;
	mb->next_cursor = pos >= t->capacity ? UINT64_MAX : pos;
	atomic_store_explicit(&mb->resp_seq, req, memory_order_release);
}

/* Resolve the real servers' next hops ahead of their first packet, four times a second. */
static void probe_tick(struct xvs_worker *w, const struct xvs_gen *g)
{
	if (w->probes)
		xvs_neigh_tick(w);
	if (w->probes && g && w->now_tsc >= w->next_probe_tsc) {
		w->next_probe_tsc = w->now_tsc + w->dp->tsc_hz / 4;
		xvs_probe_dests(w, g);
	}
}

void xvs_worker_tick(struct xvs_worker *w, const struct xvs_gen *g)
{
	w->now = (uint32_t)((w->now_tsc - w->start_tsc) / w->dp->tsc_hz);
	if (w->idx == XVS_WORKER_MAIN) {
		/* the main lcore forwards nothing: it probes next hops and flushes what it sent */
		probe_tick(w, g);
		xvs_worker_flush(w);
		return;
	}
	struct xvs_shm_lcore *l = xvs_shm_lcore(&w->dp->shm, w->idx);
	atomic_store_explicit(&l->ticks, atomic_load_explicit(&l->ticks, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	sweep(w, g);
	serve_dump(w, g);
	if (w->sync_in)
		xvs_sync_worker_tick(w, g, 256);
	if (w->nb_held)
		xvs_release_held(w);
	probe_tick(w, g);
	if (w->idx == 0 && xvs_rt.housekeeping)
		xvs_rt.housekeeping();
}

/*
 * net_tap learns that the kernel queued a frame from a real-time signal sent to the process;
 * any thread that does not block it may take it. Worker lcores block them at start (one
 * system call, before the loop) so the main lcore's thread, which reads the taps, takes them.
 */
static void block_tap_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(&set, s);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int xvs_worker_loop(void *arg)
{
	struct xvs_worker *w = arg;
	struct rte_mbuf *pkts[XVS_BURST];
	uint64_t tick = w->dp->tsc_hz / 1000;
	w->lcore = rte_lcore_id();
	if (w->exc_ring && w->lcore != rte_get_main_lcore())
		block_tap_signals();
	atomic_store(&xvs_shm_lcore(&w->dp->shm, w->idx)->lcore_id, w->lcore);
	atomic_store(&xvs_shm_lcore(&w->dp->shm, w->idx)->conn_capacity, w->conns.capacity);

	while (!xvs_quit) {
		struct xvs_gen *g = xvs_dp_gen_get(&w->dp->gens, w->idx);
		unsigned got = 0;
		w->now_tsc = rte_rdtsc();
		if (w->now_tsc >= w->next_tick_tsc) {
			w->next_tick_tsc = w->now_tsc + tick;
			xvs_worker_tick(w, g);
		}
		for (uint16_t p = 0; p < w->dp->nb_ports; p++) {
			uint16_t n = rte_eth_rx_burst(w->dp->ports[p].port_id, (uint16_t)w->idx, pkts, XVS_BURST);
			if (!n)
				continue;
			got += n;
			atomic_store_explicit(&xvs_rt.last_rx_tsc, w->now_tsc, memory_order_relaxed);
			xvs_worker_process(w, g, p, pkts, n);
		}
		if (w->dp->nb_workers > 1)
			got += xvs_worker_drain(w, g);
		if (unlikely(w->exc_tx != NULL))
			got += xvs_exc_worker_tx(w);
		xvs_worker_flush(w);
		/* the optional back-off for machines with fewer CPUs than lcores (off by default) */
		if (unlikely(!got && w->dp->cfg.idle_sleep_us))
			rte_delay_us_sleep(w->dp->cfg.idle_sleep_us);
	}
	for (unsigned i = 0; i < w->nb_held; i++)
		rte_pktmbuf_free(w->held[i].m);
	w->nb_held = 0;
	xvs_worker_flush(w);
	handoff_flush(w);
	if (w->exc.n)
		xvs_exc_flush(w);
	return 0;
}
