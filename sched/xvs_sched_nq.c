/*
 * Never queue, with IPVS's semantics (net/netfilter/ipvs/ip_vs_nq.c): the first available
 * server in list order with no active connection takes the new one at once; when every
 * server is busy, the choice is sed's, the smallest (active + 1) / weight. Unlike sed, an
 * idle slow server is used before a fast busy one, which raises overall utilisation.
 *
 * Counts are the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

static int nq_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (xvs_sched_available(g, slot, key) && xvs_sched_active(key, slot) == 0)
			return slot;
	}
	return xvs_sched_sed_pick(g, svc, key);
}

const struct xvs_sched_ops xvs_sched_nq = {
	.name = "nq",
	.build = xvs_sched_build_none,
	.pick = nq_pick,
};
