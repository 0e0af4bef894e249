/*
 * Power of two choices, with IPVS's semantics (net/netfilter/ipvs/ip_vs_twos.c), after
 * Mitzenmacher, "The Power of Two Random Choices: A Survey of Techniques and Results" (2001):
 * draw two servers at random, each with probability proportional to its weight, and take
 * the one with the smaller overhead / weight (overhead = active * 256 + inactive). Two random
 * probes avoid both the herd behaviour of a stale least-connection choice and the blind
 * spots of a single random one.
 *
 * As in IPVS, each draw is a number r in [0, total weight] walked down the list of available
 * servers by their weights; the server where r reaches 0 or below is chosen (so r = 0 favours
 * the first server by one part in total + 1). The random numbers come from a xorshift
 * generator per worker and service, seeded from the first client that reaches it. Counts are
 * the node's (see xvs_sched_lc.c). Nothing to build in control.
 */
#include "xvs/sched.h"

struct twos_priv {
	uint64_t rng; /* xorshift64* state, 0 = not seeded */
};
XVS_SCHED_PRIV_FITS(struct twos_priv);

static uint64_t next_rand(struct twos_priv *t, const struct xvs_sched_key *key)
{
	if (t->rng == 0) {
		uint64_t s = 0x9e3779b97f4a7c15ULL;
		if (key)
			s ^= key->caddr.d[0] * 0xbf58476d1ce4e5b9ULL ^ key->caddr.d[1] ^
			     ((uint64_t)key->cport_be << 32 | key->now);
		t->rng = s ? s : 1;
	}
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static int twos_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		     const struct xvs_sched_key *key)
{
	struct twos_priv *t = XVS_SCHED_PRIV(st, struct twos_priv);
	xvs_sched_state_sync(st, svc);
	uint64_t total = 0;
	for (unsigned i = 0; i < svc->nb_dests; i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (xvs_sched_available(g, slot, key))
			total += (uint64_t)g->dests[slot].weight;
	}
	if (total == 0)
		return -1;
	int64_t r1 = (int64_t)((next_rand(t, key) >> 32) % (total + 1));
	int64_t r2 = (int64_t)((next_rand(t, key) >> 32) % (total + 1));
	int c1 = -1, c2 = -1;
	for (unsigned i = 0; i < svc->nb_dests && (c1 < 0 || c2 < 0); i++) {
		uint16_t slot = xvs_sched_slot(g, svc, i);
		if (!xvs_sched_available(g, slot, key))
			continue;
		r1 -= g->dests[slot].weight;
		r2 -= g->dests[slot].weight;
		if (r1 <= 0 && c1 < 0)
			c1 = slot;
		if (r2 <= 0 && c2 < 0)
			c2 = slot;
	}
	uint64_t w1 = (uint64_t)g->dests[c1].weight, w2 = (uint64_t)g->dests[c2].weight;
	if (w2 * xvs_sched_overhead(key, (uint16_t)c1) > w1 * xvs_sched_overhead(key, (uint16_t)c2))
		return c2;
	return c1;
}

const struct xvs_sched_ops xvs_sched_twos = {
	.name = "twos",
	.build = xvs_sched_build_none,
	.pick = twos_pick,
};
