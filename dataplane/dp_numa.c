/*
 * NUMA placement (dp_numa.h). Every worker polls RX queue i of every port (dp_worker.c), so a
 * worker is node-local only when all ports with a known node share one: the planner puts the
 * main lcore and the workers on the CPUs of that node, lowest first, and refuses whatever
 * would cross nodes unless told to run anyway. Memory then follows the lcores (main()).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <numa.h>

#include "dp_numa.h"

static unsigned cpus_on(const struct xvs_numa_topo *t, int node)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->nb_cpus; i++)
		n += t->cpu_node[i] == node;
	return n;
}

static const char *port_label(const struct xvs_numa_ports *ports, unsigned i, char *buf, size_t len)
{
	if (ports->name[i])
		return ports->name[i];
	snprintf(buf, len, "%u", i);
	return buf;
}

/* A described topology must hold together: nodes in range, CPUs ascending. */
static int topo_valid(const struct xvs_numa_topo *t, char *msg, size_t msglen)
{
	if (t->nb_nodes < 1 || t->nb_nodes > XVS_NUMA_MAX_NODES || t->nb_cpus > XVS_NUMA_MAX_CPUS ||
	    t->ports.nb > XVS_MAX_PORTS) {
		snprintf(msg, msglen, "bad topology: %u nodes, %u CPUs, %u ports", t->nb_nodes, t->nb_cpus,
			 t->ports.nb);
		return -EINVAL;
	}
	for (unsigned i = 0; i < t->nb_cpus; i++)
		if (t->cpu_node[i] < 0 || t->cpu_node[i] >= (int)t->nb_nodes ||
		    (i && t->cpu[i] <= t->cpu[i - 1])) {
			snprintf(msg, msglen, "bad topology: CPU %u on node %d", t->cpu[i], t->cpu_node[i]);
			return -EINVAL;
		}
	for (unsigned i = 0; i < t->ports.nb; i++)
		if (t->ports.node[i] < -1 || t->ports.node[i] >= (int)t->nb_nodes) {
			snprintf(msg, msglen, "bad topology: port %u on node %d", i, t->ports.node[i]);
			return -EINVAL;
		}
	return 0;
}

/*
 * The node with most ports (ports_on NULL: ignore ports), then most CPUs, then the lowest id.
 * With the ports on one node, that node.
 */
static int pick_node(const struct xvs_numa_topo *t, const unsigned *ports_on)
{
	int best = 0;
	for (int n = 1; n < (int)t->nb_nodes; n++) {
		unsigned pn = ports_on ? ports_on[n] : 0, pb = ports_on ? ports_on[best] : 0;
		if (pn > pb || (pn == pb && cpus_on(t, n) > cpus_on(t, best)))
			best = n;
	}
	return best;
}

/*
 * The workers' node, or a refusal: ports on several nodes, or none of the CPUs on the ports'
 * node. With force, the node with most ports, or with most CPUs when that one has none.
 */
static int choose_node(const struct xvs_numa_topo *t, int force, int *node, char *msg,
		       size_t msglen)
{
	unsigned ports_on[XVS_NUMA_MAX_NODES] = { 0 }, nb_port_nodes = 0;
	for (unsigned i = 0; i < t->ports.nb; i++)
		if (t->ports.node[i] >= 0 && !ports_on[t->ports.node[i]]++)
			nb_port_nodes++;
	*node = pick_node(t, ports_on);
	if (nb_port_nodes > 1 && !force) {
		snprintf(msg, msglen, "ports on %u nodes: every worker polls every port, so some port would be "
			 "served across nodes: refused (set numa_force = yes to run anyway, on the node with "
			 "most ports)", nb_port_nodes);
		return -EXDEV;
	}
	if (ports_on[*node] && !cpus_on(t, *node)) {
		if (!force) {
			snprintf(msg, msglen, "ports on node %d but no free CPU on node %d: refused "
				 "(set numa_force = yes to run on another node)", *node, *node);
			return -EXDEV;
		}
		*node = pick_node(t, NULL);
	}
	return 0;
}

static void fill_lcores(struct xvs_numa_plan *p)
{
	size_t off = 0;
	off += (size_t)snprintf(p->lcores, sizeof(p->lcores), "0@%d", p->main_cpu);
	for (unsigned w = 0; !p->single && w < p->nb_workers; w++)
		off += (size_t)snprintf(p->lcores + off, sizeof(p->lcores) - off, ",%u@%u", w + 1,
					p->worker_cpu[w]);
}

