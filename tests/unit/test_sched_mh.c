/*
 * Unit tests of weighted Maglev (mh): the table against a plain reference fill, its
 * properties at M = 65537 with 1000 servers (balance, disruption when a server leaves or its
 * weight changes), independence of the list's order, last_weight and the lookup's fallback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sched_harness.h"

static const struct xvs_sched_ops *mh(void)
{
	return xvs_sched_all[XVS_SCHED_MH];
}

/* Service SVC with n servers (slots DEST_SLOT(i), list position i), weights w (NULL: 1),
 * Maglev size m, built. */
static void mh_service(struct xvs_gen *g, unsigned n, const int32_t *w, uint32_t m)
{
	struct xvs_svc *s = &g->svcs[SVC];
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = XVS_AF_INET, .proto = XVS_PROTO_TCP,
			       .sched = XVS_SCHED_MH, .port_be = 0x5000, .dest_first = LIST_FIRST,
			       .nb_dests = (uint16_t)n, .sched_epoch = 1, .sched_bind = 1 };
	for (unsigned i = 0; i < n; i++) {
		struct xvs_dest *d = &g->dests[DEST_SLOT(i)];
		*d = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = XVS_AF_INET, .fwd = XVS_FWD_MASQ,
					.svc = SVC, .weight = w ? w[i] : 1, .last_weight = w ? w[i] : 1,
					.port_be = 0x5000 };
		d->addr.v4 = htonl(0x0a000000u + 7919u * i + 1);
		g->svc_dests[LIST_FIRST + i] = (uint16_t)DEST_SLOT(i);
	}
	g->nb_svcs = SVC + 1;
	g->nb_dests = DEST_SLOT(n);
	g->nb_svc_dests = LIST_FIRST + n;
	test_params.mh_size = m;
	rebuild(g);
	test_params.mh_size = XVS_MH_SIZE_DEFAULT;
	cr_assert_eq(s->sd.tab.size, m);
}

/* The control half again, at the table's size, after a change to the servers. */
static void mh_rebuild(struct xvs_gen *g)
{
	test_params.mh_size = g->svcs[SVC].sd.tab.size;
	rebuild(g);
	test_params.mh_size = XVS_MH_SIZE_DEFAULT;
}

/* The table as destination slots (the owner of each entry). */
static uint16_t *owners(const struct xvs_gen *g)
{
	const struct xvs_svc *s = &g->svcs[SVC];
	uint16_t *o = malloc(s->sd.tab.size * sizeof(*o));
	cr_assert_not_null(o);
	for (uint32_t i = 0; i < s->sd.tab.size; i++) {
		uint16_t e = g->sched_tab[s->sd.tab.off + i];
		o[i] = e == XVS_SCHED_TAB_NONE ? 0xffff : xvs_sched_slot(g, s, e);
	}
	return o;
}

/* ---- the reference: the specification of the table, written plainly ------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t ref_hash(const union xvs_ip *a, uint16_t port_be, uint64_t seed)
{
	uint64_t h = mix64(a->d[0] ^ seed);
	h = mix64(h ^ a->d[1]);
	return mix64(h ^ ((uint64_t)port_be << 8) ^ 0x9e3779b97f4a7c15ULL);
}

/*
 * Every server with last weight w > 0 gets a quota: floor(M * w / W), at least 1, then one
 * more for the servers with the largest remainders (M * w mod W; ties by hash) until the
 * quotas sum to M. Then rounds: in round r every server whose quota is above r, in the order
 * of its 64-bit hash, takes the first free entry of its permutation.
 */
