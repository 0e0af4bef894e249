/*
 * Lanes (bench_lanes.h): several workers, each on a CPU of its own, running the real
 * worker code (xvs_worker_process, xvs_worker_drain, xvs_worker_flush, ticks) over
 * prebuilt mbufs of the flows it owns; the "logic" figures for several workers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bench_lanes.h"
#include "dp_path.h"

#define LANE_POOL_CACHE 256
#define WAIT_POLL_NS 2000000 /* the main lcore's sleep while lanes run (it may share their CPU) */

/* ---- sizes --------------------------------------------------------------------------- */

/*
 * Flows a lane may get: all of them for one lane, else its share and a margin for the
 * steering hash's imbalance (a few hundred flows at most for these counts).
 */
static uint32_t lane_flows_max(unsigned nb, uint32_t nb_flows)
{
	return nb == 1 ? nb_flows : nb_flows / nb + nb_flows / 64 + 64;
}

/* A table a quarter larger than its flows, as --conn-max's default is for 1M flows. */
static uint32_t lane_conn_max(uint32_t flows)
{
	uint64_t want = (uint64_t)flows + flows / 4 + 2 * XVS_BURST;
	return want <= 64 ? 64 : rte_align32pow2((uint32_t)RTE_MIN(want, (uint64_t)1 << 24));
}

size_t bench_lanes_memsize(unsigned nb, uint32_t nb_flows)
{
	return nb * xvs_conn_table_memsize(lane_conn_max(lane_flows_max(nb, nb_flows)));
}

/* ---- mbufs and the transmit hook ----------------------------------------------------- */

/* n mbufs for the next burst: those handed back, topped up from the pool. */
static inline int lane_take(struct lane *l, struct rte_mbuf **rx, unsigned n)
{
	if (unlikely(l->nb_stash < n)) {
		unsigned want = LANE_STASH / 2 - l->nb_stash;
		if (rte_pktmbuf_alloc_bulk(l->set->pool, l->stash + l->nb_stash, want) < 0)
			return -ENOMEM;
		l->nb_stash += want;
	}
	l->nb_stash -= n;
	memcpy(rx, &l->stash[l->nb_stash], n * sizeof(*rx));
	return 0;
}

/* Record the destination of each flow leaving (c->s frames of the NAT service). */
static void lane_learn(struct lane *l, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		uint32_t f;
		unsigned d;
		if (bench_nat_frame_flow(pkts[i], &f, &d) < 0 || f >= l->set->nb_flows)
			l->res.rc = -EIO;
		else
			l->set->dest_of[f] = (uint8_t)d;
	}
}

/*
 * The transmit hook: keep the frames for the next burst. A lane that receives frames it
 * hands over runs short and one that forwards them runs over; the pool evens that out.
 */
static uint16_t lane_tx(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	struct lane *l = container_of(w, struct lane, w);
	if (unlikely(l->learn))
		lane_learn(l, pkts, n);
	l->tx[port & 1] += n;
	unsigned room = LANE_STASH - l->nb_stash, keep = RTE_MIN(room, (unsigned)n);
	if (keep < n)
		rte_pktmbuf_free_bulk(pkts, n - keep); /* the oldest: the last one stays on top */
	memcpy(&l->stash[l->nb_stash], pkts + (n - keep), keep * sizeof(*pkts));
	l->nb_stash += keep;
	return n;
}

/* ---- the worker ---------------------------------------------------------------------- */

/* A fresh worker on an emptied table, its hook and its hand-off rings. Untimed. */
static int lane_reset(struct lane *l)
{
	struct lanes *ls = l->set;
	memset(l->conn_mem, 0, l->conn_size);
	int rc = xvs_worker_init(&l->w, ls->env->dp, l->idx, l->conn_mem);
	l->eth_tx = l->w.tx;
	l->w.tx = lane_tx;
	for (unsigned j = 0; j < ls->nb; j++) {
		l->w.ho_ring[j] = j == l->idx ? NULL : ls->ho[l->idx][j];
		l->w.hi_ring[j] = j == l->idx ? NULL : ls->ho[j][l->idx];
	}
	return rc;
}

