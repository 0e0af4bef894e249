/* Unit tests of the rr and wrr schedulers: both halves, through the ops table. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "xvs/sched.h"

/*
 * The service lives in slot 3, its list starts at svc_dests[5] and destination i sits in slot
 * 10 + 3 * i, so a scheduler that confuses list positions with slots fails.
 */
#define SVC        3
#define LIST_FIRST 5
#define DEST_SLOT(i) (10 + 3 * (i))
#define MAX_N      64

static struct xvs_gen *gen_new(void)
{
	struct xvs_gen *g = calloc(1, sizeof(*g));
	cr_assert_not_null(g);
	return g;
}

/* Run the control half over the service's list, as control does before publishing. */
static void rebuild(struct xvs_gen *g)
{
	struct xvs_svc *s = &g->svcs[SVC];
	const struct xvs_dest *d[MAX_N];
	for (unsigned i = 0; i < s->nb_dests; i++)
		d[i] = &g->dests[g->svc_dests[s->dest_first + i]];
	cr_assert_eq(xvs_sched_all[s->sched]->build(s, d, s->nb_dests), 0);
	s->sched_epoch++;
}

static void setup_svc(struct xvs_gen *g, enum xvs_sched_id id, const int32_t *w, unsigned n)
{
	cr_assert(n <= MAX_N);
	struct xvs_svc *s = &g->svcs[SVC];
	*s = (struct xvs_svc){ .state = XVS_SLOT_USED, .af = XVS_AF_INET, .proto = XVS_PROTO_TCP,
			       .sched = (uint8_t)id, .port_be = 0x5000, .dest_first = LIST_FIRST,
			       .nb_dests = (uint16_t)n, .sched_epoch = 1 };
	for (unsigned i = 0; i < n; i++) {
		g->dests[DEST_SLOT(i)] = (struct xvs_dest){ .state = XVS_SLOT_USED, .af = XVS_AF_INET,
							    .fwd = XVS_FWD_MASQ, .svc = SVC,
							    .weight = w[i] };
		g->svc_dests[LIST_FIRST + i] = (uint16_t)DEST_SLOT(i);
	}
	g->nb_svcs = SVC + 1;
	g->nb_dests = DEST_SLOT(n);
	g->nb_svc_dests = LIST_FIRST + n;
	rebuild(g);
}

static int pick(const struct xvs_gen *g, struct xvs_sched_state *st)
{
	const struct xvs_sched_key key = { .cport_be = 0x1234 };
	const struct xvs_svc *s = &g->svcs[SVC];
	return xvs_sched_all[s->sched]->pick(g, s, st, &key);
}

/* Position in the list of a picked slot, or -1. */
static int pos_of(int slot)
{
	if (slot < 10 || (slot - 10) % 3)
		return -1;
	return (slot - 10) / 3;
}

static void expect_sequence(struct xvs_gen *g, struct xvs_sched_state *st, const char *seq)
{
	for (unsigned i = 0; seq[i]; i++) {
		int p = pos_of(pick(g, st));
		cr_assert_eq(p, seq[i] - 'A', "pick %u: got %c, want %c (sequence %s)", i,
			     p < 0 ? '-' : 'A' + p, seq[i], seq);
	}
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

Test(sched, registry)
{
	cr_assert_eq(xvs_sched_find("rr"), xvs_sched_all[XVS_SCHED_RR]);
	cr_assert_eq(xvs_sched_find("wrr"), xvs_sched_all[XVS_SCHED_WRR]);
	cr_assert_eq(xvs_sched_find("rr")->id, XVS_SCHED_RR);
	cr_assert_eq(xvs_sched_find("wrr")->id, XVS_SCHED_WRR);
	cr_assert_null(xvs_sched_find("no-such-scheduler"));
	cr_assert_null(xvs_sched_find(""));
	cr_assert_null(xvs_sched_all[0]);
	/* every registered scheduler sits at its own id and is found by its name */
	for (unsigned i = 1; i < XVS_SCHED_MAX; i++) {
		const struct xvs_sched_ops *o = xvs_sched_all[i];
		if (!o)
			continue;
		cr_assert_eq((unsigned)o->id, i);
		cr_assert_eq(xvs_sched_find(o->name), o);
		cr_assert(o->build && o->pick);
	}
}

/* ---- rr -------------------------------------------------------------------------------- */

Test(sched, rr_cycles_in_list_order)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 5, 1, 100 }; /* rr ignores weights above zero */
	setup_svc(g, XVS_SCHED_RR, w, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ABCDABCDABCDABCD");
	free(g);
}

Test(sched, rr_skips_weight_zero)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 0, 1, 0, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ACEACEACE");
	free(g);
}

