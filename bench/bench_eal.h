/*
 * EAL for xvs-bench (bench_eal.c): memory in huge or ordinary pages, and one EAL lcore per
 * CPU so that workers and feeders each get a CPU of their own. Main lcore only.
 */
#ifndef XVS_BENCH_EAL_H
#define XVS_BENCH_EAL_H

#include <stddef.h>

#include "bench_opts.h"
#include "inproc_eal.h"

/*
 * Lcore 0, the main one, runs on the main CPU (--core). Lcores 1..nb run on cpu[0..nb-1],
 * one each; the main CPU comes last, so the first lcores have CPUs to themselves.
 */
struct bench_cpus {
	unsigned nb;
	int cpu[RTE_MAX_LCORE];
	int shared; /* a CPU is listed twice (--cpus): rates are not figures then */
};

/* Where the lcores go (--cpus, --core, or our affinity and current CPU); fills o->core. */
int bench_eal_layout(struct bench_opts *o, struct bench_cpus *c);

/*
 * Start EAL (xvs_inproc_eal_start) with `need` bytes of memory (hugepages when o->huge says
 * so or, when it is -1, when enough are free) and the lcores of c. Fills o->huge and the
 * file prefix (XVS_INPROC_PREFIX_MAX bytes). Returns 0 or a negative errno.
 */
int bench_eal_start(const char *prog, struct bench_opts *o, size_t need,
		    const struct bench_cpus *c, char *prefix);

#endif
