/*
 * xvs-bench: throughput of the packet path on one core, without a NIC. It runs the real
 * worker pipeline (xvs_worker_process + xvs_worker_flush, generation hand-over, ticks) over
 * prebuilt mbufs: two in-memory ports, routes and static neighbours for the client and
 * real-server networks, a generation adopted through the shared-region protocol, and a
 * transmit hook that takes the mbufs back for the next burst instead of sending them.
 * One service per forwarding method (NAT, DR, IPIP and GUE tunnels) and family (IPv4,
 * IPv6), each measured on a table of its own flows. docs/performance.md says how to read
 * the figures.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_csum.h"
#include "dp_worker.h"
#include "xvs/gen.h"
#include "xvs/sched.h"

#define FRAME_LEN 60      /* minimum Ethernet frame without FCS: 54 bytes of headers + pad */
#define TMPL_LEN 64       /* bytes restored before every pass: the headers and the pad */
#define FRAME6_LEN 74     /* IPv6: 14 + 40 + 20, no pad */
#define TMPL6_LEN 80      /* IPv6 bytes restored (a multiple of 16 covering the frame) */
#define L3_OFF 14
#define L4_OFF 34
#define L4_OFF6 54
#define NB_DESTS 16
#define MAX_RUNS 64
#define SPARE_MAX (4 * XVS_BURST)
#define EMPTY_SLOT UINT32_MAX
#define HUGE_DIR "/mnt/xvs-huge"
#define HUGETLBFS_MAGIC 0x958458f6
#define NEW_ID_BASE (1ULL << 30) /* fresh 5-tuples for new connections start here */
/* B.order entries: flow id and its destination, so the timed loop reads one array in sequence */
#define ORDER_FLOW(e) ((e) & 0xffffff)
#define ORDER_DEST(e) ((e) >> 24)

/* Addresses (host order): clients behind a router on port 0, real servers on port 1. */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define VIP IP4(203, 0, 113, 10) /* the NAT service's; service k has VIP + k */
#define VPORT 80
#define RS_PORT 8080 /* NAT; DR and tunnels keep the virtual port */
#define GUE_PORT 6080
#define TUN_SRC IP4(172, 17, 0, 0) /* /16: tunnels' outer sources, one per flow */
#define TUN_SRC_LEN 16
#define PORT_MTU 1500
#define PORT0_ADDR IP4(198, 18, 0, 1)
#define GW_ADDR IP4(198, 18, 0, 254)
#define PORT1_ADDR IP4(172, 16, 0, 1)
#define RS_BASE IP4(172, 16, 1, 0)
#define CLIENT_NET IP4(10, 64, 0, 0) /* /10, routed via GW_ADDR */
#define CLIENT_HOSTS ((1u << 22) - 2)
/*
 * IPv6 (2001:db8:G::L, see ip6()): port 0 2001:db8:1::1/64 with the gateway ::fe, port 1
 * 2001:db8:2::1/64 with the real servers, clients in 2001:db8:40::/64 via the gateway (the
 * low 32 bits of a client are its IPv4 twin's address), service k's VIP 2001:db8:10::1k.
 */
#define NET6_PORT0 1
#define NET6_PORT1 2
#define NET6_VIP 0x10
#define NET6_CLIENT 0x40
#define HOST6_GW 0xfe
#define HOST6_RS 0x100

/* MODE_HANDOFF: a second worker receives, misses and hands every frame to the owner (B.w). */
enum mode { MODE_RESTORE, MODE_PASS, MODE_WORKER, MODE_HANDOFF };
enum dir { DIR_CS, DIR_SC }; /* client -> server (port 0 in), server -> client (port 1 in) */
/* The services, one per forwarding method and family; service k owns destination slots
 * k * NB_DESTS.. (a slot fits the 8 bits of ORDER_DEST) */
enum svc_kind { SVC_NAT, SVC_DR, SVC_IPIP, SVC_GUE, SVC_NAT6, SVC_DR6, SVC_IPIP6, SVC_GUE6, NB_SVCS };
_Static_assert(NB_SVCS * NB_DESTS <= 256, "destination slots must fit ORDER_DEST");

static inline int svc_is6(enum svc_kind k)
{
	return k >= SVC_NAT6;
}

struct opts {
	uint32_t flows;
	double seconds;
	unsigned burst;
	unsigned runs;
	uint32_t conn_max;
	int huge;     /* 1 on, 0 off, -1 when free hugepages allow */
	int core;     /* -1: the core we started on */
	const char *only; /* run just this figure (profiling), NULL: all */
};

/*
 * A frame's first TMPL_LEN (IPv6: TMPL6_LEN) bytes with the client's address (IPv6: its low
 * 32 bits) and port zero; flows patch them in.
 */
struct tmpl {
	uint8_t hdr[TMPL6_LEN];
	uint8_t ip_off;   /* where the client's address goes */
	uint8_t port_off; /* where the client's port goes */
	uint16_t ip_csum; /* checksums as computed with both zero (IPv6: no header checksum) */
	uint16_t l4_csum;
	uint8_t is6;
};

