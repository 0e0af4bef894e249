/*
 * xvs-bench's one-core part: one worker on the main lcore over prebuilt mbufs, the state it
 * shares between its setup (bench_core_setup.c), its traffic loops (bench_core_traffic.c)
 * and its checks, figures and report (xvs_bench.c). Main lcore only.
 */
#ifndef XVS_BENCH_CORE_H
#define XVS_BENCH_CORE_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bench_eal.h"
#include "bench_frames.h"
#include "bench_opts.h"
#include "dp.h"
#include "dp_worker.h"

#define SPARE_MAX (4 * XVS_BURST)
#define EMPTY_SLOT UINT32_MAX
#define NEW_ID_BASE (1ULL << 30) /* fresh 5-tuples for new connections start here */

/* MODE_HANDOFF: a second worker receives, misses and hands every frame to the owner (B.w). */
enum mode { MODE_RESTORE, MODE_PASS, MODE_WORKER, MODE_HANDOFF };

/* Written and read by the main lcore alone; the scale part reads o, cpus, dp and templates. */
struct bench_core {
	struct bench_opts o;
	struct bench_cpus cpus;
	struct xvs_dp dp;
	struct xvs_worker *w;
	struct xvs_worker *w2;             /* MODE_HANDOFF's receiving worker (empty table) */
	struct rte_ring *ho;               /* w2 -> w */
	void *conn_mem;
	size_t conn_size;
	struct rte_mempool *pool;
	struct rte_mbuf *spare[SPARE_MAX]; /* mbufs handed back by the transmit hook */
	unsigned nb_spare;
	uint64_t tx[2];                    /* frames handed to the transmit hook per port */
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
	char prefix[XVS_INPROC_PREFIX_MAX];
};

/*
 * The one instance (bench_core_setup.c). Its short name breaks the prefix habit on purpose:
 * xvs-bench is a program of its own, and every line of the one-core part reads it.
 */
extern struct bench_core B;

/* ---- setup (bench_core_setup.c), after EAL init -------------------------------------- */

/* The dataplane, the worker on an empty table, the hand-off worker and the frame templates. */
int bench_core_setup(void);
/* Fresh worker on an empty table (untimed: the memset touches the whole table). */
int bench_core_reset(void);
/* Switch the hand-off between B.w2 and B.w on (for MODE_HANDOFF figures) or off. */
void bench_core_handoff(int on);
/* Free what bench_core_setup allocated outside EAL memory and close the shared region. */
void bench_core_teardown(void);

/* ---- traffic (bench_core_traffic.c) ----------------------------------------------------- */

/* Run one frame of flow f through the worker; return it as transmitted, or NULL. */
struct rte_mbuf *bench_core_process_one(const struct tmpl *t, uint16_t in_port, uint64_t f,
					uint16_t *out);
/* SYNs for fresh flows [first, first + count) through the worker. */
void bench_core_send_syns(uint64_t first, uint64_t count);
/* One ACK for each of the flows [0, nb): moves them to ESTABLISHED. */
int bench_core_establish(uint32_t nb);
/* Find every flow's connection: its entry (for churn) and destination (for replies). */
int bench_core_map_flows(uint32_t nb);
/* Random order of the flows (fixed seed: runs compare). */
void bench_core_shuffle(uint32_t nb);
/* Frames of the established flows, in B.order, for o.seconds. Returns the frame count. */
uint64_t bench_core_run_flows(enum mode mode, enum dir dir, uint32_t nb);
/* New connections, a constant number of them live, for o.seconds. Returns the SYN count. */
uint64_t bench_core_run_churn(void);
/* Established c->s frames of the nb flows, a spoofed SYN after each, for o.seconds.
 * Returns the established frames; *syns gets the SYNs. */
uint64_t bench_core_run_synflood(uint32_t nb, uint64_t *syns);

#endif
