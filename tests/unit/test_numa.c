/*
 * NUMA planner (dataplane/dp_numa.h) on made-up machines: lcores = auto stays on the ports'
 * node, refuses what would cross nodes unless forced, and every plan it makes holds together;
 * explicit lists are checked the same way; the ports' nodes are read from a sysfs tree; the
 * configuration keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dp_config.h"
#include "dp_numa.h"

static struct xvs_numa_topo topo;
static struct xvs_numa_plan plan;
static char msg[512];

/* nb_nodes nodes with per_node[n] CPUs each, numbered node after node, all allowed; no port. */
static void machine(unsigned nb_nodes, const unsigned *per_node)
{
	memset(&topo, 0, sizeof(topo));
	topo.nb_nodes = nb_nodes;
	for (unsigned n = 0; n < nb_nodes; n++)
		for (unsigned c = 0; c < per_node[n]; c++) {
			topo.cpu[topo.nb_cpus] = topo.nb_cpus;
			topo.cpu_node[topo.nb_cpus++] = (int)n;
		}
}

/* nb ports on the given nodes (-1: unknown), named p0, p1, ... */
static void ports(unsigned nb, ...)
{
	static const char *names[] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7" };
	va_list ap;
	va_start(ap, nb);
	topo.ports.nb = nb;
	for (unsigned i = 0; i < nb; i++) {
		topo.ports.node[i] = va_arg(ap, int);
		topo.ports.name[i] = names[i];
	}
	va_end(ap);
}

static int plan_auto(unsigned workers, int force)
{
	msg[0] = 0;
	return xvs_numa_plan_auto(&topo, workers, force, &plan, msg, sizeof(msg));
}

static int node_of_cpu(unsigned cpu)
{
	for (unsigned i = 0; i < topo.nb_cpus; i++)
		if (topo.cpu[i] == cpu)
			return topo.cpu_node[i];
	return -2; /* not an allowed CPU */
}

/* What every plan must satisfy, whatever the machine. */
static void assert_plan_sound(int rc, unsigned want, int force)
{
	cr_assert(rc == 0 || (rc == 1 && force), "rc %d (force %d): %s", rc, force, msg);
	cr_assert(plan.nb_workers >= 1 && plan.nb_workers <= XVS_MAX_LCORES);
	cr_assert(!want || plan.nb_workers == want);
	cr_assert(!plan.single || plan.nb_workers == 1);
	cr_assert_eq(plan.main_node, node_of_cpu((unsigned)plan.main_cpu));
	char lcores[sizeof(plan.lcores)];
	size_t off = (size_t)snprintf(lcores, sizeof(lcores), "0@%d", plan.main_cpu);
	for (unsigned w = 0; w < plan.nb_workers; w++) {
		cr_assert_eq(plan.worker_node[w], node_of_cpu(plan.worker_cpu[w]));
		cr_assert(plan.single ? plan.worker_cpu[w] == (unsigned)plan.main_cpu
				      : plan.worker_cpu[w] != (unsigned)plan.main_cpu);
		for (unsigned v = 0; v < w; v++)
			cr_assert_neq(plan.worker_cpu[w], plan.worker_cpu[v]);
		if (!plan.single)
			off += (size_t)snprintf(lcores + off, sizeof(lcores) - off, ",%u@%u", w + 1, plan.worker_cpu[w]);
	}
	cr_assert_str_eq(plan.lcores, lcores);
	if (rc == 1)
		return;
	/* node-local: the main lcore, every worker and every port with a node on one node */
	for (unsigned w = 0; w < plan.nb_workers; w++)
		cr_assert_eq(plan.worker_node[w], plan.main_node);
	for (unsigned i = 0; i < topo.ports.nb; i++)
		cr_assert(topo.ports.node[i] < 0 || topo.ports.node[i] == plan.main_node);
}

/* ---- lcores = auto ---------------------------------------------------------------------- */

Test(numa, one_node_virtual_ports)
{
	machine(1, (unsigned[]){ 4 });
	ports(2, -1, -1);
	cr_assert_eq(plan_auto(0, 0), 0, "%s", msg);
	assert_plan_sound(0, 0, 0);
	cr_assert_str_eq(plan.lcores, "0@0,1@1,2@2,3@3"); /* one CPU for the main lcore, 3 workers */
	cr_assert_eq(plan_auto(2, 0), 0, "%s", msg);
	cr_assert_str_eq(plan.lcores, "0@0,1@1,2@2");
	ports(1, 0);
	cr_assert_eq(plan_auto(1, 0), 0, "%s", msg);
	cr_assert_str_eq(plan.lcores, "0@0,1@1");
}