struct sample {
	double v[MAX_RUNS];
	unsigned n;
	long preempt; /* involuntary context switches while measuring: other load on our core */
	double cpu;   /* seconds on the CPU and of wall clock while measuring */
	double wall;
};

/* Start of one measurement: rates are counted per second of this thread's CPU time. */
struct meter {
	uint64_t cpu_ns;
	uint64_t tsc;
	long preempt;
};

static struct {
	struct opts o;
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

static const struct rte_ether_addr port_mac[2] = {
	{ .addr_bytes = { 0x02, 0, 0, 0, 0x00, 0x01 } },
	{ .addr_bytes = { 0x02, 0, 0, 0, 0x01, 0x01 } },
};
static const struct rte_ether_addr gw_mac = { .addr_bytes = { 0x02, 0, 0, 0, 0x00, 0xfe } };

static void on_signal(int sig)
{
	(void)sig;
	xvs_quit = 1;
}

static struct rte_ether_addr rs_mac(unsigned i)
{
	return (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 0x02, (uint8_t)i } };
}

static uint32_t rs_addr(unsigned i)
{
	return rte_cpu_to_be_32(RS_BASE + 1 + i);
}

/* 2001:db8:<group>::<low>, low as the address's last 32 bits. */
static union xvs_ip ip6(uint16_t group, uint32_t low_be)
{
	union xvs_ip a = { .d = { 0, 0 } };
	a.v6[0] = 0x20;
	a.v6[1] = 0x01;
	a.v6[2] = 0x0d;
	a.v6[3] = 0xb8;
	a.v6[4] = (uint8_t)(group >> 8);
	a.v6[5] = (uint8_t)group;
	memcpy(&a.v6[12], &low_be, 4);
	return a;
}

static union xvs_ip rs_addr6(unsigned i)
{
	return ip6(NET6_PORT1, rte_cpu_to_be_32(HOST6_RS + 1 + i));
}

/* Flow ids map to distinct (client address, client port) pairs: 16384 ports per address. */
static inline uint32_t flow_ip(uint64_t f)
{
	return rte_cpu_to_be_32(CLIENT_NET + 1 + (uint32_t)((f >> 14) % CLIENT_HOSTS));
}

static inline uint16_t flow_port(uint64_t f)
{
	return rte_cpu_to_be_16((uint16_t)(1024 + (f & 0x3fff)));
}

/* ---- options ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xvs-bench [--flows N] [--seconds S] [--runs R] [--burst B] [--conn-max N]\n"
		"                 [--huge | --no-huge] [--core C]\n"
		"  --flows N     connections of the large case (default 1000000; 1 flow is always run)\n"
		"  --seconds S   seconds per measurement (default 1)\n"
		"  --runs R      measurements per figure, shown as min/median/max (default 3)\n"
		"  --burst B     frames per burst, 1..%u (default %u)\n"
		"  --conn-max N  connection table capacity, a power of two (default 2097152)\n"
		"  --huge        take memory from hugepages in %s (default: when enough are free)\n"
		"  --no-huge     take memory from ordinary pages\n"
		"  --core C      run on core C (default: the core it starts on)\n"
		"  --only NAME   just one figure, for profiling: restore, pass-cs, nat-cs, pass-sc,\n"
		"                nat-sc, churn, dr-cs, ipip-cs, gue-cs, and over IPv6 pass6-cs,\n"
		"                nat6-cs, pass6-sc, nat6-sc, dr6-cs, ipip6-cs, gue6-cs, and the\n"
		"                hand-off between two workers nat-cs-ho, nat-sc-ho; on the\n"
		"                --flows table only (the fill is always run)\n",
		XVS_BURST, XVS_BURST, HUGE_DIR);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "flows", required_argument, NULL, 'f' }, { "seconds", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' }, { "burst", required_argument, NULL, 'b' },
		{ "conn-max", required_argument, NULL, 'c' }, { "huge", no_argument, NULL, 'H' },
		{ "no-huge", no_argument, NULL, 'N' }, { "core", required_argument, NULL, 'C' },
		{ "only", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	*o = (struct opts){ .flows = 1000000, .seconds = 1.0, .burst = XVS_BURST, .runs = 3,
			    .conn_max = 1u << 21, .huge = -1, .core = -1 };
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': o->seconds = strtod(optarg, NULL); break;
		case 'r': o->runs = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': o->burst = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'c': o->conn_max = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'H': o->huge = 1; break;
		case 'N': o->huge = 0; break;
		case 'C': o->core = atoi(optarg); break;
		case 'O': o->only = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc || o->flows < 1 || o->seconds <= 0 || o->runs < 1 || o->runs > MAX_RUNS ||
	    o->burst < 1 || o->burst > XVS_BURST || o->conn_max < 64 || o->conn_max > (1u << 24) ||
	    (o->conn_max & (o->conn_max - 1)) || o->flows > o->conn_max - 2 * XVS_BURST) {
		fprintf(stderr, "xvs-bench: bad options (flows must stay below conn-max - %u)\n",
			2 * XVS_BURST);
		return -EINVAL;
	}
	return 0;
}

/* ---- EAL ---------------------------------------------------------------------------- */