static uint16_t *reference(const struct xvs_gen *g, uint32_t m)
{
	const struct xvs_svc *s = &g->svcs[SVC];
	unsigned n = s->nb_dests;
	uint64_t *tie = calloc(n, sizeof(*tie)), *rem = calloc(n, sizeof(*rem)), total = 0, sum = 0;
	uint32_t *next = calloc(n, sizeof(*next)), *skip = calloc(n, sizeof(*skip)),
		 *q = calloc(n, sizeof(*q));
	unsigned *order = calloc(n, sizeof(*order)), k = 0;
	uint16_t *o = malloc(m * sizeof(*o));
	for (uint32_t i = 0; i < m; i++)
		o[i] = 0xffff;
	for (unsigned i = 0; i < n; i++)
		total += (uint64_t)g->dests[xvs_sched_slot(g, s, i)].last_weight;
	for (unsigned i = 0; i < n; i++) {
		const struct xvs_dest *d = &g->dests[xvs_sched_slot(g, s, i)];
		uint64_t ho = ref_hash(&d->addr, d->port_be, 0x6d61676c65762d6fULL);
		uint64_t hs = ref_hash(&d->addr, d->port_be, 0x6d61676c65762d73ULL);
		next[i] = (uint32_t)(ho % m);
		skip[i] = (uint32_t)(hs % (m - 1)) + 1;
		tie[i] = ho;
		if (d->last_weight <= 0)
			continue;
		q[i] = (uint32_t)((uint64_t)m * (uint64_t)d->last_weight / total);
		rem[i] = (uint64_t)m * (uint64_t)d->last_weight % total;
		if (q[i] == 0)
			q[i] = 1, rem[i] = 0;
		sum += q[i];
	}
	for (; sum < m; sum++) { /* one more to the largest remainder left */
		int b = -1;
		for (unsigned i = 0; i < n; i++)
			if (rem[i] && (b < 0 || rem[i] > rem[b] || (rem[i] == rem[b] && tie[i] < tie[b])))
				b = (int)i;
		q[b]++;
		rem[b] = 0;
	}
	cr_assert_eq(sum, m, "too many servers below one entry for this test");
	for (unsigned i = 0; i < n; i++) /* the round order: by hash, insertion sort */
		if (q[i]) {
			unsigned j = k++;
			for (; j > 0 && tie[order[j - 1]] > tie[i]; j--)
				order[j] = order[j - 1];
			order[j] = i;
		}
	for (uint32_t r = 0, filled = 0; filled < m; r++)
		for (unsigned j = 0; j < k; j++) {
			unsigned c = order[j];
			if (q[c] <= r)
				continue;
			while (o[next[c]] != 0xffff)
				next[c] = (next[c] + skip[c]) % m;
			o[next[c]] = xvs_sched_slot(g, s, c);
			filled++;
		}
	free(tie);
	free(rem);
	free(next);
	free(skip);
	free(q);
	free(order);
	return o;
}

/* Small weights with equal remainders (1, 2, 3, 4, 6, 12 ...) and random ones. */
Test(sched_mh, table_is_the_reference)
{
	struct xvs_gen *g = gen_new();
	const int32_t w1[] = { 1, 2, 3, 4, 6, 12, 1, 2, 0, 5, 12, 3 };
	mh_service(g, 12, w1, 1021);
	uint16_t *a = owners(g), *b = reference(g, 1021);
	cr_assert_eq(memcmp(a, b, 1021 * sizeof(*a)), 0);
	free(a);
	free(b);
	rng_state = 31337;
	for (int iter = 0; iter < 4; iter++) {
		static int32_t w[300];
		unsigned n = 50 + rnd() % 250;
		for (unsigned i = 0; i < n; i++)
			w[i] = iter == 0 ? 7 : rnd() % 10 == 0 ? 0 : (int32_t)(1 + rnd() % (iter * 30));
		mh_service(g, n, w, 65537);
		a = owners(g);
		b = reference(g, 65537);
		cr_assert_eq(memcmp(a, b, 65537 * sizeof(*a)), 0, "iteration %d", iter);
		free(a);
		free(b);
	}
	free(g);
}

/* ---- properties at M = 65537, 1000 servers --------------------------------------------- */

#define N 1000
#define M 65537

static void counts(const uint16_t *o, uint32_t m, unsigned *c)
{
	memset(c, 0, N * sizeof(*c));
	for (uint32_t i = 0; i < m; i++) {
		cr_assert_neq(o[i], 0xffff, "entry %u empty", i);
		c[(o[i] - 10) / 3]++;
	}
}

