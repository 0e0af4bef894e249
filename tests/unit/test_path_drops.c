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
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctl_model.h"
#include "ctl_publish.h"
#include "dp_steer.h"
#include "dp_exc.h"
#include "dp_worker.h"
#include "xvs/gen.h"

#define POOL_SIZE 511
#define CONN_MAX  1024
#define TSC_HZ    1000000000ULL

#define LB_IP  "198.18.0.1"
#define VIP    "198.18.0.100"
#define CLIENT "198.18.0.10"

static const struct rte_ether_addr LB_MAC = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr CLIENT_MAC = { .addr_bytes = { 0x02, 0, 0, 0, 0, 0x0a } };

static struct xvs_dp dp;
static struct rte_mempool *pool;
static struct xvs_gen *gen;
static struct xvs_worker *workers[2];
static char eal_prefix[64];
static char shm_path[128];

/* ---- set-up: EAL in ordinary memory, one port, static neighbours, a generation ------------ */

static uint32_t ip4(const char *s)
{
	uint32_t a;
	cr_assert_eq(inet_pton(AF_INET, s, &a), 1, "address %s", s);
	return a;
}

static void *alloc64(size_t size)
{
	void *p = NULL;
	cr_assert_eq(posix_memalign(&p, 64, size), 0);
	memset(p, 0, size);
	return p;
}

/* EAL makes a runtime directory even without shared files; it holds only ours. */
static void remove_runtime_dir(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", eal_prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char f[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(dir);
}

/* EAL in ordinary memory, no devices, its one lcore on the first CPU we may run on. */
static void start_eal(void)
{
	static char lcores[32];
	cpu_set_t set;
	int cpu = 0;
	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
		cpu++;
	snprintf(lcores, sizeof(lcores), "0@%d", cpu);
	snprintf(eal_prefix, sizeof(eal_prefix), "xvs-unit-path-%d", (int)getpid());
	char *av[] = { "test_path_drops", "--no-huge", "--no-shconf", "-m", "64", "--no-pci",
		       "--no-telemetry", "--file-prefix", eal_prefix, "--lcores", lcores,
		       "--log-level=lib.eal:error", NULL };
	cr_assert_geq(rte_eal_init((int)(sizeof(av) / sizeof(av[0])) - 1, av), 0, "EAL: %s",
		      rte_strerror(rte_errno));
	remove_runtime_dir();
}

static struct xvs_ctl_op svc_op(uint16_t port)
{
	struct xvs_ctl_op op;
	xvs_ctl_op_init(&op, XVS_CTL_OP_ADD_SVC);
	op.svc.addr.v4 = ip4(VIP);
	op.svc.port = port;
	snprintf(op.svc.sched, sizeof(op.svc.sched), "rr");
	return op;
}

static struct xvs_ctl_op dest_op(uint16_t vport, const char *addr, uint16_t port, uint8_t fwd)
{
	struct xvs_ctl_op op = svc_op(vport);
	op.type = XVS_CTL_OP_ADD_DEST;
	op.has_svc = true;
	op.dest.addr.v4 = ip4(addr);
	op.dest.port = port;
	op.dest.fwd = fwd;
	return op;
}

/*
 * The services: VIP:80 NAT to .21:8080, VIP:82 IPIP to .23, VIP:83 NAT to .22:8083, VIP:84 NAT
 * to .24:8084, which is no static neighbour.
 */