Test(sched, rr_all_weight_zero_or_empty)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 0, 0, 0 };
	setup_svc(g, XVS_SCHED_RR, w, 3);
	struct xvs_sched_state st = { 0 };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pick(g, &st), -1);
	setup_svc(g, XVS_SCHED_RR, w, 0);
	cr_assert_eq(pick(g, &st), -1);
	free(g);
}

Test(sched, rr_trash_dest_skipped)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 3);
	g->dests[DEST_SLOT(1)].state = XVS_SLOT_TRASH;
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ACACAC");
	free(g);
}

/* Quiescing a server continues the rotation from where it was, without that server. */
Test(sched, rr_quiesce_mid_rotation)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 4);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	g->dests[DEST_SLOT(2)].weight = 0;
	expect_sequence(g, &st, "DABDABD");
	g->dests[DEST_SLOT(2)].weight = 1;
	expect_sequence(g, &st, "ABCD");
	free(g);
}

/* A shrunken list (state from a longer one, same epoch) must not index past the list. */
Test(sched, rr_list_shrinks)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1, 1, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "ABCDE");
	g->svcs[SVC].nb_dests = 2;
	expect_sequence(g, &st, "ABAB");
	free(g);
}

Test(sched, rr_epoch_resets)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1 };
	setup_svc(g, XVS_SCHED_RR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AB");
	g->svcs[SVC].sched_epoch++;
	expect_sequence(g, &st, "ABCA");
	cr_assert_eq(st.epoch, g->svcs[SVC].sched_epoch);
	free(g);
}

/* ---- wrr ------------------------------------------------------------------------------- */

Test(sched, wrr_build_computes_max_and_gcd)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 100, 0, 200, 300 };
	setup_svc(g, XVS_SCHED_WRR, w, 4);
	cr_assert_eq(g->svcs[SVC].sd.wrr.mw, 300);
	cr_assert_eq(g->svcs[SVC].sd.wrr.di, 100);
	const int32_t w2[] = { 6, 10, 15 };
	setup_svc(g, XVS_SCHED_WRR, w2, 3);
	cr_assert_eq(g->svcs[SVC].sd.wrr.mw, 15);
	cr_assert_eq(g->svcs[SVC].sd.wrr.di, 1);
	const int32_t w3[] = { 0, 0 };
	setup_svc(g, XVS_SCHED_WRR, w3, 2);
	cr_assert_eq(g->svcs[SVC].sd.wrr.mw, 0);
	cr_assert_gt(g->svcs[SVC].sd.wrr.di, 0, "di must stay a valid divisor");
	free(g);
}

struct wrr_case {
	int32_t w[6];
	unsigned n;
	char seq[24]; /* two full cycles; an array: parameters are copied into the test process */
};

/* Sequences worked out by hand from IPVS's pass walk (cw = mw, mw - di, ..., di). */
ParameterizedTestParameters(sched, wrr_sequence)
{
	static struct wrr_case cases[] = {
		{ { 4, 3, 2 }, 3, "AABABCABC" "AABABCABC" },
		{ { 100, 200, 300 }, 3, "CBCABC" "CBCABC" },
		{ { 1, 2, 3 }, 3, "CBCABC" "CBCABC" },
		{ { 5, 5, 5 }, 3, "ABC" "ABC" },
		{ { 2, 0, 1 }, 3, "AAC" "AAC" },
		{ { 0, 3, 0, 1 }, 4, "BBBD" "BBBD" },
		{ { 1 }, 1, "AAAA" },
		{ { 3, 1 }, 2, "AAAB" "AAAB" },
	};
	return cr_make_param_array(struct wrr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct wrr_case *c, sched, wrr_sequence)
{
	struct xvs_gen *g = gen_new();
	setup_svc(g, XVS_SCHED_WRR, c->w, c->n);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, c->seq);
	/* a fresh worker state gives the same sequence */
	struct xvs_sched_state st2 = { 0 };
	expect_sequence(g, &st2, c->seq);
	free(g);
}

