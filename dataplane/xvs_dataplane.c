/*
 * xvs-dataplane: wires the configuration, EAL, shared region, ports and workers together,
 * runs the main lcore's duties (generation adoption, heartbeat) and shuts down cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dp_config.h"
#include "dp_connstore.h"
#include "dp_exc.h"
#include "dp_numa.h"
#include "dp_port.h"
#include "dp_rss.h"
#include "dp_sync.h"
#include "dp_worker.h"
#include "xvs/notify.h"
#include "xvs/pidfile.h"

#define MAX_EAL_ARGS 64
#define MBUF_CACHE 256

static struct xvs_dp dp;
static struct xvs_cfg_extra cfg_extra;
static struct xvs_worker *workers[XVS_MAX_LCORES];
static unsigned worker_lcore[XVS_MAX_LCORES]; /* worker i runs on lcore worker_lcore[i] */
static struct xvs_numa_plan plan;             /* lcores = auto */
static struct rte_mempool *pools[RTE_MAX_NUMA_NODES + 1]; /* by node + 1; [0]: any node */
static struct xvs_worker *main_ctx; /* the main lcore's probes, when it has a TX queue */
static int exc_busy;               /* the last exception pass moved frames */
static unsigned idle_exit_ms;
static unsigned wait_config_s;
static int fresh_conns;                     /* --fresh-conns */
static struct xvs_cstore cstore;            /* conn_persist: the tables' files */
static struct xvs_cstore_want cwant[XVS_MAX_LCORES];
static int conns_restored;                  /* some worker took over its table */
static const char *pidfile;   /* --pidfile */
static int check_only;        /* --check-config */
static int pdump_on;          /* rte_pdump_init() succeeded: rte_pdump_uninit() at exit */

static void on_signal(int sig)
{
	(void)sig;
	xvs_quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xvs-dataplane -c FILE [--wait-config SECONDS] [--idle-exit MS] [--fresh-conns]\n"
		   "                     [--pidfile PATH]\n"
		   "       xvs-dataplane -c FILE --check-config\n"
		   "  -c, --config FILE    configuration (docs/dataplane-config.md)\n"
		   "  --wait-config S      start the ports only once a table generation is adopted\n"
		   "  --idle-exit MS       exit after MS ms without a received packet (pcap runs)\n"
		   "  --fresh-conns        start with empty connection tables, whatever the files hold\n"
		   "  --pidfile PATH       write the pid there once the ports run; removed at exit\n"
		   "  --check-config       parse FILE, say what is wrong, exit (0: valid, 1: not)\n");
}

static const char *parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "wait-config", required_argument, NULL, 'w' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "fresh-conns", no_argument, NULL, 'f' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': path = optarg; break;
		case 'w': wait_config_s = (unsigned)atoi(optarg); break;
		case 'i': idle_exit_ms = (unsigned)atoi(optarg); break;
		case 'f': fresh_conns = 1; break;
		case 'p':
			if (!*optarg) {
				fprintf(stderr, "xvs-dataplane: --pidfile needs a path\n");
				exit(2);
			}
			pidfile = optarg;
			break;
		case 'C': check_only = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		exit(2);
	}
	return path;
}

static int is_pci_addr(const char *dev)
{
	unsigned a, b, c, d;
	return sscanf(dev, "%x:%x:%x.%x", &a, &b, &c, &d) == 4 || sscanf(dev, "%x:%x.%x", &b, &c, &d) == 3;
}

/* EAL's argv from the configuration. Strings point into dp.cfg / dp.ports or static storage. */
static int build_eal_args(char **av)
{
	static char mem[16], eal_extra[512];
	int ac = 0, has_pci = 0;
	av[ac++] = "xvs-dataplane";
	av[ac++] = "--lcores"; /* "0-2" as -l takes it, or "0@0,(1-2)@1" to share CPUs */
	av[ac++] = dp.cfg.lcores_auto ? plan.lcores : dp.cfg.lcores;
	av[ac++] = "--file-prefix";
	av[ac++] = dp.cfg.file_prefix;
	if (!strcmp(dp.cfg.huge_dir, "none")) {
		snprintf(mem, sizeof(mem), "%u", dp.cfg.memory_mb);
		av[ac++] = "--no-huge";
		av[ac++] = "-m";
		av[ac++] = mem;
	} else {
		av[ac++] = "--huge-dir";
		av[ac++] = dp.cfg.huge_dir;
		if (dp.cfg.in_memory)
			av[ac++] = "--in-memory";
	}
	for (unsigned i = 0; i < dp.nb_ports && ac < MAX_EAL_ARGS - 4; i++) {
		int pci = is_pci_addr(dp.ports[i].dev);
		has_pci |= pci;
		av[ac++] = pci ? "-a" : "--vdev";
		av[ac++] = dp.ports[i].dev;
	}
	if (!has_pci)
		av[ac++] = "--no-pci";
	snprintf(eal_extra, sizeof(eal_extra), "%s", dp.cfg.eal_args);
	for (char *t = strtok(eal_extra, " \t"); t && ac < MAX_EAL_ARGS - 1; t = strtok(NULL, " \t"))
		av[ac++] = t;
	av[ac] = NULL;
	return ac;
}