Test(numa, one_cpu_is_main_and_worker)
{
	machine(1, (unsigned[]){ 1 });
	ports(1, 0);
	for (unsigned want = 0; want <= 1; want++) {
		cr_assert_eq(plan_auto(want, 0), 0, "%s", msg);
		assert_plan_sound(0, want, 0);
		cr_assert(plan.single);
		cr_assert_str_eq(plan.lcores, "0@0");
	}
}

Test(numa, ports_on_node_1_only)
{
	machine(2, (unsigned[]){ 4, 4 });
	ports(2, 1, 1);
	cr_assert_eq(plan_auto(0, 0), 0, "%s", msg);
	assert_plan_sound(0, 0, 0);
	cr_assert_str_eq(plan.lcores, "0@4,1@5,2@6,3@7");
	cr_assert_eq(plan.main_node, 1);
	ports(2, 1, -1); /* a virtual port goes along */
	cr_assert_eq(plan_auto(2, 0), 0, "%s", msg);
	cr_assert_str_eq(plan.lcores, "0@4,1@5,2@6");
}

/* Every worker polls every port: ports on two nodes cannot all be served node-locally. */
Test(numa, two_nodes_ports_on_each)
{
	machine(2, (unsigned[]){ 4, 4 });
	ports(2, 0, 1);
	cr_assert_eq(plan_auto(0, 0), -EXDEV);
	cr_assert_str_eq(msg, "ports on 2 nodes: every worker polls every port, so some port would be "
			      "served across nodes: refused (set numa_force = yes to run anyway, on the node "
			      "with most ports)");
	cr_assert_eq(plan_auto(2, 1), 1, "%s", msg);
	assert_plan_sound(1, 2, 1);
	cr_assert_str_eq(plan.lcores, "0@0,1@1,2@2"); /* a tie: the lowest node */
	cr_assert_str_eq(msg, "worker 0 on node 0 serves port p1 on node 1 (2 cross-node worker/port "
			      "pair(s) in all): running anyway (numa_force = yes)");
	ports(3, 0, 1, 1); /* the node with most ports wins */
	cr_assert_eq(plan_auto(0, 1), 1, "%s", msg);
	assert_plan_sound(1, 0, 1);
	cr_assert_str_eq(plan.lcores, "0@4,1@5,2@6,3@7");
	cr_assert(strstr(msg, "serves port p0 on node 0"), "%s", msg);
}

/* The affinity mask leaves no CPU on the ports' node. */
Test(numa, no_cpu_on_the_ports_node)
{
	machine(2, (unsigned[]){ 3, 0 });
	ports(1, 1);
	cr_assert_eq(plan_auto(0, 0), -EXDEV);
	cr_assert_str_eq(msg, "ports on node 1 but no free CPU on node 1: refused (set numa_force = yes "
			      "to run on another node)");
	cr_assert_eq(plan_auto(0, 1), 1, "%s", msg);
	assert_plan_sound(1, 0, 1);
	cr_assert_str_eq(plan.lcores, "0@0,1@1,2@2");
}

Test(numa, too_few_cpus)
{
	machine(1, (unsigned[]){ 2 });
	ports(1, -1);
	cr_assert_eq(plan_auto(2, 0), -EINVAL);
	cr_assert_str_eq(msg, "too few CPUs: need 3, have 2");
	cr_assert_eq(plan_auto(2, 1), -EINVAL); /* force adds no CPU */
	cr_assert_str_eq(msg, "too few CPUs: need 3, have 2");

	machine(2, (unsigned[]){ 2, 2 });
	ports(1, 1);
	cr_assert_eq(plan_auto(3, 0), -EINVAL);
	cr_assert_str_eq(msg, "too few CPUs on node 1: need 4, have 2 (numa_force = yes also takes CPUs "
			      "of other nodes)");
	cr_assert_eq(plan_auto(3, 1), 1, "%s", msg); /* the port's node first, then the others */
	assert_plan_sound(1, 3, 1);
	cr_assert_str_eq(plan.lcores, "0@2,1@3,2@0,3@1");
	cr_assert(strstr(msg, "worker 1 on node 0 serves port p0 on node 1"), "%s", msg);
	cr_assert_eq(plan_auto(4, 1), -EINVAL);
	cr_assert_str_eq(msg, "too few CPUs: need 5, have 4");

	ports(1, -1); /* no port to cross, but the lcores span nodes: still said */
	cr_assert_eq(plan_auto(3, 1), 1, "%s", msg);
	cr_assert_str_eq(msg, "node 0 has 2 CPU(s) for 4 lcores: the others run on other nodes "
			      "(numa_force = yes)");
}

Test(numa, workers_bounded_by_max_lcores)
{
	machine(1, (unsigned[]){ 64 });
	ports(1, 0);
	cr_assert_eq(plan_auto(0, 0), 0, "%s", msg);
	assert_plan_sound(0, 0, 0);
	cr_assert_eq(plan.nb_workers, XVS_MAX_LCORES);
	cr_assert_eq(plan_auto(XVS_MAX_LCORES + 1, 0), -EINVAL);
}

