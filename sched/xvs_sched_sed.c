/*
 * Shortest expected delay, with IPVS's semantics (net/netfilter/ipvs/ip_vs_sed.c): pick the
 * available server with the smallest (active + 1) / weight, the delay a new connection
 * would expect if every server served its connections at a rate of its weight. Only active
 * connections count. Compared by cross-multiplication; the first in list order wins a tie.
 *
 * Counts are the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

/* The available server with the smallest (active + 1) / weight, or -1 (nq uses it too). */
int xvs_sched_sed_pick(const struct xvs_gen *g, const struct xvs_svc *svc,
		       const struct xvs_sched_key *key)
{
	int best = -1;
	uint64_t best_oh = 0, best_w = 1;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (!xvs_sched_available(g, slot, key))
			continue;
		uint64_t oh = (uint64_t)xvs_sched_active(key, slot) + 1, w = (uint64_t)g->dests[slot].weight;
		if (best < 0 || oh * best_w < best_oh * w) {
			best = slot;
			best_oh = oh;
			best_w = w;
		}
	}
	return best;
}

static int sed_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	(void)st;
	return xvs_sched_sed_pick(g, svc, key);
}

const struct xvs_sched_ops xvs_sched_sed = {
	.name = "sed",
	.build = xvs_sched_build_none,
	.pick = sed_pick,
};
