/*
 * Weighted round robin, with IPVS's semantics (net/netfilter/ipvs/ip_vs_wrr.c).
 *
 * Let mw be the largest weight and di the gcd of the positive weights. The scheduler makes
 * passes over the list with a current weight cw = mw - (di - 1), then di less each pass, down
 * to 1; each pass takes, in list order, every available server whose weight is >= cw. Weights
 * 4/3/2 give A A B A B C A B C: the servers interleave instead of coming in runs.
 *
 * Control half: mw and di (svc->sd.i32[0], [1]). Dataplane half: the pass walk, with (position,
 * cw) kept per worker. When the service changes, IPVS puts the position back at the head and
 * keeps cw unless it is above the new mw (then it restarts at mw) or rounds it to the new di;
 * so does each worker here.
 */
#include <errno.h>

#include "xvs/sched.h"

#define WRR_MW(s) ((s)->sd.i32[0])
#define WRR_DI(s) ((s)->sd.i32[1])

struct wrr_priv {
	uint32_t at; /* list position of the next server to look at */
	int32_t cw;  /* current weight, IPVS's scale (mw - (di - 1) .. 1) */
};
XVS_SCHED_PRIV_FITS(struct wrr_priv);

/* Folds one weight into (mw, di); di stays 0 until a positive weight comes. */
static void wrr_fold(int32_t w, int32_t *mw, int32_t *di)
{
	*mw = w > *mw ? w : *mw;
	if (w > 0)
		*di = *di ? xvs_gcd32(*di, w) : w;
}

static int wrr_build(struct xvs_svc *svc, const struct xvs_dest *const *dests, unsigned nb_dests)
{
	int32_t mw = 0, di = 0;
	for (unsigned i = 0; i < nb_dests; i++)
		wrr_fold(dests[i]->weight, &mw, &di);
	svc->sd = (union xvs_sched_data){0};
	WRR_MW(svc) = mw;
	WRR_DI(svc) = di ? di : 1;
	return 0;
}

/* mw and di must be what the weights give, or a pick could walk for billions of steps. */
static int wrr_check(const struct xvs_gen *g, const struct xvs_svc *svc)
{
	int32_t mw = 0, di = 0;
	for (unsigned k = 0; k < svc->nb_dests; k++)
		wrr_fold(g->dests[xvs_sched_slot(g, svc, k)].weight, &mw, &di);
	return WRR_MW(svc) == mw && WRR_DI(svc) == (di ? di : 1) ? 0 : -EINVAL;
}

/* IPVS's init_service and dest_changed. */
static void wrr_sync(struct wrr_priv *w, int how, int32_t mwk, int32_t di)
{
	if (how == XVS_SCHED_RESET) {
		w->cw = mwk;
		return;
	}
	w->at = 0;
	if (w->cw > mwk || w->cw <= 0)
		w->cw = mwk;
	else if (di > 1)
		w->cw = (w->cw / di) * di + 1;
}

static int wrr_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		    const struct xvs_sched_key *key)
{
	struct wrr_priv *w = XVS_SCHED_PRIV(st, struct wrr_priv);
	uint32_t n = svc->nb_dests;
	int32_t di = WRR_DI(svc), mwk = WRR_MW(svc) - (di - 1);
	int how = xvs_sched_state_sync(st, svc);
	if (how)
		wrr_sync(w, how, mwk, di);
	if (n == 0 || WRR_MW(svc) <= 0 || di <= 0)
		return -1;
	uint32_t at = w->at;
	int32_t cw = w->cw > 0 && w->cw <= mwk ? w->cw : mwk;
	/* One full cycle of passes, plus the rest of the current one. */
	int64_t budget = ((int64_t)mwk / di + 2) * n;
	while (budget-- > 0) {
		if (at >= n) {
			at = 0;
			cw -= di;
			if (cw <= 0)
				cw = mwk;
		}
		uint16_t slot = xvs_sched_slot(g, svc, at++);
		if (xvs_sched_available(g, slot, key) && g->dests[slot].weight >= cw) {
			w->at = at;
			w->cw = cw;
			return slot;
		}
	}
	w->at = at;
	w->cw = cw;
	return -1;
}

const struct xvs_sched_ops xvs_sched_wrr = {
	.name = "wrr",
	.build = wrr_build,
	.check = wrr_check,
	.pick = wrr_pick,
};
