/*
 * xvs-bench's one-core part, its setup: the dataplane around the worker (two in-memory
 * ports, routes and static neighbours from bench_dp.c, a generation adopted through the
 * shared-region protocol), the worker and its connection table, the second worker that hands
 * every frame over for the MODE_HANDOFF figures, the frame templates, and a transmit hook
 * that takes the mbufs back for the next burst instead of sending them. Main lcore only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bench_core.h"
#include "bench_dp.h"

struct bench_core B;

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

int bench_core_reset(void)
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
	B.pool = xvs_inproc_pool_create("bench_pool", 1023, 32, (int)rte_socket_id());
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
	return bench_core_reset();
}

void bench_core_handoff(int on)
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

int bench_core_setup(void)
{
	int rc;
	if ((rc = setup_dataplane()) < 0 || (rc = setup_handoff()) < 0)
		return rc;
	build_templates();
	B.next_id = NEW_ID_BASE;
	return 0;
}

void bench_core_teardown(void)
{
	free(B.dest_of);
	free(B.conn_of);
	free(B.order);
	free(B.ring);
	if (B.dp.shm.hdr)
		xvs_shm_close(&B.dp.shm);
}
