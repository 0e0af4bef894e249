/*
 * Weighted Maglev hashing, IPVS's mh scheduler (net/netfilter/ipvs/ip_vs_mh.c) after Eisenbud
 * et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016, section 3.4.
 *
 * Control builds a lookup table of M entries (a prime: 65537 by default, xvs-control's
 * --mh-table-size) in the generation's table pool; a new connection goes to the server of
 * entry hash(client address [, port]) mod M. Every server has a preference list over the
 * entries, the permutation offset, offset + skip, offset + 2 skip, ... (mod M, so with M prime
 * every entry appears once), with offset and skip from two hashes of its address and port.
 * The servers take turns claiming their next preferred entry that is still free until the
 * table is full. This keeps the table balanced (each server gets its share to within one
 * entry) and disturbs little when a server comes or goes: a server's own preferences never
 * change, so mostly only its entries move.
 *
 * Weights: each server gets a quota of entries, M * w / W to within one entry (largest
 * remainder; at least one entry for every server with a weight, as IPVS gives each at least
 * one turn), and the fill goes in rounds: in round r every server whose quota is above r
 * claims one entry, the servers in the order of their hash. A server's quota is exact, so the
 * table is balanced to an entry whatever the weights. When one server's weight changes, its
 * extra (or missing) rounds come after the others' and the others' quotas move by at most
 * one, in their last round: with equal weights only that server's entries move; with mixed
 * weights a few others shift too (docs/control.md). IPVS instead gives each server
 * (weight / gcd) >> shift consecutive turns per round, which rounds weights down to 6 bits and
 * favours the servers at the head of the list in the last, partial round.
 *
 * As in IPVS the weight used is the server's last_weight (the last non-zero weight): setting
 * a weight to 0 quiesces the server without reshuffling the table; its clients get no
 * destination, unless -b mh-fallback is set, which probes further entries: 32 more hashes of
 * the client, then the entries after its own, in order. With -b mh-port the client's port is
 * hashed too. Neither the table nor the lookup depend on the order of the list, the node or
 * the time: every xvs node with the same servers builds the same table and sends a client to
 * the same server, which is what lets several nodes share a VIP behind ECMP.
 *
 * The table differs from the kernel's (size, hash functions, fill order), so an xvs node
 * and an IPVS node do not agree on a client's server; both spread clients the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "xvs/sched.h"

#define MH_FALLBACK        XVS_SVC_F_SCHED1
#define MH_PORT            XVS_SVC_F_SCHED2
#define MH_FALLBACK_PROBES 32

#define SEED_OFFSET 0x6d61676c65762d6fULL /* "maglev-o" */
#define SEED_SKIP   0x6d61676c65762d73ULL /* "maglev-s" */
#define SEED_LOOKUP 0x6d61676c65762d6cULL /* "maglev-l" */
#define GOLDEN      0x9e3779b97f4a7c15ULL

/* The splitmix64 finaliser: every input bit reaches every output bit. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t mh_hash(const union xvs_ip *a, uint16_t port_be, uint64_t seed)
{
	uint64_t h = mix64(a->d[0] ^ seed);
	h = mix64(h ^ a->d[1]);
	return mix64(h ^ ((uint64_t)port_be << 8) ^ GOLDEN);
}

/* h mod m without a division (Lemire's multiply-shift on the top 32 bits). */
static inline uint32_t reduce(uint64_t h, uint32_t m)
{
	return (uint32_t)(((h >> 32) * (uint64_t)m) >> 32);
}

/* ---- control half: the table ----------------------------------------------------------- */

/* A server taking part in the fill. */
struct mh_server {
	uint64_t tie;  /* a hash of the server: orders the servers within a round */
	uint64_t rem;  /* M * weight mod the total weight: who gets the leftover entries */
	uint32_t q;    /* its entries, its quota */
	uint32_t next; /* the entry to try next */
	uint32_t skip;
	uint16_t pos;  /* position in the list */
};

