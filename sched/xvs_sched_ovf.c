/*
 * Overflow connection, with IPVS's semantics (net/netfilter/ipvs/ip_vs_ovf.c): new
 * connections go to the available server with the highest weight as long as its active
 * connections do not exceed its weight; then they overflow to the next highest weight, and
 * so on (the first in list order on a tie). The weight acts as a capacity in active
 * connections, so this suits TCP, not UDP (whose connections are never active).
 *
 * Counts are the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

static int ovf_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	(void)st;
	int best = -1;
	int32_t hw = 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		int32_t w = g->dests[slot].weight;
		if (!xvs_sched_available(g, slot, key) || xvs_sched_active(key, slot) > w)
			continue;
		if (best < 0 || w > hw) {
			best = slot;
			hw = w;
		}
	}
	return best;
}

const struct xvs_sched_ops xvs_sched_ovf = {
	.name = "ovf",
	.build = xvs_sched_build_none,
	.pick = ovf_pick,
};
