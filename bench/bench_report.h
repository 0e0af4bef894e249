/*
 * xvs-bench's measurements and their reporting (bench_report.c): rates per second of CPU
 * time, the table on stdout (stderr with --json) and the --json list, one object per
 * figure. Meters may run on any lcore; the output only on the main lcore.
 */
#ifndef XVS_BENCH_REPORT_H
#define XVS_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "bench_opts.h"

/* Rates of one figure, one per measurement, in millions per second. */
struct sample {
	double v[BENCH_MAX_RUNS];
	double share[BENCH_MAX_RUNS]; /* each measurement's CPU time over wall time (the lowest
				       * of its threads' kinds) */
	unsigned n;
	long preempt; /* involuntary context switches while measuring: other load on our core */
	double cpu;   /* seconds on the CPU and of wall clock while measuring */
	double wall;
};

/* Start of one measurement on the calling thread. */
struct meter {
	uint64_t cpu_ns;
	uint64_t tsc;
	long preempt;
};

/* What a meter read: this thread's CPU seconds, wall seconds, preemptions since the start. */
struct meter_reading {
	double cpu;
	double wall;
	long preempt;
};

void meter_start(struct meter *m);
void meter_read(const struct meter *m, struct meter_reading *r);
/* End of a measurement of `count` units: adds their rate (millions per CPU second) to s. */
void meter_stop(const struct meter *m, uint64_t count, struct sample *s);
double median(const struct sample *s);

/* Start the JSON list when json is set (stdout then carries it alone). */
int bench_report_open(int json);
/* Print the JSON list (when asked for and ok). */
void bench_report_close(int ok);

/* A one-core row: min/median/max, time per unit, the cost over pass-through (base_ns > 0). */
void print_row(const char *id, const char *what, uint32_t flows, struct sample *s, double base_ns);

/* A row of the worker or driver figures. Negative optional fields are left out. */
struct bench_row {
	const char *id;       /* the figure's name (--only) */
	const char *what;     /* its label in the table */
	const char *mode;     /* "logic" or "driver" */
	const char *unit;     /* "Mpps" or "Mconn/s" */
	unsigned workers;
	uint32_t flows;       /* in all the workers' tables together */
	uint32_t conn_max;    /* capacity of each worker's table */
	struct sample *s;     /* the workers together */
	struct sample *per;   /* each worker's own rate, `workers` of them; NULL: none */
	double wall_rate;     /* the workers together, per second of wall clock */
	double on_cpu;        /* the workers' CPU time over wall time */
	double feeder_on_cpu; /* driver: the feeders' */
	double share;         /* driver: median over the io-forwarding limit's median */
	double limit;         /* driver: that limit, Mpps */
	double speedup;       /* over the same figure (nat-sc-ho: nat-sc) with one worker */
	double handoff;       /* share of the frames that were handed to another worker */
	double rx_fill;       /* driver: mean receive ring occupancy (1: the workers are the limit) */
	double paused;        /* logic, hand-off: share of time without input, the owner behind */
	int shared_cpus;      /* some lcore shared its CPU: the rates are not figures */
};

void bench_scale_header(void);
void bench_scale_row(const struct bench_row *r);
/* A line of text in the table (skipped rows and their reasons, targets). */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