static int by_tie(const void *pa, const void *pb)
{
	const struct mh_server *a = pa, *b = pb;
	if (a->tie != b->tie)
		return a->tie < b->tie ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Larger remainder first, then the round order. */
static int by_rem(const void *pa, const void *pb)
{
	const struct mh_server *a = *(const struct mh_server *const *)pa;
	const struct mh_server *b = *(const struct mh_server *const *)pb;
	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return by_tie(a, b);
}

/*
 * Quotas summing to m, each within one entry of m * w / W (largest remainder), and at least
 * one for every server, as IPVS gives every server with a weight at least one turn. by[] is
 * scratch for n pointers. Integer arithmetic only: every node computes the same quotas.
 */
static void mh_quotas(struct mh_server *s, uint32_t n, uint32_t m, const int32_t *w,
		      struct mh_server **by)
{
	uint64_t total = 0, sum = 0;
	for (uint32_t i = 0; i < n; i++)
		total += (uint64_t)w[i];
	for (uint32_t i = 0; i < n; i++) {
		uint64_t share = (uint64_t)m * (uint64_t)w[i];
		s[i].q = (uint32_t)(share / total);
		s[i].rem = share % total;
		if (s[i].q == 0) /* its share is less than one entry: it gets one anyway */
			s[i].q = 1, s[i].rem = 0;
		sum += s[i].q;
		by[i] = &s[i];
	}
	qsort(by, n, sizeof(*by), by_rem);
	for (uint32_t k = 0; sum < m; k = (k + 1) % n) /* the leftover: largest remainders */
		if (by[k]->rem)
			by[k]->q++, by[k]->rem = 0, sum++;
	for (uint32_t k = n; sum > m; k = k ? k - 1 : n) /* too many ones: smallest remainders */
		if (k < n && by[k]->q > 1)
			by[k]->q--, sum--;
}

/* Server c takes its next preferred entry that is still free. */
static inline void claim(uint16_t *t, uint32_t m, struct mh_server *c)
{
	uint32_t e = c->next;
	while (t[e] != XVS_SCHED_TAB_NONE) {
		e += c->skip;
		e = e >= m ? e - m : e;
	}
	t[e] = c->pos;
	c->next = e;
}

/*
 * The fill, in rounds: in round r every server whose quota is above r claims one entry, the
 * servers in the order of their hash. a[] holds the servers still claiming; a server leaves
 * it when its quota is met.
 */
static void mh_fill(uint16_t *t, uint32_t m, struct mh_server *s, uint32_t n, struct mh_server **a)
{
	uint32_t active = n;
	for (uint32_t i = 0; i < n; i++)
		a[i] = &s[i];
	for (uint32_t r = 0; active; r++) {
		uint32_t keep = 0;
		for (uint32_t j = 0; j < active; j++) {
			claim(t, m, a[j]);
			if (a[j]->q > r + 1)
				a[keep++] = a[j];
		}
		active = keep;
	}
}

/* The servers that take part (last weight > 0): permutations, quotas, in round order. */
static uint32_t mh_setup(const struct xvs_dest *const *dests, unsigned nb, uint32_t m,
			 struct mh_server *s, int32_t *w, struct mh_server **scratch)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < nb; i++) {
		const struct xvs_dest *d = dests[i];
		if (d->last_weight <= 0)
			continue;
		uint64_t ho = mh_hash(&d->addr, d->port_be, SEED_OFFSET);
		uint64_t hs = mh_hash(&d->addr, d->port_be, SEED_SKIP);
		s[n] = (struct mh_server){ .tie = ho, .next = (uint32_t)(ho % m),
					   .skip = (uint32_t)(hs % (m - 1)) + 1, .pos = (uint16_t)i };
		w[n++] = d->last_weight;
	}
	if (n) {
		mh_quotas(s, n, m, w, scratch);
		qsort(s, n, sizeof(*s), by_tie);
	}
	return n;
}

static uint32_t mh_tab_size(const struct xvs_sched_params *p)
{
	return p->mh_size;
}

