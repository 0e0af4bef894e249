/*
 * Lanes: several xvs workers, each on an EAL lcore (a CPU) of its own, with its own
 * connection table, its own flows and its own mbufs (bench_lanes.c). A flow belongs to the
 * worker the dataplane's steering hash names for its client, as in xvs-dataplane, so the
 * tables hold disjoint flows and a reply that reaches another worker is handed to the owner
 * over the real hand-off rings. Jobs run on every lane at once; the driver figures
 * (bench_driver.c) run their own jobs on the same lanes.
 *
 * The main lcore creates, launches and frees; a lane's fields belong to its lcore while a
 * job runs, and to the main lcore between jobs.
 */
#ifndef XVS_BENCH_LANES_H
#define XVS_BENCH_LANES_H

#include <stdatomic.h>

#include <rte_common.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bench_report.h"
#include "bench_scale.h"
#include "dp_worker.h"

#define LANE_STASH (4 * XVS_BURST)

struct lanes;

/* What a lane measured in its last job. */
struct lane_result {
	uint64_t count;  /* frames received, or connections made, while timed */
	uint64_t turns;    /* turns of a mixed run */
	uint64_t wait_tsc; /* TSC cycles of the timed part, and those spent without input */
	uint64_t run_tsc;  /* because the owner was behind (bench_lane_ho_busy) */
	struct meter_reading r;
	int rc;          /* 0, or a negative errno when the job failed */
};

struct lane {
	struct xvs_worker w;       /* first, so the transmit hook finds its lane */
	struct lanes *set;
	unsigned idx;              /* worker index: steering owner, stats, queues */
	unsigned lcore;
	void *conn_mem;
	size_t conn_size;
	uint32_t *flows;           /* the flows this worker owns */
	uint32_t nb_flows;
	uint32_t *order;           /* its own flows in a random order, ORDER_ENTRY */
	uint32_t *order_ho;        /* the same with a share of other workers' flows (NULL: none) */
	uint64_t nb_foreign;       /* entries of order_ho that belong to another worker */
	xvs_tx_fn eth_tx;          /* the real transmit (rte_eth_tx_burst), for driver runs */
	uint64_t tx[2];            /* frames transmitted per port */
	unsigned nb_stash;         /* mbufs handed back by the transmit hook, for the next burst */
	struct rte_mbuf *stash[LANE_STASH];
	int learn;                 /* the transmit hook records each flow's destination */
	int paused;                /* mixed runs: its hand-off rings were three quarters full */
	struct lane_result res;
} __rte_cache_aligned;

typedef int (*lane_job_fn)(struct lane *l);

/* nb lanes over nb_flows flows. */
struct lanes {
	const struct bench_env *env;
	unsigned nb;
	uint32_t nb_flows;
	uint32_t conn_max;           /* each lane's table capacity */
	uint64_t tick_tsc;
	struct rte_mempool *pool;    /* the lanes' mbufs, shared by all */
	uint8_t *dest_of;            /* by flow id: its destination, as seen leaving */
	struct lane *lane[XVS_MAX_LCORES];
	struct rte_ring *ho[XVS_MAX_LCORES][XVS_MAX_LCORES]; /* hand-off, lane i to lane j */
	/* the job running now, and its parameters */
	lane_job_fn job;
	enum dir dir;
	int mixed;                   /* receive order_ho instead of order */
	_Atomic unsigned ready;      /* lanes at the start line */
	_Atomic unsigned finished;   /* lanes past their timed part */
	_Atomic unsigned done;       /* lanes whose job returned */
	_Atomic int stop;            /* ask untimed loops (io forwarding) to stop */
	unsigned id;                 /* names its rings and pool */
};

/* EAL memory that nb lanes over nb_flows flows take at most (tables, for bench_scale_memsize). */
size_t bench_lanes_memsize(unsigned nb, uint32_t nb_flows);

/*
 * Create nb lanes (lcores 1..nb) over flows 0..nb_flows-1, each with the flows it owns,
 * build and establish every lane's table (in parallel), learn each flow's destination from
 * the frames, and check that every lane forwards (and hands over). Main lcore.
 */
int bench_lanes_create(struct lanes *ls, const struct bench_env *env, unsigned nb,
		       uint32_t nb_flows);
void bench_lanes_free(struct lanes *ls);

/* Make the dataplane's worker count and table size this set's, before running its jobs. */
void bench_lanes_select(struct lanes *ls);

/* Each lane's order_ho: pct percent of its entries replaced by other lanes' flows. */
int bench_lanes_mix(struct lanes *ls, unsigned pct);

/* Run fn on every lane's lcore; they pass a start line together. Main lcore. */
int bench_lanes_launch(struct lanes *ls, lane_job_fn fn);
/* Sleep until every lane's job has returned; the first failure, or 0. Main lcore. */
int bench_lanes_wait(struct lanes *ls);
/* Sleep while fewer than `n` of the lanes' jobs have returned (main lcore); pump runs meanwhile. */
void bench_lanes_wait_done(struct lanes *ls, unsigned n, void (*pump)(void *), void *arg);

/* Jobs: frames of the lanes' flows in ls->dir for o.seconds (ls->mixed: with hand-offs). */
int bench_lane_flows(struct lane *l);
/* Jobs: new connections, the lane's flows into its emptied table, for o.seconds at least. */
int bench_lane_fill(struct lane *l);

/*
 * A hand-off ring from this lane is three quarters full. Its input then pauses for a turn:
 * the figures are rates without loss, where a worker that falls behind slows the others
 * instead of making them drop (XVS_DROP_HANDOFF_FULL) what it cannot take. (The driver's
 * feeders keep their own, stricter rule: a whole receive ring may be in flight.)
 */
int bench_lane_ho_busy(const struct lane *l);

/* Sum of a lane's drop counters. */
uint64_t bench_lane_drops(const struct lane *l);
/* Print the drop reasons of all lanes to stderr; returns -EIO. */
int bench_lanes_report_drops(const struct lanes *ls, const char *what);

#endif
