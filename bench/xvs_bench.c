/*
 * xvs-bench: throughput of the packet path without a NIC. This file holds the one-core
 * figures and main(). They run the real worker pipeline (xvs_worker_process +
 * xvs_worker_flush, generation hand-over, ticks) over prebuilt mbufs: two in-memory ports,
 * routes and static neighbours for the client and real-server networks (bench_dp.c), a
 * generation adopted through the shared-region protocol, and a transmit hook that takes the
 * mbufs back for the next burst instead of sending them. One service per forwarding method
 * (NAT, DR, IPIP and GUE tunnels) and family (IPv4, IPv6), each measured on a table of its
 * own flows. Several workers on CPUs of their own, and workers behind net_ring ports, are in
 * bench_scale.c. docs/performance.md says how to read the figures.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench_dp.h"
#include "bench_eal.h"
#include "bench_frames.h"
#include "bench_report.h"
#include "bench_scale.h"
#include "dp_worker.h"

#define SPARE_MAX (4 * XVS_BURST)
#define EMPTY_SLOT UINT32_MAX
#define NEW_ID_BASE (1ULL << 30) /* fresh 5-tuples for new connections start here */

/* MODE_HANDOFF: a second worker receives, misses and hands every frame to the owner (B.w). */
enum mode { MODE_RESTORE, MODE_PASS, MODE_WORKER, MODE_HANDOFF };
static struct {
	struct bench_opts o;
	struct bench_cpus cpus;
	struct xvs_dp dp;
	struct xvs_worker *w;
	struct xvs_worker *w2;             /* MODE_HANDOFF's receiving worker (empty table) */
	struct rte_ring *ho;               /* w2 -> w */
	void *conn_mem;
	size_t conn_size;
	struct rte_mempool *pool;
	struct rte_mbuf *spare[SPARE_MAX]; /* mbufs handed back by bench_tx */
	unsigned nb_spare;
	uint64_t tx[2];                    /* frames handed to bench_tx per port */
	struct tmpl syn[NB_SVCS], ack[NB_SVCS], reply[NB_SVCS * NB_DESTS]; /* reply: by slot */
	enum svc_kind cur;                 /* the service whose flows fill the table now */
	uint8_t *dest_of;                  /* per established flow: destination slot */
	uint32_t *conn_of;                 /* per established flow: connection entry */
	uint32_t *order;                   /* established flows in a random order, ORDER_* */
	uint32_t *ring;                    /* churn: live connections, oldest at ring_head */
	uint32_t ring_size, ring_head;
	uint64_t next_id;                  /* next fresh 5-tuple */
	uint64_t tick_tsc;
	double pass_ns[2];                 /* pass-through ns/packet per direction, for "vs pass" */
	char prefix[64];
} B;

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
	xvs_quit = 1;
}

/* ---- the dataplane around the worker ------------------------------------------------- */

/* The transmit hook: keep the frames for the next burst instead of sending them. */
static uint16_t bench_tx(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)w;
	if (n > SPARE_MAX - B.nb_spare)
		n = (uint16_t)(SPARE_MAX - B.nb_spare); /* the worker frees and counts the rest */
	memcpy(&B.spare[B.nb_spare], pkts, n * sizeof(*pkts));
	B.nb_spare += n;
	B.tx[port & 1] += n;
	return n;
}

/* Fresh worker on an empty table (untimed: the memset touches the whole table). */
static int worker_reset(void)
{
	memset(B.conn_mem, 0, B.conn_size);
	int rc = xvs_worker_init(B.w, &B.dp, 0, B.conn_mem);
	B.w->tx = bench_tx;
	return rc;
}

