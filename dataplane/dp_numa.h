/*
 * NUMA placement of the dataplane's lcores: a pure planner over a described topology (unit
 * tested on made-up machines), the check of a plan against the ports' nodes, and the reader
 * of the real topology (affinity, libnuma, sysfs). Start-up only, before and after EAL init.
 */
#ifndef XVS_DP_NUMA_H
#define XVS_DP_NUMA_H

#include <stddef.h>

#include "dp.h"

#ifndef XVS_NUMA_MAX_CPUS
#define XVS_NUMA_MAX_CPUS 1024 /* CPU_SETSIZE */
#endif
#ifndef XVS_NUMA_MAX_NODES
#define XVS_NUMA_MAX_NODES 32 /* RTE_MAX_NUMA_NODES */
#endif

/* The ports as far as their nodes go; names are for messages (NULL: "port N"). */
struct xvs_numa_ports {
	unsigned nb;
	int node[XVS_MAX_PORTS];  /* -1: unknown (virtual device, no NUMA on the machine) */
	const char *name[XVS_MAX_PORTS];
};

/* A machine as the planner sees it: the CPUs this process may use, and the ports. */
struct xvs_numa_topo {
	unsigned nb_nodes;                  /* nodes are 0 .. nb_nodes - 1 */
	unsigned nb_cpus;
	unsigned cpu[XVS_NUMA_MAX_CPUS];    /* allowed CPUs, ascending */
	int cpu_node[XVS_NUMA_MAX_CPUS];    /* node of cpu[i] */
	struct xvs_numa_ports ports;
};

/*
 * Where the lcores run. Lcore 0 is the main lcore, lcore i + 1 worker i; with one lcore
 * (single), the main lcore is worker 0 too. An explicit list's plan only has the workers'
 * nodes (as EAL reports them), and main_cpu -1.
 */
struct xvs_numa_plan {
	int main_cpu;
	int main_node;
	unsigned nb_workers;
	int single;
	unsigned worker_cpu[XVS_MAX_LCORES];
	int worker_node[XVS_MAX_LCORES];    /* -1: unknown (an lcore spanning nodes) */
	char lcores[16 * (XVS_MAX_LCORES + 1)]; /* EAL --lcores, "0@M,1@W0,..." */
};

/*
 * Plan lcores = auto for nb_workers workers (0: one per CPU of the workers' node but one
 * for the main lcore, at least one, at most XVS_MAX_LCORES). The workers' node is the one
 * their ports are on; every worker polls every port, so ports on several nodes, no CPU on the
 * ports' node or too few there are refused unless force, which then places the workers on
 * the node with most ports (ties: most CPUs, lowest id) and takes CPUs of other nodes when
 * that one has too few. Returns 0 (node-local plan), 1 (a cross-node plan that force let
 * through: msg says what is crossed) or -EINVAL / -EXDEV with the reason in msg.
 */
int xvs_numa_plan_auto(const struct xvs_numa_topo *t, unsigned nb_workers, int force,
		       struct xvs_numa_plan *p, char *msg, size_t msglen);

/*
 * Check a plan's workers against the ports' nodes: a worker on a known node serving a port on
 * another known node is cross-node. Unknown nodes (-1) are never refused. Returns 0, 1
 * (cross-node, force: a warning in msg) or -EXDEV (the first crossing in msg).
 */
int xvs_numa_check(const struct xvs_numa_ports *ports, const struct xvs_numa_plan *p, int force,
		   char *msg, size_t msglen);

/*
 * Node of a port's device before EAL init, from sysfs (sysfs: "/sys" or a test tree): a PCI
 * address's bus/pci/devices/ADDR/numa_node, or for a vdev over a kernel interface (iface=NAME)
 * class/net/NAME/device/numa_node. -1 when the device has none or the file is absent.
 */
int xvs_numa_dev_node(const char *sysfs, const char *dev);

/*
 * The real machine: CPUs of this process's affinity mask with their nodes (libnuma; all on
 * node 0 without NUMA) and the ports' nodes from sysfs. Returns 0 or a negative errno.
 */
int xvs_numa_read_topo(const struct xvs_dp *dp, struct xvs_numa_topo *t);

#endif