static long free_hugepage_bytes(void)
{
	struct statfs sf;
	if (statfs(HUGE_DIR, &sf) < 0 || (unsigned long)sf.f_type != HUGETLBFS_MAGIC)
		return -1;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	long n = -1;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n < 0 ? -1 : n * 2 * 1024 * 1024;
}

/* Start EAL on one core with enough memory for the table; memory in ordinary or huge pages. */
static int eal_start(const char *prog, struct opts *o)
{
	static char lcore[16], mem[16];
	size_t need = xvs_conn_table_memsize(o->conn_max) + (256u << 20);
	char *av[16];
	int ac = 0;

	if (o->core < 0)
		o->core = sched_getcpu();
	if (o->huge < 0)
		o->huge = free_hugepage_bytes() >= (long)need;
	snprintf(lcore, sizeof(lcore), "%d", o->core);
	snprintf(mem, sizeof(mem), "%zu", need >> 20);
	snprintf(B.prefix, sizeof(B.prefix), "xvs-bench-%d", (int)getpid());
	av[ac++] = (char *)prog;
	av[ac++] = "-l";
	av[ac++] = lcore;
	av[ac++] = "--no-pci";
	av[ac++] = "--file-prefix";
	av[ac++] = B.prefix;
	av[ac++] = "--log-level=lib.eal:error";
	av[ac++] = "--no-telemetry";
	if (o->huge) {
		av[ac++] = "--huge-dir";
		av[ac++] = HUGE_DIR;
		av[ac++] = "--in-memory";
	} else {
		av[ac++] = "--no-huge";
		av[ac++] = "-m";
		av[ac++] = mem;
	}
	av[ac] = NULL;
	return rte_eal_init(ac, av) < 0 ? -rte_errno : 0;
}