/* Ports with no known node (virtual devices, no NUMA) never refuse: the node with most CPUs. */
Test(numa, unknown_port_node)
{
	machine(2, (unsigned[]){ 2, 3 });
	ports(2, -1, -1);
	cr_assert_eq(plan_auto(0, 0), 0, "%s", msg);
	assert_plan_sound(0, 0, 0);
	cr_assert_str_eq(plan.lcores, "0@2,1@3,2@4");
	machine(2, (unsigned[]){ 3, 3 });
	ports(2, -1, -1);
	cr_assert_eq(plan_auto(0, 0), 0, "%s", msg);
	cr_assert_str_eq(plan.lcores, "0@0,1@1,2@2");
}

/* Sparse CPU ids, as an affinity mask or isolcpus leave them. */
Test(numa, affinity_mask_holes)
{
	memset(&topo, 0, sizeof(topo));
	topo.nb_nodes = 2;
	const unsigned cpus[] = { 2, 3, 17, 40, 41, 63 };
	const int nodes[] = { 0, 0, 1, 1, 1, 1 };
	for (unsigned i = 0; i < 6; i++) {
		topo.cpu[i] = cpus[i];
		topo.cpu_node[i] = nodes[i];
	}
	topo.nb_cpus = 6;
	ports(1, 1);
	cr_assert_eq(plan_auto(2, 0), 0, "%s", msg);
	assert_plan_sound(0, 2, 0);
	cr_assert_str_eq(plan.lcores, "0@17,1@40,2@41");
}

Test(numa, bad_topology)
{
	machine(1, (unsigned[]){ 2 });
	ports(1, 1);
	cr_assert_eq(plan_auto(0, 0), -EINVAL);
	cr_assert_str_eq(msg, "bad topology: port 0 on node 1");
	machine(1, (unsigned[]){ 2 });
	topo.cpu_node[1] = 3;
	cr_assert_eq(plan_auto(0, 0), -EINVAL);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/*
 * Random machines (1-4 nodes, 0-8 CPUs each, random holes, random port nodes): a plan is sound
 * or refused; without force it never crosses nodes; force never refuses what has enough CPUs;
 * lcores = auto with no count uses every CPU of the node it picks.
 */
Test(numa, random_machines)
{
	for (int round = 0; round < 20000; round++) {
		unsigned per[4] = { 0 }, nb_nodes = 1 + rnd(4);
		for (unsigned n = 0; n < nb_nodes; n++)
			per[n] = rnd(9);
		machine(nb_nodes, per);
		unsigned kept = 0;
		for (unsigned i = 0; i < topo.nb_cpus; i++) /* holes in the mask */
			if (rnd(4)) {
				topo.cpu[kept] = topo.cpu[i];
				topo.cpu_node[kept++] = topo.cpu_node[i];
			}
		topo.nb_cpus = kept;
		topo.ports.nb = 1 + rnd(3);
		for (unsigned i = 0; i < topo.ports.nb; i++)
			topo.ports.node[i] = (int)rnd(nb_nodes + 1) - 1;
		unsigned want = rnd(3) ? 0 : 1 + rnd(6);
		int force = (int)rnd(2);
		int rc = plan_auto(want, force);
		if (rc < 0) { /* forced, only a lack of CPUs refuses */
			cr_assert(!force || (rc == -EINVAL && !strncmp(msg, "too few CPUs: need", 18) &&
					     topo.nb_cpus <= want), "%s", msg);
			continue;
		}
		assert_plan_sound(rc, want, force);
		unsigned on_node = 0;
		for (unsigned i = 0; i < topo.nb_cpus; i++)
			on_node += topo.cpu_node[i] == plan.main_node;
		if (!want && rc == 0)
			cr_assert_eq(plan.nb_workers + !plan.single, RTE_MIN(on_node, (unsigned)XVS_MAX_LCORES + 1));
	}
}

/* ---- explicit lcores lists, as EAL reports their nodes ------------------------------------ */

static int check(unsigned nb_workers, const int *worker_node, int force)
{
	memset(&plan, 0, sizeof(plan));
	plan.main_cpu = -1;
	plan.nb_workers = nb_workers;
	memcpy(plan.worker_node, worker_node, nb_workers * sizeof(int));
	msg[0] = 0;
	return xvs_numa_check(&topo.ports, &plan, force, msg, sizeof(msg));
}

Test(numa, explicit_cross_node_refused_or_forced)
{
	machine(2, (unsigned[]){ 4, 4 });
	ports(2, 1, -1);
	/* lcores = 0@4,1@5,2@0: worker 1 on CPU 0, node 0 */
	cr_assert_eq(check(2, (int[]){ 1, 0 }, 0), -EXDEV);
	cr_assert_str_eq(msg, "worker 1 on node 0 serves port p0 on node 1: refused (set numa_force = yes "
			      "to run anyway)");
	cr_assert_eq(check(2, (int[]){ 1, 0 }, 1), 1);
	cr_assert_str_eq(msg, "worker 1 on node 0 serves port p0 on node 1 (1 cross-node worker/port "
			      "pair(s) in all): running anyway (numa_force = yes)");
	cr_assert_eq(check(2, (int[]){ 1, 1 }, 0), 0);
}

/* Single-node machines and virtual devices are never refused (the e2e tests' "0@0,1@1,2@0"). */
Test(numa, explicit_never_refused_without_nodes)
{
	machine(1, (unsigned[]){ 2 });
	ports(2, -1, -1);
	cr_assert_eq(check(2, (int[]){ 0, 0 }, 0), 0);
	ports(2, 0, 0);
	cr_assert_eq(check(2, (int[]){ 0, 0 }, 0), 0);
	machine(2, (unsigned[]){ 2, 2 });
	ports(2, -1, -1);
	cr_assert_eq(check(3, (int[]){ 0, 1, 0 }, 0), 0);
	ports(1, 1);
	cr_assert_eq(check(1, (int[]){ -1 }, 0), 0); /* an lcore on CPUs of both nodes */
}

/* ---- the ports' nodes from sysfs ---------------------------------------------------------- */

static char sysfs[64];

static void put(const char *dir, const char *value)
{
	char path[256], cmd[320];
	snprintf(path, sizeof(path), "%s/%s", sysfs, dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	cr_assert_eq(system(cmd), 0);
	strcat(path, "/numa_node");
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", value);
	fclose(f);
}

Test(numa, dev_node_from_sysfs)
{
	snprintf(sysfs, sizeof(sysfs), "/tmp/xvs-numa-XXXXXX");
	cr_assert(mkdtemp(sysfs));
	put("bus/pci/devices/0000:3b:00.0", "1");
	put("bus/pci/devices/0000:af:00.1", "-1");
	put("class/net/ens1f0/device", "1");
	cr_assert_eq(xvs_numa_dev_node(sysfs, "0000:3b:00.0"), 1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "3b:00.0"), 1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "0000:3b:00.0,rxq_cqe_comp_en=0"), 1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "0000:af:00.1"), -1); /* no NUMA: the kernel says -1 */
	cr_assert_eq(xvs_numa_dev_node(sysfs, "0000:5e:00.0"), -1); /* absent */
	cr_assert_eq(xvs_numa_dev_node(sysfs, "net_af_xdp0,iface=ens1f0,start_queue=0"), 1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "net_af_packet0,iface=ens1f0"), 1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "net_af_packet0,iface=veth-lb0"), -1); /* no device */
	cr_assert_eq(xvs_numa_dev_node(sysfs, "net_ring0"), -1);
	cr_assert_eq(xvs_numa_dev_node(sysfs, "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"), -1);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	cr_assert_eq(system(cmd), 0);
}

