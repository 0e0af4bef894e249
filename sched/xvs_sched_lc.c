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

static int lc_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	int best = -1;
	uint64_t best_oh = 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (!xvs_sched_available(g, slot, key))
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
	.build = xvs_sched_build_none,
	.pick = lc_pick,
};