/* EAL leaves its runtime directory behind; it holds only this process's files. */
static void remove_runtime_dir(void)
{
	char dir[128];
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", B.prefix);
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

/* ---- the dataplane around the worker ------------------------------------------------- */

static void setup_port(unsigned i, const char *name, uint32_t addr, uint8_t plen)
{
	struct xvs_port *pt = &B.dp.ports[i];
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	pt->port_id = (uint16_t)i;
	pt->mac = port_mac[i];
	pt->mac_set = 1;
	pt->addr[0] = rte_cpu_to_be_32(addr);
	pt->plen[0] = plen;
	pt->nb_addrs = 1;
	pt->mtu = PORT_MTU; /* what dp_port.c fills in from the device */
}

static uint32_t svc_vip(enum svc_kind k)
{
	return rte_cpu_to_be_32(VIP + k);
}

static union xvs_ip svc_vip6(enum svc_kind k)
{
	return ip6(NET6_VIP, rte_cpu_to_be_32(0x10 + k));
}

static inline union xvs_ip flow_ip6(uint64_t f)
{
	return ip6(NET6_CLIENT, flow_ip(f));
}

/* The IPv6 half of setup_network: port addresses, connected routes, the clients' route. */
static int setup_network6(void)
{
	union xvs_ip p0 = ip6(NET6_PORT0, rte_cpu_to_be_32(1)), p1 = ip6(NET6_PORT1, rte_cpu_to_be_32(1));
	union xvs_ip gw = ip6(NET6_PORT0, rte_cpu_to_be_32(HOST6_GW)), cl = ip6(NET6_CLIENT, 0);
	B.dp.ports[0].addr6[0] = p0;
	B.dp.ports[0].plen6[0] = 64;
	B.dp.ports[0].nb_addrs6 = 1;
	B.dp.ports[1].addr6[0] = p1;
	B.dp.ports[1].plen6[0] = 64;
	B.dp.ports[1].nb_addrs6 = 1;
	if (xvs_route6_add(&B.dp.routes6, &p0, 64, NULL, 0) < 0 ||
	    xvs_route6_add(&B.dp.routes6, &p1, 64, NULL, 1) < 0 ||
	    xvs_route6_add(&B.dp.routes6, &cl, 64, &gw, 0) < 0)
		return -ENOSPC;
	int rc = xvs_neigh_learn_ip(B.dp.neigh, XVS_AF_INET6, &gw, &gw_mac, 1);
	for (unsigned i = 0; i < NB_DESTS && rc == 0; i++) {
		struct rte_ether_addr m = rs_mac(i);
		union xvs_ip a = rs_addr6(i);
		rc = xvs_neigh_learn_ip(B.dp.neigh, XVS_AF_INET6, &a, &m, 1);
	}
	return rc;
}

/* Ports, connected routes, the route to the clients and static neighbours, as main() does. */
static int setup_network(void)
{
	setup_port(0, "client", PORT0_ADDR, 24);
	setup_port(1, "server", PORT1_ADDR, 16);
	/* Tunnels take their outer source per flow from a prefix, as deployed for RSS. */
	B.dp.ports[1].tun_src = rte_cpu_to_be_32(TUN_SRC);
	B.dp.ports[1].tun_src_len = TUN_SRC_LEN;
	B.dp.nb_ports = 2;
	if (xvs_route_add(&B.dp.routes, rte_cpu_to_be_32(PORT0_ADDR), 24, 0, 0) < 0 ||
	    xvs_route_add(&B.dp.routes, rte_cpu_to_be_32(PORT1_ADDR), 16, 0, 1) < 0 ||
	    xvs_route_add(&B.dp.routes, rte_cpu_to_be_32(CLIENT_NET), 10, rte_cpu_to_be_32(GW_ADDR), 0) < 0)
		return -ENOSPC;
	B.dp.neigh = rte_zmalloc("bench_neigh", sizeof(*B.dp.neigh), 64);
	if (!B.dp.neigh)
		return -ENOMEM;
	int rc = xvs_neigh_learn(B.dp.neigh, rte_cpu_to_be_32(GW_ADDR), &gw_mac, 1);
	for (unsigned i = 0; i < NB_DESTS && rc == 0; i++) {
		struct rte_ether_addr m = rs_mac(i);
		rc = xvs_neigh_learn(B.dp.neigh, rs_addr(i), &m, 1);
	}
	return rc == 0 ? setup_network6() : rc;
}

/* Service k: TCP VIP+k:80 (or its IPv6 VIP) -> NB_DESTS real servers with method k, rr. */
static int build_svc(struct xvs_gen *g, enum svc_kind k)
{
	static const uint8_t fwd[NB_SVCS] = { XVS_FWD_MASQ, XVS_FWD_DROUTE, XVS_FWD_TUNNEL,
					      XVS_FWD_TUNNEL, XVS_FWD_MASQ, XVS_FWD_DROUTE,
					      XVS_FWD_TUNNEL, XVS_FWD_TUNNEL };
	struct xvs_svc *s = &g->svcs[k];
	uint16_t first = (uint16_t)(k * NB_DESTS);
	uint8_t af = svc_is6(k) ? XVS_AF_INET6 : XVS_AF_INET;
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = af, .proto = XVS_PROTO_TCP,
			       .sched = XVS_SCHED_RR, .port_be = rte_cpu_to_be_16(VPORT),
			       .dest_first = first, .nb_dests = NB_DESTS, .sched_epoch = 1 };
	if (svc_is6(k))
		s->addr = svc_vip6(k);
	else
		s->addr.v4 = svc_vip(k);
	const struct xvs_dest *list[NB_DESTS];
	for (unsigned i = 0; i < NB_DESTS; i++) {
		struct xvs_dest *d = &g->dests[first + i];
		int nat = k == SVC_NAT || k == SVC_NAT6;
		*d = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = af, .fwd = fwd[k],
					.port_be = rte_cpu_to_be_16(nat ? RS_PORT : VPORT),
					.svc = (uint16_t)k, .weight = 1 };
		if (svc_is6(k))
			d->addr = rs_addr6(i);
		else
			d->addr.v4 = rs_addr(i);
		if (k == SVC_GUE || k == SVC_GUE6) {
			d->tun_type = XVS_TUN_TYPE_GUE;
			d->tun_port_be = rte_cpu_to_be_16(GUE_PORT);
		}
		g->svc_dests[first + i] = (uint16_t)(first + i);
		list[i] = d;
	}
	return xvs_sched_all[XVS_SCHED_RR]->build(s, list, NB_DESTS);
}

static int build_gen(struct xvs_gen *g)
{
	memset(g, 0, sizeof(*g));
	g->gen = 1;
	g->nb_svcs = NB_SVCS;
	g->nb_dests = g->nb_svc_dests = NB_SVCS * NB_DESTS;
	g->timeouts = (struct xvs_timeouts){ .tcp = 900, .tcpfin = 120, .udp = 300 };
	int rc = 0;
	for (unsigned k = 0; k < NB_SVCS && rc == 0; k++)
		rc = build_svc(g, (enum svc_kind)k);
	if (rc == 0)
		rc = xvs_gen_build_vip_hash(g);
	xvs_gen_seal(g);
	return rc;
}

/* Publish the generation in a shared region as control does, and adopt it as main does. */
static int adopt_gen(void)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/%s", B.prefix);
	int rc = xvs_shm_open(&B.dp.shm, path, 1);
	unlink(path); /* mapped: nothing to clean up however we exit */
	if (rc < 0)
		return rc;
	struct xvs_gen *mine = rte_zmalloc("bench_gen", sizeof(*mine), 64);
	struct xvs_gen *g0 = rte_zmalloc("bench_gen0", sizeof(*g0), 64);
	struct xvs_gen *g1 = rte_zmalloc("bench_gen1", sizeof(*g1), 64);
	if (!mine || !g0 || !g1)
		return -ENOMEM;
	if ((rc = build_gen(mine)) < 0)
		return rc;
	struct xvs_shm_hdr *h = B.dp.shm.hdr;
	memcpy(xvs_shm_slot(&B.dp.shm, 0), mine, sizeof(*mine));
	atomic_store(&h->slot_gen[0], mine->gen);
	atomic_store(&h->published, XVS_PUB(mine->gen, 0));
	rte_free(mine);
	xvs_dp_adopt_init(&B.dp.gens, &B.dp.shm, g0, g1, 1);
	if (xvs_dp_adopt_poll(&B.dp.gens) != 1) {
		fprintf(stderr, "xvs-bench: generation refused: %s\n", B.dp.gens.reason);
		return -EINVAL;
	}
	xvs_dp_gen_get(&B.dp.gens, 0); /* the worker's quiescent state */
	xvs_dp_adopt_poll(&B.dp.gens);
	return atomic_load(&h->adopted) == atomic_load(&h->published) ? 0 : -EAGAIN;
}

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
	int rc = setup_network();
	if (rc == 0)
		rc = adopt_gen();
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