static int mh_build_tab(struct xvs_sched_tab_build *b, struct xvs_svc *svc,
			const struct xvs_dest *const *dests, unsigned nb_dests)
{
	uint32_t m = b->params.mh_size;
	int rc = xvs_sched_params_check(&b->params, b->msg, b->msglen);
	if (rc)
		return rc;
	if (nb_dests > m) {
		snprintf(b->msg, b->msglen, "more servers (%u) than Maglev table entries (%u)",
			 nb_dests, m);
		return -EINVAL;
	}
	uint16_t *t = xvs_sched_tab_alloc(b, svc, m);
	if (!t)
		return -ENOSPC;
	struct mh_server *s = malloc((nb_dests + 1) * sizeof(*s));
	struct mh_server **a = malloc((nb_dests + 1) * sizeof(*a));
	int32_t *w = malloc((nb_dests + 1) * sizeof(*w));
	if (!s || !a || !w) {
		free(s);
		free(a);
		free(w);
		snprintf(b->msg, b->msglen, "Memory allocation problem");
		return -ENOMEM;
	}
	uint32_t n = mh_setup(dests, nb_dests, m, s, w, a);
	if (n)
		mh_fill(t, m, s, n, a);
	free(s);
	free(a);
	free(w);
	return 0;
}

static int mh_check(const struct xvs_gen *g, const struct xvs_svc *svc)
{
	struct xvs_sched_params p = { .mh_size = svc->sd.tab.size };
	char why[8];
	if (xvs_sched_params_check(&p, why, sizeof(why)) < 0)
		return -EINVAL;
	return xvs_sched_tab_check(g, svc, 0);
}

/* ---- dataplane half: the lookup -------------------------------------------------------- */

static int any_available(const struct xvs_gen *g, const struct xvs_svc *svc,
			 const struct xvs_sched_key *key)
{
	for (unsigned i = 0; i < svc->nb_dests; i++)
		if (xvs_sched_available(g, xvs_sched_slot(g, svc, i), key))
			return 1;
	return 0;
}

/* -b mh-fallback: hashed probes, then (when some server can take it) the entries in order. */
static int mh_fallback(const struct xvs_gen *g, const struct xvs_svc *svc, uint64_t h,
		       uint32_t i0, const struct xvs_sched_key *key)
{
	uint32_t m = svc->sd.tab.size;
	for (uint64_t p = 1; p <= MH_FALLBACK_PROBES; p++) {
		int d = xvs_sched_tab_dest(g, svc, reduce(mix64(h + p * GOLDEN), m), key);
		if (d != -2)
			return d;
	}
	if (!any_available(g, svc, key))
		return -1;
	for (uint32_t j = 1, i = i0; j < m; j++) {
		i = i + 1 < m ? i + 1 : 0;
		int d = xvs_sched_tab_dest(g, svc, i, key);
		if (d != -2)
			return d;
	}
	return -1;
}

static int mh_pick(const struct xvs_gen *g, const struct xvs_svc *svc, struct xvs_sched_state *st,
		   const struct xvs_sched_key *key)
{
	(void)st;
	uint64_t h = mh_hash(&key->caddr, svc->flags & MH_PORT ? key->cport_be : 0, SEED_LOOKUP);
	uint32_t i0 = reduce(h, svc->sd.tab.size);
	int d = xvs_sched_tab_dest(g, svc, i0, key);
	if (d == -2 && (svc->flags & MH_FALLBACK))
		d = mh_fallback(g, svc, h, i0, key);
	return d < 0 ? -1 : d;
}

static uint32_t mh_first_bucket(const struct xvs_svc *svc, const struct xvs_sched_key *key)
{
	return reduce(mh_hash(&key->caddr, svc->flags & MH_PORT ? key->cport_be : 0, SEED_LOOKUP),
		      svc->sd.tab.size);
}

const struct xvs_sched_ops xvs_sched_mh = {
	.name = "mh",
	.consistent = 1,
	.tab_size = mh_tab_size,
	.build_tab = mh_build_tab,
	.check = mh_check,
	.pick = mh_pick,
	.bucket = mh_first_bucket,
};
