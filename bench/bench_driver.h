/*
 * Driver mode (bench_driver.c): the lanes' workers run the real xvs_worker_loop, with
 * rte_eth_rx_burst and rte_eth_tx_burst on two net_ring ports (rte_eth_from_rings), set up
 * by the dataplane's own port code. Feeders on other CPUs play the wire and the NIC: they
 * write frames into mbufs of a pool that cycles at least 4K of them, enqueue them on the
 * ports' receive rings, take what the workers transmit off the transmit rings and free it
 * to the pool. The same feeders with dpdk-testpmd's io forwarding in place of xvs (receive
 * burst, transmit burst to the other port, nothing touched) give the limit of that loop.
 * Main lcore only; the feeders and workers run on the lanes' lcores and those after them.
 */
#ifndef XVS_BENCH_DRIVER_H
#define XVS_BENCH_DRIVER_H

#include "bench_lanes.h"

/* What to forward: xvs's packet path, or io forwarding (the limit). */
enum drv_engine { DRV_XVS, DRV_IO };

/* One figure, o.runs measurements: rates per second of wall clock. */
struct drv_figure {
	struct sample all;                     /* Mpps forwarded by all workers together */
	struct sample per[XVS_MAX_LCORES];     /* by worker (the transmit queue it left by) */
	double on_cpu;                         /* the workers' CPU time over wall time */
	double feeder_on_cpu;                  /* the feeders' */
	double handoff;                        /* share of frames handed between workers */
	double rx_fill;  /* mean receive ring occupancy, of its size: near 1, the workers are the
			  * bottleneck; near 0, the feeders are */
};

/* Two net_ring ports with nb_queues queues each, started. Once, before any driver figure. */
int bench_driver_init(struct xvs_dp *dp, unsigned nb_queues);
void bench_driver_close(struct xvs_dp *dp);

/*
 * Feed the lanes' flows (dir; mixed: order_ho, with hand-offs) to ls->nb workers and measure
 * o.runs times; checks that every frame was forwarded, out of the right port, first one
 * frame (both ways for xvs) against what the path must do. Needs 2 * ls->nb lcores after
 * the main one... minus one: the main lcore feeds queue 0.
 */
int bench_driver_figure(struct lanes *ls, enum drv_engine eng, enum dir dir, int mixed,
			struct drv_figure *out);

#endif