static int add_cfg_route(unsigned i, char *err, size_t errlen)
{
	const typeof(cfg_extra.routes[0]) *cr = &cfg_extra.routes[i];
	if (cr->af == XVS_AF_INET) {
		const struct xvs_route *via = xvs_route_lookup(&dp.routes, cr->gw.v4);
		if (!via || via->gw)
			goto offlink;
		return xvs_route_add(&dp.routes, cr->prefix.v4, cr->len, cr->gw.v4, via->port);
	}
	const struct xvs_route6 *via6 = xvs_route6_lookup(&dp.routes6, &cr->gw);
	if (!via6 || via6->has_gw)
		goto offlink;
	return xvs_route6_add(&dp.routes6, &cr->prefix, cr->len, &cr->gw, via6->port);
offlink:
	snprintf(err, errlen, "route %u: gateway is not on a connected network", i + 1);
	return -EINVAL;
}

/* Connected routes from port addresses, then the configured ones (the gateway picks the port). */
static int setup_routes(char *err, size_t errlen)
{
	int rc = 0;
	for (unsigned p = 0; p < dp.nb_ports && !rc; p++) {
		const struct xvs_port *pt = &dp.ports[p];
		for (unsigned i = 0; i < pt->nb_addrs && !rc; i++)
			rc = xvs_route_add(&dp.routes, pt->addr[i], pt->plen[i], 0, (uint16_t)p);
		for (unsigned i = 0; i < pt->nb_addrs6 && !rc; i++)
			rc = xvs_route6_add(&dp.routes6, &pt->addr6[i], pt->plen6[i], NULL, (uint16_t)p);
	}
	for (unsigned i = 0; i < cfg_extra.nb_routes && !rc; i++)
		if ((rc = add_cfg_route(i, err, errlen)) == -EINVAL)
			return rc;
	if (rc) {
		snprintf(err, errlen, "too many routes");
		return rc;
	}
	/* static neighbours belong to the port whose route reaches them */
	for (unsigned i = 0; i < cfg_extra.nb_neigh; i++) {
		const typeof(cfg_extra.neigh[0]) *n = &cfg_extra.neigh[i];
		int port = -1;
		if (n->af == XVS_AF_INET) {
			const struct xvs_route *r = xvs_route_lookup(&dp.routes, n->ip.v4);
			port = r ? r->port : -1;
		} else {
			const struct xvs_route6 *r = xvs_route6_lookup(&dp.routes6, &n->ip);
			port = r ? r->port : -1;
		}
		if (port < 0) {
			snprintf(err, errlen, "static neighbour %u is on no connected network", i + 1);
			return -EINVAL;
		}
		if (xvs_neigh_learn_ip(dp.neigh, (uint16_t)port, n->af, &n->ip, &n->mac,
				       XVS_NEIGH_CONFIG, 0) < 0) {
			snprintf(err, errlen, "static neighbour %u: no room in the neighbour table", i + 1);
			return -ENOSPC;
		}
	}
	return 0;
}

static void heartbeat(void)
{
	atomic_store_explicit(&dp.shm.hdr->dp_heartbeat_ns, xvs_now_ns(), memory_order_release);
}

/*
 * For the least-connection schedulers: each worker's view of the other workers' connections
 * per destination (struct xvs_dest_load), over the current generation's destinations.
 */
static void sum_dest_loads(void)
{
	const struct xvs_gen *g = atomic_load_explicit(&dp.gens.cur, memory_order_acquire);
	if (!g || dp.nb_workers < 2)
		return;
	for (uint32_t d = 0; d < g->nb_dests && d < XVS_MAX_DESTS; d++) {
		int64_t a = 0, i = 0;
		for (unsigned w = 0; w < dp.nb_workers; w++) {
			a += workers[w]->st->dest[d].active;
			i += workers[w]->st->dest[d].inactive;
		}
		for (unsigned w = 0; w < dp.nb_workers; w++) {
			workers[w]->others[d].active = a - workers[w]->st->dest[d].active;
			workers[w]->others[d].inactive = i - workers[w]->st->dest[d].inactive;
		}
	}
}

/* Workers whose periodic tick has not moved for XVS_STALL_MS, as a bit mask in the header. */
static void watch_workers(uint64_t now)
{
	static uint64_t last_ticks[XVS_MAX_LCORES], last_move[XVS_MAX_LCORES];
	uint64_t stalled = 0;
	for (unsigned w = 0; w < dp.nb_workers; w++) {
		uint64_t t = atomic_load_explicit(&xvs_shm_lcore(&dp.shm, w)->ticks, memory_order_relaxed);
		if (t != last_ticks[w] || !last_move[w]) {
			last_ticks[w] = t;
			last_move[w] = now;
		} else if (now - last_move[w] > dp.tsc_hz / 1000 * XVS_STALL_MS) {
			stalled |= 1ull << w;
		}
	}
	uint64_t old = atomic_load_explicit(&dp.shm.hdr->stalled_workers, memory_order_relaxed);
	if (old != stalled) {
		atomic_store_explicit(&dp.shm.hdr->stalled_workers, stalled, memory_order_release);
		printf("xvs-dataplane: stalled workers: mask 0x%llx\n", (unsigned long long)stalled);
		fflush(stdout);
	}
}

/*
 * Main lcore duties: the exception path's exchange with the kernel (every call), then once a
 * millisecond heartbeat, generation adoption, probes, loads, watchdog, idle exit.
 */