/*
 * One turn of the worker loop (dp_worker.c xvs_worker_loop) for a received burst (n may be
 * 0): tick, process, take what other workers handed over, transmit. Returns frames taken.
 */
static inline unsigned lane_turn(struct lane *l, uint16_t in_port, struct rte_mbuf **rx, uint16_t n,
				 uint64_t now)
{
	struct xvs_worker *w = &l->w;
	const struct xvs_gen *g = xvs_dp_gen_get(&w->dp->gens, w->idx);
	unsigned got = 0;
	w->now_tsc = now;
	if (now >= w->next_tick_tsc) {
		w->next_tick_tsc = now + l->set->tick_tsc;
		xvs_worker_tick(w, g);
	}
	if (n)
		xvs_worker_process(w, g, in_port, rx, n);
	if (w->dp->nb_workers > 1)
		got = xvs_worker_drain(w, g);
	xvs_worker_flush(w);
	return got;
}

int bench_lane_ho_busy(const struct lane *l)
{
	for (unsigned j = 0; j < l->set->nb; j++)
		if (l->w.ho_ring[j] && rte_ring_count(l->w.ho_ring[j]) > XVS_HANDOFF_RING * 3 / 4)
			return 1;
	return 0;
}

/* Frames from template t for each of the lane's flows, in bursts. Untimed helper of jobs. */
static int lane_send(struct lane *l, const struct tmpl *t)
{
	struct rte_mbuf *rx[XVS_BURST];
	unsigned burst = l->set->env->o->burst;
	for (uint32_t i = 0; i < l->nb_flows && !xvs_quit;) {
		unsigned n = RTE_MIN(burst, l->nb_flows - i);
		if (lane_take(l, rx, n) < 0)
			return -ENOMEM;
		for (unsigned k = 0; k < n; k++)
			restore(rx[k], t, l->flows[i++]);
		lane_turn(l, 0, rx, (uint16_t)n, rte_rdtsc());
	}
	return xvs_quit ? -EINTR : 0;
}

uint64_t bench_lane_drops(const struct lane *l)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < XVS_DROP_MAX; i++)
		s += l->w.st->drops[i];
	return s;
}

int bench_lanes_report_drops(const struct lanes *ls, const char *what)
{
	fprintf(stderr, "xvs-bench: %s: frames were dropped:", what);
	for (unsigned k = 0; k < ls->nb; k++)
		for (unsigned i = 0; i < XVS_DROP_MAX; i++)
			if (ls->lane[k]->w.st->drops[i])
				fprintf(stderr, " worker %u %s=%llu", k, xvs_drop_names[i],
					(unsigned long long)ls->lane[k]->w.st->drops[i]);
	fprintf(stderr, "\n");
	return -EIO;
}

/* ---- jobs ---------------------------------------------------------------------------- */

/* Build the lane's table: a SYN then an ACK for each of its flows, learning destinations. */
static int lane_setup(struct lane *l)
{
	int rc = lane_reset(l);
	if (rc == 0)
		rc = lane_send(l, l->set->env->syn);
	l->learn = 1;
	if (rc == 0)
		rc = lane_send(l, l->set->env->ack);
	l->learn = 0;
	return rc < 0 ? rc : l->res.rc;
}

/*
 * After its timed part, a lane keeps taking what the others hand over until they have all
 * stopped and its rings are empty, so that every frame received leaves (untimed).
 */
static void lane_drain_tail(struct lane *l)
{
	struct lanes *ls = l->set;
	uint16_t in_port = ls->dir == DIR_CS ? 0 : 1;
	atomic_fetch_add(&ls->finished, 1);
	if (ls->nb == 1)
		return;
	for (;;) {
		int last = atomic_load(&ls->finished) == ls->nb;
		if (!lane_turn(l, in_port, NULL, 0, rte_rdtsc()) && last)
			return;
	}
}

/*
 * In mixed runs, whether the lane receives nothing this turn (bench_lane_ho_busy). The rings
 * are looked at every 4th turn while they have room (4 bursts fit in the quarter left), and
 * at every turn once they had none.
 */
