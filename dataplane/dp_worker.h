/* The packet path: per-burst processing and the worker loop (worker lcores). */
#ifndef XVS_DP_WORKER_H
#define XVS_DP_WORKER_H

#include <stdatomic.h>

#include <rte_mempool.h>

#include "dp.h"

/* Set by the signal handler; every loop stops when it is. */
extern volatile int xvs_quit;

/* Process-wide things a worker needs besides struct xvs_dp. */
struct xvs_dp_runtime {
	struct rte_mempool *pool;      /* the main lcore's node's; xvs_worker_init gives it to w->pool */
	void (*housekeeping)(void);    /* main duties run by worker 0 when it is the main lcore */
	_Atomic uint64_t last_rx_tsc;  /* for --idle-exit */
};
extern struct xvs_dp_runtime xvs_rt;

/* Set up worker idx; conn_mem holds xvs_conn_table_memsize(dp->cfg.conn_max) zeroed bytes. */
int xvs_worker_init(struct xvs_worker *w, struct xvs_dp *dp, unsigned idx, void *conn_mem);

/*
 * Run n (<= XVS_BURST) received frames of port in_port through the packet path on
 * generation g (may be NULL before the first one). Frames end up queued for transmission
 * or freed and counted. Worker lcore only.
 */
void xvs_worker_process(struct xvs_worker *w, const struct xvs_gen *g, uint16_t in_port,
			struct rte_mbuf **pkts, uint16_t n);

/*
 * Take what other workers handed over (dp_steer.h), at most one burst from each (bounded
 * work), and run it through the packet path as if received here, in runs of the same input
 * port. Returns the number of packets taken. Worker lcore only.
 */
unsigned xvs_worker_drain(struct xvs_worker *w, const struct xvs_gen *g);

/* Transmit everything queued. Worker lcore only. */
void xvs_worker_flush(struct xvs_worker *w);

/*
 * Periodic work: clock, expiry sweep, neighbour probes. Worker lcore only, except the main
 * lcore's own context (idx XVS_WORKER_MAIN), whose tick only probes and transmits.
 */
void xvs_worker_tick(struct xvs_worker *w, const struct xvs_gen *g);

/* lcore entry point: poll every port's queue w->idx until xvs_quit. */
int xvs_worker_loop(void *arg);

#endif
