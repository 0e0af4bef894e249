/*
 * Weighted least connection, IPVS's default scheduler (net/netfilter/ipvs/ip_vs_wlc.c): pick the
 * available server with the smallest overhead / weight, where overhead = active * 256 + inactive,
 * comparing by cross-multiplication (oh1 * w2 > oh2 * w1) so no division is needed; the first
 * server in list order wins a tie.
 *
 * Connection counts are the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

/* The available server with the least overhead / weight, or -1 (lblc and lblcr use it too). */
int xvs_sched_wlc_pick(const struct xvs_gen *g, const struct xvs_svc *svc,
		       const struct xvs_sched_key *key)
{
	int best = -1;
	uint64_t best_oh = 0, best_w = 1;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (!xvs_sched_available(g, slot, key))
			continue;
		uint64_t oh = xvs_sched_overhead(key, slot), w = (uint64_t)g->dests[slot].weight;
		/* overheads stay below 2^40 and weights below 2^16: the products cannot overflow */
		if (best < 0 || oh * best_w < best_oh * w) {
			best = slot;
			best_oh = oh;
			best_w = w;
		}
	}
	return best;
}

static int wlc_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	(void)st;
	return xvs_sched_wlc_pick(g, svc, key);
}

const struct xvs_sched_ops xvs_sched_wlc = {
	.name = "wlc",
	.build = xvs_sched_build_none,
	.pick = wlc_pick,
};
