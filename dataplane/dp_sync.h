/*
 * Connection synchronisation (IPVS's sync daemons; docs/dataplane.md, "Connection
 * synchronisation"). Workers: a master's entries go on the worker's ring to the main lcore at
 * the packets where IPVS would sync (xvs_sync_master_packet); a backup's entries come from
 * the main lcore on another ring and are applied in the worker's tick (xvs_sync_worker_tick).
 * The main lcore (dp_sync.c) owns the sockets, packs and sends the master's messages, reads
 * and checks the backup's, and hands each entry to the worker that owns its flow.
 */
#ifndef XVS_DP_SYNC_H
#define XVS_DP_SYNC_H

#include "dp.h"
#include "xvs/sync.h"

/* Entries of each ring (a power of two). */
#define XVS_SYNC_RING 4096

/* ---- workers (dp_worker.c) ---- */

/*
 * A client packet (direction ORIG) of connection c went through xvs_conn_forward while the
 * generation runs a master: count it and queue c (and the template that controls it) when
 * IPVS would sync it. Worker lcore only; no lock, no allocation, no system call.
 */
void xvs_sync_master_packet(struct xvs_worker *w, const struct xvs_gen *g, struct xvs_conn *c);

/* Apply at most `budget` entries of the backup's ring. Worker lcore only. */
void xvs_sync_worker_tick(struct xvs_worker *w, const struct xvs_gen *g, unsigned budget);

/* Apply one received entry: insert or refresh the connection or template (as IPVS's backup). */
void xvs_sync_apply(struct xvs_worker *w, const struct xvs_gen *g, const struct xvs_sync_conn *s);

/* ---- the main lcore (dp_sync.c) ---- */

/* Allocate each worker's rings and per-cell counters. 0 or -ENOMEM. Start-up. */
int xvs_sync_setup(struct xvs_dp *dp, struct xvs_worker **workers, int node);

/*
 * Every millisecond: open or close the sockets the generation g asks for, send what the
 * workers queued, read what arrived and hand it to the workers. st: the main lcore's record.
 */
void xvs_sync_poll(const struct xvs_gen *g, uint64_t now_tsc, struct xvs_lcore_stats *st);

/* Close the sockets (exit). */
void xvs_sync_close(void);

#endif