/*
 * Template of a TCP segment without payload; the client's side (address and port) is left
 * zero and patched per flow with incremental checksum updates, as a NIC would deliver it.
 */
static void build_tmpl(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)t->hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(t->hdr + L3_OFF);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(t->hdr + L4_OFF);
	uint32_t peer = dir == DIR_CS ? svc_vip(k) : rs_addr(dest);
	uint16_t peer_port = rte_cpu_to_be_16(dir == DIR_CS ? VPORT : RS_PORT);

	memset(t, 0, sizeof(*t));
	eth->dst_addr = port_mac[dir == DIR_CS ? 0 : 1];
	eth->src_addr = dir == DIR_CS ? gw_mac : rs_mac(dest);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*tcp));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	tcp->sent_seq = rte_cpu_to_be_32(1000);
	if (dir == DIR_CS) {
		ip->dst_addr = peer;
		tcp->dst_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv4_hdr, src_addr);
		t->port_off = L4_OFF + offsetof(struct rte_tcp_hdr, src_port);
	} else {
		ip->src_addr = peer;
		tcp->src_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv4_hdr, dst_addr);
		t->port_off = L4_OFF + offsetof(struct rte_tcp_hdr, dst_port);
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	t->ip_csum = ip->hdr_checksum;
	t->l4_csum = tcp->cksum;
}

/* The IPv6 counterpart of build_tmpl: the client's address is patched in its last 4 bytes. */
static void build_tmpl6(struct tmpl *t, enum dir dir, enum svc_kind k, unsigned dest, uint8_t flags)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)t->hdr;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(t->hdr + L3_OFF);
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(t->hdr + L4_OFF6);
	union xvs_ip peer = dir == DIR_CS ? svc_vip6(k) : rs_addr6(dest), client = ip6(NET6_CLIENT, 0);
	uint16_t peer_port = rte_cpu_to_be_16(dir == DIR_CS ? VPORT : RS_PORT);

	memset(t, 0, sizeof(*t));
	t->is6 = 1;
	eth->dst_addr = port_mac[dir == DIR_CS ? 0 : 1];
	eth->src_addr = dir == DIR_CS ? gw_mac : rs_mac(dest);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(sizeof(*tcp));
	ip->proto = IPPROTO_TCP;
	ip->hop_limits = 64;
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = rte_cpu_to_be_16(65535);
	tcp->sent_seq = rte_cpu_to_be_32(1000);
	memcpy(dir == DIR_CS ? ip->src_addr : ip->dst_addr, client.v6, 16);
	memcpy(dir == DIR_CS ? ip->dst_addr : ip->src_addr, peer.v6, 16);
	if (dir == DIR_CS) {
		tcp->dst_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv6_hdr, src_addr) + 12;
		t->port_off = L4_OFF6 + offsetof(struct rte_tcp_hdr, src_port);
	} else {
		tcp->src_port = peer_port;
		t->ip_off = L3_OFF + offsetof(struct rte_ipv6_hdr, dst_addr) + 12;
		t->port_off = L4_OFF6 + offsetof(struct rte_tcp_hdr, dst_port);
	}
	tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
	t->l4_csum = tcp->cksum;
}

static void build_templates(void)
{
	for (unsigned k = 0; k < NB_SVCS; k++) {
		void (*build)(struct tmpl *, enum dir, enum svc_kind, unsigned, uint8_t) =
			svc_is6((enum svc_kind)k) ? build_tmpl6 : build_tmpl;
		build(&B.syn[k], DIR_CS, (enum svc_kind)k, 0, RTE_TCP_SYN_FLAG);
		build(&B.ack[k], DIR_CS, (enum svc_kind)k, 0, RTE_TCP_ACK_FLAG);
	}
	/* replies: NAT only, by destination slot */
	for (unsigned i = 0; i < NB_DESTS; i++) {
		build_tmpl(&B.reply[SVC_NAT * NB_DESTS + i], DIR_SC, SVC_NAT, i, RTE_TCP_ACK_FLAG);
		build_tmpl6(&B.reply[SVC_NAT6 * NB_DESTS + i], DIR_SC, SVC_NAT6, i, RTE_TCP_ACK_FLAG);
	}
}

