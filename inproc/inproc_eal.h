/*
 * EAL for a program that runs the dataplane's code in its own process (xvs-bench, the unit
 * tests' worker harness, the worker fuzz target): main lcore only, before any worker.
 *
 * What they all want: no PCI devices, no telemetry, EAL's log on stderr, a file prefix of
 * the process's own and nothing shared with other processes, so that no run leaves a file
 * behind (memory in ordinary pages with --no-shconf, or hugepages with --in-memory).
 */
#ifndef XVS_INPROC_EAL_H
#define XVS_INPROC_EAL_H

#include <stddef.h>

#include <rte_mempool.h>

#include "xvs/shm.h"

/* Room for a file prefix: "xvs-" name "-" pid. */
#define XVS_INPROC_PREFIX_MAX 64

struct xvs_inproc_eal {
	const char *prog;         /* argv[0] */
	const char *name;         /* the file prefix is xvs-<name>-<pid> */
	const char *lcores;       /* --lcores; NULL: lcore 0 alone, free on every CPU we may use */
	const char *huge_dir;     /* hugepages of this hugetlbfs mount; NULL: ordinary pages */
	unsigned mem_mb;          /* ordinary pages: how many MiB (-m) */
	const char *const *args;  /* more EAL arguments (log levels, --vdev), NULL-terminated */
};

/*
 * Start EAL as c says; the file prefix goes to prefix (XVS_INPROC_PREFIX_MAX bytes). The
 * runtime directory EAL makes is removed at once: it holds nothing in these modes.
 * Returns 0 or a negative errno (rte_strerror() names EAL's own).
 */
int xvs_inproc_eal_start(const struct xvs_inproc_eal *c, char *prefix);

/*
 * The workers' mbuf pool (xvs_rt.pool, which xvs_worker_init hands to each worker): n mbufs
 * of the default size, a per-lcore cache of `cache`, on `socket`. NULL with rte_errno set.
 */
struct rte_mempool *xvs_inproc_pool_create(const char *name, unsigned n, unsigned cache,
					   int socket);

/*
 * A shared region of this process alone, as control would publish into: made afresh at
 * /dev/shm/<prefix>, mapped, and unlinked at once, so that however the process ends
 * nothing is left. Returns 0 or a negative errno (xvs_shm_open's).
 */
int xvs_inproc_shm_open(struct xvs_shm *shm, const char *prefix);

#endif
