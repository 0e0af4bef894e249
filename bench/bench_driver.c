/*
 * Driver mode (bench_driver.h): net_ring ports, feeders, io forwarding, and xvs's own
 * worker loop behind real rx and tx bursts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench_driver.h"
#include "dp_port.h"

#define DRV_RX_RING 1024   /* a NIC's receive ring */
#define DRV_TX_RING 4096   /* per queue and worker: a full receive ring and hand-offs, and more */
#define DRV_POOL_MIN 16384 /* mbufs cycling: rings full, at least 4K distinct ones in flight */
#define DRV_WARM_S 0.1     /* rings filled and caches warm before the window opens */
#define DRV_VERIFY_S 1.0   /* how long a check waits for its frame to come back */
#define FEED_BURST XVS_BURST
#define DRAIN_BURST 64

static const char *const port_dev[2] = { "xvsb_client", "xvsb_server" };

static struct {
	struct rte_mempool *pool;
	struct rte_ring *rx[2][XVS_MAX_LCORES]; /* by port and queue: feeder -> worker */
	struct rte_ring *tx[2][XVS_MAX_LCORES]; /* worker -> feeder */
	unsigned nb_queues;
	int started;
} D;

/* A feeder: queue q of both ports, the flows of lane q. */
struct feeder {
	struct lanes *ls;
	unsigned q;
	enum dir dir;
	int mixed;
	const uint32_t *order;
	uint32_t nb, pos;
	struct rte_ring *in;   /* receive ring of the input port */
	struct rte_ring *out;  /* transmit ring of the output port */
	struct rte_ring *back; /* transmit ring of the input port: frames going the wrong way */
	struct rte_mbuf *pend[FEED_BURST];
	unsigned nb_pend, at;
	uint64_t sent, got, wrong;
	uint64_t fill, nb_fill;   /* receive ring occupancy, summed at each push in the window */
	uint64_t got0, got1;   /* got when the window opened and closed */
	uint64_t t_open, t_close;
	struct meter_reading r;
	_Atomic int done;
} __rte_cache_aligned;

/* ---- ports --------------------------------------------------------------------------- */

static int create_rings(unsigned nq)
{
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned q = 0; q < nq; q++) {
			char name[64]; /* names in use are short; rte_ring_create checks */
			snprintf(name, sizeof(name), "bench_drx_%u_%u", p, q);
			D.rx[p][q] = rte_ring_create(name, DRV_RX_RING, (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "bench_dtx_%u_%u", p, q);
			D.tx[p][q] = rte_ring_create(name, DRV_TX_RING * nq, (int)rte_socket_id(),
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!D.rx[p][q] || !D.tx[p][q])
				return -ENOMEM;
		}
	}
	return 0;
}