static inline int lane_paused(struct lane *l)
{
	if ((l->res.turns++ & 3) && !l->paused)
		return 0;
	l->paused = bench_lane_ho_busy(l);
	return l->paused;
}

int bench_lane_flows(struct lane *l)
{
	struct lanes *ls = l->set;
	const struct bench_env *env = ls->env;
	const uint32_t *order = ls->mixed ? l->order_ho : l->order;
	struct rte_mbuf *rx[XVS_BURST];
	uint16_t in_port = ls->dir == DIR_CS ? 0 : 1;
	unsigned n = env->o->burst;
	uint64_t limit = (uint64_t)(env->o->seconds * (double)rte_get_tsc_hz()), count = 0;
	uint32_t pos = 0;
	int rc = 0;
	struct meter m;
	l->paused = 0;
	meter_start(&m);
	uint64_t t0 = rte_rdtsc(), now = t0;
	while (now - t0 < limit && !xvs_quit) {
		if (ls->mixed && lane_paused(l)) {
			/* the owner is behind: this worker's queue stays empty for a turn */
			lane_turn(l, in_port, NULL, 0, now);
			uint64_t t = rte_rdtsc();
			l->res.wait_tsc += t - now;
			now = t;
			continue;
		}
		if (lane_take(l, rx, n) < 0) {
			rc = -ENOMEM;
			break; /* the others still wait for this lane to finish */
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t e = order[pos];
			pos = pos + 1 == l->nb_flows ? 0 : pos + 1;
			restore(rx[i], ls->dir == DIR_CS ? env->ack : &env->reply[ORDER_DEST(e)],
				ORDER_FLOW(e));
		}
		lane_turn(l, in_port, rx, (uint16_t)n, now);
		count += n;
		now = rte_rdtsc();
	}
	meter_read(&m, &l->res.r);
	l->res.count = count;
	l->res.run_tsc = now - t0;
	lane_drain_tail(l);
	return rc;
}

/* New connections: empty the table (untimed), then a SYN for each flow (timed); repeat. */
int bench_lane_fill(struct lane *l)
{
	const struct bench_env *env = l->set->env;
	struct meter_reading sum = { 0, 0, 0 };
	do {
		struct meter m;
		struct meter_reading r;
		int rc = lane_reset(l);
		if (rc < 0)
			return rc;
		meter_start(&m);
		if ((rc = lane_send(l, env->syn)) < 0)
			return rc;
		meter_read(&m, &r);
		if (bench_lane_drops(l) || l->w.st->conns_new != l->nb_flows)
			return -EIO;
		sum.cpu += r.cpu;
		sum.wall += r.wall;
		sum.preempt += r.preempt;
		l->res.count += l->nb_flows;
	} while (sum.wall < env->o->seconds && !xvs_quit);
	l->res.r = sum;
	atomic_fetch_add(&l->set->finished, 1);
	return 0;
}

/* ---- launching ----------------------------------------------------------------------- */

/* Every lane waits at the start line for the others, so that they run at the same time. */
static int lane_entry(void *arg)
{
	struct lane *l = arg;
	struct lanes *ls = l->set;
	atomic_fetch_add(&ls->ready, 1);
	while (atomic_load(&ls->ready) < ls->nb)
		rte_pause();
	int rc = ls->job(l);
	if (rc < 0)
		l->res.rc = rc;
	atomic_fetch_add(&ls->done, 1);
	return rc;
}

int bench_lanes_launch(struct lanes *ls, lane_job_fn fn)
{
	ls->job = fn;
	atomic_store(&ls->ready, 0);
	atomic_store(&ls->finished, 0);
	atomic_store(&ls->done, 0);
	atomic_store(&ls->stop, 0);
	for (unsigned i = 0; i < ls->nb; i++) {
		ls->lane[i]->res = (struct lane_result){ .count = 0 };
		int rc = rte_eal_remote_launch(lane_entry, ls->lane[i], ls->lane[i]->lcore);
		if (rc < 0) {
			/* the lanes launched wait for the rest at the start line: let them go, stop */
			xvs_quit = 1;
			atomic_store(&ls->stop, 1);
			atomic_store(&ls->ready, ls->nb);
			for (unsigned j = 0; j < i; j++)
				rte_eal_wait_lcore(ls->lane[j]->lcore);
			return rc;
		}
	}
	return 0;
}

