/*
 * xvs-bench's one-core part, its traffic: the loops that feed the worker bursts of prebuilt
 * mbufs, restored from the templates, and run one turn of the worker loop (dp_worker.c
 * xvs_worker_loop) for each, the same turn with the hand-off between two workers, new
 * connections and the SYN-flood mix. The helpers of the timed loops are static inline here,
 * so that nothing inside a timed loop calls into another file but the worker itself.
 * Main lcore only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "bench_core.h"

static inline const struct tmpl *flow_tmpl(enum dir dir, uint32_t e)
{
	return dir == DIR_CS ? &B.ack[B.cur] : &B.reply[ORDER_DEST(e)];
}

/* n frames for the next burst, from those handed back (or the pool after drops). */
static inline int take_mbufs(struct rte_mbuf **rx, unsigned n)
{
	while (unlikely(B.nb_spare < n)) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(B.pool);
		if (!m)
			return -ENOMEM;
		B.spare[B.nb_spare++] = m;
	}
	B.nb_spare -= n;
	memcpy(rx, &B.spare[B.nb_spare], n * sizeof(*rx));
	return 0;
}

static inline void give_back(struct rte_mbuf **pkts, unsigned n)
{
	memcpy(&B.spare[B.nb_spare], pkts, n * sizeof(*pkts));
	B.nb_spare += n;
}

/* One turn of the worker loop (dp_worker.c xvs_worker_loop) for a received burst. */
static inline void worker_turn(uint16_t in_port, struct rte_mbuf **rx, uint16_t n, uint64_t now)
{
	struct xvs_worker *w = B.w;
	const struct xvs_gen *g = xvs_dp_gen_get(&B.dp.gens, 0);
	w->now_tsc = now;
	if (now >= w->next_tick_tsc) {
		w->next_tick_tsc = now + B.tick_tsc;
		xvs_worker_tick(w, g);
	}
	xvs_worker_process(w, g, in_port, rx, n);
	xvs_worker_flush(w);
}

/*
 * The same turn with two workers on this core: w2, whose table is empty, receives the burst
 * and hands every frame over (whichever worker the client's hash names, its rings all lead
 * to B.w); B.w takes them from its ring and forwards them. Both workers' costs are counted.
 */
static inline void handoff_turn(uint16_t in_port, struct rte_mbuf **rx, uint16_t n, uint64_t now)
{
	const struct xvs_gen *g = xvs_dp_gen_get(&B.dp.gens, 0);
	B.w2->now_tsc = now;
	B.w->now_tsc = now;
	xvs_worker_process(B.w2, g, in_port, rx, n);
	xvs_worker_drain(B.w, g);
	xvs_worker_flush(B.w);
}

/* Run one frame of flow f through the worker; return it as transmitted, or NULL. */
struct rte_mbuf *bench_core_process_one(const struct tmpl *t, uint16_t in_port, uint64_t f,
					uint16_t *out)
{
	struct rte_mbuf *m;
	uint64_t tx0 = B.tx[0], tx1 = B.tx[1];
	if (take_mbufs(&m, 1) < 0)
		return NULL;
	restore(m, t, f);
	worker_turn(in_port, &m, 1, rte_rdtsc());
	if (B.tx[0] + B.tx[1] != tx0 + tx1 + 1)
		return NULL;
	*out = B.tx[1] != tx1;
	return B.spare[B.nb_spare - 1];
}

/* SYNs for fresh flows [first, first + count) through the worker. */
void bench_core_send_syns(uint64_t first, uint64_t count)
{
	struct rte_mbuf *rx[XVS_BURST];
	uint64_t now = rte_rdtsc();
	for (uint64_t f = first; f < first + count && !xvs_quit;) {
		unsigned n = (unsigned)RTE_MIN((uint64_t)B.o.burst, first + count - f);
		if (take_mbufs(rx, n) < 0)
			break;
		for (unsigned i = 0; i < n; i++)
			restore(rx[i], &B.syn[B.cur], f++);
		worker_turn(0, rx, (uint16_t)n, now);
		now = rte_rdtsc();
	}
}

int bench_core_establish(uint32_t nb)
{
	struct rte_mbuf *rx[XVS_BURST];
	for (uint32_t f = 0; f < nb && !xvs_quit;) {
		unsigned n = (unsigned)RTE_MIN(B.o.burst, nb - f);
		if (take_mbufs(rx, n) < 0)
			return -ENOMEM;
		for (unsigned i = 0; i < n; i++)
			restore(rx[i], &B.ack[B.cur], f++);
		worker_turn(0, rx, (uint16_t)n, rte_rdtsc());
	}
	return 0;
}

/* Find every flow's connection: its entry (for churn) and destination (for replies). */
int bench_core_map_flows(uint32_t nb)
{
	for (uint32_t f = 0; f < nb; f++) {
		if (xvs_quit)
			return -EINTR;
		struct xvs_conn_key k = { .src = flow_ip(f), .dst = svc_vip(B.cur),
					  .sport = flow_port(f), .dport = rte_cpu_to_be_16(VPORT),
					  .proto = IPPROTO_TCP };
		if (svc_is6(B.cur)) {
			k.af = XVS_AF_INET6;
			k.src6 = flow_ip6(f);
			k.dst6 = svc_vip6(B.cur);
		}
		uint32_t v = xvs_conn_find(&B.w->conns, &k, xvs_conn_hash(&B.w->conns, &k));
		if (!v || ((v - 1) & 1) != XVS_CONN_DIR_ORIG) {
			fprintf(stderr, "xvs-bench: flow %u has no connection\n", f);
			return -ENOENT;
		}
		B.conn_of[f] = (v - 1) >> 1;
		B.dest_of[f] = (uint8_t)B.w->conns.conns[B.conn_of[f]].dest;
	}
	return 0;
}