static void housekeeping(void)
{
	static uint64_t next_tsc;
	uint64_t now = rte_rdtsc();
	exc_busy = xvs_exc_poll(now) > 0;
	if (now < next_tsc)
		return;
	next_tsc = now + dp.tsc_hz / 1000;
	heartbeat();
	if (main_ctx) {
		main_ctx->now_tsc = now;
		xvs_worker_tick(main_ctx, atomic_load_explicit(&dp.gens.cur, memory_order_acquire));
	}
	sum_dest_loads();
	watch_workers(now);
	xvs_sync_poll(atomic_load_explicit(&dp.gens.cur, memory_order_acquire), now,
		      xvs_shm_stats(&dp.shm, XVS_SHM_MAIN_STATS));
	int rc = xvs_dp_adopt_poll(&dp.gens);
	if (rc == 1)
		printf("xvs-dataplane: generation %llu handed to the workers\n",
		       (unsigned long long)XVS_PUB_GEN(dp.gens.cur_pub));
	else if (rc == -EINVAL)
		printf("xvs-dataplane: %s\n", dp.gens.reason);
	if (rc)
		fflush(stdout);
	uint64_t last = atomic_load_explicit(&xvs_rt.last_rx_tsc, memory_order_relaxed);
	if (idle_exit_ms && last && now - last > dp.tsc_hz / 1000 * idle_exit_ms)
		xvs_quit = 1;
}

/*
 * Enough mbufs for every RX and TX ring, each lcore's mempool cache, and what a worker holds
 * at once (tx buffers, the hold queue, a burst), with a margin; 2^n - 1 as mempools like.
 * Each node's pool gets as many: its frames may wait in any port's TX ring or hand-off ring.
 */
static unsigned nb_mbufs(void)
{
	uint64_t n = 1024;
	for (unsigned i = 0; i < dp.nb_ports; i++)
		n += (uint64_t)dp.nb_workers * (dp.ports[i].rxq_size + dp.ports[i].txq_size);
	n += (uint64_t)rte_lcore_count() *
	     (MBUF_CACHE + dp.nb_ports * 2 * XVS_BURST + XVS_NEIGH_HOLD + XVS_BURST);
	if (dp.nb_workers > 1) /* hand-off rings and staging buffers */
		n += (uint64_t)dp.nb_workers * (dp.nb_workers - 1) * (XVS_HANDOFF_RING + XVS_BURST);
	n += xvs_exc_nb_mbufs(&dp); /* the exception path's rings and taps */
	unsigned pow = 8192;
	while (pow < n + 1 && pow < (1u << 30))
		pow <<= 1;
	return pow - 1;
}

/* ---- NUMA placement (dp_numa.h) --------------------------------------------------------- */

/* Before EAL init: the ports' nodes as sysfs tells them, and the plan of lcores = auto. */
static int plan_lcores(char *err, size_t errlen)
{
	static struct xvs_numa_topo topo;
	for (unsigned i = 0; i < dp.nb_ports; i++)
		dp.ports[i].node = xvs_numa_dev_node("/sys", dp.ports[i].dev);
	if (!dp.cfg.lcores_auto)
		return 0;
	int rc = xvs_numa_read_topo(&dp, &topo);
	if (rc < 0) {
		snprintf(err, errlen, "lcores = auto: cannot read the CPU affinity: %s", strerror(-rc));
		return rc;
	}
	rc = xvs_numa_plan_auto(&topo, dp.cfg.workers, dp.cfg.numa_force, &plan, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 1)
		printf("xvs-dataplane: warning: %s\n", err);
	printf("xvs-dataplane: lcores = auto: --lcores %s (%u worker(s), main lcore on CPU %d)\n",
	       plan.lcores, plan.nb_workers, plan.main_cpu);
	fflush(stdout);
	return 0;
}

static int lcore_node(unsigned lcore)
{
	return (int)rte_lcore_to_socket_id(lcore); /* an lcore on CPUs of several nodes: -1 */
}

/* Worker i runs on the i-th worker lcore, or on the main lcore when it is the only one. */
static void map_workers(void)
{
	unsigned lcore, i = 0;
	worker_lcore[0] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore) {
		worker_lcore[i++] = lcore;
	}
}

/*
 * After EAL init: an explicit lcores list against the nodes DPDK gives the PCI ports. A
 * virtual device is never refused: DPDK gives it the node its driver was probed on
 * (net_af_packet, net_null: the main lcore's), not its hardware's. lcores = auto is planned.
 */
static int check_lcores(char *err, size_t errlen)
{
	struct xvs_numa_ports ports = { .nb = dp.nb_ports };
	struct xvs_numa_plan p = { .main_cpu = -1, .nb_workers = dp.nb_workers };
	if (dp.cfg.lcores_auto)
		return 0;
	for (unsigned i = 0; i < dp.nb_ports; i++) {
		const struct xvs_port *pt = &dp.ports[i];
		ports.node[i] = is_pci_addr(pt->dev) ? rte_eth_dev_socket_id(pt->port_id) : -1;
		ports.name[i] = pt->name;
	}
	for (unsigned w = 0; w < dp.nb_workers; w++)
		p.worker_node[w] = lcore_node(worker_lcore[w]);
	int rc = xvs_numa_check(&ports, &p, dp.cfg.numa_force, err, errlen);
	if (rc == 1)
		printf("xvs-dataplane: warning: %s\n", err);
	return rc < 0 ? rc : 0;
}