void bench_lanes_wait_done(struct lanes *ls, unsigned n, void (*pump)(void *), void *arg)
{
	const struct timespec ts = { 0, WAIT_POLL_NS };
	while (atomic_load(&ls->done) < n) {
		if (pump)
			pump(arg);
		else
			nanosleep(&ts, NULL);
	}
}

int bench_lanes_wait(struct lanes *ls)
{
	int rc = 0;
	bench_lanes_wait_done(ls, ls->nb, NULL, NULL);
	for (unsigned i = 0; i < ls->nb; i++) {
		int r = rte_eal_wait_lcore(ls->lane[i]->lcore);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

/* ---- creation ------------------------------------------------------------------------ */

/* Every flow to the lane the steering hash names for its client (dp_steer.h). */
static int assign_flows(struct lanes *ls)
{
	const struct xvs_steer *st = &ls->env->dp->steer;
	uint32_t count[XVS_MAX_LCORES] = { 0 };
	uint8_t *owner = malloc(ls->nb_flows);
	if (!owner)
		return -ENOMEM;
	for (uint32_t f = 0; f < ls->nb_flows; f++) {
		owner[f] = (uint8_t)xvs_steer_owner4(st, flow_ip(f), flow_port(f));
		count[owner[f]]++;
	}
	for (unsigned i = 0; i < ls->nb; i++) {
		struct lane *l = ls->lane[i];
		l->flows = malloc(RTE_MAX(count[i], 1u) * sizeof(uint32_t));
		l->order = malloc(RTE_MAX(count[i], 1u) * sizeof(uint32_t));
		if (!l->flows || !l->order || count[i] > lane_flows_max(ls->nb, ls->nb_flows)) {
			free(owner);
			return l->flows && l->order ? -E2BIG : -ENOMEM;
		}
	}
	for (uint32_t f = 0; f < ls->nb_flows; f++) {
		struct lane *l = ls->lane[owner[f]];
		l->flows[l->nb_flows++] = f;
	}
	free(owner);
	return 0;
}

/* The lanes' mbufs: stashes, bursts in flight, per-lcore caches and full hand-off rings. */
static int create_pool(struct lanes *ls)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint64_t n = 4096 + (uint64_t)ls->nb * (LANE_STASH + 6 * XVS_BURST + 2 * LANE_POOL_CACHE) +
		     (uint64_t)ls->nb * (ls->nb - 1) * XVS_HANDOFF_RING;
	snprintf(name, sizeof(name), "bench_lanes%u", ls->id);
	ls->pool = rte_pktmbuf_pool_create(name, rte_align32pow2((uint32_t)n) - 1, LANE_POOL_CACHE, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	return ls->pool ? 0 : -ENOMEM;
}

static int create_rings(struct lanes *ls)
{
	for (unsigned i = 0; i < ls->nb; i++) {
		for (unsigned j = 0; j < ls->nb; j++) {
			char name[64]; /* names in use are short; rte_ring_create checks */
			if (i == j)
				continue;
			snprintf(name, sizeof(name), "blane%u_ho_%u_%u", ls->id, i, j);
			ls->ho[i][j] = rte_ring_create(name, XVS_HANDOFF_RING, (int)rte_socket_id(),
						       RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!ls->ho[i][j])
				return -ENOMEM;
		}
	}
	return 0;
}

static int alloc_lanes(struct lanes *ls)
{
	for (unsigned i = 0; i < ls->nb; i++) {
		struct lane *l = rte_zmalloc("bench_lane", sizeof(*l), RTE_CACHE_LINE_SIZE);
		if (!l)
			return -ENOMEM;
		ls->lane[i] = l;
		l->set = ls;
		l->idx = i;
		l->lcore = i + 1; /* bench_eal.h: lcore i + 1 has CPU i of the list */
		l->conn_size = xvs_conn_table_memsize(ls->conn_max);
		l->conn_mem = rte_malloc("bench_lane_conns", l->conn_size, RTE_CACHE_LINE_SIZE);
		if (!l->conn_mem)
			return -ENOMEM;
	}
	return 0;
}

/* Random order of each lane's flows (xorshift Fisher-Yates, fixed seeds: runs compare). */
static void shuffle_lanes(struct lanes *ls)
{
	for (unsigned k = 0; k < ls->nb; k++) {
		struct lane *l = ls->lane[k];
		uint64_t x = 0x9e3779b97f4a7c15ULL + k;
		for (uint32_t i = 0; i < l->nb_flows; i++)
			l->order[i] = ORDER_ENTRY(l->flows[i], ls->dest_of[l->flows[i]]);
		for (uint32_t i = l->nb_flows - 1; i > 0; i--) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t j = (uint32_t)(x % (i + 1)), t = l->order[i];
			l->order[i] = l->order[j];
			l->order[j] = t;
		}
	}
}

/* Every lane's table holds each of its flows, once, with a destination learned. */
static int check_setup(struct lanes *ls)
{
	for (unsigned k = 0; k < ls->nb; k++) {
		struct lane *l = ls->lane[k];
		if (bench_lane_drops(l))
			return bench_lanes_report_drops(ls, "lanes: setup");
		if (l->w.st->conns_new != l->nb_flows || l->w.st->conns_cur != l->nb_flows) {
			fprintf(stderr, "xvs-bench: worker %u: %llu connections for %u flows\n", k,
				(unsigned long long)l->w.st->conns_new, l->nb_flows);
			return -EIO;
		}
		for (uint32_t i = 0; i < l->nb_flows; i++) {
			if (ls->dest_of[l->flows[i]] >= NB_DESTS) {
				fprintf(stderr, "xvs-bench: worker %u: flow %u never left\n", k,
					l->flows[i]);
				return -EIO;
			}
		}
	}
	return 0;
}

/*
 * One frame of flow f, template t, into lane `in` on in_port, out of lane `out` (its
 * owner: the same lane, or the one `in` hands it to). Returns it as sent, or NULL.
 */
static struct rte_mbuf *lane_one(struct lane *in, struct lane *out, uint16_t in_port,
				 const struct tmpl *t, uint32_t f, uint16_t *port)
{
	struct rte_mbuf *m;
	uint64_t tx0 = out->tx[0], tx1 = out->tx[1];
	if (lane_take(in, &m, 1) < 0)
		return NULL;
	restore(m, t, f);
	lane_turn(in, in_port, &m, 1, rte_rdtsc());
	if (out != in)
		lane_turn(out, in_port, NULL, 0, rte_rdtsc());
	if (out->tx[0] + out->tx[1] != tx0 + tx1 + 1)
		return NULL;
	*port = out->tx[1] != tx1;
	return out->stash[out->nb_stash - 1];
}

/* The first flow of every lane, both ways; with several lanes, a reply handed over. */
static int verify_lanes(struct lanes *ls)
{
	const struct bench_env *env = ls->env;
	for (unsigned k = 0; k < ls->nb; k++) {
		struct lane *l = ls->lane[k];
		uint32_t f = l->flows[0];
		unsigned d = ls->dest_of[f];
		uint16_t port;
		struct rte_mbuf *m = lane_one(l, l, 0, env->ack, f, &port);
		if (!m || port != 1 || !bench_nat_frame_ok(m, DIR_CS, f, d))
			goto bad;
		m = lane_one(l, l, 1, &env->reply[d], f, &port);
		if (!m || port != 0 || !bench_nat_frame_ok(m, DIR_SC, f, d))
			goto bad;
		if (ls->nb == 1)
			continue;
		/* lane k receives the next lane's reply and hands it over */
		struct lane *owner = ls->lane[(k + 1) % ls->nb];
		f = owner->flows[0];
		d = ls->dest_of[f];
		uint64_t ho = owner->w.st->handoff_in;
		m = lane_one(l, owner, 1, &env->reply[d], f, &port);
		if (!m || port != 0 || !bench_nat_frame_ok(m, DIR_SC, f, d) ||
		    owner->w.st->handoff_in != ho + 1)
			goto bad;
		continue;
bad:
		fprintf(stderr, "xvs-bench: worker %u of %u: a frame was not forwarded as expected\n",
			k, ls->nb);
		return -EIO;
	}
	for (unsigned k = 0; k < ls->nb; k++)
		if (bench_lane_drops(ls->lane[k]))
			return bench_lanes_report_drops(ls, "lanes: verify");
	return 0;
}

void bench_lanes_select(struct lanes *ls)
{
	struct xvs_dp *dp = ls->env->dp;
	dp->cfg.conn_max = ls->conn_max; /* what xvs_worker_init sizes a table by */
	dp->nb_workers = ls->nb;
	dp->steer.nb_workers = ls->nb;
}

int bench_lanes_create(struct lanes *ls, const struct bench_env *env, unsigned nb,
		       uint32_t nb_flows)
{
	static unsigned seq;
	memset(ls, 0, sizeof(*ls));
	ls->env = env;
	ls->nb = nb;
	ls->nb_flows = nb_flows;
	ls->tick_tsc = rte_get_tsc_hz() / 1000; /* the worker loop's tick */
	ls->conn_max = lane_conn_max(lane_flows_max(nb, nb_flows));
	ls->id = seq++; /* rings and pools of sets alive together need names of their own */
	bench_lanes_select(ls);
	ls->dest_of = malloc(nb_flows);
	if (!ls->dest_of)
		return -ENOMEM;
	memset(ls->dest_of, 0xff, nb_flows);
	int rc = alloc_lanes(ls);
	if (rc == 0)
		rc = assign_flows(ls);
	if (rc == 0)
		rc = create_rings(ls);
	if (rc == 0)
		rc = create_pool(ls);
	for (unsigned i = 0; i < nb && rc == 0; i++)
		if (ls->lane[i]->nb_flows == 0)
			rc = -ERANGE;
	if (rc < 0)
		return rc;
	if ((rc = bench_lanes_launch(ls, lane_setup)) < 0 || (rc = bench_lanes_wait(ls)) < 0)
		return rc;
	if ((rc = check_setup(ls)) < 0)
		return rc;
	shuffle_lanes(ls);
	return verify_lanes(ls);
}

int bench_lanes_mix(struct lanes *ls, unsigned pct)
{
	uint64_t x = 0x632be59bd9b4e019ULL;
	for (unsigned k = 0; k < ls->nb; k++) {
		struct lane *l = ls->lane[k];
		if (!l->order_ho && !(l->order_ho = malloc(l->nb_flows * sizeof(uint32_t))))
			return -ENOMEM;
		l->nb_foreign = 0;
		for (uint32_t i = 0; i < l->nb_flows; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t e = l->order[i];
			if (ls->nb > 1 && x % 100 < pct) {
				unsigned other = (k + 1 + (unsigned)((x >> 8) % (ls->nb - 1))) % ls->nb;
				const struct lane *o = ls->lane[other];
				uint32_t f = o->flows[(x >> 24) % o->nb_flows];
				e = ORDER_ENTRY(f, ls->dest_of[f]);
				l->nb_foreign++;
			}
			l->order_ho[i] = e;
		}
	}
	return 0;
}

void bench_lanes_free(struct lanes *ls)
{
	struct xvs_dp *dp = ls->env ? ls->env->dp : NULL;
	for (unsigned i = 0; i < ls->nb; i++) {
		for (unsigned j = 0; j < ls->nb; j++) {
			void *m;
			while (ls->ho[i][j] && rte_ring_sc_dequeue(ls->ho[i][j], &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(ls->ho[i][j]);
		}
	}
	for (unsigned i = 0; i < ls->nb; i++) {
		struct lane *l = ls->lane[i];
		if (!l)
			continue;
		rte_pktmbuf_free_bulk(l->stash, l->nb_stash);
		rte_free(l->conn_mem);
		free(l->flows);
		free(l->order);
		free(l->order_ho);
		rte_free(l);
	}
	rte_mempool_free(ls->pool);
	free(ls->dest_of);
	if (dp) {
		dp->nb_workers = 1;
		dp->steer.nb_workers = 1;
	}
	memset(ls, 0, sizeof(*ls));
}