/* Equal weights: every server within 1% of M / N entries (65 or 66 of 65.5). */
Test(sched_mh, balance_equal_weights)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, N, NULL, M);
	uint16_t *o = owners(g);
	static unsigned c[N];
	counts(o, M, c);
	double ideal = (double)M / N, worst = 0;
	for (unsigned i = 0; i < N; i++) {
		double e = (c[i] - ideal) / ideal;
		worst = e < 0 ? (-e > worst ? -e : worst) : (e > worst ? e : worst);
	}
	cr_log_info("equal weights: worst server %.3f%% off its share", 100 * worst);
	cr_assert_leq(worst, 0.01, "a server is %.3f%% off its share", 100 * worst);
	free(o);
	free(g);
}

/*
 * Weights 1..100: every server within 1% of its weight's share M * w / W, or within one entry
 * where 1% is less than an entry (a weight-1 server's share is 1.3 entries).
 */
Test(sched_mh, balance_proportional_to_weights)
{
	struct xvs_gen *g = gen_new();
	static int32_t w[N];
	double total = 0;
	rng_state = 4711;
	for (unsigned i = 0; i < N; i++) {
		w[i] = (int32_t)(1 + rnd() % 100);
		total += w[i];
	}
	mh_service(g, N, w, M);
	uint16_t *o = owners(g);
	static unsigned c[N];
	counts(o, M, c);
	double worst = 0;
	for (unsigned i = 0; i < N; i++) {
		double ideal = M * w[i] / total, dev = c[i] > ideal ? c[i] - ideal : ideal - c[i];
		double allowed = ideal / 100 > 1 ? ideal / 100 : 1;
		cr_assert_leq(dev, allowed, "server %u of weight %d: %u entries, its share %.2f", i, w[i],
			      c[i], ideal);
		worst = dev > worst ? dev : worst;
	}
	cr_log_info("weights 1..100: worst server %.2f entries off its share", worst);
	/* and a weight is a weight: scaling them all changes nothing */
	for (unsigned i = 0; i < N; i++)
		w[i] *= 3;
	mh_service(g, N, w, M);
	uint16_t *o3 = owners(g);
	cr_assert_eq(memcmp(o, o3, M * sizeof(*o)), 0);
	free(o3);
	free(o);
	free(g);
}

/* Entries whose owner differs between a and b; how many of them did not involve slot x. */
static uint32_t moved(const uint16_t *a, const uint16_t *b, uint16_t x, uint32_t *others)
{
	uint32_t n = 0;
	*others = 0;
	for (uint32_t i = 0; i < M; i++) {
		if (a[i] == b[i])
			continue;
		n++;
		*others += a[i] != x && b[i] != x;
	}
	return n;
}

/* Removing one of N servers moves at most 1/N + 1% of the entries (its own and a few more). */
Test(sched_mh, removal_moves_little)
{
	struct xvs_gen *g = gen_new();
	static int32_t w[N];
	for (int weighted = 0; weighted < 2; weighted++) {
		rng_state = 99;
		for (unsigned i = 0; i < N; i++)
			w[i] = weighted ? (int32_t)(1 + rnd() % 100) : 1;
		mh_service(g, N, w, M);
		uint16_t *before = owners(g);
		const unsigned gone[] = { 0, 1, 500, 998, 999 };
		for (unsigned k = 0; k < 5; k++) {
			unsigned x = gone[k];
			struct xvs_svc *s = &g->svcs[SVC];
			/* the list without x; its order does not matter (see list_order_irrelevant) */
			g->svc_dests[LIST_FIRST + x] = (uint16_t)DEST_SLOT(N - 1);
			s->nb_dests = N - 1;
			if (x == N - 1)
				g->svc_dests[LIST_FIRST + x] = (uint16_t)DEST_SLOT(x);
			mh_rebuild(g);
			uint16_t *after = owners(g);
			uint32_t others, n = moved(before, after, (uint16_t)DEST_SLOT(x), &others);
			double frac = (double)n / M;
			cr_log_info("%s weights, server %u removed: %.3f%% of the entries moved, %.3f%% "
				    "between the others", weighted ? "mixed" : "equal", x, 100 * frac,
				    100.0 * others / M);
			cr_assert_leq(frac, 1.0 / N + 0.01, "%.3f%% moved", 100 * frac);
			for (uint32_t i = 0; i < M; i++)
				cr_assert_neq(after[i], DEST_SLOT(x));
			free(after);
			g->svc_dests[LIST_FIRST + x] = (uint16_t)DEST_SLOT(x);
			g->svc_dests[LIST_FIRST + N - 1] = (uint16_t)DEST_SLOT(N - 1);
			s->nb_dests = N;
		}
		free(before);
	}
	free(g);
}