int xvs_numa_plan_auto(const struct xvs_numa_topo *t, unsigned nb_workers, int force,
		       struct xvs_numa_plan *p, char *msg, size_t msglen)
{
	unsigned cand[XVS_NUMA_MAX_CPUS], nb_cand = 0;
	int node, rc;
	memset(p, 0, sizeof(*p));
	if (nb_workers > XVS_MAX_LCORES) {
		snprintf(msg, msglen, "workers = %u: at most %u", nb_workers, XVS_MAX_LCORES);
		return -EINVAL;
	}
	if ((rc = topo_valid(t, msg, msglen)) < 0 || (rc = choose_node(t, force, &node, msg, msglen)) < 0)
		return rc;
	/* the node's CPUs first; with force, the other nodes' after them */
	for (unsigned pass = 0; pass < (force ? 2u : 1u); pass++)
		for (unsigned i = 0; i < t->nb_cpus; i++)
			if ((t->cpu_node[i] == node) == !pass)
				cand[nb_cand++] = i;
	unsigned have = cpus_on(t, node);
	unsigned w = nb_workers ? nb_workers : have > 1 ? RTE_MIN(have - 1, (unsigned)XVS_MAX_LCORES) : 1;
	unsigned need = w == 1 && have <= 1 ? 1 : w + 1; /* one lcore may be main and worker */
	if (nb_cand < need) {
		if (force || have == t->nb_cpus)
			snprintf(msg, msglen, "too few CPUs: need %u, have %u", need, nb_cand);
		else
			snprintf(msg, msglen, "too few CPUs on node %d: need %u, have %u (numa_force = yes "
				 "also takes CPUs of other nodes)", node, need, have);
		return -EINVAL;
	}
	p->single = need == 1;
	p->nb_workers = w;
	p->main_cpu = (int)t->cpu[cand[0]];
	p->main_node = t->cpu_node[cand[0]];
	for (unsigned i = 0; i < w; i++) {
		unsigned c = cand[p->single ? 0 : i + 1];
		p->worker_cpu[i] = t->cpu[c];
		p->worker_node[i] = t->cpu_node[c];
	}
	fill_lcores(p);
	rc = xvs_numa_check(&t->ports, p, force, msg, msglen);
	if (rc == 0 && need > have) {
		snprintf(msg, msglen, "node %d has %u CPU(s) for %u lcores: the others run on other nodes "
			 "(numa_force = yes)", node, have, need);
		rc = 1;
	}
	return rc;
}

int xvs_numa_check(const struct xvs_numa_ports *ports, const struct xvs_numa_plan *p, int force,
		   char *msg, size_t msglen)
{
	unsigned crossed = 0, fw = 0, fp = 0; /* how many, and the first */
	for (unsigned w = 0; w < p->nb_workers; w++)
		for (unsigned i = 0; i < ports->nb; i++) {
			int wn = p->worker_node[w], pn = ports->node[i];
			if (wn < 0 || pn < 0 || wn == pn)
				continue;
			if (!crossed) {
				fw = w;
				fp = i;
			}
			crossed++;
		}
	if (!crossed)
		return 0;
	char num[16];
	const char *name = port_label(ports, fp, num, sizeof(num));
	if (!force) {
		snprintf(msg, msglen, "worker %u on node %d serves port %s on node %d: refused "
			 "(set numa_force = yes to run anyway)", fw, p->worker_node[fw], name, ports->node[fp]);
		return -EXDEV;
	}
	snprintf(msg, msglen, "worker %u on node %d serves port %s on node %d (%u cross-node worker/port "
		 "pair(s) in all): running anyway (numa_force = yes)", fw, p->worker_node[fw], name,
		 ports->node[fp], crossed);
	return 1;
}

/* ---- the real machine ---------------------------------------------------------------- */

int xvs_numa_dev_node(const char *sysfs, const char *dev)
{
	char path[512], name[64];
	unsigned dom = 0, bus, slot, fn;
	const char *iface = strstr(dev, "iface=");
	int node = -1;
	if (sscanf(dev, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) == 4 ||
	    (dom = 0, sscanf(dev, "%x:%x.%x", &bus, &slot, &fn) == 3))
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%04x:%02x:%02x.%x/numa_node", sysfs, dom,
			 bus, slot, fn);
	else if (iface && sscanf(iface + 6, "%63[^,]", name) == 1)
		snprintf(path, sizeof(path), "%s/class/net/%s/device/numa_node", sysfs, name);
	else
		return -1; /* a vdev of its own (net_ring, net_null, net_pcap, net_tap): no home node */
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &node) != 1 || node < 0)
		node = -1;
	fclose(f);
	return node;
}

int xvs_numa_read_topo(const struct xvs_dp *dp, struct xvs_numa_topo *t)
{
	cpu_set_t set;
	memset(t, 0, sizeof(*t));
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	int numa = numa_available() >= 0;
	t->nb_nodes = numa ? RTE_MIN((unsigned)numa_max_node() + 1, (unsigned)XVS_NUMA_MAX_NODES) : 1;
	for (int c = 0; c < CPU_SETSIZE && t->nb_cpus < XVS_NUMA_MAX_CPUS; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		int n = numa ? numa_node_of_cpu(c) : 0;
		t->cpu[t->nb_cpus] = (unsigned)c;
		t->cpu_node[t->nb_cpus++] = n >= 0 && n < (int)t->nb_nodes ? n : 0;
	}
	t->ports.nb = dp->nb_ports;
	for (unsigned i = 0; i < dp->nb_ports; i++) {
		int n = xvs_numa_dev_node("/sys", dp->ports[i].dev);
		t->ports.node[i] = n < (int)t->nb_nodes ? n : -1;
		t->ports.name[i] = dp->ports[i].name;
	}
	return 0;
}
