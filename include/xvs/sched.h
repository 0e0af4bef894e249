/*
 * Scheduler interface. Each scheduler is one file, sched/xvs_sched_<name>.c, that fills one
 * struct xvs_sched_ops with both halves of its algorithm: the control half (build the
 * scheduler data of a service from its destinations, in xvs-control) and the dataplane half
 * (pick a destination for a new connection, on a worker lcore). The list of schedulers is
 * xvs/sched_list.h: adding a scheduler is its file and one line there.
 *
 * Semantics are IPVS's (net/netfilter/ipvs/ip_vs_<name>.c), including the order of real
 * servers: a service's list (g->svc_dests) is IPVS's, the newest server first.
 */
#ifndef XVS_SCHED_H
#define XVS_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shm.h"
#include "table.h"

/* Scheduler ids: the position in xvs/sched_list.h, from 1 (0 is no scheduler). */
enum xvs_sched_id {
	XVS_SCHED_NONE = 0,
#define XVS_SCHED(ID, name) XVS_SCHED_##ID,
#include "sched_list.h"
#undef XVS_SCHED
	XVS_SCHED_MAX
};

/* Room for a scheduler's private per-worker state (lblcr needs the most). */
#define XVS_SCHED_STATE_WORDS 12

/*
 * Per worker, per service scheduler state. Private to one worker: no atomics needed. Zeroed
 * memory is a valid fresh state. The scheduler owns priv[] (its file says what it keeps).
 */
struct xvs_sched_state {
	uint32_t epoch; /* svc->sched_epoch last seen */
	uint32_t bind;  /* svc->sched_bind last seen */
	uint32_t live;  /* 0 until first used */
	uint32_t pad;
	uint64_t priv[XVS_SCHED_STATE_WORDS];
};

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
	union xvs_ip caddr; /* the client's address (sh, mh) */
	union xvs_ip daddr; /* the packet's destination address, the VIP (dh, lblc, lblcr) */
	uint16_t cport_be;  /* the client's port (sh-port, mh-port) */
	uint32_t now;       /* seconds, the worker's clock (lblc, lblcr) */
	/* This worker's per-destination counters (active/inactive connections), indexed by
	 * destination slot; NULL counts as no connections anywhere. */
	const struct xvs_stats_ctr *dest_ctr;
	/* The other workers' counts, by destination slot; NULL with one worker. */
	const struct xvs_dest_load *others;
	/* This worker's OVERLOAD flags by destination slot (thresholds); NULL: none kept. */
	uint8_t *overload;
};

/* Settings of the table schedulers, the same for every service (xvs-control's options). */
struct xvs_sched_params {
	uint32_t mh_size; /* Maglev table size, a prime (XVS_MH_SIZE_DEFAULT) */
};

#define XVS_MH_SIZE_DEFAULT 65537u
#define XVS_MH_SIZE_MIN     251u

/* Control: where a table scheduler's build takes its table from (xvs_sched_tab_alloc). */
struct xvs_sched_tab_build {
	struct xvs_gen *g;
	struct xvs_sched_params params;
	char *msg; /* why a build failed */
	size_t msglen;
};

struct xvs_sched_ops {
	const char *name;
	/*
	 * The choice depends only on the packet's addresses and ports and the generation's
	 * tables, never on counters, time or the worker (sh, dh, mh): every node with the same
	 * servers makes it, so the dataplane may schedule a TCP segment of a flow it has not
	 * seen start (consistent_midflow, docs/dataplane.md "Flows that arrive mid-stream").
	 */
	int consistent;
	/*
	 * Control half of schedulers whose data fits in svc->sd: compute it from the service's
	 * live destinations, in scheduling order (dests[i] is
	 * g->dests[g->svc_dests[svc->dest_first + i]]). Returns 0 or a negative errno.
	 */
	int (*build)(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests);
	/*
	 * Control half of table schedulers (instead of build): the table's size for these
	 * settings, and building it into b->g's pool (xvs_sched_tab_alloc), with svc->sd.tab
	 * naming it. Returns 0 or a negative errno with a message in b->msg.
	 */
	uint32_t (*tab_size)(const struct xvs_sched_params *p);
	int (*build_tab)(struct xvs_sched_tab_build *b, struct xvs_svc *svc,
			 const struct xvs_dest *const *dests, unsigned nb_dests);
	/*
	 * Dataplane, adopting a generation (optional): 0 when svc's scheduler data is what
	 * pick() can rely on (bounds, sizes), else -EINVAL. The destinations are checked already.
	 */
	int (*check)(const struct xvs_gen *g, const struct xvs_svc *svc);
	/*
	 * Dataplane half: choose a destination for a new connection on a validated generation.
	 * Returns a destination slot, or -1 when no destination is available.
	 * Worker lcore only; st is that worker's state for this service.
	 */
	int (*pick)(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key);
	/*
	 * Table schedulers (optional): the entry of svc's table that pick() looks at first for
	 * these keys, before any fallback. Pure; control uses it to explain a pick (POST
	 * /v1/trace). The generation must be validated (sd.tab.size > 0).
	 */
	uint32_t (*bucket)(const struct xvs_svc *svc, const struct xvs_sched_key *key);
};