/* What the NIC would have done: frame bytes and the mbuf's lengths. The restore cost. */
static inline void restore(struct rte_mbuf *m, const struct tmpl *t, uint64_t flow)
{
	m->data_off = RTE_PKTMBUF_HEADROOM; /* a tunnel prepended its headers last time */
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t ip = flow_ip(flow);
	uint16_t port = flow_port(flow);
	uint16_t l4c = xvs_csum_replace2(xvs_csum_replace4(t->l4_csum, 0, ip), 0, port);
	if (unlikely(t->is6)) {
		memcpy(d, t->hdr, TMPL6_LEN);
		memcpy(d + t->ip_off, &ip, sizeof(ip));
		memcpy(d + t->port_off, &port, sizeof(port));
		memcpy(d + L4_OFF6 + offsetof(struct rte_tcp_hdr, cksum), &l4c, sizeof(l4c));
		m->data_len = FRAME6_LEN;
		m->pkt_len = FRAME6_LEN;
		return;
	}
	memcpy(d, t->hdr, TMPL_LEN);
	memcpy(d + t->ip_off, &ip, sizeof(ip));
	memcpy(d + t->port_off, &port, sizeof(port));
	uint16_t ipc = xvs_csum_replace4(t->ip_csum, 0, ip);
	memcpy(d + L3_OFF + offsetof(struct rte_ipv4_hdr, hdr_checksum), &ipc, sizeof(ipc));
	memcpy(d + L4_OFF + offsetof(struct rte_tcp_hdr, cksum), &l4c, sizeof(l4c));
	m->data_len = FRAME_LEN;
	m->pkt_len = FRAME_LEN;
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

/* One's complement sum of the TCP segment and its pseudo-header: 0xffff when the checksum holds. */
static int tcp_csum_ok(const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *tcp)
{
	uint32_t len = rte_be_to_cpu_16(ip->total_length) - (uint32_t)sizeof(*ip);
	return xvs_csum_fold((uint32_t)rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, len)) == 0xffff;
}

/* Checksums, addresses, ports and MACs of a rewritten frame. */
static int frame_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		    uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, L3_OFF);
	const struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, L4_OFF);
	return rte_is_same_ether_addr(&eth->dst_addr, dmac) &&
	       rte_is_same_ether_addr(&eth->src_addr, &port_mac[port]) &&
	       rte_raw_cksum(ip, sizeof(*ip)) == 0xffff && tcp_csum_ok(ip, tcp) &&
	       ip->src_addr == src && tcp->src_port == sport && ip->dst_addr == dst &&
	       tcp->dst_port == dport;
}

/*
 * A tunnelled frame of flow 0 to real server d: Ethernet to its MAC, an outer IPv4 header
 * (checksum, length, TTL 64, protocol) from the tunnel_src prefix to d, GUE's UDP header
 * and 4-byte header where kind is SVC_GUE, then the client's packet untouched.
 */
static int tun_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind)
{
	uint16_t add = kind == SVC_GUE ? 20 + 8 + 4 : 20;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv4_hdr *o = (const struct rte_ipv4_hdr *)(f + L3_OFF);
	const struct rte_ipv4_hdr *in = (const struct rte_ipv4_hdr *)(f + L3_OFF + add);
	const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)(in + 1);
	struct rte_ether_addr dmac = rs_mac(d);
	uint32_t src = rte_be_to_cpu_32(o->src_addr);
	int ok = m->pkt_len == L3_OFF + add + 40u && rte_is_same_ether_addr(&eth->dst_addr, &dmac) &&
		 rte_is_same_ether_addr(&eth->src_addr, &port_mac[1]) &&
		 rte_raw_cksum(o, sizeof(*o)) == 0xffff && o->time_to_live == 64 &&
		 rte_be_to_cpu_16(o->total_length) == add + 40u && o->dst_addr == rs_addr(d) &&
		 src >> (32 - TUN_SRC_LEN) == TUN_SRC >> (32 - TUN_SRC_LEN) &&
		 src != TUN_SRC && src != (TUN_SRC | ((1u << (32 - TUN_SRC_LEN)) - 1)) &&
		 in->src_addr == flow_ip(0) && in->dst_addr == svc_vip(kind) &&
		 tcp->src_port == flow_port(0) && tcp->dst_port == rte_cpu_to_be_16(VPORT) &&
		 rte_raw_cksum(in, sizeof(*in)) == 0xffff && tcp_csum_ok(in, tcp);
	if (kind == SVC_IPIP)
		return ok && o->next_proto_id == IPPROTO_IPIP;
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(o + 1);
	static const uint8_t gue[4] = { 0, IPPROTO_IPIP, 0, 0 };
	return ok && o->next_proto_id == IPPROTO_UDP && u->dst_port == rte_cpu_to_be_16(GUE_PORT) &&
	       rte_be_to_cpu_16(u->src_port) >= 0xc000 && u->dgram_cksum == 0 &&
	       !memcmp(u + 1, gue, sizeof(gue));
}