/*
 * Where to allocate what belongs to node: there, or on any node when DPDK has no memory there
 * (--no-huge keeps it all on node 0; hugepages may be reserved on some nodes only), said once.
 */
static int mem_node(int node)
{
	static int8_t has[RTE_MAX_NUMA_NODES]; /* 0: not tried yet, 1: yes, -1: no */
	if (node < 0 || node >= RTE_MAX_NUMA_NODES)
		return SOCKET_ID_ANY;
	if (!has[node]) {
		void *t = rte_malloc_socket("xvs_node_try", 64, 0, node);
		has[node] = t ? 1 : -1;
		rte_free(t);
		if (!t)
			printf("xvs-dataplane: no DPDK memory on node %d: its share goes to any node\n", node);
	}
	return has[node] > 0 ? node : SOCKET_ID_ANY;
}

/* The mbuf pool of node (-1: the main lcore's node), created at first use. */
static struct rte_mempool *pool_of(int node)
{
	int m = mem_node(node < 0 ? (int)rte_socket_id() : node);
	struct rte_mempool **pool = &pools[m + 1];
	if (!*pool) {
		char name[RTE_MEMPOOL_NAMESIZE];
		snprintf(name, sizeof(name), "xvs_pool_%d", m);
		*pool = rte_pktmbuf_pool_create(name, nb_mbufs(), MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						m);
	}
	return *pool;
}

__attribute__((format(printf, 3, 4)))
static void addf(char *s, size_t len, const char *fmt, ...)
{
	size_t o = strlen(s);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s + o, len - o, fmt, ap);
	va_end(ap);
}

/* One line per node: the lcores that run there, the ports on it, its mbuf pool. */
static void log_placement(void)
{
	for (int n = -1; n < RTE_MAX_NUMA_NODES; n++) {
		char s[512] = "";
		if (lcore_node(rte_get_main_lcore()) == n)
			addf(s, sizeof(s), ", main lcore %u", rte_get_main_lcore());
		for (unsigned w = 0; w < dp.nb_workers; w++)
			if (lcore_node(worker_lcore[w]) == n)
				addf(s, sizeof(s), ", worker %u (lcore %u)", w, worker_lcore[w]);
		for (unsigned i = 0; i < dp.nb_ports; i++)
			if (dp.ports[i].node == n)
				addf(s, sizeof(s), ", port %s", dp.ports[i].name);
		if (pools[n + 1])
			addf(s, sizeof(s), ", %u mbufs", pools[n + 1]->size);
		if (!s[0])
			continue;
		if (n < 0)
			printf("xvs-dataplane: node any: %s\n", s + 2);
		else
			printf("xvs-dataplane: node %d: %s\n", n, s + 2);
	}
	fflush(stdout);
}

/* ---- memory ------------------------------------------------------------------------------ */

/* Where worker i's own memory goes: its lcore's node. */
static int worker_mem(unsigned i)
{
	return mem_node(lcore_node(worker_lcore[i]));
}

/*
 * Several workers: the hand-off rings between every ordered pair (each on its consumer's
 * node), each worker's view of the others' loads, and the main lcore's own context for probes
 * (when every port has a TX queue for it; otherwise worker 0 keeps probing, and says so).
 */
static int setup_workers_apart(char *err, size_t errlen)
{
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		workers[i]->others = rte_zmalloc_socket("xvs_loads", sizeof(struct xvs_dest_load) * XVS_MAX_DESTS,
							64, worker_mem(i));
		if (!workers[i]->others)
			goto nomem;
		for (unsigned j = 0; j < dp.nb_workers; j++) {
			if (i == j)
				continue;
			char name[RTE_RING_NAMESIZE];
			snprintf(name, sizeof(name), "xvs_ho_%u_%u", i, j);
			struct rte_ring *r = rte_ring_create(name, XVS_HANDOFF_RING, worker_mem(j),
							     RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!r)
				goto nomem;
			workers[i]->ho_ring[j] = r;
			workers[j]->hi_ring[i] = r;
		}
	}
	dp.steer.key[0] = rte_rand();
	dp.steer.key[1] = rte_rand();
	if (dp.cfg.steering_seed_set)
		xvs_steer_seed(&dp.steer, dp.cfg.steering_seed);
	dp.steer.nb_workers = dp.nb_workers;
	if (!xvs_port_spare_txq(&dp, dp.nb_workers)) {
		printf("xvs-dataplane: no spare TX queue for the main lcore: worker 0 probes next hops\n");
		return 0;
	}
	main_ctx = rte_zmalloc_socket("xvs_main", sizeof(struct xvs_worker), 64,
				      mem_node((int)rte_socket_id()));
	if (!main_ctx || xvs_worker_init(main_ctx, &dp, XVS_WORKER_MAIN, NULL) < 0)
		goto nomem;
	workers[0]->probes = 0;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory for the hand-off rings of %u workers", dp.nb_workers);
	return -ENOMEM;
}

