/*
 * Scheduler interface. Each scheduler is one file in sched/ that fills one struct
 * xvs_sched_ops with both halves of its algorithm: the control half (build the scheduler
 * data of a service from its destinations, in xvs-control) and the dataplane half (pick a
 * destination for a new connection, on a worker lcore). Adding a scheduler is one new file,
 * one entry in xvs_sched_all[] and one build line.
 */
#ifndef XVS_SCHED_H
#define XVS_SCHED_H

#include <stdint.h>

#include "table.h"

/* Per worker, per service scheduler state. Private to one worker: no atomics needed. */
struct xvs_sched_state {
	uint32_t epoch; /* svc->sched_epoch this state belongs to; mismatch = reset */
	int32_t last;   /* position in the service's list of the last pick, -1 = none */
	int32_t cw;     /* wrr current weight */
	int32_t pad;
};

struct xvs_stats_ctr;

/*
 * The connections that the other workers hold to one destination. The dataplane's main lcore
 * sums them every millisecond, so a worker sees its own counts exactly and the others' as
 * they were at most about a millisecond ago.
 */
struct xvs_dest_load {
	int64_t active;
	int64_t inactive;
};

/* What a scheduler may use besides the tables: the packet's keys and the node's counters. */
struct xvs_sched_key {
	union xvs_ip caddr;
	uint16_t cport_be;
	/* This worker's per-destination counters (active/inactive connections), indexed by
	 * destination slot; NULL counts as no connections anywhere. */
	const struct xvs_stats_ctr *dest_ctr;
	/* The other workers' counts, by destination slot; NULL with one worker. */
	const struct xvs_dest_load *others;
};

struct xvs_sched_ops {
	const char *name;
	enum xvs_sched_id id;
	/*
	 * Control half: compute svc->sd from the service's live destinations, given in
	 * scheduling order (dests[i] is g->dests[g->svc_dests[svc->dest_first + i]]).
	 * Returns 0 or a negative errno.
	 */
	int (*build)(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests);
	/*
	 * Dataplane half: choose a destination for a new connection on a validated generation.
	 * Returns a destination slot, or -1 when no destination is available.
	 * Worker lcore only; st is that worker's state for this service.
	 */
	int (*pick)(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key);
};

/* All schedulers, indexed by enum xvs_sched_id (NULL where none). */
extern const struct xvs_sched_ops *const xvs_sched_all[XVS_SCHED_MAX];

/* Scheduler by name, or NULL. */
const struct xvs_sched_ops *xvs_sched_find(const char *name);

/* Available: weight > 0 (overload from thresholds comes with connection counts). */
static inline int xvs_sched_dest_available(const struct xvs_dest *d)
{
	return d->state == XVS_SLOT_USED && d->weight > 0;
}

/* Greatest common divisor of two positive weights. */
static inline int32_t xvs_gcd32(int32_t a, int32_t b)
{
	while (b) {
		int32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Reset st if the service's scheduler data changed since st was last used. */
static inline void xvs_sched_state_sync(struct xvs_sched_state *st, const struct xvs_svc *svc)
{
	if (st->epoch != svc->sched_epoch) {
		st->epoch = svc->sched_epoch;
		st->last = -1;
		st->cw = 0;
	}
}

#endif
