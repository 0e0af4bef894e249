/*
 * Weighted failover, with IPVS's semantics (net/netfilter/ipvs/ip_vs_fo.c): every new
 * connection goes to the available server with the highest weight, the first in list order on
 * a tie; the others only take over when it is quiesced, removed or overloaded. Nothing to
 * build in control.
 */
#include "xvs/sched.h"

static int fo_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	int best = -1;
	int32_t hw = 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (xvs_sched_available(g, slot, key) && g->dests[slot].weight > hw) {
			best = slot;
			hw = g->dests[slot].weight;
		}
	}
	return best;
}

const struct xvs_sched_ops xvs_sched_fo = {
	.name = "fo",
	.build = xvs_sched_build_none,
	.pick = fo_pick,
};