/* Free what the hand-off rings still hold once every worker has stopped. */
static void drain_rings(void)
{
	void *m;
	for (unsigned i = 0; i < dp.nb_workers; i++)
		for (unsigned j = 0; j < dp.nb_workers; j++)
			while (workers[i]->ho_ring[j] && rte_ring_sc_dequeue(workers[i]->ho_ring[j], &m) == 0)
				rte_pktmbuf_free(m);
}

/* ---- connection tables that outlive the process (dp_connstore.h) ----------------------- */

static uint32_t steering_now(void)
{
	return dp.nb_workers == 1 ? XVS_STEER_NONE : dp.steer.nic ? XVS_STEER_NIC : XVS_STEER_SOFTWARE;
}

/*
 * Before the workers' memory: where the tables go, their files opened and locked, and whether
 * this process takes them over (every header agrees with this configuration) or starts empty.
 */
static int setup_conn_store(char *err, size_t errlen)
{
	if (xvs_cstore_pick_dir(&cstore, &dp.cfg, err, errlen) < 0)
		return -EINVAL;
	if (!dp.cfg.conn_persist) {
		unsigned n = xvs_cstore_remove_all(cstore.dir, cstore.prefix);
		printf("xvs-dataplane: conn_persist = no: connection tables in process memory%s\n",
		       n ? " (removed the files of an earlier run)" : "");
		return 0;
	}
	cstore.enabled = 1;
	printf("xvs-dataplane: connection tables in %s%s\n", cstore.dir,
	       cstore.huge ? " (hugetlbfs)" : " (no hugetlbfs mount as huge_dir: shared memory)");
	int rc = xvs_cstore_open(&cstore, dp.nb_workers, err, errlen);
	if (rc < 0)
		return rc;
	char boot[40];
	xvs_cstore_boot_id(boot, sizeof(boot));
	struct xvs_steer seeded = { 0 };
	xvs_steer_seed(&seeded, dp.cfg.steering_seed);
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		cwant[i] = (struct xvs_cstore_want){
			.capacity = dp.cfg.conn_max, .worker = i, .nb_workers = dp.nb_workers,
			.steering = steering_now(), .reta_size = dp.steer.reta_size,
			.steer_key_set = dp.cfg.steering_seed_set, .now_ns = xvs_now_ns(),
			.file_size = xvs_cstore_file_size(dp.cfg.conn_max, cstore.page_size),
		};
		memcpy(cwant[i].steer_key, seeded.key, sizeof(seeded.key));
		memcpy(cwant[i].boot_id, boot, sizeof(boot));
	}
	xvs_cstore_decide(&cstore, cwant, fresh_conns);
	if (!cstore.attach)
		printf("xvs-dataplane: %s: starting empty\n", cstore.why);
	fflush(stdout);
	return 0;
}

/* Worker i takes over its table in mem, or starts it empty when the cells are corrupt. */
static int restore_table(unsigned i, void *mem)
{
	struct xvs_conn_rebuild r;
	char why[160];
	struct xvs_worker *w = workers[i];
	if (xvs_cstore_attach(&cstore, i, w, mem, &r, why, sizeof(why)) < 0) {
		printf("xvs-dataplane: worker %u: connection table is corrupt (%s): starting empty\n", i,
		       why);
		cstore.f[i].attached = 0;
		memset(mem, 0, xvs_conn_table_memsize(dp.cfg.conn_max));
		return xvs_conn_table_init(&w->conns, mem, dp.cfg.conn_max, rte_rand());
	}
	conns_restored = 1;
	xvs_cstore_reconcile(w, NULL, 1); /* its counts, before control looks */
	printf("xvs-dataplane: worker %u: took over %u connection(s) and %u template(s) (last stop "
	       "%s)", i, r.nb_conns, r.nb_tpl, cstore.f[i].old.clean ? "clean" : "not clean");
	if (r.nb_invalid || r.nb_dup || r.nb_full)
		printf("; dropped %u invalid (first: cell %u, %s), %u duplicate, %u without room",
		       r.nb_invalid, r.cell, r.why ? r.why : "-", r.nb_dup, r.nb_full);
	printf("\n");
	return 0;
}

/* Each table's header as this process runs it (clean = 0), or as it leaves it (clean = 1). */
static void conn_store_write(int clean)
{
	uint64_t now_ns = xvs_now_ns(), now_tsc = rte_rdtsc();
	for (unsigned i = 0; cstore.enabled && i < dp.nb_workers; i++)
		xvs_cstore_write_hdr(&cstore, i, &cwant[i], &dp.steer, &workers[i]->conns,
				     xvs_cstore_clock_base(workers[i], now_ns, now_tsc), clean);
}

/* After the workers' memory: the owner steering the taken-over tables were written under. */
static void conn_store_steering(void)
{
	if (!cstore.attach)
		return;
	const struct xvs_cstore_hdr *h = &cstore.f[0].old;
	memcpy(dp.steer.key, h->steer_key, sizeof(dp.steer.key));
	if (dp.steer.nic)
		xvs_rss_model_init(&dp.steer, h->rss_key, h->reta_size, dp.nb_workers);
}

static int wait_for_config(unsigned seconds);

/*
 * Taken-over tables against the first table generation: entries it does not explain go. With
 * no generation within XVS_CSTORE_GEN_WAIT_S (or --wait-config) nothing can be checked: empty.
 */
