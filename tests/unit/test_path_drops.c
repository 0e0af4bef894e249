/*
 * The packet path's drops that a golden case (a net_pcap port, docs/testing-golden.md) cannot
 * provoke, because they need a resource that a pcap run never runs out of:
 *
 *   tx-full          the port's transmit queue takes fewer frames than it is given
 *   handoff-full     the ring to the worker that owns a connection is full
 *   exception-full   the ring from a worker to the exception path is full
 *   no-headroom      a frame whose buffer has no room in front for a tunnel's outer headers
 *   fwd-unsupported  a real server whose family its forwarding method cannot carry
 *   neigh-unresolved a frame held for a next hop that does not answer ARP within a second
 *                    (a golden run ends 500 ms after its last frame and never waits)
 *
 * A real worker (dataplane/dp_worker.c and what it calls) processes real frames in real mbufs,
 * as xvs-dataplane's loop does; only what a pcap port never does is arranged: the transmit
 * function (the worker's own w->tx, which xvs-dataplane points at rte_eth_tx_burst) takes
 * fewer frames, a ring is full, a buffer has no headroom. The generation is built by control's
 * own code (xvs_ctl_build_gen) and accepted by the dataplane's check (xvs_gen_validate). Each
 * test asserts the drop counter, what was sent, and that every mbuf went back to its pool.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ring.h>

#include "dp_exc.h"
#include "dp_steer.h"
#include "worker_harness.h"

#define POOL_SIZE 511

static struct xvs_gen *gen;
static struct xvs_worker *workers[2];

/*
 * The services: VIP:80 NAT to .21:8080, VIP:82 IPIP to .23, VIP:83 NAT to .22:8083, VIP:84 NAT
 * to .24:8084, which is no static neighbour.
 */
static struct xvs_gen *build_gen(void)
{
	struct xvs_ctl_op ops[] = {
		wh_svc_op(IPPROTO_TCP, 80, 0),
		wh_dest_op(IPPROTO_TCP, 80, "198.18.0.21", 8080, XVS_FWD_MASQ),
		wh_svc_op(IPPROTO_TCP, 82, 0),
		wh_dest_op(IPPROTO_TCP, 82, "198.18.0.23", 82, XVS_FWD_TUNNEL),
		wh_svc_op(IPPROTO_TCP, 83, 0),
		wh_dest_op(IPPROTO_TCP, 83, "198.18.0.22", 8083, XVS_FWD_MASQ),
		wh_svc_op(IPPROTO_TCP, 84, 0),
		wh_dest_op(IPPROTO_TCP, 84, "198.18.0.24", 8084, XVS_FWD_MASQ),
	};
	struct xvs_gen *g = wh_gen_build(ops, sizeof(ops) / sizeof(ops[0]));
	g->gen = 7;
	wh_gen_seal(g);
	return g;
}

/* ---- set-up: EAL in ordinary memory, one port, static neighbours, a generation ------------ */

static void setup(void)
{
	wh_start("path_drops", POOL_SIZE);
	wh_neigh(WH_CLIENT, 0x0a);
	wh_neigh("198.18.0.21", 0x15);
	wh_neigh("198.18.0.22", 0x16);
	wh_neigh("198.18.0.23", 0x17);
	xvs_steer_seed(&wh_dp.steer, 42);
	gen = build_gen();
}

/* Workers 0..n-1 (n = 2: they hand packets to each other through rings made by the test). */
static void start_workers(unsigned n)
{
	wh_dp.nb_workers = n;
	wh_dp.steer.nb_workers = n;
	for (unsigned i = 0; i < n; i++) {
		workers[i] = wh_worker(i);
		if (n > 1)
			workers[i]->others = calloc(XVS_MAX_DESTS, sizeof(*workers[i]->others));
	}
}

