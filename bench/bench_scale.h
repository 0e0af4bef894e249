/*
 * xvs-bench's figures for several workers, each on a CPU of its own (bench_scale.c): over
 * prebuilt mbufs ("logic", bench_lanes.c) and behind net_ring ports fed from other CPUs
 * ("driver", bench_driver.c), for each worker count and table size asked for.
 */
#ifndef XVS_BENCH_SCALE_H
#define XVS_BENCH_SCALE_H

#include <signal.h>
#include <stddef.h>

#include "bench_eal.h"
#include "bench_frames.h"
#include "bench_opts.h"
#include "dp.h"

/* Set by the signal handler (which also sets xvs_quit, which driver runs reset). */
extern volatile sig_atomic_t bench_interrupted;

/* What the one-core part set up and shares with these figures; read-only while they run. */
struct bench_env {
	const struct bench_opts *o;
	const struct bench_cpus *cpus;
	struct xvs_dp *dp;        /* its workers' counts and table size are set per case */
	const struct tmpl *syn;   /* NAT, IPv4: client SYN and ACK */
	const struct tmpl *ack;
	const struct tmpl *reply; /* NAT, IPv4: real servers' replies, by destination slot */
};

/* Bytes of EAL memory the worker and driver figures need at most (main lcore, before EAL). */
size_t bench_scale_memsize(const struct bench_opts *o, const struct bench_cpus *cpus);

/* Run the worker and driver sections o->sections asks for. Main lcore. */
int bench_scale_run(const struct bench_env *env);

#endif