static struct xvs_gen *build_gen(void)
{
	struct xvs_ctl_op ops[] = {
		svc_op(80), dest_op(80, "198.18.0.21", 8080, XVS_FWD_MASQ),
		svc_op(82), dest_op(82, "198.18.0.23", 82, XVS_FWD_TUNNEL),
		svc_op(83), dest_op(83, "198.18.0.22", 8083, XVS_FWD_MASQ),
		svc_op(84), dest_op(84, "198.18.0.24", 8084, XVS_FWD_MASQ),
	};
	struct xvs_ctl_model *m = xvs_ctl_model_new(NULL);
	struct xvs_ctl_err err;
	cr_assert_not_null(m);
	cr_assert_eq(xvs_ctl_model_apply(m, ops, sizeof(ops) / sizeof(ops[0]), &err), 0,
		     "op %d: %s", err.index, err.msg);
	struct xvs_gen *g = malloc(sizeof(*g));
	char msg[256];
	cr_assert_not_null(g);
	cr_assert_geq(xvs_ctl_build_gen(m, g, msg, sizeof(msg)), 0, "%s", msg);
	xvs_ctl_model_free(m);
	g->gen = 7;
	xvs_gen_seal(g);
	cr_assert_eq(xvs_gen_validate(g, msg, sizeof(msg)), 0, "%s", msg);
	return g;
}

/* Frames sent, as a NIC's completion frees them; how many the next call takes. */
static unsigned nb_sent;
static unsigned tx_room = ~0u;

static uint16_t tx_some(struct xvs_worker *w, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)w;
	(void)port;
	uint16_t take = n < tx_room ? n : (uint16_t)tx_room;
	for (uint16_t i = 0; i < take; i++)
		rte_pktmbuf_free(pkts[i]);
	nb_sent += take;
	return take;
}