/* One server's weight becomes nw (0: quiesced, the last weight stays): how the table moves. */
static void weight_change(struct xvs_gen *g, unsigned x, int32_t nw, const uint16_t *before,
			  uint32_t *n, uint32_t *others, int64_t *gain)
{
	static unsigned c0[N], c1[N];
	struct xvs_dest *d = &g->dests[DEST_SLOT(x)];
	int32_t old = d->last_weight;
	d->weight = nw;
	d->last_weight = nw ? nw : old;
	mh_rebuild(g);
	uint16_t *after = owners(g);
	counts(before, M, c0);
	counts(after, M, c1);
	*n = moved(before, after, (uint16_t)DEST_SLOT(x), others);
	*gain = (int64_t)c1[x] - c0[x];
	cr_log_info("server %u weight %d -> %d: %u entries moved, %u of them between other servers, "
		    "%+lld for it", x, old, nw, *n, *others, (long long)*gain);
	d->weight = d->last_weight = old;
	free(after);
}

/*
 * Equal weights (the common case): a weight change moves entries only to or from that
 * server. Its extra rounds come after everyone else's, and the others' quotas change only
 * in their last round.
 */
Test(sched_mh, weight_change_equal_weights)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, N, NULL, M);
	uint16_t *before = owners(g);
	const struct { unsigned x; int32_t w; } cases[] = { { 7, 2 }, { 7, 5 }, { 500, 3 },
							     { 999, 40 }, { 321, 0 } };
	for (unsigned k = 0; k < 5; k++) {
		uint32_t n, others;
		int64_t gain;
		weight_change(g, cases[k].x, cases[k].w, before, &n, &others, &gain);
		cr_assert_eq(others, 0, "%u entries moved between other servers", others);
		cr_assert_eq(n, (uint32_t)llabs(gain), "only its gain moved");
	}
	free(before);
	free(g);
}

/*
 * Mixed weights: the server gains (or loses) its share's difference, taken from (given to)
 * the others; a few more entries shift between other servers (where the others' quotas drop
 * by one in their last round, the round's later claimants take other entries). Bounded here
 * by 1% of the table (docs/control.md, "Schedulers", mh).
 */
Test(sched_mh, weight_change_mixed_weights)
{
	struct xvs_gen *g = gen_new();
	static int32_t w[N];
	rng_state = 2024;
	for (unsigned i = 0; i < N; i++)
		w[i] = (int32_t)(10 + rnd() % 90);
	mh_service(g, N, w, M);
	uint16_t *before = owners(g);
	const struct { unsigned x; int32_t w; } cases[] = { { 7, 200 }, { 7, 1 }, { 321, 0 },
							     { 654, 11 }, { 999, 95 } };
	for (unsigned k = 0; k < 5; k++) {
		uint32_t n, others;
		int64_t gain;
		int32_t old = g->dests[DEST_SLOT(cases[k].x)].last_weight;
		weight_change(g, cases[k].x, cases[k].w, before, &n, &others, &gain);
		if (cases[k].w == 0) {
			cr_assert_eq(n, 0, "quiescing keeps the table");
			continue;
		}
		cr_assert((gain > 0) == (cases[k].w > old), "%lld entries", (long long)gain);
		cr_assert_leq(others, M / 100, "%u entries moved between other servers", others);
	}
	free(before);
	free(g);
}

