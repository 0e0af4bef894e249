/*
 * The dataplane around xvs-bench's workers (bench_dp.c): two ports with addresses, routes
 * and static neighbours, one service per forwarding method and family, and a table
 * generation that went through the real shared-region hand-over. Main lcore, at start.
 */
#ifndef XVS_BENCH_DP_H
#define XVS_BENCH_DP_H

#include "dp.h"

/* Fill dp (zeroed) as xvs-dataplane's main() would; the shared region is named after prefix. */
int bench_dp_setup(struct xvs_dp *dp, const char *prefix);

#endif