static int setup_dataplane(void)
{
	B.dp.cfg.conn_max = B.o.conn_max;
	B.dp.nb_workers = 1;
	B.dp.tsc_hz = rte_get_tsc_hz();
	B.tick_tsc = B.dp.tsc_hz / 1000; /* the worker loop's tick */
	int rc = bench_dp_setup(&B.dp, B.prefix);
	if (rc < 0)
		return rc;
	B.pool = rte_pktmbuf_pool_create("bench_pool", 1023, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	xvs_rt.pool = B.pool;
	B.conn_size = xvs_conn_table_memsize(B.o.conn_max);
	B.conn_mem = rte_malloc("bench_conns", B.conn_size, 64);
	B.w = rte_zmalloc("bench_worker", sizeof(*B.w), 64);
	uint32_t n = B.o.flows;
	B.dest_of = malloc(n);
	B.conn_of = malloc(n * sizeof(uint32_t));
	B.order = malloc(n * sizeof(uint32_t));
	B.ring = malloc((n + XVS_BURST) * sizeof(uint32_t));
	if (!B.pool || !B.conn_mem || !B.w || !B.dest_of || !B.conn_of || !B.order || !B.ring)
		return -ENOMEM;
	return worker_reset();
}

/* ---- frames ----------------------------------------------------------------------------- */

static void build_templates(void)
{
	for (unsigned k = 0; k < NB_SVCS; k++) {
		void (*build)(struct tmpl *, enum dir, enum svc_kind, unsigned, uint8_t) =
			svc_is6((enum svc_kind)k) ? bench_tmpl_build6 : bench_tmpl_build;
		build(&B.syn[k], DIR_CS, (enum svc_kind)k, 0, RTE_TCP_SYN_FLAG);
		build(&B.ack[k], DIR_CS, (enum svc_kind)k, 0, RTE_TCP_ACK_FLAG);
	}
	/* replies: NAT only, by destination slot */
	for (unsigned i = 0; i < NB_DESTS; i++) {
		bench_tmpl_build(&B.reply[SVC_NAT * NB_DESTS + i], DIR_SC, SVC_NAT, i, RTE_TCP_ACK_FLAG);
		bench_tmpl_build6(&B.reply[SVC_NAT6 * NB_DESTS + i], DIR_SC, SVC_NAT6, i, RTE_TCP_ACK_FLAG);
	}
}

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

/* Switch the hand-off between w2 and B.w on (for MODE_HANDOFF figures) or off. */
static void handoff_mode(int on)
{
	B.dp.nb_workers = on ? 2 : 1;
	B.dp.steer.nb_workers = on ? 2 : 1;
	B.w->hi_ring[1] = on ? B.ho : NULL;
}

static int setup_handoff(void)
{
	size_t sz = xvs_conn_table_memsize(16);
	void *mem = rte_zmalloc("bench_conns2", sz, 64);
	B.w2 = rte_zmalloc("bench_worker2", sizeof(*B.w2), 64);
	B.ho = rte_ring_create("bench_ho", XVS_HANDOFF_RING, (int)rte_socket_id(),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	uint32_t conn_max = B.dp.cfg.conn_max;
	B.dp.cfg.conn_max = 16; /* w2 never holds a connection */
	int rc = !mem || !B.w2 || !B.ho ? -ENOMEM : xvs_worker_init(B.w2, &B.dp, 1, mem);
	B.dp.cfg.conn_max = conn_max;
	if (rc < 0)
		return rc;
	B.w2->tx = bench_tx;
	B.w2->probes = 0;
	B.w2->idx = 2; /* neither owner 0 nor 1: every miss is handed over */
	B.w2->ho_ring[0] = B.w2->ho_ring[1] = B.ho;
	B.dp.steer.key[0] = 0x9e3779b97f4a7c15ULL;
	B.dp.steer.key[1] = 0x632be59bd9b4e019ULL;
	return 0;
}

/* ---- checks --------------------------------------------------------------------------- */

static uint64_t drops_total(void)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < XVS_DROP_MAX; i++)
		s += B.w->st->drops[i] + (B.w2 ? B.w2->st->drops[i] : 0);
	return s;
}