/* The table depends on the servers (address, port, weight), not on the list's order. */
Test(sched_mh, list_order_irrelevant)
{
	struct xvs_gen *g = gen_new();
	static int32_t w[300];
	rng_state = 8;
	for (unsigned i = 0; i < 300; i++)
		w[i] = (int32_t)(1 + rnd() % 5);
	mh_service(g, 300, w, M);
	uint16_t *a = owners(g);
	for (unsigned i = 0; i < 300; i++) { /* reverse the list */
		g->svc_dests[LIST_FIRST + i] = (uint16_t)DEST_SLOT(299 - i);
	}
	mh_rebuild(g);
	uint16_t *b = owners(g);
	cr_assert_eq(memcmp(a, b, M * sizeof(*a)), 0);
	free(a);
	free(b);
	free(g);
}

/* ---- the lookup ------------------------------------------------------------------------ */

/* Clients spread over the servers by their shares; a client always gets the same one. */
Test(sched_mh, lookup_spread)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 2, 4 };
	mh_service(g, 4, w, M);
	struct xvs_sched_state st = { 0 };
	unsigned hits[4] = { 0 };
	rng_state = 1;
	for (int i = 0; i < 80000; i++) {
		struct xvs_sched_key k = test_key;
		k.caddr.v4 = rnd() ^ rnd() << 16;
		k.cport_be = (uint16_t)rnd();
		int s = pick_key(g, &st, &k);
		cr_assert_geq(s, 0);
		hits[(s - 10) / 3]++;
		k.cport_be++; /* without mh-port the port does not matter */
		cr_assert_eq(pick_key(g, &st, &k), s);
	}
	const double want[] = { 0.125, 0.125, 0.25, 0.5 };
	for (int i = 0; i < 4; i++)
		cr_assert(hits[i] / 80000.0 > want[i] * 0.95 && hits[i] / 80000.0 < want[i] * 1.05,
			  "server %d: %.4f of the clients, want %.3f", i, hits[i] / 80000.0, want[i]);
	free(g);
}

/* IPv6 clients: the whole address counts (no folding), so clients differing in any word
 * spread. */
Test(sched_mh, lookup_ipv6)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, 8, NULL, 1021);
	g->svcs[SVC].af = XVS_AF_INET6;
	struct xvs_sched_state st = { 0 };
	unsigned hits[8] = { 0 };
	for (uint32_t i = 0; i < 8000; i++) {
		struct xvs_sched_key k = test_key;
		k.caddr.v6[0] = 0x20;
		k.caddr.v6[1] = 0x01;
		k.caddr.w[3] = htonl(i); /* only the last word varies */
		hits[(pick_key(g, &st, &k) - 10) / 3]++;
	}
	for (int i = 0; i < 8; i++)
		cr_assert(hits[i] > 800 && hits[i] < 1200, "server %d: %u of 8000", i, hits[i]);
	free(g);
}

/* With mh-port the client's port is hashed too. */
Test(sched_mh, lookup_port)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, 10, NULL, M);
	g->svcs[SVC].flags = XVS_SVC_F_SCHED2;
	struct xvs_sched_state st = { 0 };
	struct xvs_sched_key k = test_key;
	k.caddr.v4 = htonl(0xc6120005);
	unsigned distinct = 0, seen[10] = { 0 };
	for (uint16_t p = 1000; p < 1100; p++) {
		k.cport_be = htons(p);
		int s = pick_key(g, &st, &k);
		distinct += seen[(s - 10) / 3]++ == 0;
		cr_assert_eq(pick_key(g, &st, &k), s);
	}
	cr_assert_eq(distinct, 10, "one client's ports reach every server");
	free(g);
}

/*
 * IPVS's last_weight: quiescing (weight 0) keeps the table; the quiesced server's clients get
 * no destination, or with mh-fallback another server, the same one every time, and never the
 * quiesced one. Clients of the other servers do not move.
 */