static void conn_store_reconcile(void)
{
	if (!conns_restored)
		return;
	unsigned wait = wait_config_s > XVS_CSTORE_GEN_WAIT_S ? wait_config_s : XVS_CSTORE_GEN_WAIT_S;
	const struct xvs_gen *g = NULL;
	if (atomic_load(&dp.gens.cur) || wait_for_config(wait) == 0)
		g = atomic_load(&dp.gens.cur);
	for (unsigned i = 0; i < dp.nb_workers; i++) {
		struct xvs_worker *w = workers[i];
		if (!cstore.f[i].attached)
			continue;
		if (!g) {
			void *mem = w->conns.buckets;
			memset(mem, 0, xvs_conn_table_memsize(dp.cfg.conn_max));
			xvs_conn_table_init(&w->conns, mem, dp.cfg.conn_max, rte_rand());
			xvs_cstore_reconcile(w, NULL, 1);
			printf("xvs-dataplane: worker %u: no table generation within %u s to check its "
			       "connections against: starting empty\n", i, wait);
			continue;
		}
		uint32_t n = xvs_cstore_reconcile(w, g, (int)cstore.f[i].old.clean);
		if (n)
			printf("xvs-dataplane: worker %u: dropped %u connection(s) whose real server "
			       "generation %llu no longer has\n", i, n, (unsigned long long)g->gen);
	}
	conn_store_write(0);
	fflush(stdout);
}

/* Worker i's context, connection table and mbuf pool, on the node of its lcore. */
static int setup_worker(unsigned i, char *err, size_t errlen)
{
	int node = lcore_node(worker_lcore[i]);
	size_t sz = xvs_conn_table_memsize(dp.cfg.conn_max);
	void *mem = cstore.enabled ? xvs_cstore_map(&cstore, i, cwant[i].file_size, node)
				   : rte_zmalloc_socket("xvs_conns", sz, 64, worker_mem(i));
	workers[i] = rte_zmalloc_socket("xvs_worker", sizeof(struct xvs_worker), 64, worker_mem(i));
	if (!mem || !workers[i] ||
	    xvs_worker_init(workers[i], &dp, i, cstore.attach ? NULL : mem) < 0 ||
	    (cstore.attach && restore_table(i, mem) < 0)) {
		snprintf(err, errlen, "out of memory for %u connections (%zu bytes)%s%s", dp.cfg.conn_max,
			 sz, cstore.enabled ? " in " : "", cstore.enabled ? cstore.dir : "");
		return -ENOMEM;
	}
	/* the VIP addresses, for martian sources and the exception path (dp_exc.h) */
	workers[i]->vips = rte_zmalloc_socket("xvs_vips", sizeof(*workers[i]->vips), 64, worker_mem(i));
	if (!workers[i]->vips) {
		snprintf(err, errlen, "out of memory for the VIP set of worker %u", i);
		return -ENOMEM;
	}
	workers[i]->pool = pool_of(node);
	if (!workers[i]->pool) {
		snprintf(err, errlen, "out of memory for %u mbufs for node %d", nb_mbufs(), node);
		return -ENOMEM;
	}
	return 0;
}

/* What the main lcore and every worker share sits on the main lcore's node. */
static int setup_memory(char *err, size_t errlen)
{
	int home = mem_node((int)rte_socket_id()), rc;
	dp.neigh = rte_zmalloc_socket("xvs_neigh", sizeof(*dp.neigh), 64, home);
	struct xvs_gen *g0 = rte_zmalloc_socket("xvs_gen0", sizeof(struct xvs_gen), 64, home);
	struct xvs_gen *g1 = rte_zmalloc_socket("xvs_gen1", sizeof(struct xvs_gen), 64, home);
	int pools_ok = (xvs_rt.pool = pool_of(-1)) != NULL;
	for (unsigned i = 0; i < dp.nb_ports; i++)
		pools_ok &= (dp.ports[i].rx_pool = pool_of(dp.ports[i].node)) != NULL;
	if (!dp.neigh || !g0 || !g1 || !pools_ok) {
		snprintf(err, errlen, "out of memory for tables and mbufs");
		return -ENOMEM;
	}
	xvs_nud_cfg_init(&dp.nud, dp.tsc_hz, dp.cfg.neigh_reachable_ms);
	xvs_dp_adopt_init(&dp.gens, &dp.shm, g0, g1, dp.nb_workers);
	if ((rc = setup_conn_store(err, errlen)) < 0)
		return rc;
	for (unsigned i = 0; i < dp.nb_workers; i++)
		if ((rc = setup_worker(i, err, errlen)) < 0)
			return rc;
	if (dp.nb_workers > 1 && (rc = setup_workers_apart(err, errlen)) < 0)
		return rc;
	if (xvs_sync_setup(&dp, workers, home) < 0) {
		snprintf(err, errlen, "out of memory for the connection-sync rings");
		return -ENOMEM;
	}
	conn_store_steering();
	conn_store_write(0);
	return 0;
}

static int wait_for_config(unsigned seconds)
{
	uint64_t end = rte_rdtsc() + dp.tsc_hz * seconds;
	while (!xvs_quit && rte_rdtsc() < end) {
		heartbeat();
		xvs_dp_adopt_poll(&dp.gens);
		if (atomic_load(&dp.gens.cur))
			return 0;
		rte_delay_us_sleep(1000);
	}
	return -ETIMEDOUT;
}