/* Random order of the flows (xorshift Fisher-Yates, fixed seed: runs compare). */
void bench_core_shuffle(uint32_t nb)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (uint32_t i = 0; i < nb; i++)
		B.order[i] = i | (uint32_t)B.dest_of[i] << 24;
	for (uint32_t i = nb - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t j = (uint32_t)(x % (i + 1));
		uint32_t t = B.order[i];
		B.order[i] = B.order[j];
		B.order[j] = t;
	}
}

/* Frames of the established flows, in B.order, for o.seconds. Returns the frame count. */
uint64_t bench_core_run_flows(enum mode mode, enum dir dir, uint32_t nb)
{
	struct rte_mbuf *rx[XVS_BURST];
	uint16_t in_port = dir == DIR_CS ? 0 : 1, out_port = dir == DIR_CS ? 1 : 0;
	unsigned n = B.o.burst;
	uint64_t limit = (uint64_t)(B.o.seconds * (double)B.dp.tsc_hz);
	uint64_t pkts = 0, t0 = rte_rdtsc(), now = t0;
	uint32_t pos = 0;
	while (now - t0 < limit && !xvs_quit) {
		if (take_mbufs(rx, n) < 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			uint32_t e = B.order[pos];
			pos = pos + 1 == nb ? 0 : pos + 1;
			restore(rx[i], flow_tmpl(dir, e), ORDER_FLOW(e));
		}
		if (mode == MODE_WORKER)
			worker_turn(in_port, rx, (uint16_t)n, now);
		else if (mode == MODE_HANDOFF)
			handoff_turn(in_port, rx, (uint16_t)n, now);
		else if (mode == MODE_PASS)
			B.w->tx(B.w, out_port, rx, (uint16_t)n);
		else
			give_back(rx, n);
		pkts += n;
		now = rte_rdtsc();
	}
	return pkts;
}

/* Replace the burst's oldest live connections by the ones it just created (embryonic ring). */
static void churn_expire(uint32_t embryo_before)
{
	struct xvs_conn_table *t = &B.w->conns;
	uint32_t fresh[XVS_BURST], n = 0;
	for (uint32_t i = embryo_before; i != t->embryo_head && n < XVS_BURST; i++)
		fresh[n++] = t->embryo[i & t->embryo_mask];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t old = B.ring[B.ring_head];
		if (old != EMPTY_SLOT)
			xvs_conn_free(t, old);
		B.ring[B.ring_head] = fresh[i];
		B.ring_head = B.ring_head + 1 == B.ring_size ? 0 : B.ring_head + 1;
	}
}

/*
 * New connections with a constant number of live ones: every SYN creates one, and for each,
 * the oldest is freed as the expiry sweep would (xvs_conn_free). Returns the SYN count.
 */
uint64_t bench_core_run_churn(void)
{
	struct rte_mbuf *rx[XVS_BURST];
	unsigned n = B.o.burst;
	uint64_t limit = (uint64_t)(B.o.seconds * (double)B.dp.tsc_hz);
	uint64_t conns = 0, t0 = rte_rdtsc(), now = t0;
	while (now - t0 < limit && !xvs_quit) {
		if (take_mbufs(rx, n) < 0)
			break;
		for (unsigned i = 0; i < n; i++)
			restore(rx[i], &B.syn[SVC_NAT], B.next_id++);
		uint32_t embryo_before = B.w->conns.embryo_head;
		worker_turn(0, rx, (uint16_t)n, now);
		churn_expire(embryo_before);
		conns += n;
		now = rte_rdtsc();
	}
	return conns;
}

/*
 * Established c->s frames of the nb flows with a spoofed SYN (a new client each) after every
 * one: the table fills with embryonic connections and then evicts them, oldest first.
 * Returns the established frames; *syns gets the SYNs.
 */
uint64_t bench_core_run_synflood(uint32_t nb, uint64_t *syns)
{
	struct rte_mbuf *rx[XVS_BURST];
	unsigned n = B.o.burst & ~1u ? B.o.burst & ~1u : 2;
	uint64_t limit = (uint64_t)(B.o.seconds * (double)B.dp.tsc_hz);
	uint64_t est = 0, t0 = rte_rdtsc(), now = t0;
	uint32_t pos = 0;
	while (now - t0 < limit && !xvs_quit) {
		if (take_mbufs(rx, n) < 0)
			break;
		for (unsigned i = 0; i < n; i += 2) {
			uint32_t e = B.order[pos];
			pos = pos + 1 == nb ? 0 : pos + 1;
			restore(rx[i], flow_tmpl(DIR_CS, e), ORDER_FLOW(e));
			restore(rx[i + 1], &B.syn[SVC_NAT], B.next_id++);
		}
		worker_turn(0, rx, (uint16_t)n, now);
		est += n / 2;
		*syns += n / 2;
		now = rte_rdtsc();
	}
	return est;
}

