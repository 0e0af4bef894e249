/*
 * Round robin, with IPVS's semantics (net/netfilter/ipvs/ip_vs_rr.c): starting after the
 * last server picked, take the next available server in list order; servers of weight 0
 * (quiescent) are skipped. The control half has nothing to compute.
 */
#include "xvs/sched.h"

static int rr_build(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	(void)dests;
	(void)nb_dests;
	svc->sd = (union xvs_sched_data){0};
	return 0;
}

static int rr_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)key;
	int n = svc->nb_dests;
	if (n == 0)
		return -1;
	xvs_sched_state_sync(st, svc);
	int pos = st->last;
	for (int i = 0; i < n; i++) {
		pos = pos + 1 >= n ? 0 : pos + 1;
		uint16_t slot = g->svc_dests[svc->dest_first + pos];
		if (xvs_sched_dest_available(&g->dests[slot])) {
			st->last = pos;
			return slot;
		}
	}
	return -1;
}

const struct xvs_sched_ops xvs_sched_rr = {
	.name = "rr",
	.id = XVS_SCHED_RR,
	.build = rr_build,
	.pick = rr_pick,
};
