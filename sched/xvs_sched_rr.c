/*
 * Round robin, with IPVS's semantics (net/netfilter/ipvs/ip_vs_rr.c): starting after the
 * last server picked, take the next available server in list order; quiescent (weight 0)
 * and overloaded servers are skipped. The list is IPVS's, newest first, so a fresh service
 * starts with the server added last.
 *
 * IPVS keeps one cursor per service, a pointer into the list that outlives changes to it:
 * new servers go to the head and the cursor stays on its server; when the server under the
 * cursor is removed, the cursor steps back to that server's predecessor, so the next pick
 * is its successor. Each worker keeps its own cursor here, as the slots of the last server
 * picked and of the server after it at the time, and finds it again by them when the service
 * changes (if both are gone, it starts again at the head). Nothing to build in control.
 */
#include "xvs/sched.h"

struct rr_priv {
	uint32_t at;   /* list position of the last pick + 1; 0 = the head (nothing picked) */
	uint16_t last; /* slot of the last pick + 1, 0 = none */
	uint16_t next; /* slot of the server after it + 1, 0 = it was the last one */
};
XVS_SCHED_PRIV_FITS(struct rr_priv);

static int find(const struct xvs_gen *g, const struct xvs_svc *svc, uint16_t slot)
{
	for (unsigned i = 0; i < svc->nb_dests; i++)
		if (xvs_sched_slot(g, svc, i) == slot)
			return (int)i;
	return -1;
}

/* The service changed: put the cursor back on its server, or before its successor. */
static void resync(const struct xvs_gen *g, const struct xvs_svc *svc, struct rr_priv *r)
{
	int p;
	if (r->last && (p = find(g, svc, (uint16_t)(r->last - 1))) >= 0)
		r->at = (uint32_t)p + 1;
	else if (r->last && r->next && (p = find(g, svc, (uint16_t)(r->next - 1))) >= 0)
		r->at = (uint32_t)p; /* the predecessor of the successor */
	else
		r->at = 0;
}

static int rr_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	struct rr_priv *r = XVS_SCHED_PRIV(st, struct rr_priv);
	uint32_t n = svc->nb_dests;
	if (xvs_sched_state_sync(st, svc) == XVS_SCHED_CHANGED)
		resync(g, svc, r);
	uint32_t at = r->at <= n ? r->at : 0;
	for (uint32_t i = 0; i < n; i++) {
		at = at >= n ? 1 : at + 1;
		uint16_t slot = xvs_sched_slot(g, svc, at - 1);
		if (!xvs_sched_available(g, slot, key))
			continue;
		r->at = at;
		r->last = (uint16_t)(slot + 1);
		r->next = at < n ? (uint16_t)(xvs_sched_slot(g, svc, at) + 1) : 0;
		return slot;
	}
	return -1;
}

const struct xvs_sched_ops xvs_sched_rr = {
	.name = "rr",
	.build = xvs_sched_build_none,
	.pick = rr_pick,
};