/* One lcore is main lcore and worker 0: the main duties run in worker 0's loop. */
static int single_lcore(void)
{
	return dp.nb_workers == 1 && rte_lcore_count() == 1;
}

/*
 * The exception path (ports with exception = yes): kernel interfaces and rings. The main
 * lcore sends the kernel's frames on its own TX queue, or on worker 0's when it is worker 0;
 * with neither, worker 0 sends them (as it then sends the probes).
 */
static int setup_exception(char *err, size_t errlen)
{
	struct xvs_worker *tx = single_lcore() ? workers[0] : main_ctx;
	return xvs_exc_setup(&dp, workers, tx, xvs_rt.pool, mem_node((int)rte_socket_id()), err, errlen);
}

static void run_workers(void)
{
	if (single_lcore()) {
		xvs_rt.housekeeping = housekeeping;
		xvs_worker_loop(workers[0]);
		return;
	}
	for (unsigned i = 0; i < dp.nb_workers; i++)
		rte_eal_remote_launch(xvs_worker_loop, workers[i], worker_lcore[i]);
	while (!xvs_quit) {
		housekeeping();
		/* while the kernel and the workers exchange frames, every 100 us */
		rte_delay_us_sleep(exc_busy ? 100 : 1000);
	}
	rte_eal_mp_wait_lcore();
}

static void print_stats(void)
{
	struct xvs_lcore_stats sum = { 0 };
	for (unsigned i = 0; i <= dp.nb_workers; i++) {
		/* the workers' records, then the main lcore's */
		const struct xvs_lcore_stats *s =
			xvs_shm_stats(&dp.shm, i < dp.nb_workers ? i : XVS_SHM_MAIN_STATS);
		sum.rx_pkts += s->rx_pkts;
		sum.tx_pkts += s->tx_pkts;
		sum.arp_replies += s->arp_replies;
		sum.icmp_echo_replies += s->icmp_echo_replies;
		sum.conns_new += s->conns_new;
		sum.conns_midflow += s->conns_midflow;
		sum.handoff_out += s->handoff_out;
		sum.handoff_in += s->handoff_in;
		sum.exc_to_kernel += s->exc_to_kernel;
		sum.exc_from_kernel += s->exc_from_kernel;
		for (unsigned d = 0; d < XVS_DROP_MAX; d++)
			sum.drops[d] += s->drops[d];
	}
	printf("xvs-dataplane: stats rx=%llu tx=%llu\n", (unsigned long long)sum.rx_pkts,
	       (unsigned long long)sum.tx_pkts);
	printf("xvs-dataplane: arp-replies %llu\n", (unsigned long long)sum.arp_replies);
	printf("xvs-dataplane: icmp-echo-replies %llu\n", (unsigned long long)sum.icmp_echo_replies);
	printf("xvs-dataplane: conns-new %llu\n", (unsigned long long)sum.conns_new);
	printf("xvs-dataplane: conns-midflow %llu\n", (unsigned long long)sum.conns_midflow);
	if (dp.nb_workers > 1)
		printf("xvs-dataplane: handoff-out %llu\nxvs-dataplane: handoff-in %llu\n",
		       (unsigned long long)sum.handoff_out, (unsigned long long)sum.handoff_in);
	if (xvs_exc_nb_mbufs(&dp))
		printf("xvs-dataplane: exception to-kernel %llu from-kernel %llu\n",
		       (unsigned long long)sum.exc_to_kernel, (unsigned long long)sum.exc_from_kernel);
	for (unsigned d = 0; d < XVS_DROP_MAX; d++)
		if (sum.drops[d])
			printf("xvs-dataplane: drop %s %llu\n", xvs_drop_names[d],
			       (unsigned long long)sum.drops[d]);
	fflush(stdout);
}

/*
 * DPDK's packet capture framework (dpdk-dumpcap, dpdk-pdump attach as secondary processes
 * with this file prefix). It needs EAL's multi-process channel, which in_memory = yes has
 * not, and memory a secondary can map: hugepage files, which --no-huge has not.
 */
static void capture_init(void)
{
	if (dp.cfg.in_memory) {
		printf("xvs-dataplane: capture unavailable: in_memory = yes (no multi-process)\n");
		return;
	}
	if (!strcmp(dp.cfg.huge_dir, "none")) {
		printf("xvs-dataplane: capture unavailable: huge_dir = none (no memory to share)\n");
		return;
	}
	if (rte_pdump_init() < 0) {
		printf("xvs-dataplane: capture unavailable: %s\n", rte_strerror(rte_errno));
		return;
	}
	pdump_on = 1;
	printf("xvs-dataplane: capture ready: dpdk-dumpcap --file-prefix=%s -i PORT\n",
	       dp.cfg.file_prefix);
}

/* EAL leaves its runtime directory behind; remove it (it only holds our own files). */
static void remove_runtime_dir(void)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", dp.cfg.file_prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char f[1024];
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		unlink(f);
	}
	closedir(d);
	rmdir(dir);
}

/*
 * Without in_memory, EAL keeps its hugepage files (PREFIXmap_N in huge_dir) for secondary
 * processes such as dpdk-dumpcap, and leaves them at exit: remove this instance's. A capture
 * still attached keeps its mappings.
 */