static int report_drops(const char *what)
{
	fprintf(stderr, "xvs-bench: %s: frames were dropped:", what);
	for (unsigned i = 0; i < XVS_DROP_MAX; i++) {
		uint64_t d = B.w->st->drops[i] + (B.w2 ? B.w2->st->drops[i] : 0);
		if (d)
			fprintf(stderr, " %s=%llu", xvs_drop_names[i], (unsigned long long)d);
	}
	fprintf(stderr, "\n");
	return -EIO;
}

/* Run one frame of flow f through the worker; return it as transmitted, or NULL. */
static struct rte_mbuf *process_one(const struct tmpl *t, uint16_t in_port, uint64_t f, uint16_t *out)
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

/* Flow 0's frame of a DR or tunnel service (either family) as sent, checked. */
static int direct_frame_ok(const struct rte_mbuf *m, unsigned d)
{
	struct rte_ether_addr dmac = rs_mac(d);
	union xvs_ip c6 = flow_ip6(0), v6 = svc_vip6(SVC_DR6);
	switch (B.cur) {
	case SVC_DR:
		return bench_frame_ok(m, &dmac, 1, flow_ip(0), flow_port(0), svc_vip(SVC_DR),
				      rte_cpu_to_be_16(VPORT));
	case SVC_DR6:
		return bench_frame6_ok(m, &dmac, 1, &c6, flow_port(0), &v6, rte_cpu_to_be_16(VPORT));
	case SVC_IPIP6:
	case SVC_GUE6:
		return bench_tun6_frame_ok(m, d, B.cur);
	default:
		return bench_tun_frame_ok(m, d, B.cur);
	}
}