/* All schedulers, indexed by enum xvs_sched_id ([0] is NULL). */
extern const struct xvs_sched_ops *const xvs_sched_all[XVS_SCHED_MAX];

/* Scheduler by name, or NULL; its id, or -1. */
const struct xvs_sched_ops *xvs_sched_find(const char *name);
int xvs_sched_id(const char *name);

/* "rr, wrr, ..." : every scheduler's name, for messages. */
const char *xvs_sched_names(void);

/* A fingerprint of the registry (names and order): generations carry the writer's. */
uint32_t xvs_sched_registry_id(void);

/*
 * Control, table schedulers: size entries of g's table pool for svc (svc->sd.tab names
 * them), filled with XVS_SCHED_TAB_NONE. NULL with a message in b->msg when the pool is full.
 */
uint16_t *xvs_sched_tab_alloc(struct xvs_sched_tab_build *b, struct xvs_svc *svc, uint32_t size);

/* Dataplane: svc->sd.tab lies in the pool, has `size` entries (0: any size > 0) and every
 * entry is a position in svc's list or XVS_SCHED_TAB_NONE. */
int xvs_sched_tab_check(const struct xvs_gen *g, const struct xvs_svc *svc, uint32_t size);

/* Dataplane: wlc's choice, the available server with the least overhead / weight, or -1
 * (lblc and lblcr schedule with it; sched/xvs_sched_wlc.c). */
int xvs_sched_wlc_pick(const struct xvs_gen *g, const struct xvs_svc *svc,
		       const struct xvs_sched_key *key);

/* Dataplane: sed's choice, the available server with the smallest (active + 1) / weight,
 * or -1 (nq falls back to it; sched/xvs_sched_sed.c). */
int xvs_sched_sed_pick(const struct xvs_gen *g, const struct xvs_svc *svc,
		       const struct xvs_sched_key *key);

/* Control: 0 when the settings are usable (mh_size a prime in range), else -EINVAL and why. */
int xvs_sched_params_check(const struct xvs_sched_params *p, char *msg, size_t msglen);

/* Dataplane: lblc's and lblcr's test of a cached server (sched/xvs_sched_lblc.c): it has
 * more active connections than its weight while some server has fewer than half its own. */
int xvs_sched_lblc_overloaded(const struct xvs_gen *g, const struct xvs_svc *svc, uint16_t slot,
			      const struct xvs_sched_key *key);

/* Control: the build of schedulers without data. */
int xvs_sched_build_none(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests);

/* ---- helpers of the dataplane halves --------------------------------------------------- */

/* Destination slot at position pos of svc's list. */
static inline uint16_t xvs_sched_slot(const struct xvs_gen *g, const struct xvs_svc *svc, unsigned pos)
{
	return g->svc_dests[svc->dest_first + pos];
}

/* Active connections to slot on the node: this worker's, exact, and the others'. */
static inline int64_t xvs_sched_active(const struct xvs_sched_key *key, uint16_t slot)
{
	if (!key || !key->dest_ctr)
		return 0;
	int64_t a = key->dest_ctr[slot].active + (key->others ? key->others[slot].active : 0);
	return a > 0 ? a : 0;
}

/* IPVS's overhead of slot on the node (ip_vs_dest_conn_overhead): active * 256 + inactive. */
static inline uint64_t xvs_sched_overhead(const struct xvs_sched_key *key, uint16_t slot)
{
	if (!key || !key->dest_ctr)
		return 0;
	const struct xvs_stats_ctr *c = &key->dest_ctr[slot];
	int64_t a = c->active, i = c->inactive;
	if (key->others) {
		a += key->others[slot].active;
		i += key->others[slot].inactive;
	}
	a = a > 0 ? a : 0;
	i = i > 0 ? i : 0;
	return ((uint64_t)a << 8) + (uint64_t)i;
}