static void setup(void)
{
	start_eal();
	pool = rte_pktmbuf_pool_create("unit_pool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	cr_assert_not_null(pool, "mbuf pool: %s", rte_strerror(rte_errno));
	xvs_rt.pool = pool;
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/xvs-unit-path-%d", (int)getpid());
	int rc = xvs_shm_open(&dp.shm, shm_path, 1);
	unlink(shm_path);
	cr_assert_eq(rc, 0, "shared region: %s", strerror(-rc));
	dp.cfg.conn_max = CONN_MAX;
	dp.tsc_hz = TSC_HZ;
	xvs_nud_cfg_init(&dp.nud, TSC_HZ, 0);
	struct xvs_port *pt = &dp.ports[0];
	snprintf(pt->name, sizeof(pt->name), "p0");
	pt->mac = LB_MAC;
	pt->mac_set = 1;
	pt->addr[0] = ip4(LB_IP);
	pt->plen[0] = 24;
	pt->nb_addrs = 1;
	pt->mtu = 1500;
	dp.nb_ports = 1;
	cr_assert_geq(xvs_route_add(&dp.routes, pt->addr[0], 24, 0, 0), 0);
	dp.neigh = alloc64(sizeof(*dp.neigh));
	static const char *const hosts[] = { CLIENT, "198.18.0.21", "198.18.0.22", "198.18.0.23" };
	static const uint8_t last[] = { 0x0a, 0x15, 0x16, 0x17 };
	for (unsigned i = 0; i < 4; i++) {
		struct rte_ether_addr mac = { .addr_bytes = { 0x02, 0, 0, 0, 0, last[i] } };
		union xvs_ip a = { .d = { ip4(hosts[i]), 0 } };
		cr_assert_geq(xvs_neigh_learn_ip(dp.neigh, 0, XVS_AF_INET, &a, &mac, XVS_NEIGH_CONFIG, 0), 0);
	}
	xvs_steer_seed(&dp.steer, 42);
	gen = build_gen();
}

/* Workers 0..n-1 (n = 2: they hand packets to each other through rings made by the test). */
static void start_workers(unsigned n)
{
	dp.nb_workers = n;
	dp.steer.nb_workers = n;
	for (unsigned i = 0; i < n; i++) {
		workers[i] = alloc64(sizeof(struct xvs_worker));
		void *conn_mem = alloc64(xvs_conn_table_memsize(CONN_MAX));
		cr_assert_eq(xvs_worker_init(workers[i], &dp, i, conn_mem), 0);
		workers[i]->tx = tx_some;
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

static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An Ethernet + IPv4 + TCP SYN frame from CLIENT:cport to dst:dport, checksums right. */
static size_t syn_frame(uint8_t *f, uint16_t cport, const char *dst, uint16_t dport)
{
	memset(f, 0, 54);
	memcpy(f, &LB_MAC, 6);
	memcpy(f + 6, &CLIENT_MAC, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[4] = 0x12;
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	uint32_t s = ip4(CLIENT), d = ip4(dst);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	uint16_t c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	tcp[0] = (uint8_t)(cport >> 8);
	tcp[1] = (uint8_t)cport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 0x77; /* sequence number */
	tcp[12] = 0x50;
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xfa;
	tcp[15] = 0xf0;
	uint32_t ph = csum(ip + 12, 8, 0);
	ph = (uint16_t)~ph + IPPROTO_TCP + 20;
	c = csum(tcp, 20, ph);
	tcp[16] = (uint8_t)(c >> 8);
	tcp[17] = (uint8_t)c;
	return 54;
}

/* frame in an mbuf of the pool, `headroom` bytes in front of it */
static struct rte_mbuf *mbuf_of(const uint8_t *f, size_t len, uint16_t headroom)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	cr_assert_not_null(m);
	m->data_off = headroom;
	m->data_len = m->pkt_len = (uint16_t)len;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), f, len);
	m->port = 0;
	return m;
}

/* One burst of SYNs from client ports cport.. to dst:dport on worker wi, then its queues. */
static void syns(unsigned wi, unsigned n, uint16_t cport, const char *dst, uint16_t dport,
		 uint16_t headroom)
{
	struct rte_mbuf *pkts[XVS_BURST];
	uint8_t f[64];
	cr_assert_leq(n, XVS_BURST);
	for (unsigned i = 0; i < n; i++)
		pkts[i] = mbuf_of(f, syn_frame(f, (uint16_t)(cport + i), dst, dport), headroom);
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

static void all_mbufs_back(void)
{
	cr_assert_eq(rte_mempool_avail_count(pool), POOL_SIZE, "%u of %u mbufs in the pool",
		     rte_mempool_avail_count(pool), POOL_SIZE);
}

TestSuite(path_drops, .init = setup, .timeout = 60);

/* ---- the drops ---------------------------------------------------------------------------- */

Test(path_drops, forwarded_when_nothing_is_short)
{
	start_workers(1);
	syns(0, 4, 40000, VIP, 80, RTE_PKTMBUF_HEADROOM);
	syns(0, 1, 40100, VIP, 82, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 5);
	cr_assert_eq(workers[0]->st->tx_pkts, 5);
	cr_assert_eq(workers[0]->st->conns_new, 5);
	only_drop(0, XVS_DROP_RUNT, 0);
	all_mbufs_back();
}

Test(path_drops, tx_full)
{
	start_workers(1);
	tx_room = 3; /* the queue takes 3 of the 5 NATed SYNs */
	syns(0, 5, 41000, VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 3);
	cr_assert_eq(workers[0]->st->tx_pkts, 3);
	only_drop(0, XVS_DROP_TX_FULL, 2);
	tx_room = 0; /* and then nothing */
	syns(0, 1, 41010, VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 3);
	only_drop(0, XVS_DROP_TX_FULL, 3);
	all_mbufs_back();
}

Test(path_drops, handoff_full)
{
	start_workers(2);
	/* a client port whose connections worker 0 owns, arriving on worker 1 */
	uint16_t cport = 42000;
	while (xvs_steer_owner4(&dp.steer, ip4(CLIENT), htons(cport)) != 0)
		cport++;
	workers[1]->ho_ring[0] = full_ring("unit_ho", 4);
	syns(1, 1, cport, VIP, 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 0);
	cr_assert_eq(workers[1]->st->handoff_out, 0);
	cr_assert_eq(workers[1]->st->conns_new, 0, "the owner schedules it, not worker 1");
	only_drop(1, XVS_DROP_HANDOFF_FULL, 1);
	only_drop(0, XVS_DROP_RUNT, 0);
	all_mbufs_back();
}

Test(path_drops, exception_full)
{
	start_workers(1);
	dp.ports[0].exc = 1; /* exception = yes: a ring to the main lcore, the VIPs known */
	workers[0]->exc_ring = full_ring("unit_exc", 4);
	workers[0]->vips = alloc64(sizeof(*workers[0]->vips));
	/* for an address of the link that nobody serves: the kernel's (no-vip), but no room */
	syns(0, 2, 43000, "198.18.0.200", 80, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 0);
	only_drop(0, XVS_DROP_EXC_FULL, 2);
	/* the VIP's own traffic never goes to the kernel: a port with no service is no-vip */
	syns(0, 1, 43010, VIP, 81, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(drops(0, XVS_DROP_NO_VIP), 1);
	cr_assert_eq(drops(0, XVS_DROP_EXC_FULL), 2);
	all_mbufs_back();
}

Test(path_drops, no_headroom)
{
	start_workers(1);
	/* IPIP's outer header (20 bytes) goes in front of the frame, which moves forward */
	syns(0, 1, 44000, VIP, 82, 0);
	syns(0, 1, 44001, VIP, 82, 18);
	cr_assert_eq(nb_sent, 0);
	cr_assert_eq(workers[0]->st->conns_new, 2);
	only_drop(0, XVS_DROP_NO_HEADROOM, 2);
	/* with 20 bytes of headroom it just fits */
	syns(0, 1, 44002, VIP, 82, 20);
	cr_assert_eq(nb_sent, 1);
	only_drop(0, XVS_DROP_NO_HEADROOM, 2);
	all_mbufs_back();
}

/*
 * Control refuses a NAT server of another family than its service ("Different address family
 * is allowed only for tunneling servers"), but the dataplane's check of a generation does not
 * hold it to that: a generation with one (from a writer of the shared memory other than
 * xvs-control) is adopted, and the packet path drops what it cannot NAT across families.
 */
Test(path_drops, fwd_unsupported)
{
	start_workers(1);
	struct xvs_dest *d = NULL;
	for (uint32_t i = 0; i < gen->nb_dests; i++)
		if (gen->dests[i].state == XVS_SLOT_USED && gen->dests[i].addr.v4 == ip4("198.18.0.22"))
			d = &gen->dests[i];
	cr_assert_not_null(d);
	d->af = XVS_AF_INET6;
	memset(&d->addr, 0, sizeof(d->addr));
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::22", d->addr.v6), 1);
	xvs_gen_seal(gen);
	char msg[256];
	cr_assert_eq(xvs_gen_validate(gen, msg, sizeof(msg)), 0, "%s", msg);
	syns(0, 2, 45000, VIP, 83, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 0);
	cr_assert_eq(workers[0]->st->conns_new, 0);
	only_drop(0, XVS_DROP_FWD_UNSUPPORTED, 2);
	all_mbufs_back();
}

/* The hold queue's timer: a frame waits a second for its next hop's answer, then it goes. */
Test(path_drops, neigh_unresolved_after_a_second)
{
	start_workers(1);
	struct xvs_worker *w = workers[0];
	syns(0, 1, 46000, VIP, 84, RTE_PKTMBUF_HEADROOM);
	cr_assert_eq(nb_sent, 1, "one ARP request for 198.18.0.24");
	cr_assert_eq(w->nb_held, 1);
	w->now_tsc = w->start_tsc + TSC_HZ / 2;
	xvs_worker_tick(w, gen);
	cr_assert_eq(w->nb_held, 1, "still waiting after half a second");
	only_drop(0, XVS_DROP_NEIGH_UNRESOLVED, 0);
	w->now_tsc = w->start_tsc + TSC_HZ + TSC_HZ / 10;
	xvs_worker_tick(w, gen);
	cr_assert_eq(w->nb_held, 0);
	only_drop(0, XVS_DROP_NEIGH_UNRESOLVED, 1);
	cr_assert_eq(w->st->conns_new, 1);
	xvs_worker_flush(w); /* the ARP requests the ticks sent */
	all_mbufs_back();
}