/* Flow 0 of a DR or tunnel service, client to server. */
static int verify_direct(void)
{
	uint16_t out;
	unsigned d = B.dest_of[0] % NB_DESTS;
	struct rte_mbuf *m = process_one(&B.ack[B.cur], 0, 0, &out);
	if (!m || out != 1 || !direct_frame_ok(m, d)) {
		fprintf(stderr, "xvs-bench: %s frame not as expected\n",
			B.cur == SVC_DR || B.cur == SVC_DR6 ? "DR" : "tunnelled");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* verify_rewrite for IPv6 NAT. */
static int verify_rewrite6(void)
{
	uint16_t out;
	unsigned slot = B.dest_of[0], d = slot % NB_DESTS;
	struct rte_ether_addr dmac = rs_mac(d);
	union xvs_ip c6 = flow_ip6(0), rs = rs_addr6(d), vip = svc_vip6(SVC_NAT6);
	struct rte_mbuf *m = process_one(&B.ack[SVC_NAT6], 0, 0, &out);
	if (!m || out != 1 ||
	    !bench_frame6_ok(m, &dmac, 1, &c6, flow_port(0), &rs, rte_cpu_to_be_16(RS_PORT))) {
		fprintf(stderr, "xvs-bench: IPv6 client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = process_one(&B.reply[slot], 1, 0, &out);
	if (!m || out != 0 ||
	    !bench_frame6_ok(m, &bench_gw_mac, 0, &vip, rte_cpu_to_be_16(VPORT), &c6, flow_port(0))) {
		fprintf(stderr, "xvs-bench: IPv6 server->client frame not rewritten as expected\n");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* Flow 0 (both ways for NAT): the benchmark measures forwarding, so first check that it forwards. */
static int verify_rewrite(void)
{
	if (B.cur == SVC_NAT6)
		return verify_rewrite6();
	if (B.cur != SVC_NAT)
		return verify_direct();
	uint16_t out;
	unsigned d = B.dest_of[0];
	struct rte_mbuf *m = process_one(&B.ack[SVC_NAT], 0, 0, &out);
	if (!m || out != 1 || !bench_nat_frame_ok(m, DIR_CS, 0, d)) {
		fprintf(stderr, "xvs-bench: client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = process_one(&B.reply[d], 1, 0, &out);
	if (!m || out != 0 || !bench_nat_frame_ok(m, DIR_SC, 0, d)) {
		fprintf(stderr, "xvs-bench: server->client frame not rewritten as expected\n");
		return -EIO;
	}
	return drops_total() ? report_drops("verify") : 0;
}

/* ---- connections ------------------------------------------------------------------------ */

/* SYNs for fresh flows [first, first + count) through the worker. */
static void send_syns(uint64_t first, uint64_t count)
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

/* Find every flow's connection: its entry (for churn) and destination (for replies). */
static int map_flows(uint32_t nb)
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
static void shuffle(uint32_t nb)
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

/* ---- measurements ----------------------------------------------------------------------- */

/* Frames of the established flows, in B.order, for o.seconds. Returns the frame count. */
static uint64_t run_flows(enum mode mode, enum dir dir, uint32_t nb)
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
static uint64_t run_churn(void)
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
static uint64_t run_synflood(uint32_t nb, uint64_t *syns)
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

/* ---- output ------------------------------------------------------------------------------ */

static int selected(const char *name)
{
	return !B.o.only || !strcmp(B.o.only, name);
}

/* Measure one figure o.runs times; stop the program on drops or missing frames. */
static int figure(const char *name, const char *what, uint32_t flows, enum mode mode, enum dir dir)
{
	struct sample s = { .n = 0 };
	if (!selected(name))
		return 0;
	uint64_t d0 = drops_total();
	const struct xvs_lcore_stats *rs = mode == MODE_HANDOFF ? B.w2->st : B.w->st;
	handoff_mode(mode == MODE_HANDOFF);
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		unsigned out = dir == DIR_CS ? 1 : 0; /* every frame leaves by the other port */
		uint64_t tx0 = B.tx[out], rx0 = rs->rx_pkts;
		uint64_t hin0 = B.w->st->handoff_in, hout0 = B.w2->st->handoff_out;
		struct meter m;
		meter_start(&m);
		meter_stop(&m, run_flows(mode, dir, flows), &s);
		uint64_t txd = B.tx[out] - tx0, rxd = rs->rx_pkts - rx0;
		if (mode == MODE_HANDOFF && (B.w->st->handoff_in - hin0 != rxd ||
					     B.w2->st->handoff_out - hout0 != rxd)) {
			fprintf(stderr, "xvs-bench: %s: not every frame was handed over\n", what);
			return -EIO;
		}
		if ((mode == MODE_WORKER || mode == MODE_HANDOFF) && txd != rxd) {
			fprintf(stderr, "xvs-bench: %s: %llu frames in, %llu out of port %u\n", what,
				(unsigned long long)rxd, (unsigned long long)txd, out);
			return -EIO;
		}
	}
	handoff_mode(0);
	if (drops_total() != d0)
		return report_drops(what);
	double base = mode == MODE_WORKER || mode == MODE_HANDOFF ? B.pass_ns[dir] : 0;
	if (mode == MODE_PASS)
		B.pass_ns[dir] = 1e3 / median(&s);
	print_row(name, what, flows, &s, base);
	return 0;
}

/* Fill an empty table with nb flows (timed: new connections into an empty table), map them. */
static int fill(uint32_t nb, struct sample *s)
{
	int rc = worker_reset();
	if (rc < 0)
		return rc;
	struct meter m;
	meter_start(&m);
	send_syns(0, nb);
	if (s)
		meter_stop(&m, nb, s);
	if (drops_total())
		return report_drops("fill");
	return map_flows(nb);
}

/*
 * Build a table of nb flows of the service B.cur (several times when the fill itself is
 * measured: NAT tables of 1024 flows or more), establish them.
 */
static int build_flows(uint32_t nb)
{
	struct sample s = { .n = 0 };
	int measured = nb >= 1024 && B.cur == SVC_NAT;
	for (unsigned r = 0; r < (measured ? B.o.runs : 1); r++) {
		int rc = fill(nb, measured ? &s : NULL);
		if (rc < 0)
			return rc;
	}
	if (measured)
		print_row("fill", "new conns: SYN fill, empty->N [Mconn/s]", nb, &s, 0);
	shuffle(nb);
	/* One ACK per flow moves them to ESTABLISHED before any timed pass. */
	struct rte_mbuf *rx[XVS_BURST];
	for (uint32_t f = 0; f < nb && !xvs_quit;) {
		unsigned n = (unsigned)RTE_MIN(B.o.burst, nb - f);
		if (take_mbufs(rx, n) < 0)
			return -ENOMEM;
		for (unsigned i = 0; i < n; i++)
			restore(rx[i], &B.ack[B.cur], f++);
		worker_turn(0, rx, (uint16_t)n, rte_rdtsc());
	}
	return drops_total() ? report_drops("establish") : verify_rewrite();
}

static int churn_figure(uint32_t nb)
{
	struct sample s = { .n = 0 };
	if (!selected("churn"))
		return 0;
	uint64_t new0 = B.w->st->conns_new, d0 = drops_total(), made = B.next_id;
	B.ring_size = nb + B.o.burst;
	B.ring_head = 0;
	for (uint32_t i = 0; i < B.ring_size; i++)
		B.ring[i] = i < nb ? B.conn_of[i] : EMPTY_SLOT;
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		struct meter m;
		meter_start(&m);
		meter_stop(&m, run_churn(), &s);
	}
	if (drops_total() != d0)
		return report_drops("churn");
	if (B.w->st->conns_new - new0 != B.next_id - made) {
		fprintf(stderr, "xvs-bench: churn: not every SYN made a connection\n");
		return -EIO;
	}
	print_row("churn", "new conns: SYN churn, N live [Mconn/s]", nb, &s, 0);
	return 0;
}

/*
 * The SYN-flood mix on a fresh table of nb established flows: the established rate while
 * spoofed SYNs take half the frames, and proof afterwards that no established connection
 * was evicted (every flow still finds its entry).
 */
static int synflood_figure(uint32_t nb)
{
	struct sample s = { .n = 0 };
	if (!selected("synflood") || nb < 1024)
		return 0;
	int rc = build_flows(nb);
	if (rc < 0)
		return rc;
	uint64_t ev0 = B.w->st->conns_evicted, d0 = drops_total(), syns = 0;
	for (unsigned r = 0; r < B.o.runs && !xvs_quit; r++) {
		struct meter m;
		meter_start(&m);
		meter_stop(&m, run_synflood(nb, &syns), &s);
	}
	if (drops_total() != d0)
		return report_drops("synflood");
	if (map_flows(nb) < 0) {
		fprintf(stderr, "xvs-bench: synflood: an established connection was evicted\n");
		return -EIO;
	}
	print_row("synflood", "NAT c->s established, 1 SYN flood per frame", nb, &s, 0);
	printf("        (%.1fM spoofed SYNs, %llu embryonic connections evicted, none of the %u "
	       "established ones)\n", (double)syns / 1e6,
	       (unsigned long long)(B.w->st->conns_evicted - ev0), nb);
	return 0;
}

/* The NAT figures and the baselines for one table size. */
static int bench_nat(uint32_t nb)
{
	static const char *const names[] = { "restore", "pass-cs", "nat-cs", "pass-sc", "nat-sc",
					     "nat-cs-ho", "nat-sc-ho", "churn", "synflood" };
	int any = 0;
	for (unsigned i = 0; i < RTE_DIM(names); i++)
		any |= selected(names[i]);
	if (!any)
		return 0;
	B.cur = SVC_NAT;
	int rc = build_flows(nb);
	if (rc == 0)
		rc = figure("restore", "header restore only", nb, MODE_RESTORE, DIR_CS);
	if (rc == 0)
		rc = figure("pass-cs", "pass-through c->s (restore + tx)", nb, MODE_PASS, DIR_CS);
	if (rc == 0)
		rc = figure("nat-cs", "NAT established c->s", nb, MODE_WORKER, DIR_CS);
	if (rc == 0)
		rc = figure("pass-sc", "pass-through s->c (restore + tx)", nb, MODE_PASS, DIR_SC);
	if (rc == 0)
		rc = figure("nat-sc", "NAT established s->c", nb, MODE_WORKER, DIR_SC);
	if (rc == 0)
		rc = figure("nat-cs-ho", "NAT c->s, all handed to the owner", nb, MODE_HANDOFF, DIR_CS);
	if (rc == 0)
		rc = figure("nat-sc-ho", "NAT s->c, all handed to the owner", nb, MODE_HANDOFF, DIR_SC);
	if (rc == 0)
		rc = churn_figure(nb);
	if (rc == 0)
		rc = synflood_figure(nb); /* last: it leaves the table full of embryonic entries */
	return rc;
}

/* NAT over IPv6, both ways, with its own pass-through baselines (the frames are longer). */
static int bench_nat6(uint32_t nb)
{
	static const char *const names[] = { "pass6-cs", "nat6-cs", "pass6-sc", "nat6-sc" };
	int any = 0;
	for (unsigned i = 0; i < RTE_DIM(names); i++)
		any |= selected(names[i]);
	if (!any)
		return 0;
	B.cur = SVC_NAT6;
	int rc = build_flows(nb);
	if (rc == 0)
		rc = figure("pass6-cs", "pass-through IPv6 c->s (restore + tx)", nb, MODE_PASS, DIR_CS);
	if (rc == 0)
		rc = figure("nat6-cs", "NAT IPv6 established c->s", nb, MODE_WORKER, DIR_CS);
	if (rc == 0)
		rc = figure("pass6-sc", "pass-through IPv6 s->c (restore + tx)", nb, MODE_PASS, DIR_SC);
	if (rc == 0)
		rc = figure("nat6-sc", "NAT IPv6 established s->c", nb, MODE_WORKER, DIR_SC);
	return rc;
}

/*
 * DR and tunnels, client to server (their replies never pass the LB), on a table of their own;
 * "vs pass" is against the last pass-through measured (IPv4 rows come before bench_nat6).
 */
static int bench_direct(uint32_t nb, int v6)
{
	static const struct {
		enum svc_kind kind;
		const char *name, *what;
	} rows[] = {
		{ SVC_DR, "dr-cs", "DR established c->s" },
		{ SVC_IPIP, "ipip-cs", "TUN ipip established c->s" },
		{ SVC_GUE, "gue-cs", "TUN gue established c->s" },
		{ SVC_DR6, "dr6-cs", "DR IPv6 established c->s" },
		{ SVC_IPIP6, "ipip6-cs", "TUN ipip 6in6 established c->s" },
		{ SVC_GUE6, "gue6-cs", "TUN gue 6in6 established c->s" },
	};
	int rc = 0;
	for (unsigned i = 0; i < RTE_DIM(rows) && rc == 0 && !xvs_quit; i++) {
		if (svc_is6(rows[i].kind) != v6)
			continue;
		if (!selected(rows[i].name))
			continue;
		B.cur = rows[i].kind;
		rc = build_flows(nb);
		if (rc == 0)
			rc = figure(rows[i].name, rows[i].what, nb, MODE_WORKER, DIR_CS);
	}
	return rc;
}

/* Every figure for one table size: IPv4, then IPv6. */
static int bench_size(uint32_t nb)
{
	int rc = bench_nat(nb);
	if (rc == 0)
		rc = bench_direct(nb, 0);
	if (rc == 0)
		rc = bench_nat6(nb);
	return rc == 0 ? bench_direct(nb, 1) : rc;
}

static void print_header(void)
{
	printf("xvs-bench: core %d, burst %u, %u x %.2f s per figure, %s pages, conn_max %u, "
	       "TSC %.0f MHz\n", B.o.core, B.o.burst, B.o.runs, B.o.seconds,
	       B.o.huge ? "2 MiB huge" : "4 KiB", B.o.conn_max, (double)B.dp.tsc_hz / 1e6);
	printf("%-40s %8s %8s %8s %8s %8s %9s %9s %7s\n", "figure [Mpps unless noted]", "flows",
	       "min", "median", "max", "ns/unit", "vs pass", "preempted", "on-cpu");
}

static void print_memory(void)
{
	size_t sz = B.conn_size;
	uint32_t cap = B.o.conn_max, nb = B.o.flows;
	size_t own = xvs_conn_table_memsize(rte_align32pow2(nb));
	printf("\nmemory: %zu bytes for %u entries = %.1f bytes per connection of capacity\n", sz, cap,
	       (double)sz / cap);
	printf("        (cell %zu + bucket share %.1f + embryonic ring slot 4; IPv6 takes two cells)\n",
	       sizeof(struct xvs_conn),
	       (double)(sz - (size_t)cap * sizeof(struct xvs_conn) - (size_t)cap * 4) / cap);
	printf("        %u flows: %.1f bytes per flow at conn_max %u, %.1f with conn_max %u\n", nb,
	       (double)sz / nb, cap, (double)own / nb, rte_align32pow2(nb));
}

/* Memory for the largest of the one-core table and the worker figures' tables, and mbufs. */
static size_t memory_need(void)
{
	size_t core = xvs_conn_table_memsize(B.o.conn_max);
	size_t scale = bench_scale_memsize(&B.o, &B.cpus);
	return (core > scale ? core : scale) + (256u << 20);
}

/* Every one-core figure: the 1-flow table, then the --flows one. */
static int bench_core(void)
{
	print_header();
	/* --only profiles one figure: on the large table alone, unless that is the 1-flow one */
	int rc = B.o.only && B.o.flows > 1 ? 0 : bench_size(1);
	if (rc == 0 && B.o.flows > 1)
		rc = bench_size(B.o.flows);
	if (rc == 0)
		print_memory();
	return rc;
}

static int bench_scale(void)
{
	const struct bench_env env = {
		.o = &B.o, .cpus = &B.cpus, .dp = &B.dp, .syn = &B.syn[SVC_NAT], .ack = &B.ack[SVC_NAT],
		.reply = &B.reply[SVC_NAT * NB_DESTS],
	};
	/* the one-core table is done with: its memory goes to the workers' tables */
	rte_free(B.conn_mem);
	B.conn_mem = NULL;
	return bench_scale_run(&env);
}

int main(int argc, char **argv)
{
	int rc = bench_opts_parse(argc, argv, &B.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if ((rc = bench_eal_layout(&B.o, &B.cpus)) < 0 ||
	    (rc = bench_eal_start(argv[0], &B.o, memory_need(), &B.cpus, B.prefix, sizeof(B.prefix))) < 0) {
		fprintf(stderr, "xvs-bench: EAL init failed: %s\n", rte_strerror(-rc));
		return 1;
	}
	/* every way out below goes through the cleanup: no runtime directory is left behind */
	if ((rc = bench_report_open(B.o.json)) < 0) {
		fprintf(stderr, "xvs-bench: --json: %s\n", strerror(-rc));
	} else {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if ((rc = setup_dataplane()) < 0 || (rc = setup_handoff()) < 0) {
			fprintf(stderr, "xvs-bench: setup: %s\n", strerror(-rc));
		} else {
			build_templates();
			B.next_id = NEW_ID_BASE;
			rc = B.o.sections & BENCH_SEC_CORE ? bench_core() : 0;
			if (rc == 0 && (B.o.sections & (BENCH_SEC_WORKERS | BENCH_SEC_DRIVER)))
				rc = bench_scale();
		}
		bench_report_close(rc == 0 && !xvs_quit);
	}
	free(B.dest_of);
	free(B.conn_of);
	free(B.order);
	free(B.ring);
	if (B.dp.shm.hdr)
		xvs_shm_close(&B.dp.shm);
	rte_eal_cleanup();
	bench_eal_remove_runtime_dir(B.prefix);
	return rc == 0 && !xvs_quit ? 0 : 1;
}