/* Connections (active and inactive) to slot on the node, as IPVS's ip_vs_dest_totalconns. */
static inline int64_t xvs_sched_total(const struct xvs_sched_key *key, uint16_t slot)
{
	if (!key || !key->dest_ctr)
		return 0;
	const struct xvs_stats_ctr *c = &key->dest_ctr[slot];
	int64_t t = c->active + c->inactive;
	if (key->others)
		t += key->others[slot].active + key->others[slot].inactive;
	return t > 0 ? t : 0;
}

/*
 * IPVS's IP_VS_DEST_F_OVERLOAD: set once the server's connections reach its upper threshold
 * (-x), cleared when they fall below the lower one (-y), or below 3/4 of -x without -y. The
 * counts are the node's (this worker's exact, the others' at most about 1 ms old); the flag
 * is this worker's, kept in key->overload. A server without -x is never overloaded.
 */
static inline int xvs_sched_overloaded(const struct xvs_gen *g, uint16_t slot,
				       const struct xvs_sched_key *key)
{
	const struct xvs_dest *d = &g->dests[slot];
	if (!d->u_thresh || !key || !key->overload)
		return 0;
	int64_t total = xvs_sched_total(key, slot);
	uint8_t *ov = &key->overload[slot];
	if (!*ov)
		*ov = total >= (int64_t)d->u_thresh;
	else if (d->l_thresh ? total < (int64_t)d->l_thresh : total * 4 < (int64_t)d->u_thresh * 3)
		*ov = 0;
	return *ov;
}

/* Available for new connections: live, weight > 0, not overloaded. */
static inline int xvs_sched_available(const struct xvs_gen *g, uint16_t slot,
				      const struct xvs_sched_key *key)
{
	const struct xvs_dest *d = &g->dests[slot];
	return d->state == XVS_SLOT_USED && d->weight > 0 && !xvs_sched_overloaded(g, slot, key);
}

/*
 * The server of entry i of svc's scheduler table (sh, dh, mh): its slot when available, -1
 * when the entry is empty, -2 when its server is unavailable.
 */
static inline int xvs_sched_tab_dest(const struct xvs_gen *g, const struct xvs_svc *svc, uint32_t i,
				     const struct xvs_sched_key *key)
{
	uint16_t e = g->sched_tab[svc->sd.tab.off + i];
	if (e == XVS_SCHED_TAB_NONE)
		return -1;
	uint16_t slot = xvs_sched_slot(g, svc, e);
	return xvs_sched_available(g, slot, key) ? slot : -2;
}

/* Live and a destination of service svc (a slot remembered in per-worker state may not be). */
static inline int xvs_sched_dest_of(const struct xvs_gen *g, const struct xvs_svc *svc, uint16_t slot)
{
	return slot < g->nb_dests && g->dests[slot].state == XVS_SLOT_USED &&
	       &g->svcs[g->dests[slot].svc] == svc;
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

/*
 * Bring st up to date with svc. Returns XVS_SCHED_RESET when st was cleared (first use, or
 * the scheduler was bound afresh: IPVS's init_service), XVS_SCHED_CHANGED when the service's
 * destinations changed since st was last used (IPVS's add/del/upd_dest), else 0.
 */
#define XVS_SCHED_CHANGED 1
#define XVS_SCHED_RESET   2

static inline int xvs_sched_state_sync(struct xvs_sched_state *st, const struct xvs_svc *svc)
{
	if (!st->live || st->bind != svc->sched_bind) {
		memset(st, 0, sizeof(*st));
		st->live = 1;
		st->bind = svc->sched_bind;
		st->epoch = svc->sched_epoch;
		return XVS_SCHED_RESET;
	}
	if (st->epoch != svc->sched_epoch) {
		st->epoch = svc->sched_epoch;
		return XVS_SCHED_CHANGED;
	}
	return 0;
}

/* A scheduler's view of st->priv; its file asserts that type fits (XVS_SCHED_PRIV_FITS). */
#define XVS_SCHED_PRIV(st, type) ((type *)(void *)(st)->priv)
#define XVS_SCHED_PRIV_FITS(type)                                                             \
	_Static_assert(sizeof(type) <= sizeof(((struct xvs_sched_state *)0)->priv), #type " too big")

#endif