/* The TCP checksum of an IPv6 packet (no extension headers) verifies. */
static int tcp6_csum_ok(const struct rte_ipv6_hdr *ip, const struct rte_tcp_hdr *tcp)
{
	uint32_t len = rte_be_to_cpu_16(ip->payload_len);
	return xvs_csum_fold((uint32_t)rte_ipv6_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, len)) == 0xffff;
}

/* frame_ok for IPv6: MACs, hop limit untouched, addresses, ports, TCP checksum. */
static int frame6_ok(const struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t port,
		     const union xvs_ip *src, uint16_t sport, const union xvs_ip *dst, uint16_t dport)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, L3_OFF);
	const struct rte_tcp_hdr *tcp = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *, L4_OFF6);
	return m->pkt_len == FRAME6_LEN && rte_is_same_ether_addr(&eth->dst_addr, dmac) &&
	       rte_is_same_ether_addr(&eth->src_addr, &port_mac[port]) &&
	       eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) && ip->hop_limits == 64 &&
	       !memcmp(ip->src_addr, src->v6, 16) && !memcmp(ip->dst_addr, dst->v6, 16) &&
	       tcp->src_port == sport && tcp->dst_port == dport && tcp6_csum_ok(ip, tcp);
}

/*
 * A 6in6 tunnelled frame of flow 0 to real server d: Ethernet to its MAC, an outer IPv6
 * header (payload length, hop limit 64, next header, flow label from the flow hash) from
 * port 1's address to d, for GUE a UDP header with a valid checksum and a GUE header naming
 * IPv6, then the client's packet untouched.
 */
static int tun6_frame_ok(const struct rte_mbuf *m, unsigned d, enum svc_kind kind)
{
	uint16_t add = kind == SVC_GUE6 ? 40 + 8 + 4 : 40;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
	const struct rte_ipv6_hdr *o = (const struct rte_ipv6_hdr *)(f + L3_OFF);
	const struct rte_ipv6_hdr *in = (const struct rte_ipv6_hdr *)(f + L3_OFF + add);
	const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)(in + 1);
	struct rte_ether_addr dmac = rs_mac(d);
	struct xvs_conn_key k = { .sport = flow_port(0), .dport = rte_cpu_to_be_16(VPORT),
				  .proto = IPPROTO_TCP, .af = XVS_AF_INET6, .src6 = flow_ip6(0),
				  .dst6 = svc_vip6(kind) };
	union xvs_ip osrc = ip6(NET6_PORT1, rte_cpu_to_be_32(1)), odst = rs_addr6(d);
	union xvs_ip isrc = flow_ip6(0), idst = svc_vip6(kind);
	uint32_t vtc = rte_be_to_cpu_32(o->vtc_flow);
	int ok = m->pkt_len == L3_OFF + add + 60u && rte_is_same_ether_addr(&eth->dst_addr, &dmac) &&
		 rte_is_same_ether_addr(&eth->src_addr, &port_mac[1]) &&
		 eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
		 vtc == (6u << 28 | (xvs_flow_hash(&k) & 0xfffff)) && o->hop_limits == 64 &&
		 rte_be_to_cpu_16(o->payload_len) == add - 40 + 60u &&
		 !memcmp(o->src_addr, osrc.v6, 16) && !memcmp(o->dst_addr, odst.v6, 16) &&
		 !memcmp(in->src_addr, isrc.v6, 16) && !memcmp(in->dst_addr, idst.v6, 16) &&
		 tcp->src_port == flow_port(0) && tcp->dst_port == rte_cpu_to_be_16(VPORT) &&
		 tcp6_csum_ok(in, tcp);
	if (kind == SVC_IPIP6)
		return ok && o->proto == IPPROTO_IPV6;
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)(o + 1);
	static const uint8_t gue[4] = { 0, IPPROTO_IPV6, 0, 0 };
	return ok && o->proto == IPPROTO_UDP && u->dst_port == rte_cpu_to_be_16(GUE_PORT) &&
	       rte_be_to_cpu_16(u->src_port) >= 0xc000 && u->dgram_cksum != 0 &&
	       xvs_csum_fold((uint32_t)rte_ipv6_phdr_cksum(o, 0) +
			     rte_raw_cksum(u, rte_be_to_cpu_16(u->dgram_len))) == 0xffff &&
	       !memcmp(u + 1, gue, sizeof(gue));
}