Test(sched_mh, quiesce_and_fallback)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, 10, NULL, 1021);
	uint16_t *a = owners(g);
	struct xvs_dest *q = &g->dests[DEST_SLOT(3)];
	q->weight = 0; /* last_weight stays 1 */
	mh_rebuild(g);
	uint16_t *b = owners(g);
	cr_assert_eq(memcmp(a, b, 1021 * sizeof(*a)), 0);
	struct xvs_sched_state st = { 0 };
	unsigned orphans = 0;
	rng_state = 77;
	for (int i = 0; i < 20000; i++) {
		struct xvs_sched_key k = test_key;
		k.caddr.v4 = rnd() ^ rnd() << 16;
		g->svcs[SVC].flags = 0;
		int plain = pick_key(g, &st, &k);
		g->svcs[SVC].flags = XVS_SVC_F_SCHED1;
		int fb = pick_key(g, &st, &k);
		cr_assert_geq(fb, 0);
		cr_assert_neq(fb, DEST_SLOT(3));
		cr_assert_eq(pick_key(g, &st, &k), fb);
		if (plain < 0)
			orphans++;
		else
			cr_assert_eq(fb, plain, "a client of an available server stays");
	}
	cr_assert(orphans > 1400 && orphans < 2600, "%u of 20000 clients had the quiesced server",
		  orphans);
	/* all quiesced: nothing, fallback or not */
	for (unsigned i = 0; i < 10; i++)
		g->dests[DEST_SLOT(i)].weight = 0;
	expect_sequence(g, &st, "---");
	g->svcs[SVC].flags = 0;
	expect_sequence(g, &st, "---");
	free(a);
	free(b);
	free(g);
}

/* Added with weight 0 (last weight 0): not in the table at all, as in IPVS. */
Test(sched_mh, zero_weight_servers_left_out)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 0, 1, 0, 1 };
	mh_service(g, 4, w, 251);
	uint16_t *o = owners(g);
	for (uint32_t i = 0; i < 251; i++)
		cr_assert(o[i] == DEST_SLOT(1) || o[i] == DEST_SLOT(3));
	free(o);
	const int32_t z[] = { 0, 0 };
	mh_service(g, 2, z, 251);
	o = owners(g);
	for (uint32_t i = 0; i < 251; i++)
		cr_assert_eq(o[i], 0xffff);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "--");
	free(o);
	free(g);
}

/* Sizes: a prime from 251 to the pool; not fewer entries than servers; the pool is shared. */
Test(sched_mh, sizes)
{
	struct xvs_gen *g = gen_new();
	mh_service(g, 3, NULL, 655373);
	mh_service(g, 3, NULL, 251);
	struct xvs_svc *s = &g->svcs[SVC];
	static const struct xvs_dest *d[300];
	for (unsigned i = 0; i < 300; i++) {
		g->dests[DEST_SLOT(i)] = g->dests[DEST_SLOT(0)];
		d[i] = &g->dests[DEST_SLOT(i)];
	}
	char msg[256];
	struct xvs_sched_tab_build tb = { .g = g, .params = { .mh_size = 251 }, .msg = msg,
					  .msglen = sizeof(msg) };
	cr_assert_eq(mh()->build_tab(&tb, s, d, 300), -EINVAL, "more servers than entries");
	tb.params.mh_size = 65536;
	cr_assert_eq(mh()->build_tab(&tb, s, d, 3), -EINVAL);
	cr_assert_not_null(strstr(msg, "prime"));
	tb.params.mh_size = 655373;
	g->nb_sched_tab = XVS_SCHED_TAB_POOL - 655372;
	cr_assert_eq(mh()->build_tab(&tb, s, d, 3), -ENOSPC);
	cr_assert_not_null(strstr(msg, "no room"));
	free(g);
}

/* Build times for the record (the figures in docs/performance.md come from xvs-maglev-bench). */
Test(sched_mh, build_time)
{
	struct xvs_gen *g = gen_new();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mh_service(g, N, NULL, M);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_log_info("1000 servers, M = 65537: %.2f ms",
		    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	free(g);
}
