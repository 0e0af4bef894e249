/* xvs-bench's command line (bench_opts.c): what to measure, for how long, on which CPUs. */
#ifndef XVS_BENCH_OPTS_H
#define XVS_BENCH_OPTS_H

#include <stdint.h>

#include <rte_config.h>

#define BENCH_HUGE_DIR "/mnt/xvs-huge" /* scripts/hugepages.sh mounts it */
#define BENCH_MAX_RUNS 64
#define BENCH_MAX_SIZES 8      /* entries of --scale-flows */
#define BENCH_MAX_COUNTS 8     /* entries of --workers */
#define BENCH_WORKERS_ALL 0    /* "all" in --workers: one worker per CPU */
#define BENCH_MAX_SCALE_FLOWS 13000000u /* 1.25x of it still fits a table of 2^24 entries */

/* Parts of a run (--sections). */
#define BENCH_SEC_CORE    1u /* the one-core figures over prebuilt mbufs */
#define BENCH_SEC_WORKERS 2u /* 1, 2, ... workers over prebuilt mbufs ("logic") */
#define BENCH_SEC_DRIVER  4u /* workers behind net_ring ports fed by other cores ("driver") */

struct bench_opts {
	uint32_t flows;     /* the one-core figures' large case */
	double seconds;
	unsigned burst;
	unsigned runs;
	uint32_t conn_max;
	int huge;           /* 1 on, 0 off, -1 when free hugepages allow */
	int core;           /* the main lcore's CPU; -1: the one we started on */
	const char *only;   /* run just this figure (profiling), NULL: all */
	unsigned sections;  /* BENCH_SEC_* */
	uint32_t scale_flows[BENCH_MAX_SIZES]; /* the multi-worker and driver figures' flows */
	unsigned nb_scale_flows;
	unsigned workers[BENCH_MAX_COUNTS];    /* worker counts; BENCH_WORKERS_ALL: one per CPU */
	unsigned nb_workers;
	unsigned handoff_pct; /* share of replies that arrive at a worker that does not own them */
	int json;             /* stdout carries the JSON list, the table goes to stderr */
	int quick;
	int cpus[RTE_MAX_LCORE]; /* --cpus, in order; nb_cpus 0: the CPUs we may run on */
	unsigned nb_cpus;
};

/* Parse argv into o. Returns 0, 1 when --help was printed, or -EINVAL. */
int bench_opts_parse(int argc, char **argv, struct bench_opts *o);

#endif