int bench_driver_init(struct xvs_dp *dp, unsigned nq)
{
	char err[256];
	unsigned n = RTE_MAX((unsigned)DRV_POOL_MIN, rte_align32pow2(nq * 4 * DRV_RX_RING));
	D.nb_queues = nq;
	/* no per-lcore cache: freed mbufs go to the back of the pool's ring and come out again
	 * only after all the others, so every one of them cycles, as through a NIC's rings */
	D.pool = rte_pktmbuf_pool_create("bench_drv_pool", n - 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (!D.pool)
		return -ENOMEM;
	int rc = create_rings(nq);
	for (unsigned p = 0; p < 2 && rc == 0; p++) {
		char name[RTE_ETH_NAME_MAX_LEN];
		int id = rte_eth_from_rings(port_dev[p], D.rx[p], nq, D.tx[p], nq, rte_socket_id());
		if (id < 0 || rte_eth_dev_get_name_by_port((uint16_t)id, name) < 0)
			rc = -ENODEV;
		/* the name the PMD gave it ("net_ring_" first): the dataplane finds ports by name */
		snprintf(dp->ports[p].dev, sizeof(dp->ports[p].dev), "%s", rc == 0 ? name : "");
		dp->ports[p].rxq_size = DRV_RX_RING;
		dp->ports[p].txq_size = DRV_TX_RING;
	}
	if (rc == 0 && ((rc = xvs_port_init_all(dp, D.pool, nq, nq, err, sizeof(err))) < 0 ||
			(rc = xvs_port_start_all(dp, err, sizeof(err))) < 0))
		fprintf(stderr, "xvs-bench: driver ports: %s\n", err);
	D.started = rc == 0;
	return rc;
}

void bench_driver_close(struct xvs_dp *dp)
{
	if (D.started)
		xvs_port_stop_all(dp);
	D.started = 0;
}

/* Take and free everything a ring holds; returns how many. */
static uint64_t empty_ring(struct rte_ring *r)
{
	struct rte_mbuf *m[DRAIN_BURST];
	uint64_t total = 0;
	unsigned n;
	while (r && (n = rte_ring_dequeue_burst(r, (void **)m, DRAIN_BURST, NULL))) {
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	return total;
}

/* ---- feeders ------------------------------------------------------------------------- */

static void feeder_init(struct feeder *f, struct lanes *ls, unsigned q, enum dir dir, int mixed)
{
	struct lane *l = ls->lane[q];
	unsigned in = dir == DIR_CS ? 0 : 1;
	memset(f, 0, sizeof(*f));
	f->ls = ls;
	f->q = q;
	f->dir = dir;
	f->mixed = mixed;
	f->order = mixed ? l->order_ho : l->order;
	f->nb = l->nb_flows;
	f->in = D.rx[in][q];
	f->out = D.tx[in ^ 1][q];
	f->back = D.tx[in][q];
}

/* Frames the workers sent: counted and freed to the pool, as a NIC's transmit completion. */
static inline void feeder_drain(struct feeder *f)
{
	struct rte_mbuf *m[DRAIN_BURST];
	unsigned n;
	do {
		n = rte_ring_sc_dequeue_burst(f->out, (void **)m, DRAIN_BURST, NULL);
		f->got += n;
		rte_pktmbuf_free_bulk(m, n);
	} while (n == DRAIN_BURST);
	n = rte_ring_sc_dequeue_burst(f->back, (void **)m, DRAIN_BURST, NULL);
	f->wrong += n;
	rte_pktmbuf_free_bulk(m, n);
}

/*
 * In mixed runs, whether the worker's hand-off rings could take every frame of its receive
 * ring and one more burst, were they all another worker's: else the feeder waits, and the
 * rates are without loss, as in the logic runs (bench_lane_ho_busy).
 */
static inline int ho_room(const struct feeder *f)
{
	const struct lane *l = f->ls->lane[f->q];
	unsigned need = rte_ring_count(f->in) + FEED_BURST + XVS_BURST; /* and the staged ones */
	for (unsigned j = 0; j < f->ls->nb; j++)
		if (l->w.ho_ring[j] && rte_ring_free_count(l->w.ho_ring[j]) < need)
			return 0;
	return 1;
}

/* Keep the receive ring full: fresh mbufs written as the NIC would, the next flows in order. */
static inline void feeder_push(struct feeder *f)
{
	const struct bench_env *env = f->ls->env;
	if (f->mixed && !ho_room(f))
		return;
	if (f->at == f->nb_pend) {
		if (rte_pktmbuf_alloc_bulk(D.pool, f->pend, FEED_BURST) < 0)
			return; /* all in flight: the workers' side is behind */
		for (unsigned i = 0; i < FEED_BURST; i++) {
			uint32_t e = f->order[f->pos];
			f->pos = f->pos + 1 == f->nb ? 0 : f->pos + 1;
			restore(f->pend[i], f->dir == DIR_CS ? env->ack : &env->reply[ORDER_DEST(e)],
				ORDER_FLOW(e));
		}
		f->nb_pend = FEED_BURST;
		f->at = 0;
	}
	unsigned room;
	unsigned k = rte_ring_sp_enqueue_burst(f->in, (void **)(f->pend + f->at), f->nb_pend - f->at,
					       &room);
	f->at += k;
	f->sent += k;
	f->fill += rte_ring_get_capacity(f->in) - room;
	f->nb_fill++;
}

/* Feed until the window closes; count what came back while it was open. */
static void feeder_window(struct feeder *f)
{
	struct meter m;
	int open = 0;
	meter_start(&m);
	for (;;) {
		uint64_t now = rte_rdtsc();
		if (!open && now >= f->t_open) {
			f->got0 = f->got;
			f->fill = f->nb_fill = 0;
			open = 1;
		}
		if (now >= f->t_close)
			break;
		feeder_drain(f);
		feeder_push(f);
	}
	f->got1 = f->got;
	meter_read(&m, &f->r);
}

/* Feeders of queues 1.., on their own lcores: the window, then drain until the workers stop. */
static int feeder_entry(void *arg)
{
	struct feeder *f = arg;
	feeder_window(f);
	while (atomic_load(&f->ls->done) < f->ls->nb)
		feeder_drain(f);
	feeder_drain(f);
	atomic_store(&f->done, 1);
	return 0;
}

static void drain_pump(void *arg)
{
	feeder_drain(arg);
}

/* ---- the workers' side --------------------------------------------------------------- */

/* xvs's own worker loop until xvs_quit. */
static int lane_loop(struct lane *l)
{
	struct meter m;
	meter_start(&m);
	xvs_worker_loop(&l->w);
	meter_read(&m, &l->res.r);
	return 0;
}

/* dpdk-testpmd's io forwarding on queue idx: port 0 <-> port 1, frames untouched. */
static int lane_io(struct lane *l)
{
	const struct xvs_dp *dp = l->set->env->dp;
	uint16_t port[2] = { dp->ports[0].port_id, dp->ports[1].port_id }, q = (uint16_t)l->idx;
	struct rte_mbuf *pkts[XVS_BURST];
	struct meter m;
	meter_start(&m);
	while (!atomic_load_explicit(&l->set->stop, memory_order_relaxed)) {
		for (unsigned p = 0; p < 2; p++) {
			uint16_t n = rte_eth_rx_burst(port[p], q, pkts, XVS_BURST);
			if (!n)
				continue;
			uint16_t sent = rte_eth_tx_burst(port[p ^ 1], q, pkts, n);
			if (unlikely(sent < n)) {
				rte_pktmbuf_free_bulk(pkts + sent, n - sent);
				l->res.count += n - sent; /* dropped: the check fails on them */
			}
		}
	}
	meter_read(&m, &l->res.r);
	return 0;
}

/* ---- checks -------------------------------------------------------------------------- */

/* Send one frame of flow f into queue q; wait for it on the output port's queue out_q. */
static struct rte_mbuf *probe_frame(struct feeder *f0, unsigned q, unsigned out_q,
				    const struct tmpl *t, uint32_t flow)
{
	unsigned in = f0->dir == DIR_CS ? 0 : 1;
	struct rte_mbuf *m = rte_pktmbuf_alloc(D.pool);
	if (!m)
		return NULL;
	restore(m, t, flow);
	if (rte_ring_sp_enqueue(D.rx[in][q], m) < 0) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	f0->sent++;
	uint64_t end = rte_rdtsc() + (uint64_t)(DRV_VERIFY_S * (double)rte_get_tsc_hz());
	while (rte_rdtsc() < end && !bench_interrupted) {
		if (rte_ring_sc_dequeue(D.tx[in ^ 1][out_q], (void **)&m) == 0) {
			f0->got++;
			return m;
		}
	}
	return NULL;
}

/*
 * The first flow of lane 0 through the running workers, as the timed frames will go: io
 * forwarding leaves it byte for byte, xvs rewrites it as NAT must, and in the mixed runs
 * hands the next lane's reply over to that lane, which sends it.
 */
static int verify_driver(struct lanes *ls, struct feeder *f0, enum drv_engine eng, int mixed)
{
	const struct bench_env *env = ls->env;
	uint32_t f = ls->lane[0]->flows[0];
	unsigned d = ls->dest_of[f];
	const struct tmpl *t = f0->dir == DIR_CS ? env->ack : &env->reply[d];
	struct rte_mbuf *m = probe_frame(f0, 0, 0, t, f);
	int ok = m != NULL;
	if (ok && eng == DRV_IO) {
		/* byte for byte what the feeder wrote: the template with the flow patched in */
		struct rte_mbuf *ref = rte_pktmbuf_alloc(D.pool);
		if (ref)
			restore(ref, t, f);
		ok = ref && m->pkt_len == ref->pkt_len &&
		     !memcmp(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(ref, void *),
			     ref->data_len);
		rte_pktmbuf_free(ref);
	}
	if (ok && eng == DRV_XVS)
		ok = bench_nat_frame_ok(m, f0->dir, f, d);
	rte_pktmbuf_free(m);
	if (ok && eng == DRV_XVS && mixed && ls->nb > 1) {
		f = ls->lane[1]->flows[0];
		d = ls->dest_of[f];
		m = probe_frame(f0, 0, 1, f0->dir == DIR_CS ? env->ack : &env->reply[d], f);
		ok = m && bench_nat_frame_ok(m, f0->dir, f, d);
		rte_pktmbuf_free(m);
	}
	if (!ok)
		fprintf(stderr, "xvs-bench: driver (%s): a frame did not come back as expected\n",
			eng == DRV_IO ? "io forwarding" : "xvs");
	return ok ? 0 : -EIO;
}

/*
 * Every frame fed is accounted for: sent out of the other port, or still in a receive or
 * hand-off ring when the workers stopped; none left by the port it came in on, none dropped.
 */
static int check_books(struct lanes *ls, struct feeder *fd, uint64_t drops0[])
{
	uint64_t sent = 0, got = 0, wrong = 0, left = 0, dropped = 0;
	for (unsigned q = 0; q < ls->nb; q++) {
		feeder_drain(&fd[q]);
		sent += fd[q].sent;
		got += fd[q].got;
		wrong += fd[q].wrong;
		left += empty_ring(D.rx[0][q]) + empty_ring(D.rx[1][q]);
		for (unsigned j = 0; j < ls->nb; j++)
			left += empty_ring(ls->ho[q][j]);
		dropped += bench_lane_drops(ls->lane[q]) - drops0[q] + ls->lane[q]->res.count;
	}
	if (dropped)
		return bench_lanes_report_drops(ls, "driver");
	if (wrong || sent != got + left) {
		fprintf(stderr, "xvs-bench: driver: %llu frames fed, %llu forwarded, %llu left in "
			"rings, %llu out of the wrong port\n", (unsigned long long)sent,
			(unsigned long long)got, (unsigned long long)left, (unsigned long long)wrong);
		return -EIO;
	}
	return 0;
}

/* ---- one run ------------------------------------------------------------------------- */

/*
 * Stop the workers (xvs: xvs_quit, which the signal handler also sets) while feeder 0
 * drains, then the feeders of queues 1..nb_feeders-1.
 */
static int stop_workers(struct lanes *ls, struct feeder *fd, unsigned nb_feeders,
			enum drv_engine eng)
{
	if (eng == DRV_XVS)
		xvs_quit = 1;
	else
		atomic_store(&ls->stop, 1);
	bench_lanes_wait_done(ls, ls->nb, drain_pump, &fd[0]);
	for (unsigned q = 1; q < nb_feeders; q++)
		while (!atomic_load(&fd[q].done))
			feeder_drain(&fd[0]);
	int rc = bench_lanes_wait(ls);
	for (unsigned q = 1; q < nb_feeders; q++)
		rte_eal_wait_lcore(ls->nb + q);
	xvs_quit = bench_interrupted;
	return rc;
}

static int driver_run(struct lanes *ls, enum drv_engine eng, int mixed, struct feeder *fd,
		      int verify)
{
	uint64_t drops0[XVS_MAX_LCORES];
	xvs_tx_fn logic_tx[XVS_MAX_LCORES];
	for (unsigned q = 0; q < ls->nb; q++) {
		struct lane *l = ls->lane[q];
		drops0[q] = bench_lane_drops(l);
		logic_tx[q] = l->w.tx;
		l->w.tx = l->eth_tx;
	}
	int rc = bench_lanes_launch(ls, eng == DRV_XVS ? lane_loop : lane_io);
	if (rc < 0) {
		for (unsigned q = 0; q < ls->nb; q++)
			ls->lane[q]->w.tx = logic_tx[q];
		return rc;
	}
	if (verify)
		rc = verify_driver(ls, &fd[0], eng, mixed);
	uint64_t open = rte_rdtsc() + (uint64_t)(DRV_WARM_S * (double)rte_get_tsc_hz());
	uint64_t close = open + (uint64_t)(ls->env->o->seconds * (double)rte_get_tsc_hz());
	for (unsigned q = 0; q < ls->nb; q++) {
		fd[q].t_open = rc == 0 ? open : 0;
		fd[q].t_close = rc == 0 ? close : 0; /* a failed check closes at once */
	}
	unsigned nb_feeders = 1; /* feeder 0 is this lcore, the others the lcores after the lanes' */
	while (rc == 0 && nb_feeders < ls->nb) {
		rc = rte_eal_remote_launch(feeder_entry, &fd[nb_feeders], ls->nb + nb_feeders);
		nb_feeders += rc == 0;
	}
	feeder_window(&fd[0]);
	int rc2 = stop_workers(ls, fd, nb_feeders, eng);
	for (unsigned q = 0; q < ls->nb; q++)
		ls->lane[q]->w.tx = logic_tx[q];
	if (rc == 0)
		rc = rc2;
	return rc == 0 ? check_books(ls, fd, drops0) : rc;
}

/* Fold one run into the figure: rates over the window, CPU shares. */
static void add_run(struct lanes *ls, struct feeder *fd, struct drv_figure *out, double *cpu)
{
	uint64_t fill = 0, nb_fill = 0;
	double run[4] = { 0, 0, 0, 0 }; /* this run's worker CPU, wall, feeder CPU, wall */
	double window = (double)(fd[0].t_close - fd[0].t_open) / (double)rte_get_tsc_hz(), all = 0;
	for (unsigned q = 0; q < ls->nb; q++) {
		double rate = (double)(fd[q].got1 - fd[q].got0) / window / 1e6;
		const struct meter_reading *w = &ls->lane[q]->res.r;
		out->per[q].v[out->per[q].n++] = rate;
		all += rate;
		run[0] += w->cpu;
		run[1] += w->wall;
		run[2] += fd[q].r.cpu;
		run[3] += fd[q].r.wall;
		fill += fd[q].fill;
		nb_fill += fd[q].nb_fill * rte_ring_get_capacity(fd[q].in);
		out->all.preempt += w->preempt;
		out->all.cpu += w->cpu;
		out->all.wall += w->wall;
	}
	for (unsigned i = 0; i < 4; i++)
		cpu[i] += run[i];
	out->all.share[out->all.n] = RTE_MIN(run[0] / run[1], run[2] / run[3]);
	out->all.v[out->all.n++] = all;
	double run_fill = nb_fill ? (double)fill / (double)nb_fill : 0; /* mean over the runs: */
	out->rx_fill += (run_fill - out->rx_fill) / out->all.n;
}

int bench_driver_figure(struct lanes *ls, enum drv_engine eng, enum dir dir, int mixed,
			struct drv_figure *out)
{
	struct feeder fd[XVS_MAX_LCORES];
	double cpu[4] = { 0, 0, 0, 0 };
	uint64_t hin0 = 0, rx0 = 0, hin = 0, rx = 0;
	memset(out, 0, sizeof(*out));
	if (!D.started || ls->nb > D.nb_queues || 2 * ls->nb > rte_lcore_count() - 1)
		return -ENODEV;
	for (unsigned q = 0; q < ls->nb; q++) {
		hin0 += ls->lane[q]->w.st->handoff_in;
		rx0 += ls->lane[q]->w.st->rx_pkts;
	}
	for (unsigned r = 0; r < ls->env->o->runs && !bench_interrupted; r++) {
		for (unsigned q = 0; q < ls->nb; q++)
			feeder_init(&fd[q], ls, q, dir, mixed);
		int rc = driver_run(ls, eng, mixed, fd, r == 0);
		if (rc < 0)
			return rc;
		add_run(ls, fd, out, cpu);
	}
	for (unsigned q = 0; q < ls->nb; q++) {
		hin += ls->lane[q]->w.st->handoff_in;
		rx += ls->lane[q]->w.st->rx_pkts;
	}
	out->on_cpu = cpu[1] > 0 ? cpu[0] / cpu[1] : 0;
	out->feeder_on_cpu = cpu[3] > 0 ? cpu[2] / cpu[3] : 0;
	out->handoff = eng == DRV_XVS && rx > rx0 ? (double)(hin - hin0) / (double)(rx - rx0) : -1;
	return bench_interrupted ? -EINTR : 0;
}