/* Flow 0's frame of a DR or tunnel service (either family) as sent, checked. */
static int direct_frame_ok(const struct rte_mbuf *m, unsigned d)
{
	struct rte_ether_addr dmac = rs_mac(d);
	union xvs_ip c6 = flow_ip6(0), v6 = svc_vip6(SVC_DR6);
	switch (B.cur) {
	case SVC_DR:
		return frame_ok(m, &dmac, 1, flow_ip(0), flow_port(0), svc_vip(SVC_DR),
				rte_cpu_to_be_16(VPORT));
	case SVC_DR6:
		return frame6_ok(m, &dmac, 1, &c6, flow_port(0), &v6, rte_cpu_to_be_16(VPORT));
	case SVC_IPIP6:
	case SVC_GUE6:
		return tun6_frame_ok(m, d, B.cur);
	default:
		return tun_frame_ok(m, d, B.cur);
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
	if (!m || out != 1 || !frame6_ok(m, &dmac, 1, &c6, flow_port(0), &rs, rte_cpu_to_be_16(RS_PORT))) {
		fprintf(stderr, "xvs-bench: IPv6 client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = process_one(&B.reply[slot], 1, 0, &out);
	if (!m || out != 0 || !frame6_ok(m, &gw_mac, 0, &vip, rte_cpu_to_be_16(VPORT), &c6, flow_port(0))) {
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
	struct rte_ether_addr dmac = rs_mac(d);
	struct rte_mbuf *m = process_one(&B.ack[SVC_NAT], 0, 0, &out);
	if (!m || out != 1 || !frame_ok(m, &dmac, 1, flow_ip(0), flow_port(0), rs_addr(d),
					 rte_cpu_to_be_16(RS_PORT))) {
		fprintf(stderr, "xvs-bench: client->server frame not rewritten as expected\n");
		return -EIO;
	}
	m = process_one(&B.reply[d], 1, 0, &out);
	if (!m || out != 0 || !frame_ok(m, &gw_mac, 0, rte_cpu_to_be_32(VIP), rte_cpu_to_be_16(VPORT),
					 flow_ip(0), flow_port(0))) {
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

/* ---- output ------------------------------------------------------------------------------ */

/* Involuntary context switches of this thread so far. */
static long preemptions(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nivcsw : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void meter_start(struct meter *m)
{
	m->preempt = preemptions();
	m->cpu_ns = thread_cpu_ns();
	m->tsc = rte_rdtsc();
}

/*
 * End of a measurement of `count` units: adds their rate (millions per CPU second) to s.
 * CPU time, not wall time, because this VM's other processes take turns on our core.
 */
static void meter_stop(const struct meter *m, uint64_t count, struct sample *s)
{
	double wall = (double)(rte_rdtsc() - m->tsc) / (double)B.dp.tsc_hz;
	double cpu = (double)(thread_cpu_ns() - m->cpu_ns) / 1e9;
	s->preempt += preemptions() - m->preempt;
	s->wall += wall;
	s->cpu += cpu;
	s->v[s->n++] = (double)count / (cpu > 0 ? cpu : wall) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(struct sample *s)
{
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_double);
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

/* One row: min/median/max rate, time per unit at the median, and the cost over pass-through. */
static void print_row(const char *what, uint32_t flows, struct sample *s, double base_ns)
{
	double med = median(s), ns = 1e3 / med;
	printf("%-40s %8u %8.2f %8.2f %8.2f %8.1f", what, flows, s->v[0], med, s->v[s->n - 1], ns);
	if (base_ns > 0)
		printf(" %+9.1f", ns - base_ns);
	else
		printf(" %9s", "");
	printf(" %9ld %6.0f%%\n", s->preempt, s->wall > 0 ? 100 * s->cpu / s->wall : 0);
	fflush(stdout);
}

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
	print_row(what, flows, &s, base);
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
		print_row("new conns: SYN fill, empty->N [Mconn/s]", nb, &s, 0);
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
	print_row("new conns: SYN churn, N live [Mconn/s]", nb, &s, 0);
	return 0;
}

/* The NAT figures and the baselines for one table size. */
static int bench_nat(uint32_t nb)
{
	static const char *const names[] = { "restore", "pass-cs", "nat-cs", "pass-sc", "nat-sc",
					     "nat-cs-ho", "nat-sc-ho", "churn" };
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
	printf("        (entry %zu + bucket share %.1f + free-stack slot 4)\n", sizeof(struct xvs_conn),
	       (double)(sz - (size_t)cap * sizeof(struct xvs_conn) - (size_t)cap * 4) / cap);
	printf("        %u flows: %.1f bytes per flow at conn_max %u, %.1f with conn_max %u\n", nb,
	       (double)sz / nb, cap, (double)own / nb, rte_align32pow2(nb));
}

int main(int argc, char **argv)
{
	int rc = parse_opts(argc, argv, &B.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if ((rc = eal_start(argv[0], &B.o)) < 0) {
		fprintf(stderr, "xvs-bench: EAL init failed: %s\n", rte_strerror(-rc));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((rc = setup_dataplane()) < 0 || (rc = setup_handoff()) < 0)
		rte_exit(EXIT_FAILURE, "setup: %s\n", strerror(-rc));
	build_templates();
	B.next_id = NEW_ID_BASE;
	print_header();
	/* --only profiles one figure: on the large table alone, unless that is the 1-flow one */
	rc = B.o.only && B.o.flows > 1 ? 0 : bench_size(1);
	if (rc == 0 && B.o.flows > 1)
		rc = bench_size(B.o.flows);
	if (rc == 0)
		print_memory();
	free(B.dest_of);
	free(B.conn_of);
	free(B.order);
	free(B.ring);
	xvs_shm_close(&B.dp.shm);
	rte_eal_cleanup();
	remove_runtime_dir();
	return rc == 0 && !xvs_quit ? 0 : 1;
}
