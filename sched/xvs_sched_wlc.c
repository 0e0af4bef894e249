/*
 * Weighted least connection, IPVS's default scheduler (net/netfilter/ipvs/ip_vs_wlc.c): pick the
 * available server with the smallest overhead / weight, where overhead = active * 256 + inactive,
 * comparing by cross-multiplication (oh1 * w2 > oh2 * w1) so no division is needed; the first
 * server in list order wins a tie.
 *
 * Connection counts are the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

uint64_t xvs_sched_overhead(const struct xvs_sched_key *key, uint16_t slot);

static int wlc_build(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	(void)dests;
	(void)nb_dests;
	svc->sd = (union xvs_sched_data){0};
	return 0;
}

static int wlc_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	(void)st;
	int best = -1;
	uint64_t best_oh = 0, best_w = 1;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = g->svc_dests[svc->dest_first + i];
		const struct xvs_dest *d = &g->dests[slot];
		if (!xvs_sched_dest_available(d))
			continue;
		uint64_t oh = xvs_sched_overhead(key, slot), w = (uint64_t)d->weight;
		/* overheads stay below 2^40 and weights below 2^16: the products cannot overflow */
		if (best < 0 || oh * best_w < best_oh * w) {
			best = slot;
			best_oh = oh;
			best_w = w;
		}
	}
	return best;
}

const struct xvs_sched_ops xvs_sched_wlc = {
	.name = "wlc",
	.id = XVS_SCHED_WLC,
	.build = wlc_build,
	.pick = wlc_pick,
};