static int32_t gcd(int32_t a, int32_t b)
{
	while (b) {
		int32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Property: over each full cycle of sum(w)/gcd picks, every server is picked exactly
 * w/gcd times, and weight-0 servers never; several cycles in a row, random weight sets.
 */
Test(sched, wrr_ratio_per_cycle)
{
	struct xvs_gen *g = gen_new();
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int iter = 0; iter < 200; iter++) {
		unsigned n = 1 + rnd() % 12;
		int32_t w[MAX_N];
		int32_t mult = 1 + (int32_t)(rnd() % 4) * 25; /* gcd > 1 often */
		int64_t sum = 0;
		int32_t di = 0;
		for (unsigned i = 0; i < n; i++) {
			w[i] = rnd() % 5 == 0 ? 0 : (int32_t)(1 + rnd() % 20) * mult;
			sum += w[i];
			if (w[i])
				di = di ? gcd(di, w[i]) : w[i];
		}
		setup_svc(g, XVS_SCHED_WRR, w, n);
		struct xvs_sched_state st = { 0 };
		if (sum == 0) {
			cr_assert_eq(pick(g, &st), -1);
			continue;
		}
		int64_t cycle = sum / di;
		for (int c = 0; c < 3; c++) {
			unsigned count[MAX_N] = { 0 };
			for (int64_t k = 0; k < cycle; k++) {
				int p = pos_of(pick(g, &st));
				cr_assert(p >= 0 && p < (int)n, "iteration %d: bad pick", iter);
				count[p]++;
			}
			for (unsigned i = 0; i < n; i++)
				cr_assert_eq(count[i], (unsigned)(w[i] / di),
					     "iteration %d cycle %d: server %u of weight %d picked %u "
					     "times, want %d", iter, c, i, w[i], count[i], w[i] / di);
		}
	}
	free(g);
}

/* Scaling every weight by a constant does not change the sequence. */
Test(sched, wrr_scale_invariant)
{
	struct xvs_gen *a = gen_new(), *b = gen_new();
	rng_state = 12345;
	for (int iter = 0; iter < 100; iter++) {
		unsigned n = 1 + rnd() % 8;
		int32_t wa[MAX_N], wb[MAX_N];
		int32_t k = 2 + (int32_t)(rnd() % 50);
		for (unsigned i = 0; i < n; i++) {
			wa[i] = (int32_t)(rnd() % 7);
			wb[i] = wa[i] * k;
		}
		setup_svc(a, XVS_SCHED_WRR, wa, n);
		setup_svc(b, XVS_SCHED_WRR, wb, n);
		struct xvs_sched_state sa = { 0 }, sb = { 0 };
		for (int i = 0; i < 100; i++)
			cr_assert_eq(pick(a, &sa), pick(b, &sb), "iteration %d pick %d", iter, i);
	}
	free(a);
	free(b);
}

Test(sched, wrr_all_weight_zero_or_empty)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 0, 0, 0 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(pick(g, &st), -1);
	setup_svc(g, XVS_SCHED_WRR, w, 0);
	cr_assert_eq(pick(g, &st), -1);
	free(g);
}

/* Quiesced after the scheduler data was built (control has not rebuilt yet): still skipped. */
Test(sched, wrr_weight_zero_without_rebuild)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AAB");
	g->dests[DEST_SLOT(0)].weight = 0; /* the heaviest one */
	for (int i = 0; i < 50; i++) {
		int p = pos_of(pick(g, &st));
		cr_assert(p == 1 || p == 2, "pick %d went to %d", i, p);
	}
	g->dests[DEST_SLOT(1)].weight = 0;
	g->dests[DEST_SLOT(2)].weight = 0;
	cr_assert_eq(pick(g, &st), -1);
	free(g);
}

/* Quiesced and rebuilt with a new epoch: the remaining servers' sequence from the start. */
Test(sched, wrr_weight_zero_rebuilt)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AABAB");
	g->dests[DEST_SLOT(1)].weight = 0;
	rebuild(g);
	expect_sequence(g, &st, "AAC" "AAC" "AAC"); /* mw 4, di 2 */
	free(g);
}

Test(sched, wrr_epoch_resets)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "AABAB");
	g->svcs[SVC].sched_epoch++;
	expect_sequence(g, &st, "AABABCABC");
	/* same epoch: the walk continues instead */
	expect_sequence(g, &st, "AAB");
	free(g);
}

/* Each worker keeps its own state: two workers interleaving do not disturb each other. */
Test(sched, wrr_states_independent)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 4, 3, 2 };
	setup_svc(g, XVS_SCHED_WRR, w, 3);
	struct xvs_sched_state s1 = { 0 }, s2 = { 0 };
	const char *seq = "AABABCABC";
	for (int i = 0; seq[i]; i++) {
		cr_assert_eq(pos_of(pick(g, &s1)), seq[i] - 'A');
		cr_assert_eq(pos_of(pick(g, &s2)), seq[i] - 'A');
	}
	free(g);
}

/* A list that shrank under the same epoch keeps picks inside the list. */
Test(sched, wrr_list_shrinks)
{
	struct xvs_gen *g = gen_new();
	const int32_t w[] = { 1, 1, 1, 1, 5 };
	setup_svc(g, XVS_SCHED_WRR, w, 5);
	struct xvs_sched_state st = { 0 };
	expect_sequence(g, &st, "EEEEABCDE");
	g->svcs[SVC].nb_dests = 2;
	for (int i = 0; i < 20; i++) {
		int p = pos_of(pick(g, &st));
		cr_assert(p == 0 || p == 1, "pick %d went to %d", i, p);
	}
	free(g);
}
