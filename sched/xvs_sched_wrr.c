/*
 * Weighted round robin, with IPVS's semantics (net/netfilter/ipvs/ip_vs_wrr.c).
 *
 * Let mw be the largest weight and di the gcd of the positive weights. The scheduler makes
 * passes with a current weight cw = mw, mw - di, ..., di; each pass takes, in list order,
 * every available server whose weight is >= cw. Weights 4/3/2 give A A B A B C A B C: the
 * servers interleave instead of coming in runs. Current kernels start at mw - (di - 1) and
 * stop at 1, which picks the same sequence.
 *
 * Control half: compute mw and di. Dataplane half: the pass walk, with (position, cw) kept
 * per worker and reset whenever control bumps the service's sched_epoch.
 */
#include "xvs/sched.h"

static int wrr_build(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	int32_t mw = 0, di = 0;
	for (unsigned i = 0; i < nb_dests; i++) {
		int32_t w = dests[i]->weight;
		if (w <= 0)
			continue;
		mw = w > mw ? w : mw;
		di = di ? xvs_gcd32(di, w) : w;
	}
	svc->sd = (union xvs_sched_data){0};
	svc->sd.wrr.mw = mw;
	svc->sd.wrr.di = di ? di : 1;
	return 0;
}

static int wrr_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	(void)key;
	int n = svc->nb_dests;
	int32_t mw = svc->sd.wrr.mw, di = svc->sd.wrr.di;
	if (n == 0 || mw <= 0 || di <= 0)
		return -1;
	xvs_sched_state_sync(st, svc);
	int pos = st->last;
	int32_t cw = st->cw;
	/* At most one full cycle of passes: mw/di passes over n servers, plus the current one. */
	int64_t budget = ((int64_t)mw / di + 1) * n + 1;
	while (budget-- > 0) {
		pos++;
		if (pos >= n || pos < 0) {
			pos = 0;
			cw -= di;
			if (cw <= 0)
				cw = mw;
		}
		if (cw <= 0)
			cw = mw;
		uint16_t slot = g->svc_dests[svc->dest_first + pos];
		const struct xvs_dest *d = &g->dests[slot];
		if (xvs_sched_dest_available(d) && d->weight >= cw) {
			st->last = pos;
			st->cw = cw;
			return slot;
		}
	}
	return -1;
}

const struct xvs_sched_ops xvs_sched_wrr = {
	.name = "wrr",
	.id = XVS_SCHED_WRR,
	.build = wrr_build,
	.pick = wrr_pick,
};