static void remove_hugepage_files(void)
{
	if (dp.cfg.in_memory || !strcmp(dp.cfg.huge_dir, "none"))
		return;
	DIR *d = opendir(dp.cfg.huge_dir);
	if (!d)
		return;
	size_t plen = strlen(dp.cfg.file_prefix);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strncmp(n, dp.cfg.file_prefix, plen) || strncmp(n + plen, "map_", 4) ||
		    !n[plen + 4] || strspn(n + plen + 4, "0123456789") != strlen(n + plen + 4))
			continue;
		char f[1024];
		snprintf(f, sizeof(f), "%s/%s", dp.cfg.huge_dir, n);
		unlink(f);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	char err[512];
	char *eal_argv[MAX_EAL_ARGS];
	const char *path = parse_args(argc, argv);

	if (xvs_config_load(path, &dp, &cfg_extra, err, sizeof(err)) < 0) {
		fprintf(stderr, "xvs-dataplane: %s\n", err);
		return check_only ? 1 : 2;
	}
	if (check_only) {
		printf("xvs-dataplane: %s: valid, %u port(s)\n", path, dp.nb_ports);
		return 0;
	}
	if (plan_lcores(err, sizeof(err)) < 0) {
		fprintf(stderr, "xvs-dataplane: %s\n", err);
		return 2;
	}
	int eal_argc = build_eal_args(eal_argv);
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s\n", rte_strerror(rte_errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dp.tsc_hz = rte_get_tsc_hz();
	capture_init();
	dp.nb_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	if (dp.nb_workers > XVS_MAX_LCORES)
		rte_exit(EXIT_FAILURE, "at most %u workers\n", XVS_MAX_LCORES);
	map_workers();
	if (xvs_port_find_all(&dp, err, sizeof(err)) < 0 || check_lcores(err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	char why[256];
	int nic = xvs_port_plan_steering(&dp, dp.nb_workers, why, sizeof(why));
	if (nic < 0)
		rte_exit(EXIT_FAILURE, "steering = nic: %s\n", why);

	int rc = xvs_shm_open(&dp.shm, dp.cfg.shm_path, 0);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "shared region %s: %s%s\n", dp.cfg.shm_path, strerror(-rc),
			 xvs_shm_open_hint(rc));
	/* the main lcore's counters start from zero too, whoever writes them */
	memset(xvs_shm_stats(&dp.shm, XVS_SHM_MAIN_STATS), 0, sizeof(struct xvs_lcore_stats));
	if (setup_memory(err, sizeof(err)) < 0 || setup_routes(err, sizeof(err)) < 0 ||
	    xvs_port_init_all(&dp, dp.nb_workers, dp.nb_workers + (main_ctx ? 1 : 0), err,
			      sizeof(err)) < 0 ||
	    setup_exception(err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	log_placement();
	/* the region outlives a dataplane: say afresh how this one steers */
	atomic_store(&dp.shm.hdr->steering, dp.nb_workers == 1 ? XVS_STEER_NONE
					      : nic ? XVS_STEER_NIC : XVS_STEER_SOFTWARE);
	atomic_store(&dp.shm.hdr->stalled_workers, 0);
	atomic_store(&dp.shm.hdr->dp_pid, (uint64_t)getpid());
	heartbeat();
	if (wait_config_s && wait_for_config(wait_config_s) < 0 && !xvs_quit)
		rte_exit(EXIT_FAILURE, "no table generation adopted within %u s\n", wait_config_s);
	conn_store_reconcile();
	if (xvs_port_start_all(&dp, err, sizeof(err)) < 0 || xvs_exc_start(err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	if (dp.nb_workers == 1)
		printf("xvs-dataplane: running, 1 worker(s), %u port(s), steering none\n", dp.nb_ports);
	else if (nic)
		printf("xvs-dataplane: running, %u worker(s), %u port(s), steering nic (RSS on the "
		       "client's address and port, %u-entry redirection table)\n", dp.nb_workers,
		       dp.nb_ports, dp.steer.reta_size);
	else
		printf("xvs-dataplane: running, %u worker(s), %u port(s), steering software (hand-off "
		       "to the client's owner; no NIC steering: %s)\n", dp.nb_workers, dp.nb_ports, why);
	fflush(stdout);
	if (pidfile && (rc = xvs_write_pidfile(pidfile)) < 0)
		printf("xvs-dataplane: cannot write %s: %s\n", pidfile, strerror(-rc));
	/* ports up, region attached: ready (Type=notify, systemd/xvs-dataplane.service) */
	xvs_notify("READY=1");

	run_workers();
	xvs_notify("STOPPING=1");
	drain_rings();
	xvs_exc_stop();
	xvs_sync_close();

	atomic_store(&dp.shm.hdr->dp_pid, 0);
	xvs_port_stop_all(&dp);
	print_stats();
	if (cstore.enabled) {
		/* nothing is deleted: the next xvs-dataplane takes the tables over */
		conn_store_write(1);
		xvs_cstore_close(&cstore);
	}
	xvs_shm_close(&dp.shm);
	if (pdump_on)
		rte_pdump_uninit();
	rte_eal_cleanup();
	remove_runtime_dir();
	remove_hugepage_files();
	if (pidfile)
		unlink(pidfile);
	return 0;
}