/* ---- configuration keys ------------------------------------------------------------------ */

static struct xvs_dp dp;
static struct xvs_cfg_extra extra;

static int load(const char *dataplane_section)
{
	char path[] = "/tmp/xvs-numa-cfg-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "[dataplane]\n%s\n[port lan]\ndev = net_ring0\n", dataplane_section);
	fclose(f);
	msg[0] = 0;
	int rc = xvs_config_load(path, &dp, &extra, msg, sizeof(msg));
	unlink(path);
	return rc;
}

Test(numa, config_keys)
{
	cr_assert_eq(load("lcores = 0@0,1@1,2@0"), 0, "%s", msg);
	cr_assert(!dp.cfg.lcores_auto);
	cr_assert_str_eq(dp.cfg.lcores, "0@0,1@1,2@0");
	cr_assert_eq(dp.cfg.workers, 0);
	cr_assert(!dp.cfg.numa_force);
	cr_assert_eq(dp.ports[0].node, -1);
	cr_assert_eq(load("lcores = auto\nworkers = 2\nnuma_force = yes"), 0, "%s", msg);
	cr_assert(dp.cfg.lcores_auto);
	cr_assert_eq(dp.cfg.workers, 2);
	cr_assert(dp.cfg.numa_force);
	cr_assert_eq(load("workers = 2\nlcores = auto"), 0, "%s", msg); /* any order */
	cr_assert_eq(load("lcores = 0-2\nworkers = 2"), -EINVAL);
	cr_assert(strstr(msg, "workers needs lcores = auto"), "%s", msg);
	cr_assert_eq(load("lcores = auto\nworkers = 0"), -EINVAL);
	cr_assert(strstr(msg, "workers '0' must be 1.."), "%s", msg);
	cr_assert_eq(load("lcores = auto\nworkers = 17"), -EINVAL);
}
