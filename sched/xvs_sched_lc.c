/*
 * Least connection, with IPVS's semantics (net/netfilter/ipvs/ip_vs_lc.c): pick the available
 * server with the smallest overhead = active * 256 + inactive, the first one in list order on a
 * tie. Active connections weigh far more than inactive ones (TIME_WAIT and the like).
 *
 * Connection counts are the node's: this worker's own, exact, plus the other workers' as the
 * main lcore summed them at most about a millisecond ago (struct xvs_dest_load), so several
 * workers balance one node's load, not each its own share. The control half has nothing to
 * compute.
 */
#include "xvs/sched.h"
#include "xvs/shm.h"

static int lc_build(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	(void)dests;
	(void)nb_dests;
	svc->sd = (union xvs_sched_data){0};
	return 0;
}

/* IPVS's overhead of a destination on the node: this worker's counts plus the others'. */
uint64_t xvs_sched_overhead(const struct xvs_sched_key *key, uint16_t slot)
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

static int lc_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	int best = -1;
	uint64_t best_oh = 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = g->svc_dests[svc->dest_first + i];
		if (!xvs_sched_dest_available(&g->dests[slot]))
			continue;
		uint64_t oh = xvs_sched_overhead(key, slot);
		if (best < 0 || oh < best_oh) {
			best = slot;
			best_oh = oh;
		}
	}
	return best;
}

const struct xvs_sched_ops xvs_sched_lc = {
	.name = "lc",
	.id = XVS_SCHED_LC,
	.build = lc_build,
	.pick = lc_pick,
};