/* A ring that holds nothing more: `size` - 1 entries already in it. */
static struct rte_ring *full_ring(const char *name, unsigned size)
{
	static int token;
	struct rte_ring *r = rte_ring_create(name, size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert_not_null(r, "ring: %s", rte_strerror(rte_errno));
	while (rte_ring_sp_enqueue(r, &token) == 0)
		;
	cr_assert_eq(rte_ring_free_count(r), 0);
	return r;
}

/* ---- frames ----------------------------------------------------------------------------- */

/* An Ethernet + IPv4 + TCP SYN frame from CLIENT:cport to dst:dport, checksums right. */
static size_t syn_frame(uint8_t *f, uint16_t cport, const char *dst, uint16_t dport)
{
	return wh_tcp_frame(f, &(struct wh_tcp){ .dst = dst, .cport = cport, .dport = dport,
						 .flags = 0x02 /* SYN */, .seq = 0x77, .win = 0xfaf0,
						 .ip_id = 0x1200, .df = 1 });
}

/* One burst of SYNs from client ports cport.. to dst:dport on worker wi, then its queues. */
static void syns(unsigned wi, unsigned n, uint16_t cport, const char *dst, uint16_t dport,
		 uint16_t headroom)
{
	struct rte_mbuf *pkts[XVS_BURST];
	uint8_t f[64];
	cr_assert_leq(n, XVS_BURST);
	for (unsigned i = 0; i < n; i++)
		pkts[i] = wh_mbuf(f, syn_frame(f, (uint16_t)(cport + i), dst, dport), headroom);
	xvs_worker_process(workers[wi], gen, 0, pkts, (uint16_t)n);
	xvs_worker_flush(workers[wi]);
}

static uint64_t drops(unsigned wi, enum xvs_drop d)
{
	return workers[wi]->st->drops[d];
}

/* No drop but `d` (count `n`) on worker wi. */
static void only_drop(unsigned wi, enum xvs_drop d, uint64_t n)
{
	for (unsigned i = 0; i < XVS_DROP_MAX; i++)
		cr_assert_eq(drops(wi, (enum xvs_drop)i), i == (unsigned)d ? n : 0, "drop %s: %llu",
			     xvs_drop_names[i], (unsigned long long)drops(wi, (enum xvs_drop)i));
}

TestSuite(path_drops, .init = setup, .timeout = 60);

/* ---- the drops ---------------------------------------------------------------------------- */

Test(path_drops, forwarded_when_nothing_is_short)
{
	start_workers(1);
	syns(0, 4, 40000, WH_VIP, 80, RTE_PKTMBUF_HEADROOM);
	syns(0, 1, 40100, WH_VIP, 82, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 5);
	cr_assert_eq(workers[0]->st->tx_pkts, 5);
	cr_assert_eq(workers[0]->st->conns_new, 5);
	only_drop(0, XVS_DROP_RUNT, 0);
	wh_all_mbufs_back();
}

Test(path_drops, tx_full)
{
	start_workers(1);
	wh_tx_room = 3; /* the queue takes 3 of the 5 NATed SYNs */
	syns(0, 5, 41000, WH_VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 3);
	cr_assert_eq(workers[0]->st->tx_pkts, 3);
	only_drop(0, XVS_DROP_TX_FULL, 2);
	wh_tx_room = 0; /* and then nothing */
	syns(0, 1, 41010, WH_VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 3);
	only_drop(0, XVS_DROP_TX_FULL, 3);
	wh_all_mbufs_back();
}

Test(path_drops, handoff_full)
{
	start_workers(2);
	/* a client port whose connections worker 0 owns, arriving on worker 1 */
	uint16_t cport = 42000;
	while (xvs_steer_owner4(&wh_dp.steer, wh_ip4(WH_CLIENT), htons(cport)) != 0)
		cport++;
	workers[1]->ho_ring[0] = full_ring("unit_ho", 4);
	syns(1, 1, cport, WH_VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 0);
	cr_assert_eq(workers[1]->st->handoff_out, 0);
	cr_assert_eq(workers[1]->st->conns_new, 0, "the owner schedules it, not worker 1");
	only_drop(1, XVS_DROP_HANDOFF_FULL, 1);
	only_drop(0, XVS_DROP_RUNT, 0);
	wh_all_mbufs_back();
}

Test(path_drops, exception_full)
{
	start_workers(1);
	wh_dp.ports[0].exc = 1; /* exception = yes: a ring to the main lcore, the VIPs known */
	workers[0]->exc_ring = full_ring("unit_exc", 4);
	workers[0]->vips = wh_alloc64(sizeof(*workers[0]->vips));
	/* for an address of the link that nobody serves: the kernel's (no-vip), but no room */
	syns(0, 2, 43000, "198.18.0.200", 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 0);
	only_drop(0, XVS_DROP_EXC_FULL, 2);
	/* the VIP's own traffic never goes to the kernel: a port with no service is no-vip */
	syns(0, 1, 43010, WH_VIP, 81, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(drops(0, XVS_DROP_NO_VIP), 1);
	cr_assert_eq(drops(0, XVS_DROP_EXC_FULL), 2);
	wh_all_mbufs_back();
}

Test(path_drops, no_headroom)
{
	start_workers(1);
	/* IPIP's outer header (20 bytes) goes in front of the frame, which moves forward */
	syns(0, 1, 44000, WH_VIP, 82, 0);
	syns(0, 1, 44001, WH_VIP, 82, 18);
	cr_assert_eq(wh_nb_sent, 0);
	cr_assert_eq(workers[0]->st->conns_new, 2);
	only_drop(0, XVS_DROP_NO_HEADROOM, 2);
	/* with 20 bytes of headroom it just fits */
	syns(0, 1, 44002, WH_VIP, 82, 20);
	cr_assert_eq(wh_nb_sent, 1);
	only_drop(0, XVS_DROP_NO_HEADROOM, 2);
	wh_all_mbufs_back();
}

/*
 * Control refuses a NAT server of another family than its service ("Different address family
 * is allowed only for tunneling servers"), and so does the dataplane's check of a generation
 * (xvs_gen_validate): such a generation is never adopted. The packet path keeps its own check
 * all the same: given one, it drops what it cannot NAT across families.
 */
Test(path_drops, fwd_unsupported)
{
	start_workers(1);
	struct xvs_dest *d = NULL;
	for (uint32_t i = 0; i < gen->nb_dests; i++)
		if (gen->dests[i].state == XVS_SLOT_USED && gen->dests[i].addr.v4 == wh_ip4("198.18.0.22"))
			d = &gen->dests[i];
	cr_assert_not_null(d);
	d->af = XVS_AF_INET6;
	memset(&d->addr, 0, sizeof(d->addr));
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::22", d->addr.v6), 1);
	xvs_gen_seal(gen);
	char msg[256];
	cr_assert_neq(xvs_gen_validate(gen, msg, sizeof(msg)), 0);
	cr_assert(strstr(msg, "another address family"), "%s", msg);
	syns(0, 2, 45000, WH_VIP, 83, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 0);
	cr_assert_eq(workers[0]->st->conns_new, 0);
	only_drop(0, XVS_DROP_FWD_UNSUPPORTED, 2);
	wh_all_mbufs_back();
}

/* The hold queue's timer: a frame waits a second for its next hop's answer, then it goes. */
Test(path_drops, neigh_unresolved_after_a_second)
{
	start_workers(1);
	struct xvs_worker *w = workers[0];
	syns(0, 1, 46000, WH_VIP, 84, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(wh_nb_sent, 1, "one ARP request for 198.18.0.24");
	cr_assert_eq(w->nb_held, 1);
	w->now_tsc = w->start_tsc + WH_TSC_HZ / 2;
	xvs_worker_tick(w, gen);
	cr_assert_eq(w->nb_held, 1, "still waiting after half a second");
	only_drop(0, XVS_DROP_NEIGH_UNRESOLVED, 0);
	w->now_tsc = w->start_tsc + WH_TSC_HZ + WH_TSC_HZ / 10;
	xvs_worker_tick(w, gen);
	cr_assert_eq(w->nb_held, 0);
	only_drop(0, XVS_DROP_NEIGH_UNRESOLVED, 1);
	cr_assert_eq(w->st->conns_new, 1);
	xvs_worker_flush(w); /* the ARP requests the ticks sent */
	wh_all_mbufs_back();
}
